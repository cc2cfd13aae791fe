"""Work the offline engine skips because nothing offline reads its result, and waiting it does
without rescanning every pending output.

Pulumi's SDK captures the Python stack (``traceback.extract_stack``, then a file URI per frame)
for every resource it registers or reads, so that the real engine can show source positions.
Offline nothing reads them: the recorder keeps no source position and ``ack-preview`` prints
none. Capturing them cost about a tenth of a large program's time (issue 19's profile).

The skip replaces the SDK's private ``_get_stack_trace`` for the length of one run, and only
after checking that the SDK still works the way the skip assumes (:func:`check_sdk`): if a new
SDK renames the function, stops calling it from ``register_resource`` / ``read_resource``, or
changes what an empty trace means, the run fails loudly instead of silently keeping or losing
behaviour.

**Outputs awaited together** (:func:`outputs_awaited_together`). Before a program ends, the
SDK's ``wait_for_rpcs`` awaits every pending output with ``asyncio.wait(pending,
return_when=FIRST_COMPLETED)`` in a loop: each pass hangs a callback on every pending output and
takes them all off again, to collect the one or few that completed. When completions arrive one
at a time (each registration a round trip to the served monitor in another process, with the
program's transforms called back), that is quadratic: 37 s instead of 4 s for 1,550 resources,
and ten minutes for 5,800. Offline, that call waits instead until every output it was given has
completed or one has failed (``FIRST_EXCEPTION``): the loop's contract holds (``done`` is not
empty and holds the first failure, ``done`` and ``not_done`` together are what it gave), the
same outputs are awaited and the same first exception raised, in one pass per wave of outputs.
It applies to that one function's module, only after checking that the function is the one this
reasoning was made for (its source's SHA-256: :data:`WAIT_FOR_RPCS_SHA256`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
from collections.abc import Iterable, Iterator
from typing import Any

from pulumi.runtime import resource as _sdk
from pulumi.runtime import stack as _stack
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


#: ``pulumi.runtime.stack.wait_for_rpcs`` as :func:`outputs_awaited_together` was reasoned for.
WAIT_FOR_RPCS_SHA256 = "c0f9027f85ad09255ded0a1908033b490f76d303a3e40b50d3cf47a69265469d"


def check_wait() -> None:
    """Fail loudly unless the SDK's ``wait_for_rpcs`` is the one :func:`outputs_awaited_together`
    was reasoned for."""
    function = getattr(_stack, "wait_for_rpcs", None)
    try:
        same = hashlib.sha256(inspect.getsource(function).encode()).hexdigest()  # type: ignore[arg-type]
    except (OSError, TypeError):
        same = ""
    if same != WAIT_FOR_RPCS_SHA256 or getattr(_stack, "asyncio", None) is not asyncio:
        raise SdkChanged(
            "the offline engine awaits the program's last outputs together, and this SDK "
            "changed pulumi.runtime.stack.wait_for_rpcs, which that relies on. Update "
            "ack_offline/speed.py."
        )


class _WaitingTogether:
    """``asyncio`` as ``pulumi.runtime.stack`` sees it during a run: the same module, but a
    wait for the first completed output waits for all of them or the first failure."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def wait(
        fs: Iterable[Any], *, timeout: float | None = None, return_when: str = asyncio.ALL_COMPLETED
    ) -> tuple[set[Any], set[Any]]:
        if return_when == asyncio.FIRST_COMPLETED:
            return_when = asyncio.FIRST_EXCEPTION
        return await asyncio.wait(fs, timeout=timeout, return_when=return_when)


@contextlib.contextmanager
def outputs_awaited_together() -> Iterator[None]:
    """For the length of the block, the SDK awaits a program's pending outputs together
    (module docstring)."""
    check_wait()
    _stack.asyncio = _WaitingTogether()  # type: ignore[assignment]
    try:
        yield
    finally:
        _stack.asyncio = asyncio
