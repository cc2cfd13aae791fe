"""Run a project's program in a process of its own, so that nothing it does can change the
verdict: the process that drives the policy packs and decides the exit code never runs user
code, and what it judges is what it saw the program register, never a report the program wrote.

The program runs in a child process, forked where the platform can, before any policy pack or
gRPC channel exists. The child waits, running nothing of the program, until this process says
go: the policy packs have started by then (they load their rules before any user code runs,
as the engine starts analyzers when a deployment begins), and a resource monitor and an engine
service are served here (:mod:`ack_offline.served`). The program's Pulumi SDK then talks to
them as it talks to the engine: every registration, read and invoke is recorded here, with the
fake cloud answering here. The child sends back only how it ended (as JSON, never pickled
objects): a program that exits on its own, hangs past the time limit or writes to the status
pipe can only make the run end unfinished (exit 2), never change what was registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ack_clusters.errors import InvalidArguments
from ack_clusters.redaction import redact

from .fake_cloud import FakeAlibabaCloud, StackReferenceUnknown
from .project import Project, ProjectError, run_project_served
from .provider import ImportMismatch, ProviderRejected
from .reaper import die_with_parent
from .recorder import (
    DuplicateUrn,
    ProgramRun,
    RecordingMonitor,
    Refusals,
    recorded,
    refusals,
    secret_values,
)
from .served import Served, connect

#: Default time limit of a program, in seconds (a 200-cluster program takes about 11 s).
DEFAULT_TIMEOUT = 600.0
#: Event loops a child inherited, held so that they are never collected (and closed) there.
_INHERITED: list[asyncio.AbstractEventLoop] = []
#: The most a program's status message may hold (its Python log lines, an error message).
_STATUS_LIMIT = 16 << 20


class ProgramBroken(Exception):
    """The program's input is wrong (its arguments or its stack config): a clear message."""


class ProgramFailed(Exception):
    """The program raised, exited, was killed or ran out of time."""


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def _describe(exc: BaseException) -> str:
    if isinstance(
        exc, (ProviderRejected, ImportMismatch, Refusals, StackReferenceUnknown, DuplicateUrn)
    ):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"the program exited early (sys.exit({exc.code!r}))"
    if isinstance(exc, KeyboardInterrupt):
        return "the program was interrupted (KeyboardInterrupt)"
    return f"the program failed: {type(exc).__name__}: {exc}"


def _child(
    control: Connection,
    status: Connection,
    wire: Connection,
    project: Project,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    preview: bool,
    parent: int,
) -> None:
    # A forked child inherits the parent's event loop, but not the threads of its executor (a
    # process that ran programs before keeps one): everything the program awaits would wait
    # forever, so the child gets a loop of its own. The inherited loop is kept, never closed:
    # it shares its epoll instance with the parent's loop, and closing it here would unregister
    # the parent's wake-up pipe, leaving the parent's next program waiting forever.
    die_with_parent(parent)  # whatever ends the gate, even SIGKILL, ends the program (reaper)
    inherited = asyncio.get_event_loop_policy().get_event_loop()
    _INHERITED.append(inherited)
    _close_inherited_descriptors(keep={control.fileno(), status.fileno(), wire.fileno()})
    asyncio.set_event_loop(asyncio.new_event_loop())
    _as_the_language_host_runs_it(config, secret_keys)
    try:
        go = json.loads(control.recv_bytes())  # nothing of the program runs before this
    except (EOFError, OSError, ValueError):
        os._exit(0)  # the gate ended before it said go
    control.close()
    collector = _Collector()
    root = logging.getLogger()
    root.handlers[:] = [collector]
    message: dict[str, Any]
    try:
        if go != {"go": True}:
            raise ProjectError("the gate did not say go")
        monitor, engine = connect(wire, asyncio.get_event_loop())
        run_project_served(
            project, stack, config, secret_keys, preview=preview, monitor=monitor, engine=engine
        )
        message = {"kind": "done"}
    except (InvalidArguments, ProjectError) as exc:
        message = {"kind": "broken", "message": str(exc)}
    except BaseException as exc:
        message = {"kind": "failed", "message": _describe(exc)}
    message["log"] = collector.records
    status.send_bytes(json.dumps(message).encode())
    status.close()


def _loop_descriptors(loop: asyncio.AbstractEventLoop) -> set[int]:
    """The descriptors an event loop holds (its selector's and its wake-up pipe's)."""
    found = set()
    for holder in (
        getattr(loop, "_selector", None),
        getattr(loop, "_ssock", None),
        getattr(loop, "_csock", None),
    ):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            fd = holder.fileno()  # type: ignore[union-attr]
            if isinstance(fd, int) and fd >= 0:
                found.add(fd)
    return found


def _close_inherited_descriptors(keep: set[int]) -> None:
    """Close every descriptor the forked child inherited but standard input, output and error,
    `keep` and the inherited event loops' own (kept open, never used: see _child), as Pulumi's
    language host starts a program with those three alone: a program could otherwise write to
    whatever the caller had open (a shell's descriptor, the other program's pipes to this
    process when `--diff` runs two). Linux lists them in /proc; elsewhere nothing is closed."""
    try:
        open_now = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return
    spared = {0, 1, 2, *keep}
    for loop in _INHERITED:
        spared |= _loop_descriptors(loop)
    for fd in open_now:
        if fd not in spared:
            with contextlib.suppress(OSError):
                os.close(fd)


def _as_the_language_host_runs_it(config: Mapping[str, str], secret_keys: Sequence[str]) -> None:
    """The program's process as Pulumi's Python language host starts a program:

    - what the program prints goes to standard error, beside the command's own report and never
      inside it (the engine shows a program's output as diagnostics): ``--json`` stays JSON,
      and a program's text cannot pose as the verdict;
    - ``PULUMI_CONFIG`` and ``PULUMI_CONFIG_SECRET_KEYS`` hold the stack's config, as the
      language host sets them, whatever the caller's environment held (the SDK reads a key
      missing from the config from ``PULUMI_CONFIG``).
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):  # None when closed
        sys.stdout.flush()
    with contextlib.suppress(OSError):
        os.dup2(2, 1)
    os.environ["PULUMI_CONFIG"] = json.dumps(dict(config))
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(secret_keys))


def await_exit(child: Any, timeout: float) -> bool:
    """Wait up to `timeout` seconds for `child` to exit, judged by its exit status alone;
    whether it did. (`Process.join(timeout)` first waits for the child's sentinel, a pipe the
    child holds the writing end of: a program that writes to it makes join wait on the exit
    status without any bound.)"""
    deadline = time.monotonic() + timeout
    while child.exitcode is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


#: What GRPC_ENABLE_FORK_SUPPORT is read as "off" from (gRPC core's boolean config values).
_OFF = frozenset({"0", "false", "no"})


def _threads() -> int:
    """How many threads this process holds, native ones included where the system says (gRPC's
    threads are invisible to :mod:`threading`)."""
    with contextlib.suppress(OSError):
        return len(os.listdir("/proc/self/task"))
    return threading.active_count()


def _fork_is_safe() -> bool:
    """Whether the program's child can be forked from this process: it holds no thread but
    this one, or its only danger is gRPC's and the caller turned gRPC's fork handlers off.

    A thread may hold a lock the forked child then waits on forever; and gRPC's handler that
    runs before every fork() waits for gRPC's own threads to stop: a process that talked to a
    policy pack before (a test suite, a caller running the gate twice in one process) once hung
    in fork() there (grpc/grpc#34442). `ack-preview` forks its children before it starts any
    pack, while it has one thread; a process with more starts the program in a new interpreter
    instead (slower to start, never stuck), unless GRPC_ENABLE_FORK_SUPPORT is off, as this
    project's test suite sets it: then no gRPC handler runs at fork(), and the child, which
    talks to this process over pipes, never uses gRPC."""
    if _threads() <= 1:
        return True
    return os.environ.get("GRPC_ENABLE_FORK_SUPPORT", "").lower() in _OFF


def _spec(
    project: Project, stack: str, config: dict[str, str], secret_keys: list[str], preview: bool
) -> dict[str, Any]:
    """What a program in a new interpreter is told to run (:mod:`ack_offline.program_host`)."""
    return {
        "project": {
            "name": project.name,
            "root": str(project.root),
            "main": str(project.main),
            "stack_config_dir": str(project.stack_config_dir),
        },
        "stack": stack,
        "config": config,
        "secret_keys": secret_keys,
        "preview": preview,
        # Read here, before the new interpreter starts (reaper.die_with_parent).
        "parent": os.getpid(),
    }


class IsolatedProgram:
    """The program in a child process. Create it before anything else that holds threads
    (policy packs, gRPC channels): forking a process is safe only while it has none. The child
    waits until :meth:`start`, which serves its monitor and lets it run.

    Use as a context manager; `result()` waits for the run. Leaving the block stops the child if
    it is still running, and the monitor."""

    def __init__(
        self,
        project: Project,
        stack: str,
        config: dict[str, str],
        secret_keys: list[str],
        *,
        preview: bool,
        timeout: float = DEFAULT_TIMEOUT,
        stack_references: Mapping[str, Mapping[str, Any]] | None = None,
        python: str | None = None,
        pythonpath: Sequence[str] = (),
    ) -> None:
        self._timeout = timeout
        self._project, self._stack, self._preview = project, stack, preview
        self._region = config.get("alicloud:region")
        self._references = stack_references
        self._served: Served | None = None
        self._mock: FakeAlibabaCloud | None = None
        self._spawn: Any = None
        if python is not None or pythonpath:
            # Another interpreter runs the program's site hooks (`.pth` files, sitecustomize)
            # as it starts: user code, so it starts only in start(), once the packs loaded.
            self._spawn = lambda: _Spawned(
                python or sys.executable,
                pythonpath,
                _spec(project, stack, config, secret_keys, preview),
            )
            self._child: Any = None
            return
        if not _fork_is_safe():
            # A new interpreter of this installation, started as another one's would be.
            self._spawn = lambda: _Spawned(
                sys.executable, (), _spec(project, stack, config, secret_keys, preview)
            )
            self._child = None
            return
        methods = multiprocessing.get_all_start_methods()
        context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        child_control, self._control = context.Pipe(duplex=False)
        self._status, child_status = context.Pipe(duplex=False)
        self._wire, child_wire = context.Pipe(duplex=True)
        self._child = context.Process(
            target=_child,
            args=(
                child_control,
                child_status,
                child_wire,
                project,
                stack,
                config,
                secret_keys,
                preview,
                os.getpid(),  # read before the fork (reaper.die_with_parent)
            ),
            name="ack-preview-program",
            daemon=True,
        )
        self._child.start()
        # The child holds its ends now; EOF on the status pipe means it is gone.
        for end in (child_control, child_status, child_wire):
            end.close()

    def start(self) -> None:
        """Serve the program's monitor and let the program run."""
        if self._spawn is not None:
            self._child = self._spawn()
            self._control, self._status, self._wire = self._child.ends
        mock = FakeAlibabaCloud(
            preview=self._preview, stack_references=self._references, region=self._region
        )

        def monitor(**kwargs: Any) -> RecordingMonitor:
            return RecordingMonitor(mock, project=self._project.name, stack=self._stack, **kwargs)

        self._mock = mock
        self._served = Served(self._wire, monitor)
        self._control.send_bytes(json.dumps({"go": True}).encode())
        self._control.close()

    def result(self) -> ProgramRun:
        """What the program registered; ProgramBroken or ProgramFailed (with a message for the
        user) if it did not finish normally."""
        if self._served is None or self._mock is None:
            self.start()
        assert self._served is not None and self._mock is not None
        try:
            if not self._status.poll(self._timeout):
                raise ProgramFailed(
                    f"the program did not finish within {self._timeout:g} s (--timeout)"
                )
            status = json.loads(self._status.recv_bytes(_STATUS_LIMIT))
        except (EOFError, OSError, ValueError):
            await_exit(self._child, 10)
            raise ProgramFailed(
                f"the program ended before it finished (exit code {self._child.exitcode}): it "
                "exited or was killed while running"
            ) from None
        if self._served.broken is not None or not await_exit(self._child, 10):
            self._child.kill()  # it said it was done: it is, as far as the engine is concerned
            await_exit(self._child, 10)
        if not isinstance(status, dict):
            status = {"kind": "", "message": "its status was not an object"}
        drained = self._served.drain(30)  # every message it sent is read by now
        if self._served.broken is not None:
            raise ProgramFailed(f"the program broke the engine's protocol: {self._served.broken}")
        if not drained:
            raise ProgramFailed("the program's last calls were not answered within 30 s")
        # What the program says is shown without any secret it sent (or the `secure:`
        # placeholder), in any spelling: its log lines, its error, the library's messages.
        monitor = self._served.monitor

        @functools.cache
        def hidden() -> frozenset[str]:
            return frozenset(secret_values([*monitor.records, *monitor.reads]))

        for level, text in [*self._served.log, *_log_lines(status.get("log"))]:
            logging.log(level, redact(text, hidden()))
        kind = status.get("kind")
        refused = refusals(monitor, self._mock)
        if refused is not None:
            # What the engine refused; what failed in the program after it is a symptom.
            raise ProgramFailed(redact(str(refused), hidden()))
        if kind == "done" and self._child.exitcode == 0:
            return recorded(monitor, self._mock)
        message = redact(str(status.get("message") or ""), hidden())
        if kind == "broken":
            raise ProgramBroken(message)
        if kind == "failed":
            raise ProgramFailed(message)
        raise ProgramFailed(
            f"the program ended before it finished (exit code {self._child.exitcode}): it "
            "exited or was killed while running"
        )

    @property
    def pid(self) -> int | None:
        """The child's process ID, once there is a child."""
        if self._child is None:
            return None
        pid: int | None = getattr(self._child, "pid", None)
        return pid

    def close(self) -> None:
        if self._child is None:
            return  # never started
        for pipe in (self._status, self._control, self._wire):
            pipe.close()
        if self._child.is_alive():
            self._child.kill()
        await_exit(self._child, 10)
        if self._served is not None:
            self._served.close()

    def __enter__(self) -> IsolatedProgram:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Spawned:
    """The program in a new interpreter (another virtualenv's), as a forked child is used:
    `is_alive`, `kill`, `join`, `exitcode`; its three connections in :attr:`ends`."""

    def __init__(self, python: str, pythonpath: Sequence[str], spec: dict[str, Any]) -> None:
        control_read, control_write = os.pipe()
        status_read, status_write = os.pipe()
        wire_here, wire_there = socket.socketpair()
        ours = [control_read, status_write, wire_there.fileno()]
        env = dict(os.environ)
        if pythonpath:
            paths = [str(Path(p).resolve()) for p in pythonpath]
            env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            )
        self._process = subprocess.Popen(
            [python, "-m", "ack_offline.program_host", *map(str, ours)],
            stdin=subprocess.PIPE,
            pass_fds=ours,
            env=env,
            start_new_session=False,
        )
        for fd in (control_read, status_write):
            os.close(fd)
        wire_there.close()
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(spec).encode())
        self._process.stdin.close()
        wire = Connection(os.dup(wire_here.fileno()))
        wire_here.close()
        self.ends = (
            Connection(control_write, readable=False),
            Connection(status_read, writable=False),
            wire,
        )

    def is_alive(self) -> bool:
        return self._process.poll() is None

    def kill(self) -> None:
        self._process.kill()

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout)

    @property
    def exitcode(self) -> int | None:
        return self._process.poll()


def _log_lines(value: Any) -> list[tuple[int, str]]:
    """The child's log lines, as far as they are what they should be (level, text) pairs."""
    if not isinstance(value, list):
        return []
    return [
        (item[0], item[1])
        for item in value
        if isinstance(item, list)
        and len(item) == 2
        and isinstance(item[0], int)
        and isinstance(item[1], str)
    ]
