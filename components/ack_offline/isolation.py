"""Run a project's program in a process of its own, so that nothing it does can change the
verdict: the process that drives the policy packs and decides the exit code never runs user
code.

The program runs in a child process (forked where the platform can, before any policy pack or
gRPC channel exists) and sends back what the engine would have seen. A program that exits on
its own (`sys.exit`, `os._exit` in an `atexit` hook, a signal), hangs past the time limit, or
patches the gate only loses its own result: the parent reports that the program did not finish
(exit 2). The program's log records are sent back with the result and logged by the parent, in
the order the program made them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from ack_clusters.errors import InvalidArguments

from .fake_cloud import StackReferenceUnknown
from .project import Project, ProjectError, run_project
from .provider import ImportMismatch, ProviderRejected
from .recorder import DuplicateUrn, ProgramRun, Refusals

#: Default time limit of a program, in seconds (a 200-cluster program takes about 11 s).
DEFAULT_TIMEOUT = 600.0
#: Event loops a child inherited, held so that they are never collected (and closed) there.
_INHERITED: list[asyncio.AbstractEventLoop] = []


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
    send: Connection,
    project: Project,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    preview: bool,
    stack_references: Mapping[str, Mapping[str, Any]] | None,
) -> None:
    # A forked child inherits the parent's event loop, but not the threads of its executor (a
    # process that ran programs before keeps one): everything the program awaits would wait
    # forever, so the child gets a loop of its own. The inherited loop is kept, never closed:
    # it shares its epoll instance with the parent's loop, and closing it here would unregister
    # the parent's wake-up pipe, leaving the parent's next program waiting forever.
    _INHERITED.append(asyncio.get_event_loop_policy().get_event_loop())
    asyncio.set_event_loop(asyncio.new_event_loop())
    collector = _Collector()
    root = logging.getLogger()
    root.handlers[:] = [collector]
    message: tuple[str, Any]
    try:
        message = (
            "run",
            run_project(
                project,
                stack,
                config,
                secret_keys,
                preview=preview,
                stack_references=stack_references,
            ),
        )
    except (InvalidArguments, ProjectError) as exc:
        message = ("broken", str(exc))
    except BaseException as exc:
        message = ("failed", _describe(exc))
    send.send((message, collector.records))
    send.close()


class IsolatedProgram:
    """The program running in a child process. Start it before anything else that holds threads
    (policy packs, gRPC channels): forking a process is safe only while it has none.

    Use as a context manager; `result()` waits for the recorded run. Leaving the block stops the
    child if it is still running."""

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
    ) -> None:
        methods = multiprocessing.get_all_start_methods()
        context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._timeout = timeout
        self._receive, send = context.Pipe(duplex=False)
        self._child = context.Process(
            target=_child,
            args=(send, project, stack, config, secret_keys, preview, stack_references),
            name="ack-preview-program",
            daemon=True,
        )
        self._child.start()
        send.close()  # the child holds the sending end now; EOF means it is gone

    def result(self) -> ProgramRun:
        """What the program recorded; ProgramBroken or ProgramFailed (with a message for the
        user) if it did not finish normally."""
        try:
            if not self._receive.poll(self._timeout):
                raise ProgramFailed(
                    f"the program did not finish within {self._timeout:g} s (--timeout)"
                )
            (kind, payload), records = self._receive.recv()
        except EOFError:
            self._child.join(10)
            raise ProgramFailed(
                f"the program ended before it finished (exit code {self._child.exitcode}): it "
                "exited or was killed while running"
            ) from None
        for level, text in records:
            logging.log(level, text)
        if kind == "broken":
            raise ProgramBroken(payload)
        if kind == "failed":
            raise ProgramFailed(payload)
        run: ProgramRun = payload
        return run

    def close(self) -> None:
        self._receive.close()
        if self._child.is_alive():
            self._child.kill()
        self._child.join()

    def __enter__(self) -> IsolatedProgram:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
