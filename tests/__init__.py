"""The test suite. Python imports this before tests/conftest.py, hence before anything imports
gRPC.

gRPC's handler run before every fork() waits for gRPC's threads, and a worker of this suite
holds a channel to the session's policy pack when a test runs ack-preview in-process, which
forks the program's child there: a worker once hung in fork() for 20 minutes
(grpc/grpc#34442). The child talks to its gate over pipes and never uses gRPC, so the handlers
are turned off; gRPC reads the variable once, as it initialises. Without it, ack-preview starts
such a child in a new interpreter instead (ack_offline.isolation._fork_is_safe)."""

import os
import sys

if "grpc" in sys.modules:  # pragma: no cover - a plugin imported it first
    raise RuntimeError("gRPC was imported before tests/__init__.py turned its fork handlers off")
os.environ["GRPC_ENABLE_FORK_SUPPORT"] = "0"
