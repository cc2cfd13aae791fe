"""No process the tools start outlives them, whatever ends them.

``ack-preview`` starts a program's process and a process per policy pack; ``ack-fleet gate``
starts an ``ack-preview`` per stack (through a fork server). A program may start processes of
its own and leave them running, detached or not. Three mechanisms, each for a way a run ends
(Linux; elsewhere they do nothing, and only the tools' own closing of what they started holds):

- **The tools reap what is left** (:func:`become_subreaper`, :func:`end_descendants`): each
  tool is a child subreaper, so a process orphaned below it (a program's daemon, the children of
  a killed ``ack-preview``) is re-parented to it rather than to init, and before it exits it
  kills every descendant still there. The end of an ordinary run, of a failure and of SIGTERM
  or SIGINT all go through it.
- **Children die with the tool** (:func:`die_with_parent`; a pack's launcher,
  :data:`ack_offline.gate.PACK_LAUNCHER`): the program's process and each pack's process get
  SIGKILL from the kernel when the process that started them dies, even by SIGKILL, which no
  handler sees. (What a program started itself, any process, detached or not, asks for no
  such signal: it is re-parented to the nearest living subreaper, ``ack-fleet`` when it runs
  the stack and lives on, which reaps it at its end; init when the tool at the top was
  SIGKILLed, and then it runs until it ends.)
- **A stack past its time** is killed with its whole tree (:func:`kill_tree`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Collection
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36


def _prctl() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


#: Resolved once, in the parent: a child between fork and exec calls it and nothing else.
_PRCTL = _prctl()


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants; whether it could."""
    if _PRCTL is None:
        return False
    return bool(_PRCTL(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)  # type: ignore[operator]


def guard_process() -> bool:
    """Make this process non-dumpable (``PR_SET_DUMPABLE`` 0): its ``/proc`` entries then
    belong to root, so a program running as the same ordinary user cannot open the tool's
    descriptors through ``/proc/<pid>/fd`` (and write a forged report into its standard
    output) nor attach to it. The program's process, forked from it, inherits the setting; a
    pack, started by exec, does not need it. A program running as root, or with
    CAP_SYS_PTRACE, is not stopped by this: run gates as an ordinary user. Whether it could."""
    if _PRCTL is None:
        return False
    return bool(_PRCTL(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)  # type: ignore[operator]


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent (the thread that started it) ends. For a child
    just started (a ``preexec_fn``, or the first thing a forked child does). `parent` is the PID
    the parent had, read before the fork (by the parent, or in memory the child inherited): a
    child that read it only now could read init's (or a subreaper's), its parent having ended
    before the child asked, and would then pass the check below and outlive it (prctl(2):
    PR_SET_PDEATHSIG is not sent for a parent that ended before the request)."""
    if _PRCTL is None:
        return
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # type: ignore[operator]
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)


#: Python source a process the tools start through an interpreter runs first (a policy pack; a
#: fleet stack started as a new interpreter): SIGKILL when the thread that started it ends, even
#: by SIGKILL (argv[1] is that process's PID: it gives up if that has already ended). It leaves
#: `prctl` bound (None off Linux) and `os` and `sys` imported, for what follows it.
DIE_WITH_PARENT_SOURCE = """\
import ctypes, os, sys
try:
    prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    prctl = None
if prctl is not None:
    prctl(1, 9, 0, 0, 0)
    if os.getppid() != int(sys.argv[1]):
        os._exit(1)
"""


def _parents() -> dict[int, int]:
    """Each running process's parent, from /proc (empty where there is none)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The name, in parentheses, may hold anything: the fields after its last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":  # a zombie has ended; it only waits to be reaped
            found[int(stat.parent.name)] = int(fields[1])
    return found


def descendants(pid: int | None = None, *, spare: Collection[int] = ()) -> list[int]:
    """Every running descendant of `pid` (default: this process), parents before children;
    without those in `spare` and their own descendants."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    order, todo = [], [c for c in children.get(root, []) if c not in spare]
    while todo:
        pid_ = todo.pop()
        order.append(pid_)
        todo += [c for c in children.get(pid_, []) if c not in spare]
    return order


def _reap() -> None:
    """Collect the exit status of every child that has ended (adopted ones among them)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_tree(pid: int) -> None:
    """SIGKILL `pid` and every descendant it has."""
    for target in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, signal.SIGKILL)


def end_descendants(attempts: int = 50, *, spare: Collection[int] = ()) -> list[int]:
    """SIGKILL every descendant of this process until none is left (a dying process's children
    are adopted by this one, and found on the next pass), but those in `spare` and theirs; the
    PIDs that were killed."""
    killed: list[int] = []
    for _ in range(attempts):
        left = descendants(spare=spare)
        if not left:
            break
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.01)
        _reap()
    _reap()
    return killed
