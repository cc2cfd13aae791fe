"""What each resource looked like when the engine analyzed it alone: its inputs and options.

The engine hands a stack rule each resource's *outputs* (``AnalyzeStack`` runs on the final
state), and a resource rule its *inputs* (``Analyze`` runs before the resource is created or
updated). What a component sealed (:mod:`ack_policies.record`) are inputs, and what attaches a
resource to another are its inputs too (an output may only echo where it sits). So the pack
keeps each ``Analyze`` request by URN, and its stack rules read them; the engine's
``AnalyzeStack``, which ends every analysis, empties the store.

:func:`install` wraps whichever ``Analyze`` and ``AnalyzeStack`` the pack's server runs
(pulumi-policy's own, or the replicas of :mod:`ack_policies.speed`, installed first), so both
answer the same.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import policy as _server

#: A server that never ends an analysis keeps at most this many resources.
LIMIT = 100_000
_lock = threading.Lock()
_requests: dict[str, Any] = {}
#: What the caller sent beside each request under ENGINE_OPTIONS_METADATA, by URN.
_engine: dict[str, Mapping[str, str] | None] = {}
#: What :func:`seen` made of each request, made once (the stack rules ask several times).
_made: dict[str, Seen] = {}


@dataclass(frozen=True)
class Seen:
    """One resource as ``Analyze`` saw it."""

    #: Its inputs as pulumi-policy converts them (secrets unwrapped, values unknown at preview
    #: as the wire's unknown marker): plain dicts and lists, not proxies.
    inputs: Mapping[str, Any]
    options: Mapping[str, Any]
    #: The digests of the options only the engine sees (ack_policies.record.ENGINE_OPTIONS)
    #: that ack-preview's gate sent beside the call; None when none were sent (Pulumi's engine).
    engine: Mapping[str, str] | None = None


def seen(urn: str) -> Seen | None:
    """The resource's inputs and options from its ``Analyze`` call in this analysis, if any
    (made once, and shared by every rule: not to be changed)."""
    with _lock:
        request = _requests.get(urn)
        made = _made.get(urn)
        engine = _engine.get(urn)
    if request is None:
        return None
    if made is not None:
        return made
    from .speed import struct_to_dict

    inputs = _server.deserialize_properties(struct_to_dict(request.properties))
    options = request.options
    timeouts = options.customTimeouts
    made = Seen(
        inputs=inputs,
        options={
            "protect": options.protect,
            "deleteBeforeReplace": options.deleteBeforeReplace,
            "additionalSecretOutputs": list(options.additionalSecretOutputs),
            "provider": request.provider.urn if request.HasField("provider") else "",
            "ignoreChanges": list(options.ignoreChanges),
            "customTimeouts": {
                "create": timeouts.create,
                "update": timeouts.update,
                "delete": timeouts.delete,
            },
        },
        engine=engine,
    )
    with _lock:
        if _requests.get(urn) is request:
            _made[urn] = made
    return made


def recording() -> bool:
    """Whether this analysis recorded any ``Analyze`` call (the server records them)."""
    with _lock:
        return bool(_requests)


def _engine_options(context: Any) -> Mapping[str, str] | None:
    """The digests ack-preview's gate sends beside an Analyze call: None if none were sent
    (then they are not compared, as under Pulumi's engine); sent but unreadable, a digest
    that matches no seal for each option (not proven)."""
    from .record import ENGINE_OPTIONS, ENGINE_OPTIONS_METADATA

    unreadable = {key: "unreadable" for key in ENGINE_OPTIONS}

    try:
        metadata = dict(context.invocation_metadata() or ())
    except Exception:  # a context that carries none (a test's)
        return None
    if ENGINE_OPTIONS_METADATA not in metadata:
        return None
    text = metadata[ENGINE_OPTIONS_METADATA]
    try:
        found = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return unreadable
    if not isinstance(found, dict) or set(found) != set(ENGINE_OPTIONS):
        return unreadable
    if not all(isinstance(v, str) for v in found.values()):
        return unreadable
    return found


def _recording(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def analyze(self: Any, request: Any, context: Any) -> Any:
        engine = _engine_options(context)
        with _lock:
            if len(_requests) >= LIMIT:
                _requests.clear()
                _made.clear()
                _engine.clear()
            _requests[request.urn] = request
            _engine[request.urn] = engine
            _made.pop(request.urn, None)
        return method(self, request, context)

    analyze.ack_records_inputs = True  # type: ignore[attr-defined]
    return analyze


def _ending(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def analyze_stack(self: Any, request: Any, context: Any) -> Any:
        try:
            return method(self, request, context)
        finally:
            with _lock:
                _requests.clear()
                _made.clear()
                _engine.clear()

    analyze_stack.ack_records_inputs = True  # type: ignore[attr-defined]
    return analyze_stack


def install() -> None:
    """Record each ``Analyze`` request for the stack rules (idempotent). Install the speed-up
    (:func:`ack_policies.speed.install`) first: it replaces the methods this wraps."""
    servicer = _server._PolicyAnalyzerServicer
    for name, wrap in (("Analyze", _recording), ("AnalyzeStack", _ending)):
        method = getattr(servicer, name)
        if not getattr(method, "ack_records_inputs", False):
            setattr(servicer, name, wrap(method))


def secret_inputs(urn: str) -> frozenset[str] | None:
    """The names of the resource's inputs that hold a secret (anywhere inside them), as its
    ``Analyze`` request marks them: the engine sends them with ``KeepSecrets: true``
    (pulumi/pulumi, sdk/go/common/resource/plugin/analyzer_plugin.go, ``analyzer.Analyze``),
    pulumi-policy unwraps them before a rule sees them, and the engine prints a rule's message
    as it is. None if this analysis recorded no ``Analyze`` call for it, so that nothing about
    it is known not to be secret."""
    from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

    from .speed import struct_to_dict

    with _lock:
        request = _requests.get(urn)
    if request is None:
        return None

    def holds(value: Any) -> bool:
        if isinstance(value, dict):
            if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
                return True
            return any(holds(v) for v in value.values())
        if isinstance(value, list):
            return any(holds(v) for v in value)
        return False

    return frozenset(k for k, v in struct_to_dict(request.properties).items() if holds(v))
