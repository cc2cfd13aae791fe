"""The pack's analyzer server without pulumi-policy's repeated work on each request.

pulumi-policy's server converts a resource's properties (protobuf's ``MessageToDict``, then
``deserialize_properties`` and ``unknown_checking_proxy``), its options and its provider once
per *policy*: for every ``Analyze`` call once per resource rule, and for every ``AnalyzeStack``
call the whole stack once per stack rule, building and linking a ``PolicyResource`` per resource
each time. :func:`install` replaces the two methods with replicas of pulumi-policy 1.21's, each
held to its original's source by SHA-256, that do that work once:

- ``Analyze`` converts the resource once per call and hands every resource rule the same
  read-only result (the same proxy of the properties, which only reads). A rule made by
  ``_common.resource_rule`` for some resource types is not called for the others, for which
  its validate would return at once.
- ``AnalyzeStack`` builds the stack's linked ``PolicyResource`` list once per call and hands
  every stack rule that list. A resource's properties are taken from the ``Analyze`` call that
  converted the very same properties (the same serialized bytes) for the same URN, as a
  preview's stack request repeats what each ``Analyze`` request sent; otherwise converted anew.
- A ``Struct`` becomes a dict directly (:func:`struct_to_dict`), not through ``MessageToDict``'s
  generic descriptor walk: the same dict, key for key in the same order, checked against
  protobuf's own conversion when the pack starts.
- The Pulumi runtime is configured from the environment once per server thread instead of on
  every call.

Nothing else changes: the same policies run in the same order on the same values, and report
the same diagnostics.

It replaces parts of pulumi-policy's private server, so it first checks that the server still
works the way this relies on (:func:`check`) and refuses to start the pack otherwise: an SDK
that changed fails loudly, and a pack that does not start is a gate that does not pass.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import inspect
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from google.protobuf import json_format, struct_pb2
from pulumi_policy import policy as _server

from ._common import RESOURCE_TYPES


class PolicySdkChanged(RuntimeError):
    """pulumi-policy's server no longer looks the way the speed-up assumes."""


#: The sources of pulumi-policy's methods that :func:`_analyze` and :func:`_analyze_stack`
#: follow (pulumi-policy 1.21.0), by SHA-256: any other source is an SDK this was not written for.
#: The pulumi-policy releases whose server source the replicas were checked against (the
#: digests below): pyproject.toml allows exactly these (tests/test_speed.py holds the two
#: together). A new release is added once ``check()`` passes under it and the tests do.
TESTED_PULUMI_POLICY = ("1.21.0",)
SOURCES_SHA256 = {
    "Analyze": "75db9cf8fc9d158596909b9b3f77bf48815990a6f513f2bb35728a67e4d8a515",
    "AnalyzeStack": "3917a008482c2387d7da37f65d889970933e8df8efc57270559e20b36be837bf",
}
#: What the replicas call on the servicer and in pulumi-policy's module, as the originals do.
_SERVICER_NEEDS = (
    "_get_resource_options",
    "_get_provider_resource",
    "_get_enforcement_level",
    "_create_report_violation",
    "_get_policy_config",
    "_map_enforcement_level",
)
_MODULE_NEEDS = (
    "PolicyProviderResource",
    "deserialize_properties",
    "unknown_checking_proxy",
    "PolicyResource",
    "ResourceValidationArgs",
    "StackValidationArgs",
    "ResourceValidationPolicy",
    "StackValidationPolicy",
    "EnforcementLevel",
    "UnknownValueError",
    "_NotApplicableError",
    "isawaitable",
    "asyncio",
    "proto",
)
#: Called at the start of every Analyze and AnalyzeStack: it sets the Pulumi runtime's config
#: and settings from the process environment, which the engine sets once, before the pack
#: starts. Once per server thread is enough (the settings live in that thread's context).
_PER_THREAD = "_configure_runtime_settings"
_local = threading.local()

#: Each resource's converted properties by URN, with the serialized properties they came from,
#: kept from its ``Analyze`` call for the ``AnalyzeStack`` call that ends the deployment (which
#: empties it). A bound keeps a server that never gets that call from growing without end.
_converted: dict[str, tuple[bytes, Any]] = {}
CONVERTED_LIMIT = 100_000


def struct_to_dict(struct: Any) -> dict[str, Any]:
    """``json_format.MessageToDict(struct)`` for a ``google.protobuf.Struct``: the same keys in
    the same order, numbers as floats, null as None, and the same ValueError on an infinite or
    NaN number, which JSON cannot hold."""
    fields = struct.fields
    return {key: _value(fields[key]) for key in fields}


def _value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):
            what = "NaN" if math.isnan(number) else "Infinity"
            raise ValueError(
                f"Fail to serialize {what} for Value.number_value, which would parse as "
                "string_value"
            )
        return number
    return None  # null_value, or no kind set


def _probe() -> Any:
    """A Struct with every kind of value, nested, in an order that is not sorted."""
    probe = struct_pb2.Struct()
    probe.update(
        {
            "zeta": "text \u00e9\U0001f600",
            "alpha": 1.0,
            "number": -2.5,
            "zero": -0.0,
            "big": 1e300,
            "yes": True,
            "no": False,
            "nothing": None,
            "empty": {},
            "list": [],
            "nested": {"b": [1, "two", None, {"c": [True, 3.25]}, []], "a": {"deeper": {}}},
        }
    )
    probe.fields["unset"].Clear()  # a Value with no kind: null to MessageToDict
    return probe


def _converts_as_protobuf() -> list[str]:
    problems = []
    probe = _probe()
    if repr(struct_to_dict(probe)) != repr(json_format.MessageToDict(probe)):
        problems.append("protobuf's MessageToDict converts a Struct differently")
    for bad in (math.inf, -math.inf, math.nan):
        message = struct_pb2.Struct()
        message.update({"n": bad})
        if _refusal(json_format.MessageToDict, message) != _refusal(struct_to_dict, message):
            problems.append(f"protobuf's MessageToDict refuses {bad} differently")
    return problems


def _refusal(convert: Callable[[Any], Any], message: Any) -> str | None:
    try:
        convert(message)
    except ValueError as error:
        return str(error)
    return None


def _source_sha256(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def _original(name: str) -> Any:
    method = getattr(_server._PolicyAnalyzerServicer, name, None)
    return getattr(method, "__wrapped__", method)


def check() -> None:
    problems = _converts_as_protobuf()
    servicer = getattr(_server, "_PolicyAnalyzerServicer", None)
    for name in _MODULE_NEEDS:
        if getattr(_server, name, None) is None:
            problems.append(f"pulumi_policy.policy has no {name}")
    for name in (*_SERVICER_NEEDS, _PER_THREAD):
        if not callable(getattr(servicer, name, None)):
            problems.append(f"_PolicyAnalyzerServicer has no {name}")
    for name, digest in SOURCES_SHA256.items():
        original = _original(name)
        if original is _REPLICAS[name]:
            continue  # installed: the replica, held to the original's source before
        try:
            same = _source_sha256(original) == digest
        except (OSError, TypeError):
            same = False
        if not same:
            problems.append(f"_PolicyAnalyzerServicer.{name} is not the one the pack follows")
    if problems:
        tested = ", ".join(TESTED_PULUMI_POLICY)
        raise PolicySdkChanged(
            f"the ACK pack runs on pulumi-policy {tested} (the releases whose server it was "
            f"checked against), and this one ({_installed_version()}) differs: "
            f"{'; '.join(problems)}. Pin pulumi-policy=={TESTED_PULUMI_POLICY[-1]} in the "
            "pack's requirements, or update ack_policies/speed.py for the new release."
        )


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pulumi-policy")
    except PackageNotFoundError:
        return "unknown version"


def _properties(message: Any) -> Any:
    """What pulumi-policy hands a policy as a resource's properties."""
    return _server.unknown_checking_proxy(_server.deserialize_properties(struct_to_dict(message)))


#: Each provider as a policy gets it, by URN and serialized inputs: the resources of a
#: package share their provider, which pulumi-policy converts again for each of them (with
#: protobuf's json_format, a quarter of a millisecond each). Emptied with :data:`_converted`.
_providers: dict[tuple[str, bytes], Any] = {}


def _provider_resource(request: Any) -> Any:
    """``_PolicyAnalyzerServicer._get_provider_resource``: the request's provider, converted
    once per provider."""
    if not request.HasField("provider"):
        return None
    given = request.provider
    key = (given.urn, given.properties.SerializeToString())
    found = _providers.get(key)
    if found is None:
        if len(_providers) >= CONVERTED_LIMIT:
            _providers.clear()
        raw = _server.deserialize_properties(struct_to_dict(given.properties))
        found = _server.PolicyProviderResource(
            given.type, LazyProperties(raw), given.urn, given.name
        )
        _providers[key] = found
    return found


class LazyProperties(Mapping[str, Any]):
    """A stack resource's properties as pulumi-policy hands them (its unknown-checking proxy),
    built when a rule first reads them: a stack holds every resource's outputs, components'
    records and identities among them, and the stack rules read few of them through the
    proxy (they read the plain form, :attr:`raw`, which the proxy is built from)."""

    __slots__ = ("_proxy", "raw")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self._proxy: Any = None

    def _target(self) -> Any:
        if self._proxy is None:
            self._proxy = _server.unknown_checking_proxy(self.raw)
        return self._proxy

    def __getitem__(self, key: str) -> Any:
        return self._target()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


def _once_per_thread(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any) -> Any:
        if getattr(_local, "configured", False):
            return None
        result = method(self)
        _local.configured = True
        return result

    return call


def _analyze(self: Any, request: Any, _context: Any) -> Any:
    """pulumi-policy's ``Analyze`` (the source :data:`SOURCES_SHA256` names), with the
    resource's properties, options and provider built once for all resource rules instead of
    once per rule."""
    sdk = _server
    self._configure_runtime_settings()
    response = sdk.proto.AnalyzeResponse()
    shared: tuple[Any, Any, Any] | None = None
    for policy in self._PolicyAnalyzerServicer__policies:
        enforcement_level = self._get_enforcement_level(policy)
        if enforcement_level == sdk.EnforcementLevel.DISABLED or not isinstance(
            policy, sdk.ResourceValidationPolicy
        ):
            continue
        if not policy.has_validation():
            response.not_applicable.append(
                sdk.proto.PolicyNotApplicable(
                    policy_name=policy.name, reason="Policy does not implement validate"
                )
            )
            continue
        if enforcement_level == sdk.EnforcementLevel.REMEDIATE:
            enforcement_level = sdk.EnforcementLevel.MANDATORY
        if shared is None:
            # Converted at the first policy that runs, as the original first does (a value that
            # cannot be converted fails the call there, whichever types the policies check).
            props = _properties(request.properties)
            if len(_converted) >= CONVERTED_LIMIT:
                _converted.clear()
            _converted[request.urn] = (request.properties.SerializeToString(), props)
            shared = (
                props,
                self._get_resource_options(request),
                _provider_resource(request),
            )
        types = getattr(policy, RESOURCE_TYPES, None)
        if types is not None and request.type not in types:
            continue  # its validate returns at once for other types (_common.resource_rule)
        report_violation = self._create_report_violation(
            response, policy.name, policy.description, enforcement_level, policy.severity
        )
        props, opts, provider = shared
        config = self._get_policy_config(policy.name)
        args = sdk.ResourceValidationArgs(
            request.type,
            props,
            request.urn,
            request.name,
            opts,
            provider,
            config,
            self._PolicyAnalyzerServicer__stack_tags,
        )
        _validate(self, policy, args, report_violation, response)
    return response


def _validate(self: Any, policy: Any, args: Any, report_violation: Any, response: Any) -> None:
    """The policy call and its two expected exceptions, as both originals make it."""
    sdk = _server
    try:
        result = policy.validate(args, report_violation)
        if result is not None and sdk.isawaitable(result):
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


def _stack_resources(servicer: Any, request: Any) -> list[Any]:
    """The stack's resources as pulumi-policy's AnalyzeStack builds them for each stack rule:
    converted (reusing what an Analyze call converted from the same bytes) and linked to their
    parent and dependencies."""
    intermediates = []
    for r in request.resources:
        seen = _converted.get(r.urn)
        if seen is not None and seen[0] == r.properties.SerializeToString():
            props = seen[1]
        else:
            props = LazyProperties(_server.deserialize_properties(struct_to_dict(r.properties)))
        resource = _server.PolicyResource(
            r.type,
            props,
            r.urn,
            r.name,
            servicer._get_resource_options(r),
            _provider_resource(r),
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
    """pulumi-policy's ``AnalyzeStack`` (the source :data:`SOURCES_SHA256` names), with the
    stack's resources built once for all stack rules instead of once per rule."""
    sdk = _server
    self._configure_runtime_settings()
    response = sdk.proto.AnalyzeResponse()
    resources: list[Any] | None = None
    try:
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
            args = sdk.StackValidationArgs(
                resources, config, self._PolicyAnalyzerServicer__stack_tags
            )
            _validate(self, policy, args, report_violation, response)
    finally:
        _converted.clear()  # the deployment's analysis ends with this call
        _providers.clear()
    return response


_REPLICAS: dict[str, Callable[..., Any]] = {"Analyze": _analyze, "AnalyzeStack": _analyze_stack}


def install() -> None:
    """Serve the replicas in this process's pack server (idempotent).

    For packs whose rules only read what they are given, as this pack's do (a test holds them
    to it): the replicas hand every rule of a call, and the stack call, the same objects, where
    pulumi-policy builds new ones for each rule."""
    check()
    servicer = _server._PolicyAnalyzerServicer
    for name, replica in _REPLICAS.items():
        setattr(servicer, name, replica)
    configure = getattr(servicer, _PER_THREAD)
    if not hasattr(configure, "__wrapped__"):
        setattr(servicer, _PER_THREAD, _once_per_thread(configure))
    _tune_collector()


#: Net allocations between young-generation collections in the pack's server (CPython: 700).
PACK_GC_THRESHOLD = 50_000


def _tune_collector() -> None:
    """The server keeps every resource it converted until the stack call that ends the
    analysis: with CPython's default thresholds, full collections walked all of it over and
    over (a quarter of a second each on 1,550 resources). What the pack loaded is frozen out
    of collections, and the young generation collected in fewer, larger passes, as a program
    that declares clusters is (ack_clusters.process)."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if gc.isenabled() and 0 < young < PACK_GC_THRESHOLD:
        gc.set_threshold(PACK_GC_THRESHOLD, middle, old)
