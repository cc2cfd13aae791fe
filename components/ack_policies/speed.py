"""The pack's analyzer server without pulumi-policy's repeated work on each request.

pulumi-policy's server converts a resource's properties (``MessageToDict``, then
``deserialize_properties``) and its options and provider once per *policy*: for every
``Analyze`` call once per resource rule, and for every ``AnalyzeStack`` call the whole stack once
per stack rule. Within one call the input never changes, so :func:`install` makes each
conversion happen once per call and hands every policy the same read-only result (the same
proxy of the properties, which only reads). ``AnalyzeStack`` also builds the stack's
``PolicyResource`` list (each linked to its parent and dependencies) once per call instead of
once per stack rule, and hands every stack rule that list: the pack's rules only read it. It
configures the Pulumi runtime from the environment once per server thread instead of on every
call. Nothing else changes: the same policies run in the same order on the same values.

It patches pulumi-policy's private server, so it first checks that the server still works the
way this relies on (:func:`check`) and refuses to start the pack otherwise: an SDK that changed
fails loudly, and a pack that does not start is a gate that does not pass.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import threading
from collections.abc import Callable
from typing import Any, cast

from google.protobuf import json_format
from pulumi_policy import policy as _server


class PolicySdkChanged(RuntimeError):
    """pulumi-policy's server no longer looks the way the speed-up assumes."""


_METHODS = ("Analyze", "AnalyzeStack")
#: Per-resource helpers each policy calls again: their results depend on the request alone.
_HELPERS = ("_get_resource_options", "_get_provider_resource")
#: Called at the start of every Analyze and AnalyzeStack: it sets the Pulumi runtime's config
#: and settings from the process environment, which the engine sets once, before the pack
#: starts. Once per server thread is enough (the settings live in that thread's context).
_PER_THREAD = "_configure_runtime_settings"
_local = threading.local()
#: The source of pulumi-policy's ``AnalyzeStack`` that :func:`_analyze_stack` follows
#: (pulumi-policy 1.21.0), by its SHA-256: any other source is an SDK this was not written for.
ANALYZE_STACK_SHA256 = "3917a008482c2387d7da37f65d889970933e8df8efc57270559e20b36be837bf"


def _source_sha256(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def check() -> None:
    problems = []
    servicer = getattr(_server, "_PolicyAnalyzerServicer", None)
    if getattr(_server, "json_format", None) is not json_format and not _installed():
        problems.append("pulumi_policy.policy no longer uses protobuf's json_format")
    for name in ("deserialize_properties", "unknown_checking_proxy"):
        if not callable(getattr(_server, name, None)):
            problems.append(f"pulumi_policy.policy has no {name}")
    for name in _METHODS:
        method = getattr(servicer, name, None)
        if getattr(method, "__wrapped__", method) is _analyze_stack:
            continue  # installed: the replica, held to its source below
        code = getattr(getattr(method, "__wrapped__", method), "__code__", None)
        names = set(code.co_names) if code is not None else set()
        if not {"MessageToDict", "deserialize_properties", "unknown_checking_proxy"} <= names:
            problems.append(f"_PolicyAnalyzerServicer.{name} no longer converts as assumed")
    for name in (*_HELPERS, _PER_THREAD):
        if not callable(getattr(servicer, name, None)):
            problems.append(f"_PolicyAnalyzerServicer has no {name}")
    stack = getattr(servicer, "AnalyzeStack", None)
    original = getattr(stack, "__wrapped__", stack)
    if original is not None and original is not _analyze_stack:
        try:
            same = _source_sha256(original) == ANALYZE_STACK_SHA256
        except (OSError, TypeError):
            same = False
        if not same:
            problems.append(
                "_PolicyAnalyzerServicer.AnalyzeStack is not the one _analyze_stack follows"
            )
    if problems:
        raise PolicySdkChanged(
            "the ACK pack speeds up pulumi-policy's server, and this pulumi-policy changed "
            f"what that relies on: {'; '.join(problems)}. Update ack_policies/speed.py."
        )


def _installed() -> bool:
    return isinstance(getattr(_server, "json_format", None), _OncePerCall)


def _memo(kind: str) -> dict[int, tuple[Any, Any]] | None:
    memo: dict[str, dict[int, tuple[Any, Any]]] | None = getattr(_local, "memo", None)
    return None if memo is None else memo[kind]


def _once(kind: str, convert: Callable[[Any], Any], value: Any) -> Any:
    memo = _memo(kind)
    if memo is None:
        return convert(value)  # outside Analyze/AnalyzeStack: as pulumi-policy does it
    hit = memo.get(id(value))
    if hit is None or hit[0] is not value:
        hit = (value, convert(value))  # keeping `value` keeps its id from being reused
        memo[id(value)] = hit
    return hit[1]


class _OncePerCall:
    """protobuf's json_format as pulumi-policy's server sees it, converting a message once per
    call."""

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)

    @staticmethod
    def MessageToDict(message: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return json_format.MessageToDict(message, *args, **kwargs)
        return _once("dict", json_format.MessageToDict, message)


def _per_call(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, request: Any, context: Any) -> Any:
        _local.memo = {"dict": {}, "deserialized": {}, "proxy": {}, **{h: {} for h in _HELPERS}}
        try:
            return method(self, request, context)
        finally:
            _local.memo = None

    return call


def _helper_once(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, request: Any) -> Any:
        return _once(name, lambda r: method(self, r), request)

    return call


def _once_per_thread(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any) -> Any:
        if getattr(_local, "configured", False):
            return None
        result = method(self)
        _local.configured = True
        return result

    return call


def _stack_resources(servicer: Any, request: Any) -> list[Any]:
    """The stack's resources as pulumi-policy's AnalyzeStack builds them for each stack rule:
    converted (once per call, by the memo) and linked to their parent and dependencies."""
    intermediates = []
    for r in request.resources:
        props = _server.unknown_checking_proxy(
            _server.deserialize_properties(_server.json_format.MessageToDict(r.properties))
        )
        resource = _server.PolicyResource(
            r.type,
            props,
            r.urn,
            r.name,
            servicer._get_resource_options(r),
            servicer._get_provider_resource(r),
            None,
            [],
            {},
        )
        property_dependencies = {k: list(v.urns) for k, v in r.propertyDependencies.items()}
        intermediates.append((resource, r.parent, list(r.dependencies), property_dependencies))
    by_urn = {resource.urn: resource for resource, *_ in intermediates}
    for resource, parent, dependencies, property_dependencies in intermediates:
        if parent is not None and parent in by_urn:
            resource.parent = by_urn[parent]
        resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
        for key, urns in property_dependencies.items():
            resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
    return [resource for resource, *_ in intermediates]


def _analyze_stack(self: Any, request: Any, _context: Any) -> Any:
    """pulumi-policy's ``AnalyzeStack`` (the source :data:`ANALYZE_STACK_SHA256` names), with
    the stack's resources built once for all stack rules instead of once per rule."""
    sdk = _server
    self._configure_runtime_settings()
    response = sdk.proto.AnalyzeResponse()
    resources: list[Any] | None = None
    for policy in self._PolicyAnalyzerServicer__policies:
        enforcement_level = self._get_enforcement_level(policy)
        if enforcement_level == sdk.EnforcementLevel.DISABLED or not isinstance(
            policy, sdk.StackValidationPolicy
        ):
            continue
        if enforcement_level == sdk.EnforcementLevel.REMEDIATE:
            enforcement_level = sdk.EnforcementLevel.MANDATORY
        report_violation = self._create_report_violation(
            response, policy.name, policy.description, enforcement_level, policy.severity
        )
        if resources is None:
            resources = _stack_resources(self, request)
        config = self._get_policy_config(policy.name)
        args = sdk.StackValidationArgs(resources, config, self._PolicyAnalyzerServicer__stack_tags)
        try:
            result = policy.validate(args, report_violation)
            if sdk.isawaitable(result):
                loop = sdk.asyncio.new_event_loop()
                task = sdk.asyncio.Task(cast(Any, result), loop=loop)
                loop.run_until_complete(task)
                loop.close()
        except sdk.UnknownValueError as e:
            name = self._PolicyAnalyzerServicer__policy_pack_name
            version = self._PolicyAnalyzerServicer__policy_pack_version
            response.diagnostics.append(
                sdk.proto.AnalyzeDiagnostic(
                    policyName=policy.name,
                    policyPackName=name,
                    policyPackVersion=version,
                    message=(
                        f"can't run policy '{policy.name}' from policy pack "
                        f"'{name}@v{version}' during preview: {e.message}"
                    ),
                    urn="",
                    description=policy.description,
                    enforcementLevel=self._map_enforcement_level(sdk.EnforcementLevel.ADVISORY),
                )
            )
        except sdk._NotApplicableError as e:
            response.not_applicable.append(
                sdk.proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or "")
            )
    return response


def install() -> None:
    """Convert each resource once per call in this process's pack server (idempotent)."""
    check()
    if _installed():
        return
    deserialize = _server.deserialize_properties
    _server.json_format = _OncePerCall()  # type: ignore[assignment]

    def deserialize_once(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
        if proxy_secrets:
            return deserialize(props, proxy_secrets)
        result: dict[str, Any] = _once("deserialized", deserialize, props)
        return result

    _server.deserialize_properties = deserialize_once
    # A proxy only reads (and raises on unknowns): one per converted dict serves every policy.
    proxy = _server.unknown_checking_proxy

    def proxy_once(props: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = _once("proxy", proxy, props)
        return result

    _server.unknown_checking_proxy = proxy_once
    servicer = _server._PolicyAnalyzerServicer
    setattr(servicer, "AnalyzeStack", _analyze_stack)  # noqa: B010 - replaces the class's method
    for name in _METHODS:
        setattr(servicer, name, _per_call(getattr(servicer, name)))
    for name in _HELPERS:
        setattr(servicer, name, _helper_once(name, getattr(servicer, name)))
    setattr(servicer, _PER_THREAD, _once_per_thread(getattr(servicer, _PER_THREAD)))
