"""The ``ack-preview`` console script: :func:`ack_offline.preview.main`, started and ended the way
a short-lived command should be.

- The collector is tuned first, before the heavy imports (Pulumi, the provider SDK, pydantic,
  gRPC), which otherwise run a young-generation collection every 700 allocations, and the
  program's child process inherits the setting.
- It adopts whatever a program leaves running and kills it before it ends (ack_offline.reaper).
- Once the verdict is printed and flushed and no child process is left, the process ends with
  ``os._exit``: interpreter shutdown (finalizing every module, collecting the whole heap) has
  nothing left to do for the user and took a quarter of a small stack's wall time. When a
  flush fails or a child might still run, it exits the ordinary way.

This module imports nothing heavy; it must stay that way for the first point to hold.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys

#: The same threshold as :data:`ack_clusters.process.PROGRAM_GC_THRESHOLD` (importing that module
#: would import the library first; tests/test_speed.py holds the two equal).
PROGRAM_GC_THRESHOLD = 50_000


def main(argv: list[str] | None = None) -> None:
    """``ack-preview ARGV`` (default: this process's arguments), then the end below."""
    young, middle, old = gc.get_threshold()
    if gc.isenabled() and 0 < young < PROGRAM_GC_THRESHOLD:
        gc.set_threshold(PROGRAM_GC_THRESHOLD, middle, old)
    # Until the run installs its own handlers (and after it restores these), SIGTERM or SIGINT
    # ends the command as a stopped run: exit 2 with one line, never 143 or a traceback.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stopped_early)
    from .reaper import become_subreaper, guard_process

    become_subreaper()
    guard_process()
    if not streams_open("ack-preview"):
        end(2)
    from .preview import main as preview

    end(preview(argv))


def fleet() -> None:
    """The ``ack-fleet`` console script: SIGTERM or SIGINT before ack-fleet's own handlers (its
    imports take a while) ends it with exit 2 and one line, as for ack-preview, then
    :func:`ack_offline.fleet.console`."""
    stop_early("ack-fleet")
    from .fleet import console

    console()


def stop_early(tool: str) -> None:
    """Until `tool` installs its own handlers, SIGTERM or SIGINT ends it with exit 2 and one line
    saying so, never status 143 with no word. Nothing has started below it yet."""

    def stopped(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.write(2, f"{tool}: stopped by {signal.Signals(signum).name}\n".encode())
        os._exit(2)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopped)


def _stopped_early(signum: int, _frame: object) -> None:
    """SIGTERM or SIGINT outside the run: no verdict. Whatever runs below this process dies
    with it (a program and each pack get SIGKILL when it ends: ack_offline.reaper)."""
    with contextlib.suppress(OSError):
        name = signal.Signals(signum).name
        os.write(2, f"ack-preview: stopped by {name}; no verdict\n".encode())
    os._exit(2)


def streams_open(tool: str) -> bool:
    """Whether standard output can carry `tool`'s report. A closed standard error is pointed at
    the null device (messages are lost, the exit code stays); a closed standard output means no
    report can be written: no verdict."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so that nothing fails flushing it
        print(f"{tool}: standard output is closed: no report, no verdict", file=sys.stderr)
        return False
    return True


def end(code: int) -> None:
    """Exit with `code`: every process still running below this one killed first (a program's
    leftovers: ack_offline.reaper), then without interpreter shutdown when nothing is left to
    finish."""
    from .reaper import end_descendants

    end_descendants()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # let the ordinary exit report or swallow it
    if children_left():
        sys.exit(code)
    os._exit(code)


def children_left() -> bool:
    """Whether a child process of this one may still run (ended ones are reaped)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False  # none at all
        except OSError:
            return True  # cannot tell (no waitpid on this platform): assume so
        if pid == 0:
            return True  # one still runs


if __name__ == "__main__":
    main()
