"""Work the offline engine skips because nothing offline reads its result.

Pulumi's SDK captures the Python stack (``traceback.extract_stack``, then a file URI per frame)
for every resource it registers or reads, so that the real engine can show source positions.
Offline nothing reads them: the recorder keeps no source position and ``ack-preview`` prints
none. Capturing them cost about a tenth of a large program's time (issue 19's profile).

The skip replaces the SDK's private ``_get_stack_trace`` for the length of one run, and only
after checking that the SDK still works the way the skip assumes (:func:`check_sdk`): if a new
SDK renames the function, stops calling it from ``register_resource`` / ``read_resource``, or
changes what an empty trace means, the run fails loudly instead of silently keeping or losing
behaviour.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pulumi.runtime import resource as _sdk
from pulumi.runtime.proto import source_pb2


class SdkChanged(RuntimeError):
    """The Pulumi SDK no longer looks the way the offline engine's shortcuts assume."""


#: The SDK functions that capture a stack trace for each resource.
_CALLERS = ("register_resource", "read_resource")


def check_sdk() -> None:
    """Fail loudly unless the SDK captures stack traces the way :func:`no_stack_traces`
    assumes."""
    capture = getattr(_sdk, "_get_stack_trace", None)
    position = getattr(_sdk, "_get_source_position", None)
    problems = []
    if not callable(capture) or not callable(position):
        problems.append("pulumi.runtime.resource has no _get_stack_trace/_get_source_position")
    for name in _CALLERS:
        fn = getattr(_sdk, name, None)
        code = getattr(fn, "__code__", None)
        if code is None or "_get_stack_trace" not in code.co_names:
            problems.append(f"pulumi.runtime.resource.{name} no longer calls _get_stack_trace")
    if not problems and position is not None and position(source_pb2.StackTrace()) is not None:
        problems.append("an empty stack trace no longer means 'no source position'")
    if problems:
        raise SdkChanged(
            "the offline engine skips Pulumi's per-resource stack traces, and this SDK "
            f"changed what that relies on: {'; '.join(problems)}. Update ack_offline/speed.py."
        )


def _no_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


@contextlib.contextmanager
def no_stack_traces() -> Iterator[None]:
    """For the length of the block, the SDK records an empty stack trace (no source
    position) for each resource instead of walking the Python stack."""
    check_sdk()
    original = _sdk._get_stack_trace
    _sdk._get_stack_trace = _no_trace
    try:
        yield
    finally:
        _sdk._get_stack_trace = original
