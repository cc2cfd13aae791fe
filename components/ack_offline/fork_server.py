"""Imported first by ``ack-fleet``'s fork server (:data:`ack_offline.fleet.PRELOAD`): the
server then gets SIGKILL from the kernel when ``ack-fleet`` ends, however it ends, SIGKILL
included, and each stack's ``ack-preview`` it forks gets SIGKILL when the server ends
(:func:`ack_offline.fleet._ack_preview_forked`). So a SIGKILLed ``ack-fleet`` takes the server,
every stack, and through them every program and pack with it (:mod:`ack_offline.reaper`).

``ack-fleet`` starts the server from its main thread (the kernel's parent-death signal follows
the thread that started the process, ``prctl(2)`` PR_SET_PDEATHSIG) and names itself in
:data:`PARENT`; a server whose parent is already gone when this runs exits at once. Linux only:
elsewhere this does nothing.
"""

from __future__ import annotations

import os
import signal

from .reaper import _PR_SET_PDEATHSIG, _PRCTL

#: The environment variable through which ack-fleet names its own process ID to the server.
PARENT = "ACK_FLEET_PID"
#: The server's own PID, taken as it starts: each stack's process it forks inherits it, and reads
#: it as the parent it must still have (:func:`ack_offline.reaper.die_with_parent`), since the
#: server may have ended before the child asks.
PID = os.getpid()

_parent = os.environ.get(PARENT)
if _parent is not None and _PRCTL is not None:
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # type: ignore[operator]
    if str(os.getppid()) != _parent:  # ack-fleet ended before the request took effect
        os._exit(1)
