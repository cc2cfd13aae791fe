"""The core rule: nothing outside a component may take, and so attach to or change, what the
component owns; the only exceptions are the reviewed reference-only uses of
:mod:`ack_policies.references`.

What a component owns is what its record lists (:mod:`ack_policies.owners`). A resource reaches
an owned resource through any property:

- by a dependency: the property's value came from the owned resource (at preview, when IDs are
  unknown, this is what shows it), from a read of it, or from an invoke that took one of its
  values (the SDK records the invoke's dependencies);
- by value: the property names the owned resource's ID, a name or ARN of it, or an address it
  has (known in an update, in a preview of a deployed stack, and at once for names the program
  chose), or an ownership tag (a lookup of what a cluster owns by its tags);
- or it cannot be proven not to: a value unknown at preview that no resource produced (an
  invoke on values still to be created), a read whose ID is unknown, a stack reference whose
  outputs are not known.

The type of the resource does not matter: a ROS stack, a Cloud Control resource or a dynamic
provider's resource is judged like any other. What it reaches must be allowed, or it is drift.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, Severity, StackValidationArgs

from . import seen as seen_inputs
from ._common import CLUSTER_TYPES, stack_rule
from .owners import (
    STACK_REFERENCE,
    Owned,
    Ownership,
    Reached,
    ownership,
    plain,
    strings_in,
)
from .references import API_SERVER_LB_FIELDS, SLB, allowed

#: The Service annotations that hand a load balancer to the cloud controller manager.
LB_ID_ANNOTATION = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"
#: Namespaces of ACK's own objects (its managed addons and control-plane components).
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})

#: What an owned resource of each type is to its owner, and the typed argument to use instead.
_OWNED: dict[str, tuple[str, str]] = {
    "alicloud:ecs/securityGroup:SecurityGroup": (
        "its security group",
        "security.extra_ingress; or a security group of your own, let in through "
        "security.extra_ingress",
    ),
    "alicloud:vpc/network:Network": (
        "its VPC",
        "network.zones for its vSwitches, or a VPC of your own given as network.existing_vpc "
        "where other resources share it",
    ),
    "alicloud:vpc/switch:Switch": (
        "a vSwitch of its",
        "network.zones, or a VPC of your own given as network.existing_vpc",
    ),
    "alicloud:vpc/natGateway:NatGateway": ("its NAT gateway", "network.nat"),
    "alicloud:ecs/eipAddress:EipAddress": ("its NAT EIP", "network.nat, network.nat_eip_bandwidth"),
    "alicloud:ecs/eipAssociation:EipAssociation": ("its NAT EIP's association", "network.nat"),
    "alicloud:vpc/snatEntry:SnatEntry": ("its SNAT entries", "network.nat"),
    "alicloud:vpc/routeTable:RouteTable": ("a route table of its", "network.nat"),
    "alicloud:vpc/routeEntry:RouteEntry": ("a route of its", "network.nat"),
    "alicloud:vpc/routeTableAttachment:RouteTableAttachment": ("its route tables", "network.nat"),
    SLB: ("its ingress load balancer", "ingress (bind_service)"),
    "alicloud:ram/role:Role": ("its RAM role", "the component's arguments (node_pools, policies)"),
    "alicloud:ram/policy:Policy": ("its RAM policy", "the component's arguments"),
    "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": (
        "its role's policies",
        "the component's arguments",
    ),
    "alicloud:cs/nodePool:NodePool": (
        "a node pool of its (and the ESS scaling group the pool owns)",
        "node_pools.<name> (autoscaling, sizes, labels, taints)",
    ),
    "alicloud:cs/kubernetesAddon:KubernetesAddon": ("an addon of its", "addons"),
    "alicloud:cs/autoscalingConfig:AutoscalingConfig": ("its autoscaler settings", "autoscaler"),
    "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment": (
        "its CEN attachment",
        "network.cen",
    ),
    "alicloud:cen/transitRouterRouteTableAssociation:TransitRouterRouteTableAssociation": (
        "its CEN route table association",
        "network.cen",
    ),
    "alicloud:cen/transitRouterRouteTablePropagation:TransitRouterRouteTablePropagation": (
        "its CEN route table propagation",
        "network.cen",
    ),
    "pulumi:providers:kubernetes": ("its Kubernetes provider", "ingress"),
    "kubernetes:core/v1:Service": ("its ingress Service", "ingress (bind_service)"),
    **{
        t: (
            "its cluster (or its API server's load balancer)",
            "node_pools, addons, autoscaler or ingress",
        )
        for t in CLUSTER_TYPES
    },
}
_SOMETHING = ("a resource it owns", "the component's typed arguments")


def describe(owned: Owned) -> str:
    what, _ = _OWNED.get(owned.resource.resource_type, _SOMETHING)
    return (
        f"{what} ({owned.resource.resource_type} '{owned.resource.name}', owned by "
        f"{owned.owner.describe()})"
    )


def instead(owned: Owned | None) -> str:
    if owned is None:
        return "the cluster's typed arguments"
    _, arguments = _OWNED.get(owned.resource.resource_type, _SOMETHING)
    kind = owned.owner.kind
    return f"the {kind}'s typed arguments ({arguments})"


def _loose_attachments(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    own = ownership(args.resources)
    if not own.owners and not any(r.resource_type == STACK_REFERENCE for r in args.resources):
        return  # nothing here is owned, nor can a referenced stack's be
    if not seen_inputs.recording():
        yield (
            "",
            "The policy pack's server did not record what each resource was analyzed with, so "
            "nothing a component owns can be proven untouched: run the pack from its own entry "
            "point (policies/__main__.py, or a pack written by ack-policy-pack).",
        )
        return
    for res in args.resources:
        if own.is_component(res):
            continue  # what a component of the program's own takes, its children take
        found = seen_inputs.seen(res.urn)
        if found is None:
            continue  # a read, or a stack reference: it names what it reads, it attaches nothing
        mine = own.owner_of(res)
        for prop, value in found.inputs.items():
            reported: set[str] = (
                set()
            )  # one finding per owned resource (or doubt) a property reaches
            for reached in own.reached_by(res, prop, value, mine):
                if _own_wiring(reached, mine, prop):
                    continue
                if _allowed(res, prop, value, reached):
                    continue
                key = (
                    reached.owned.resource.urn
                    if reached.owned is not None
                    else reached.unproven or reached.how
                )
                if key not in reported:
                    reported.add(key)
                    yield res.urn, _message(res, prop, reached)
        if mine is None:
            yield from _kubernetes(own, res, found.inputs)


def _own_wiring(reached: Reached, mine: Owned | None, prop: str) -> bool:
    """What a component's own resources take from each other, and the ownership tags it puts on
    them (a loose resource carrying those is the tag rule's)."""
    if reached.field == "tag" and (mine is not None or prop == "tags"):
        return True
    return mine is not None and reached.owned is not None and reached.owned.owner is mine.owner


def _allowed(res: PolicyResource, prop: str, value: Any, reached: Reached) -> bool:
    target = reached.owned.resource.resource_type if reached.owned is not None else None
    if reached.unproven is not None:
        target = None
    if _binds_a_load_balancer(res, prop, value) and (
        target == SLB or target in CLUSTER_TYPES or target is None
    ):
        return False  # a Service handed a load balancer the cluster owns
    return allowed(res.resource_type, prop, target, reached.field) is not None


def _binds_a_load_balancer(res: PolicyResource, prop: str, value: Any) -> bool:
    """A Kubernetes property that hands a load balancer to the cloud controller manager, by
    any route: a Service's annotations, a Helm chart's values, a YAML document's text."""
    if not res.resource_type.startswith("kubernetes:"):
        return False
    return any(LB_ID_ANNOTATION in text for text in strings_in(value))


def _message(res: PolicyResource, prop: str, reached: Reached) -> str:
    subject = f"{res.resource_type} '{res.name}'"
    if reached.unproven is not None:
        return (
            f"{subject} takes through '{prop}' {reached.unproven}: it cannot be proven not to "
            "be a resource a cluster owns. Give it a value the program declares, or change it "
            f"through {instead(None)} instead."
        )
    if reached.owned is None:
        return (
            f"{subject} targets what a cluster owns by its tags through '{prop}'{reached.how}. "
            f"Change it through {instead(None)} instead."
        )
    if reached.field in API_SERVER_LB_FIELDS and reached.owned.resource.resource_type in (
        CLUSTER_TYPES
    ):
        what = (
            f"its API server's load balancer ({reached.owned.resource.resource_type} "
            f"'{reached.owned.resource.name}', owned by {reached.owned.owner.describe()})"
        )
    else:
        what = describe(reached.owned)
    return (
        f"{subject} takes {what} through '{prop}'{reached.how}: nothing outside the "
        f"component may attach to or change what it owns. Change it through "
        f"{instead(reached.owned)} instead."
    )


# --- Kubernetes: ACK's system namespaces -------------------------------------------------------


def namespace_of(res: PolicyResource) -> str:
    """The namespace an object without one of its own lands in: its provider's default
    namespace (the Kubernetes provider's `namespace` input), else `default`."""
    provider = res.provider
    props = plain(provider.props) if provider is not None else {}
    found = props.get("namespace") if isinstance(props, Mapping) else None
    return found if isinstance(found, str) and found else "default"


def _kubernetes(
    own: Ownership, res: PolicyResource, inputs: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """Objects written into ACK's system namespaces (its managed addons and components live
    there, and ACK's upgrades overwrite them), in a stack that has a cluster."""
    if not res.resource_type.startswith("kubernetes:") or not any(
        o.kind == "cluster" for o in own.owners
    ):
        return
    metadata = inputs.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    namespace = metadata.get("namespace") or inputs.get("namespace") or namespace_of(res)
    values = inputs.get("values")
    if isinstance(values, Mapping) and isinstance(values.get("namespaceOverride"), str):
        namespace = values["namespaceOverride"]  # a chart's own convention for where it goes
    kind = res.resource_type.rsplit(":", 1)[-1].removesuffix("Patch").removesuffix("List")
    name = metadata.get("name")
    written = namespace if isinstance(namespace, str) else None
    if kind == "Namespace" and isinstance(name, str):
        written = name
    if written in SYSTEM_NAMESPACES:
        yield (
            res.urn,
            f"{res.resource_type} '{res.name}' writes into '{written}', the namespace of "
            "ACK's own components (managed addons, the network plugin, CoreDNS), which ACK "
            "manages and overwrites on upgrade. Configure them through the cluster's addons "
            "(their config), and put your own objects in namespaces of your own.",
        )


no_loose_attachments_to_cluster_resources = stack_rule(
    "ack-no-loose-attachments-to-cluster-resources",
    description="Resources declared outside a cluster component must not take, and so attach "
    "to or change, what the component owns, except by the reviewed reference-only uses.",
    check=_loose_attachments,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Move the change into the component's typed arguments (the message names "
    "which). If the team accepts this exception, add the resource's URN, with the reason, to "
    "this rule's `allow` list in the policy config.",
    tags=["ownership", "drift"],
)
