"""Ownership: what a cluster owns is declared through its component, and stays protected."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from . import record as rec
from . import seen as seen_inputs
from ._common import (
    CLUSTER_TAG,
    CLUSTER_TYPES,
    in_cluster,
    is_map,
    resource_rule,
    stack_rule,
    truthy,
)
from .drift import namespace_of
from .owners import Owner, Ownership, has_unknown, ownership, plain

#: Inputs the provider neither reads back nor updates on an ACK cluster (provider facts,
#: terraform-provider-alicloud v1.289.0): an adopted cluster ignores them so that its import
#: can match, and ignoring them hides nothing refresh or an update could have seen.
_NEVER_READ_CLUSTER_INPUTS = frozenset(
    {
        "addons",
        "newNatGateway",
        "password",
        "podVswitchIds",
        "skipSetCertificateAuthority",
        "slbInternetEnabled",
    }
)

#: Fields the components themselves ignore, by type (each has its reason in the component).
COMPONENT_IGNORES: dict[str, frozenset[str]] = {
    # The cluster autoscaler moves an autoscaled pool's desired size (opt-in per pool).
    "alicloud:cs/nodePool:NodePool": frozenset({"desiredSize"}),
    "alicloud:cs/managedKubernetes:ManagedKubernetes": _NEVER_READ_CLUSTER_INPUTS,
    "alicloud:cs/kubernetes:Kubernetes": _NEVER_READ_CLUSTER_INPUTS,
}


def _declared_through_components(args: ResourceValidationArgs) -> Iterator[str]:
    if in_cluster(args.urn):
        return
    if args.resource_type in CLUSTER_TYPES:
        yield (
            f"{args.name} is an ACK cluster declared loose in the stack: declare it with "
            "ManagedCluster (or adopt it into one with the import option), so the resources "
            "beneath it are owned and protected with it"
        )
        return
    tags = args.props.get("tags")
    if is_map(tags) and CLUSTER_TAG in tags:
        yield (
            # The tag's value is not repeated: the program set it, and it may be a secret
            # (pulumi-policy hands rules secrets unwrapped; only ack-preview redacts them).
            f"{args.name} carries the ownership tag {CLUSTER_TAG} but is not "
            "a child of a cluster component: only the component may create what it owns"
        )


cluster_resources_declared_through_components = resource_rule(
    "ack-cluster-resources-declared-through-components",
    description="ACK clusters, and resources tagged as owned by one, must be declared inside a "
    "cluster component.",
    types=None,
    check=_declared_through_components,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Declare the cluster with ManagedCluster and change what lies beneath it through "
    "its typed arguments; to adopt an existing cluster, import it into the component. Remove "
    "ownership tags from resources the component does not create.",
    tags=["ownership", "drift"],
)


def _ignores(args: ResourceValidationArgs) -> Iterator[str]:
    if not in_cluster(args.urn):
        return
    allowed = COMPONENT_IGNORES.get(args.resource_type, frozenset())
    hidden = sorted(set(args.opts.ignore_changes) - allowed)
    if hidden:
        yield (
            f"{args.name} ignores changes to {', '.join(hidden)}, which the component does not "
            "ignore: console edits to these fields would go unnoticed"
        )


owned_resources_ignore_only_component_fields = resource_rule(
    "ack-owned-resources-ignore-only-component-fields",
    description="Resources a cluster owns may ignore changes only to the fields the component "
    "itself ignores.",
    types=None,
    check=_ignores,
    severity=Severity.HIGH,
    mandatory=True,
    remediation="Remove the ignore_changes (or the transform that adds it). If the cloud really "
    "changes the field, change the component so it ignores it, with the reason.",
    tags=["ownership", "drift"],
)

#: Stateful resources and the cloud flag that protects each from deletion.
_PROTECTION_FLAGS = {
    "alicloud:vpc/network:Network": None,  # no cloud flag: Pulumi `protect` only
    "alicloud:vpc/natGateway:NatGateway": "deletionProtection",
    "alicloud:ecs/eipAddress:EipAddress": "deletionProtection",
    "alicloud:kms/key:Key": "deletionProtection",
    **{t: "deletionProtection" for t in CLUSTER_TYPES},
}
#: Checked wherever they are declared; the rest only when a cluster owns them.
_ALWAYS = frozenset({"alicloud:kms/key:Key", *CLUSTER_TYPES})


def _protected(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type not in _ALWAYS and not in_cluster(args.urn):
        return
    if args.opts.protect:
        return
    flag = _PROTECTION_FLAGS[args.resource_type]
    if flag is not None:
        value = args.props.get(flag)
        if value == "Enabled" or (value != "Disabled" and truthy(value)):
            return
    how = f"set {flag}" if flag else "set the protect option"
    yield f"{args.name} can be deleted by accident: {how} (the cluster's deletion_protection does)"


stateful_resources_deletion_protected = resource_rule(
    "ack-stateful-resources-deletion-protected",
    description="Clusters, KMS keys, and the VPC, NAT gateways and EIPs a cluster owns are "
    "protected against accidental deletion.",
    types=_PROTECTION_FLAGS,
    check=_protected,
    severity=Severity.HIGH,
    mandatory=True,
    remediation="Keep deletion_protection on (the default). To decommission a cluster on "
    "purpose, add its URN pattern to this rule's `allow` list in the policy config, turn "
    "deletion_protection off with `pulumi up`, then destroy.",
    tags=["ownership", "reliability"],
)


# --- ownership proven from the components' records ----------------------------------------------


def _ownership_proven(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    own = ownership(args.resources)
    if not own.owners:
        return
    for owner in own.owners:
        yield from _owner_problems(owner)
    recording = seen_inputs.recording()
    for res in args.resources:
        yield from _claimed(own, res)
        yield from _as_planned(own, res, recording)
    yield from _second_owners(own, args.resources)


def _component(owner: Owner) -> str:
    return f"{owner.component.resource_type.rsplit(':', 1)[-1]} '{owner.name}'"


def _owner_problems(owner: Owner) -> Iterator[tuple[str, str]]:
    if owner.foreign is not None:
        return  # another stack's: its own gate judges it
    if owner.problem is not None:
        yield (
            owner.component.urn,
            f"{_component(owner)} {owner.problem}: it owns nothing the gate can prove, so what "
            "it holds is judged as declared outside it. A component of this library's type must "
            "be built by pulumi-ack-clusters.",
        )
        return
    assert owner.record is not None
    legacy = owner.record.get("legacyTransformations") or 0
    if legacy:
        yield (
            owner.component.urn,
            f"{_component(owner)} is built under {int(legacy)} old-style transformation(s) "
            "(ResourceOptions.transformations, pulumi.runtime.register_stack_transformation), "
            "which change its resources before the component can seal them: nothing it owns can "
            "be proven to be what it planned. Use transforms (ResourceOptions.transforms, "
            "pulumi.runtime.register_resource_transform) instead; adding tags is fine.",
        )


def _claimed(own: Ownership, res: PolicyResource) -> Iterator[tuple[str, str]]:
    """A resource under a component that did not register it (`parent=cluster` on one's own)."""
    claimed = own.claimed_by(res)
    if claimed is None or claimed.record is None:
        return
    owned = own.owner_of(res)
    if owned is not None and owned.owner is claimed:
        return
    yield (
        res.urn,
        f"{res.resource_type} '{res.name}' is parented into {_component(claimed)}, which did "
        "not register it: a component owns only what it declares, and a resource put under it "
        "by hand would escape the rules that guard what it owns. Declare it outside the "
        "component (under a component of your own), or through the component's arguments.",
    )


def _as_planned(own: Ownership, res: PolicyResource, recording: bool) -> Iterator[tuple[str, str]]:
    """An owned resource whose inputs or options differ from what its component sealed: a
    transform (or anything else between the component and the engine) changed it."""
    owned = own.owner_of(res)
    if owned is None or own.is_component(res) or owned.owner.record is None:
        return
    seal = (owned.owner.record.get("children") or {}).get(res.urn)
    found = seen_inputs.seen(res.urn)
    subject = f"{res.resource_type} '{res.name}' (owned by {owned.owner.describe()})"
    if found is None:
        if recording:
            yield (
                res.urn,
                f"{subject} was not analyzed on its own, so its inputs cannot be compared with "
                "what the component planned.",
            )
        return
    if not isinstance(seal, Mapping) or not seal:
        yield (
            res.urn,
            f"{subject} has no seal in its component's record: the engine did not run the "
            "component's transform (a Pulumi CLI too old for transforms?), so its inputs cannot "
            "be proven to be what the component planned.",
        )
        return
    changed = rec.differences(seal, res.resource_type, found.inputs, found.options, found.engine)
    if changed:
        yield (
            res.urn,
            f"{subject} is not what the component planned: {'; '.join(changed)}. A transform "
            "(or an option given to the component) changed it; change it through the "
            "component's arguments instead. A transform may add tags, nothing else.",
        )


def _second_owners(own: Ownership, resources: list[PolicyResource]) -> Iterator[tuple[str, str]]:
    """A resource the program declares (or imports) that is the very cloud resource, or
    Kubernetes object, a component owns: two owners of one thing undo each other's changes."""
    objects: dict[tuple[str, str, str], list[tuple[str, Any]]] = {}
    for owned in own.owned.values():
        key = _object_key(own, owned.resource)
        if key is not None:
            objects.setdefault(key[1:], []).append((key[0], owned))
    for res in resources:
        rid = _id(res)
        if not rid or res.resource_type.startswith(("kubernetes:", "pulumi:")):
            continue  # a Kubernetes object is known by its name in its cluster (below)
        if seen_inputs.seen(res.urn) is None:
            continue  # a read names what it reads; it does not manage it
        mine = own.owner_of(res)
        others = [
            i.owned
            for i in own.identities.get(rid.lower(), [])
            if i.owned is not None
            and i.owned.resource is not res
            and (mine is None or i.owned.owner is not mine.owner)
        ]
        if others:
            other = others[0]
            yield (
                res.urn,
                f"{res.resource_type} '{res.name}' is the cloud resource '{rid}', which "
                f"{other.owner.describe()} owns ({other.resource.resource_type} "
                f"'{other.resource.name}'): one resource with two owners (an import, or an "
                "adoption of another component's resource) undo each other's changes. Let one "
                "component own it, and give others its outputs.",
            )
    for res in resources:
        if seen_inputs.seen(res.urn) is None:
            continue
        mine = own.owner_of(res)
        key = _object_key(own, res)
        if key is None:
            continue
        cluster, *rest = key
        for owned_cluster, other in objects.get((rest[0], rest[1], rest[2]), []):
            if other.resource is res or (mine is not None and other.owner is mine.owner):
                continue  # itself, or its own owner's (a component's objects are its own)
            if cluster and cluster != owned_cluster:
                continue  # the same name on another cluster
            yield (
                res.urn,
                f"{res.resource_type} '{res.name}' writes {rest[0]} {rest[1]}/{rest[2]}, "
                f"which {other.owner.describe()} declares ({other.resource.resource_type} "
                f"'{other.resource.name}'): a patch, or a second declaration, of an object the "
                "component owns. Change it through the component's arguments (ingress).",
            )
            break


def _id(res: PolicyResource) -> str | None:
    rid = plain(res.props).get("id")
    return rid if isinstance(rid, str) and rid and not has_unknown(rid) else None


def _object_key(own: Ownership, res: PolicyResource) -> tuple[str, str, str, str] | None:
    """(the cluster it is written to, group/kind, namespace, name) of a Kubernetes object."""
    if not res.resource_type.startswith("kubernetes:") or own.is_component(res):
        return None
    found = seen_inputs.seen(res.urn)
    inputs: Mapping[str, Any] = found.inputs if found is not None else {}
    metadata = inputs.get("metadata")
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("name"), str):
        return None
    module, kind = res.resource_type.split(":")[1:3]
    api_version, named_kind = inputs.get("apiVersion"), inputs.get("kind")
    if isinstance(api_version, str) and isinstance(named_kind, str) and api_version and named_kind:
        # What the object says it is: a CustomResource (or its patch) names any kind at all.
        module, kind = api_version, named_kind
    # `core/v1`, `apps/v1`; the core group's objects say `v1`.
    group = module.split("/")[0] if "/" in module else "core"
    kind = kind.removesuffix("Patch")
    namespace = metadata.get("namespace")
    namespace = namespace if isinstance(namespace, str) and namespace else namespace_of(res)
    return (_cluster_of(own, res), f"{group}/{kind}", namespace, metadata["name"])


def _cluster_of(own: Ownership, res: PolicyResource) -> str:
    """The cluster a Kubernetes object is written to: the owner of its provider, or of what the
    provider's configuration came from; "" when that cannot be told (then it may be any)."""
    provider = res.provider
    if provider is None:
        return ""
    by_urn = {r.urn: r for r in own.resources}
    found = by_urn.get(provider.urn)
    if found is None:
        return ""
    owned = own.owner_of(found)
    if owned is not None:
        return owned.owner.component.urn
    for deps in found.property_dependencies.values():
        for dep in deps:
            owned = own.owner_of(dep)
            if owned is not None:
                return owned.owner.component.urn
    return ""


cluster_ownership_proven = stack_rule(
    "ack-cluster-ownership-proven",
    description="What a component of this library owns is what its record says: nothing is "
    "parented into it by hand, each owned resource is what the component planned (no transform "
    "changed it), and no other resource is the same cloud resource or Kubernetes object.",
    check=_ownership_proven,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Declare your own resources outside the component and change what it owns "
    "through its typed arguments; remove transforms that change what it owns (a transform may "
    "add tags); let one component own each cloud resource.",
    tags=["ownership", "drift"],
)
