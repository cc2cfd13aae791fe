"""The program's side of ``ack-preview --program-python``: a program run by another interpreter
than the gate's (the change's virtualenv, say, while the gate, its packs and its rules are the
base branch's), connected to the gate over file descriptors it inherits.

    python -m ack_offline.program_host CONTROL STATUS WIRE  < spec.json

CONTROL, STATUS and WIRE are the descriptors of the gate's go, of how the program ended, and of
the monitor's calls (:mod:`ack_offline.served`); the spec (JSON on standard input) names the
project, the stack, its config and the mode. Nothing of the program runs before the gate says
go, exactly as in a forked program's process (:mod:`ack_offline.isolation`).
"""

from __future__ import annotations

import json
import os
import sys
from multiprocessing.connection import Connection
from pathlib import Path


def main(argv: list[str]) -> None:
    from .isolation import _child
    from .project import Project

    control, status, wire = (Connection(int(fd)) for fd in argv)
    spec = json.loads(sys.stdin.read())
    project = Project(
        name=spec["project"]["name"],
        root=Path(spec["project"]["root"]),
        main=Path(spec["project"]["main"]),
        stack_config_dir=Path(spec["project"]["stack_config_dir"]),
    )
    _child(
        control,
        status,
        wire,
        project,
        spec["stack"],
        dict(spec["config"]),
        list(spec["secret_keys"]),
        bool(spec["preview"]),
        # The gate's PID, read before this interpreter started (a gate of a release that did
        # not send it: the parent this process has now, as such a gate checked).
        int(spec.get("parent", os.getppid())),
    )


if __name__ == "__main__":
    main(sys.argv[1:])
