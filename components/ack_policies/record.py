"""What a component of this library records about the resources it owns, and the one way both
the library and the policy pack compute it.

A cluster component (and a ServiceAccountRole) registers one output, :data:`RECORD_OUTPUT`: the
URN of every resource it registered, each with a *seal* of the inputs and options the component
gave it. The component takes the seal in a transform of its own, which the engine runs before
any other transform (a resource's ancestors' transforms run nearest first, and the component
puts its own first among its transforms), so a transform a program adds later, which changes
what the component planned, leaves inputs that no longer match their seal.

The policy pack reads the record from the component's outputs (the engine hands a stack rule
each resource's outputs) and compares each seal with the inputs the engine analyzed for that
URN. Membership is the record's: a resource parented into a component that did not register
it, or a component of this library's type that has no record, owns nothing.

Pure: nothing here imports Pulumi or pulumi-policy, so the library imports it without the
pack's dependencies, and both compute seals the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: The output of a component that holds its record.
RECORD_OUTPUT = "ackOwnership"
#: The record's format; a record of another format is not read (not proven). 2: every option
#: the engine registers a resource with is sealed (1 sealed four).
FORMAT = 2

#: Types of the components whose records the gate reads: what they register, they own.
CLUSTER_COMPONENT_TYPES = frozenset(
    {"ack:index:ManagedCluster", "ack:index:DedicatedCluster", "ack:index:ServerlessCluster"}
)
SERVICE_ACCOUNT_ROLE_TYPE = "ack:index:ServiceAccountRole"
OWNER_TYPES = CLUSTER_COMPONENT_TYPES | {SERVICE_ACCOUNT_ROLE_TYPE}

#: How the wire marks a secret value (``{SECRET_KEY: SECRET_SIG, "value": ...}``) and a value
#: unknown at preview.
SECRET_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

#: Inputs a provider adds in its check, which a seal cannot know: the Terraform bridge lists
#: the inputs it gave a default value under ``__defaults``; the Kubernetes provider adds
#: ``apiVersion`` and ``kind`` and the labels and annotations below.
DEFAULTS_KEY = "__defaults"
KUBERNETES_ADDED = frozenset({"apiVersion", "kind"})
KUBERNETES_ADDED_METADATA = {
    "labels": frozenset({"app.kubernetes.io/managed-by"}),
    "annotations": frozenset({"pulumi.com/autonamed"}),
}
#: Tags may be added to an owned resource (a team's tagging transform is ordinary); each tag
#: the component set must stay as it was.
TAGS = "tags"
#: The types of a cluster resource itself.
CLUSTER_TYPES = frozenset(
    {
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "alicloud:cs/kubernetes:Kubernetes",
        "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
    }
)
#: The types a component of each type registers, and nothing else: a record listing any other
#: type was not written by this library's component (tests/test_ownership.py holds the library
#: to it over every form and option).
_CLUSTER_OWNS = frozenset(
    {
        "ack:index:ClusterNetwork",
        "ack:index:ClusterSecurityGroup",
        "ack:index:NodeRole",
        "ack:index:NodePool",
        "alicloud:vpc/network:Network",
        "alicloud:vpc/switch:Switch",
        "alicloud:vpc/natGateway:NatGateway",
        "alicloud:ecs/eipAddress:EipAddress",
        "alicloud:ecs/eipAssociation:EipAssociation",
        "alicloud:vpc/snatEntry:SnatEntry",
        "alicloud:vpc/routeTable:RouteTable",
        "alicloud:vpc/routeEntry:RouteEntry",
        "alicloud:vpc/routeTableAttachment:RouteTableAttachment",
        "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment",
        "alicloud:cen/transitRouterRouteTableAssociation:TransitRouterRouteTableAssociation",
        "alicloud:cen/transitRouterRouteTablePropagation:TransitRouterRouteTablePropagation",
        "alicloud:ecs/securityGroup:SecurityGroup",
        "alicloud:ecs/securityGroupRule:SecurityGroupRule",
        "alicloud:ram/role:Role",
        "alicloud:ram/policy:Policy",
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "alicloud:cs/kubernetes:Kubernetes",
        "alicloud:cs/nodePool:NodePool",
        "alicloud:cs/kubernetesAddon:KubernetesAddon",
        "alicloud:cs/autoscalingConfig:AutoscalingConfig",
        "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer",
        # What teams build around the cluster (ack_clusters.around): its access grants, its
        # private zones and their binding to its VPC (app subnets are vpc/switch:Switch).
        "alicloud:cs/kubernetesPermission:KubernetesPermission",
        "alicloud:pvtz/zone:Zone",
        "alicloud:pvtz/zoneAttachment:ZoneAttachment",
        "pulumi:providers:kubernetes",
        "kubernetes:core/v1:Service",
    }
)
OWNED_TYPES: dict[str, frozenset[str]] = {
    **{t: _CLUSTER_OWNS for t in CLUSTER_COMPONENT_TYPES},
    SERVICE_ACCOUNT_ROLE_TYPE: frozenset(
        {
            "alicloud:ram/role:Role",
            "alicloud:ram/policy:Policy",
            "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        }
    ),
}

#: Beside its ID, the outputs that name an owned resource of each type to other resources:
#: names and ARNs for RAM, addresses for load balancers and EIPs, the IDs a cluster's outputs
#: carry (its API server load balancer, its RRSA OIDC provider), a pool's scaling group.
IDENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "alicloud:ram/role:Role": ("roleName", "arn", "roleId"),
    "alicloud:ram/policy:Policy": ("policyName",),
    **{
        t: (
            "slbId",
            "slbIntranet",
            "slbInternet",
            "connections",
            "workerRamRoleName",
            "rrsaMetadata",
        )
        for t in CLUSTER_TYPES
    },
    # The names the component gives, which a lookup by name finds it by (a ROS data source).
    "alicloud:cs/nodePool:NodePool": ("nodePoolId", "scalingGroupId"),
    "alicloud:vpc/network:Network": ("routeTableId", "routerId", "vpcName"),
    "alicloud:vpc/switch:Switch": ("vswitchName",),
    "alicloud:ecs/securityGroup:SecurityGroup": ("securityGroupName",),
    "alicloud:vpc/natGateway:NatGateway": ("snatTableIds", "forwardTableIds", "natGatewayName"),
    "alicloud:ecs/eipAddress:EipAddress": ("ipAddress", "addressName"),
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": ("address", "loadBalancerName"),
    "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment": (
        "transitRouterAttachmentId",
    ),
}
#: What marks an identity a stack exports (`owned_identities`), so that a stack referencing it
#: is judged by the same identities: each item is {MARKER: owner, "type", "field", "value"}.
EXPORT_MARKER = "ack.pulumi.io/owned-by"


def exported_identity(owner: str, type_: str, field: str, value: str) -> dict[str, str]:
    return {EXPORT_MARKER: owner, "type": type_, "field": field, "value": value}


#: Options a seal holds that the engine hands an analyzer with each resource, as the analyzer
#: protocol names them: pulumi's engine fills AnalyzerResourceOptions with protect,
#: ignoreChanges, deleteBeforeReplace, additionalSecretOutputs and customTimeouts
#: (marshalResourceOptions, sdk/go/common/resource/plugin/analyzer_plugin.go; the step
#: generator's Analyze call, pkg/resource/deploy/step_generator.go), and the request names the
#: provider. It hands aliases too, but only the one it found old state under (aliasUrns in
#: generateSteps), which a component renamed or migrated shows on its children by right: the
#: aliases a resource declares are compared among ENGINE_OPTIONS.
ANALYZED_OPTIONS = (
    "protect",
    "deleteBeforeReplace",
    "additionalSecretOutputs",
    "provider",
    "ignoreChanges",
    "customTimeouts",
)
#: The other options a resource is registered with (pulumirpc.RegisterResourceRequest), each of
#: which changes what happens to it: taking over another resource's state (the aliases it
#: declares, as URNs), adopting a cloud resource (importId), leaving it behind on
#: delete (retainOnDelete), dropping it with another (deletedWith), replacing it on any change
#: or with another (replaceOnChanges, replaceWith, replacementTrigger), ordering
#: (dependencies), another provider plugin (version, pluginDownloadURL, pluginChecksums,
#: providers), hooks run around its create, update and delete, and what its diff hides. The
#: engine does not hand them to an analyzer; ack-preview's gate, which is the engine offline,
#: sends a digest of each beside each Analyze call (:data:`ENGINE_OPTIONS_METADATA`).
ENGINE_OPTIONS = (
    "aliases",
    "importId",
    "retainOnDelete",
    "deletedWith",
    "replaceOnChanges",
    "replaceWith",
    "replacementTrigger",
    "dependencies",
    "version",
    "pluginDownloadURL",
    "pluginChecksums",
    "providers",
    "hooks",
    "hideDiffs",
    "envVarMappings",
)
#: Every option a seal holds.
OPTIONS = ANALYZED_OPTIONS + ENGINE_OPTIONS
#: The gRPC metadata key under which ack-preview's gate sends, with each Analyze call, the
#: digests of :data:`ENGINE_OPTIONS` (JSON; :func:`engine_digests`).
ENGINE_OPTIONS_METADATA = "ack-engine-options"


def canonical(value: Any) -> Any:
    """One form for what the SDK hands a transform and what pulumi-policy hands a rule: secrets
    unwrapped, unknowns as absent (the SDK drops them), numbers and booleans as text (providers
    coerce one to the other), empty objects and lists as absent (a provider may drop them)."""
    if isinstance(value, Mapping):
        if value.get(SECRET_KEY) == SECRET_SIG:
            return canonical(value.get("value"))
        out = {}
        for key in sorted(value, key=str):
            item = canonical(value[key])
            if item is not None:
                out[str(key)] = item
        return out or None
    if isinstance(value, (list, tuple)):
        items = [canonical(v) for v in value]
        return items or None
    if value is None or value == UNKNOWN or _is_sdk_unknown(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return str(value)


def _is_sdk_unknown(value: Any) -> bool:
    """The Python SDK hands a transform an unknown value as ``pulumi.output.Unknown``."""
    kind = type(value)
    return kind.__name__ == "Unknown" and kind.__module__.startswith("pulumi.")


def digest(value: Any) -> str:
    """A short digest of a canonical value (``""`` for an absent one)."""
    if value is None:
        return ""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _is_kubernetes(type_: str) -> bool:
    return type_.startswith("kubernetes:")


def _comparable(type_: str, props: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(inputs without tags, tags) in canonical form, without what a provider adds on its own
    to a Kubernetes object."""
    inputs = canonical(props) or {}
    tags = inputs.pop(TAGS, None) if not _is_kubernetes(type_) else None
    if _is_kubernetes(type_):
        for key in KUBERNETES_ADDED:
            inputs.pop(key, None)
        metadata = inputs.get("metadata")
        if isinstance(metadata, dict):
            for part, added in KUBERNETES_ADDED_METADATA.items():
                found = metadata.get(part)
                if isinstance(found, dict):
                    for key in added:
                        found.pop(key, None)
                    if not found:
                        metadata.pop(part)
    return inputs, tags if isinstance(tags, dict) else {}


def seal(type_: str, props: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """What the component records of one resource it registers: a digest of each input, of
    each tag, the options :data:`ANALYZED_OPTIONS` names, and a digest of each of
    :data:`ENGINE_OPTIONS` (absent ones are unset)."""
    inputs, tags = _comparable(type_, props)
    return {
        "inputs": {key: digest(value) for key, value in inputs.items()},
        "tags": {key: digest(value) for key, value in tags.items()},
        "options": _options(options),
        "engineOptions": engine_digests(options),
    }


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    timeouts = options.get("customTimeouts")
    timeouts = timeouts if isinstance(timeouts, Mapping) else {}
    return {
        "protect": bool(options.get("protect")),
        "deleteBeforeReplace": bool(options.get("deleteBeforeReplace")),
        "additionalSecretOutputs": sorted(options.get("additionalSecretOutputs") or []),
        "provider": str(options.get("provider") or ""),
        "ignoreChanges": sorted({str(v) for v in options.get("ignoreChanges") or []}),
        "customTimeouts": {
            k: seconds(timeouts[k]) for k in ("create", "update", "delete") if timeouts.get(k)
        },
    }


#: Go's duration units (time.ParseDuration), in seconds.
_UNITS = {
    **{"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3},
    **{"s": 1.0, "m": 60.0, "h": 3600.0},
}
_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def seconds(value: Any) -> str:
    """A custom timeout in seconds, as text: a program gives a Go duration ("5m", "1h30m"),
    which the engine parses (resource.CustomTimeouts) and hands an analyzer as seconds. What
    does not parse is kept as given (and then differs from anything the engine hands over)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return canonical(float(value))
    text = str(value).strip()
    if text and _DURATION.sub("", text) == "":
        total = sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(text))
        return canonical(total)
    return text


def engine_digests(options: Mapping[str, Any]) -> dict[str, str]:
    """A digest of each of :data:`ENGINE_OPTIONS` in `options` ("" when unset): what the seal
    holds and what ack-preview's gate sends beside each Analyze call, made one way. Lists whose
    order means nothing (dependencies, replaceOnChanges, ...) are sorted; providers are given by
    URN (a reference's ID, unknown at preview, dropped)."""
    found = {}
    for key in ENGINE_OPTIONS:
        value = options.get(key)
        if key in ("aliases", "dependencies", "replaceOnChanges", "replaceWith", "hideDiffs"):
            value = sorted({str(v) for v in value or [] if v})
        elif key == "providers" and isinstance(value, Mapping):
            value = {str(k): str(v) for k, v in value.items() if v}
        elif key == "hooks" and isinstance(value, Mapping):
            value = {str(k): [str(n) for n in v] for k, v in value.items() if v}
        elif key == "retainOnDelete":
            value = bool(value) or None
        found[key] = digest(canonical(value if value != "" else None))
    return found


def alias_urn(resource_urn: str, parent_urn: str, alias: Any) -> str:
    """The URN an alias names, as the engine resolves it: a URN as given; a spec (name, type,
    stack, project, parentUrn, noParent; unset parts are the resource's own) under its parent,
    else at the stack's root."""
    if isinstance(alias, str):
        return alias
    spec = alias if isinstance(alias, Mapping) else {}
    _, stack, project, qualified, name = _urn_parts(resource_urn)
    type_ = str(spec.get("type") or qualified.rsplit("$", 1)[-1])
    name = str(spec.get("name") or name)
    stack = str(spec.get("stack") or stack)
    project = str(spec.get("project") or project)
    parent = "" if spec.get("noParent") else str(spec.get("parentUrn") or parent_urn)
    parent_qualified = _urn_parts(parent)[3] if parent else ""
    if not parent_qualified or parent_qualified.endswith("pulumi:pulumi:Stack"):
        return f"urn:pulumi:{stack}::{project}::{type_}::{name}"
    return f"urn:pulumi:{stack}::{project}::{parent_qualified}${type_}::{name}"


def _urn_parts(urn: str) -> tuple[str, str, str, str, str]:
    """("urn:pulumi", stack, project, qualified type, name) of a URN ("" parts if malformed)."""
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        return ("", "", "", "", "")
    return ("urn:pulumi", parts[0].removeprefix("urn:pulumi:"), parts[1], parts[2], parts[3])


def differences(
    sealed: Mapping[str, Any],
    type_: str,
    props: Mapping[str, Any],
    options: Mapping[str, Any],
    engine: Mapping[str, str] | None = None,
) -> list[str]:
    """How the inputs and options the engine analyzed differ from a seal, in words (empty when
    they match). A provider's default provider stands in for none; inputs the Terraform bridge
    says it defaulted, and tags added beside the sealed ones, are not differences. `engine` are
    the digests of :data:`ENGINE_OPTIONS` the engine sent beside the resource (ack-preview's
    gate does; Pulumi's engine does not, and then they are not compared)."""
    inputs, tags = _comparable(type_, props)
    defaulted = set(_strings(props.get(DEFAULTS_KEY)))
    planned = sealed.get("inputs") or {}
    found = []
    for key in sorted(set(planned) | set(inputs)):
        if key == DEFAULTS_KEY or (key not in planned and key in defaulted):
            continue
        was, now = planned.get(key, ""), digest(inputs.get(key))
        if was != now:
            how = "added" if not was else "removed" if not now else "changed"
            found.append(f"input '{key}' {how}")
    for key, was in sorted((sealed.get("tags") or {}).items()):
        if digest(tags.get(key)) != was:
            found.append(f"tag '{key}' {'removed' if key not in tags else 'changed'}")
    planned_options = sealed.get("options") or {}
    actual = _options(options)
    for key in ANALYZED_OPTIONS:
        was, now = planned_options.get(key), actual[key]
        if key == "provider" and not was and _is_default_provider(str(now)):
            continue
        if was != now:
            found.append(f"option '{key}' {_option_change(was, now)}")
    if engine is not None:
        planned_engine = sealed.get("engineOptions") or {}
        for key in ENGINE_OPTIONS:
            was, now = str(planned_engine.get(key, "")), str(engine.get(key, ""))
            if was != now:
                how = "added" if not was else "removed" if not now else "changed"
                found.append(f"option '{key}' {how}")
    return found


def _option_change(was: Any, now: Any) -> str:
    def shown(value: Any) -> str:
        return json.dumps(value) if value not in ("", [], None) else "unset"

    return f"changed from {shown(was)} to {shown(now)}"


def _is_default_provider(urn: str) -> bool:
    """A provider the engine chose because the resource named none (``default`` or
    ``default_<version>``)."""
    name = urn.rsplit("::", 1)[-1]
    return name == "default" or name.startswith("default_")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [str(v) for v in value]
    return []


def record(
    owner: str, seals: Mapping[str, Mapping[str, Any]], *, legacy_transformations: int
) -> dict[str, Any]:
    """The component's record: its URN, each child URN's seal, and how many legacy
    (SDK-side) transformations apply to its children, which run before any seal can be taken."""
    return {
        "format": FORMAT,
        "owner": owner,
        "children": {urn: dict(seals[urn]) for urn in sorted(seals)},
        "legacyTransformations": legacy_transformations,
    }
