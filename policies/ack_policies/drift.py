"""The core rule: nothing declared outside a cluster component may attach to, or modify, a
resource the component owns.

IDs are unknown at preview, so the rule reads Pulumi's property dependencies: a loose resource
whose property (say a rule's ``securityGroupId``) was computed from an owned resource (the
cluster's security group) attaches to it, whatever the ID turns out to be. A hard-coded ID
string carries no dependency; that case is left to drift detection by refresh (see README).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

from pulumi_policy import PolicyResource, Severity, StackValidationArgs

from ._common import CLUSTER_TYPES, owning_cluster, stack_rule


@dataclass(frozen=True)
class Edge:
    """A loose resource of type `source` attaching through `prop` to an owned `target`."""

    source: str  # fnmatch pattern of the loose resource's type
    prop: str
    targets: frozenset[str]  # types of owned resources this edge protects
    what: str  # what the attachment is, for the message
    instead: str  # the typed argument to use instead


_SG = frozenset({"alicloud:ecs/securityGroup:SecurityGroup"})
_NAT = frozenset({"alicloud:vpc/natGateway:NatGateway"})
_LB = frozenset(
    {"alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer", *CLUSTER_TYPES}
)  # the ingress SLB, and the API server SLB (read from the cluster's slb_id)
_VPC = frozenset({"alicloud:vpc/network:Network"})

EDGES: tuple[Edge, ...] = (
    Edge(
        "alicloud:ecs/securityGroupRule:*",
        "securityGroupId",
        _SG,
        "a rule on its security group",
        "security.extra_ingress",
    ),
    Edge(
        "alicloud:ecs/instance:*",
        "securityGroups",
        _SG,
        "an instance in its security group",
        "node_pools",
    ),
    Edge(
        "alicloud:ecs/ecsNetworkInterface:*",
        "securityGroupIds",
        _SG,
        "a network interface in its security group",
        "node_pools",
    ),
    Edge(
        "alicloud:slb/*",
        "loadBalancerId",
        _LB,
        "a listener, backend or rule on its load balancer",
        "ingress (bind_service)",
    ),
    Edge(
        "alicloud:vpc/snatEntry:*",
        "snatTableId",
        _NAT,
        "a SNAT entry on its NAT gateway",
        "network.nat",
    ),
    Edge(
        "alicloud:vpc/forwardEntry:*",
        "forwardTableId",
        _NAT,
        "a DNAT entry on its NAT gateway",
        "ingress",
    ),
    Edge(
        "alicloud:ecs/eipAssociation:*",
        "instanceId",
        _NAT,
        "an EIP association to its NAT gateway",
        "network.nat",
    ),
    Edge(
        "alicloud:ecs/eipAssociation:*",
        "allocationId",
        frozenset({"alicloud:ecs/eipAddress:EipAddress"}),
        "a use of its NAT EIP",
        "network.nat",
    ),
    Edge(
        "alicloud:ram/*PolicyAttachment:*",
        "roleName",
        frozenset({"alicloud:ram/role:Role"}),
        "a policy attached to its node role",
        "the component's node role policy",
    ),
    Edge(
        "alicloud:ram/roleAttachment:*",
        "roleName",
        frozenset({"alicloud:ram/role:Role"}),
        "its node role attached to other instances",
        "node_pools",
    ),
    Edge(
        "alicloud:ess/*",
        "scalingGroupId",
        frozenset({"alicloud:cs/nodePool:NodePool"}),
        "a scaling rule, alarm or attachment on a node pool's scaling group",
        "node_pools.<name>.autoscaling",
    ),
    Edge("alicloud:vpc/switch:*", "vpcId", _VPC, "a vSwitch in its VPC", "network.zones"),
    Edge("alicloud:vpc/routeTable:*", "vpcId", _VPC, "a route table in its VPC", "network.nat"),
    Edge(
        "alicloud:vpc/routeEntry:*",
        "routeTableId",
        frozenset({*_VPC, "alicloud:vpc/routeTable:RouteTable"}),
        "a route in its route tables",
        "network.nat",
    ),
    Edge(
        "alicloud:vpc/routeTableAttachment:*",
        "vswitchId",
        frozenset({"alicloud:vpc/switch:Switch"}),
        "a route table on its vSwitch",
        "network.nat",
    ),
    Edge(
        "alicloud:cs/*",
        "clusterId",
        CLUSTER_TYPES,
        "a node pool, addon or setting on its cluster",
        "node_pools / addons",
    ),
)


def _loose_attachments(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    for res in args.resources:
        if owning_cluster(res) is not None:
            continue  # the component's own wiring
        for edge in EDGES:
            if not fnmatch.fnmatchcase(res.resource_type, edge.source):
                continue
            for target in res.property_dependencies.get(edge.prop, []):
                yield from _violation(res, edge, target)


def _violation(
    res: PolicyResource, edge: Edge, target: PolicyResource
) -> Iterator[tuple[str, str]]:
    if target.resource_type not in edge.targets:
        return
    cluster = owning_cluster(target)
    if cluster is None:
        return
    yield (
        res.urn,
        (
            f"{res.resource_type} '{res.name}' is {edge.what} ({target.resource_type} "
            f"'{target.name}', owned by cluster '{cluster.name}') through '{edge.prop}'. Change it "
            f"through the cluster's typed arguments ({edge.instead}) instead."
        ),
    )


no_loose_attachments_to_cluster_resources = stack_rule(
    "ack-no-loose-attachments-to-cluster-resources",
    description="Resources declared outside a cluster component must not attach to or modify "
    "the resources the component owns.",
    check=_loose_attachments,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Move the change into the cluster component's typed arguments (the message "
    "names which). If the team accepts this exception, add the resource's URN pattern to this "
    "rule's `allow` list in the policy config.",
    tags=["ownership", "drift"],
)
