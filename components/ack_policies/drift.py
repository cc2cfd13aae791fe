"""The core rule: nothing declared outside a cluster component may attach to, or modify, a
resource the component owns.

IDs are unknown at preview, so the rule reads Pulumi's property dependencies: a loose resource
whose property (say a rule's ``securityGroupId``) was computed from an owned resource (the
cluster's security group) attaches to it, whatever the ID turns out to be. A hard-coded ID
string carries no dependency; that case is left to drift detection by refresh (see README).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource, Severity, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from ._common import CLUSTER_TAG, CLUSTER_TYPES, as_list, is_map, owning_cluster, stack_rule


@dataclass(frozen=True)
class Edge:
    """A loose resource of type `source` attaching through `prop` to an owned `target`.

    With `field`, `prop` holds objects (one or a list) whose `field` attaches (a dotted path
    where the field sits deeper: `vpcInfo.securityGroupIds`). Pulumi records
    dependencies per top-level property only, and their other fields may name a cluster's
    vSwitch (an interface placed there, which is not drift for an instance either): a
    dependency on a vSwitch does not count then; any other owned resource does, as for `prop`
    itself (an ID an invoke derived from the cluster's VPC is no more proof of innocence).
    Where the object also names its VPC (a function's `vpc_config`), `beside` adds the VPC:
    a service placed in the cluster's VPC with a group of its own is not drift, and a group ID
    an invoke derives from that VPC is caught only where it is unknown (at preview)."""

    source: str  # fnmatch pattern of the loose resource's type
    prop: str
    targets: frozenset[str]  # types of owned resources this edge protects
    what: str  # what the attachment is, for the message
    instead: str  # the typed argument to use instead
    field: str | None = None
    beside: frozenset[str] = frozenset({"alicloud:vpc/switch:Switch"})


_SG = frozenset({"alicloud:ecs/securityGroup:SecurityGroup"})
_NAT = frozenset({"alicloud:vpc/natGateway:NatGateway"})
_LB = frozenset(
    {"alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer", *CLUSTER_TYPES}
)  # the ingress SLB, and the API server SLB (read from the cluster's slb_id)
_VPC = frozenset({"alicloud:vpc/network:Network"})
#: What a nested object's fields other than the attaching one may name, where the object
#: also names its VPC (see Edge.beside).
_IN_A_VPC = frozenset({"alicloud:vpc/switch:Switch", "alicloud:vpc/network:Network"})
_OWN_GROUP = "a security group of its own; let its address range in through security.extra_ingress"

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
        "alicloud:vpc/routeTableAttachment:*",
        "routeTableId",
        frozenset({*_VPC, "alicloud:vpc/routeTable:RouteTable"}),
        "another vSwitch bound to its route tables",
        "network.nat",
    ),
    Edge(
        "alicloud:cen/transitRouterRouteTable*:*",
        "transitRouterAttachmentId",
        frozenset({"alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment"}),
        "a route table association or propagation of its CEN attachment",
        "network.cen",
    ),
    Edge(
        "alicloud:cs/*",
        "clusterId",
        CLUSTER_TYPES,
        "a node pool, addon or setting on its cluster",
        "node_pools / addons",
    ),
    Edge(
        "alicloud:cs/kubernetesPermission:*",
        "permissions",
        CLUSTER_TYPES,
        "an RBAC grant on its cluster",
        "the cluster's access settings",
    ),
    Edge(
        "alicloud:vpc/networkAcl*:*",
        "resources",
        frozenset({"alicloud:vpc/switch:Switch"}),
        "a network ACL on its vSwitches",
        "security",
    ),
    Edge(
        "alicloud:vpc/dhcpOptionsSetAttachment:*",
        "vpcId",
        _VPC,
        "DHCP options on its VPC",
        "network",
    ),
    Edge(
        "alicloud:vpc/ipv4CidrBlock:*",
        "vpcId",
        _VPC,
        "a secondary CIDR block on its VPC",
        "network.vpc_cidr",
    ),
    Edge(
        "alicloud:pvtz/zoneAttachment:*",
        "vpcIds",
        _VPC,
        "a PrivateZone bound to its VPC",
        "network",
    ),
    Edge(
        "alicloud:pvtz/zoneAttachment:*",
        "vpcs",
        _VPC,
        "a PrivateZone bound to its VPC",
        "network",
    ),
    Edge(
        "alicloud:cen/instanceAttachment:*",
        "childInstanceId",
        _VPC,
        "a CEN attachment of its VPC",
        "network",
    ),
    Edge(
        "alicloud:cen/transitRouterVpcAttachment:*",
        "vpcId",
        _VPC,
        "a CEN transit router attachment of its VPC",
        "network",
    ),
    Edge("alicloud:vpc/peerConnection:*", "vpcId", _VPC, "a peering of its VPC", "network"),
    Edge(
        "alicloud:vpc/peerConnection:*",
        "acceptingVpcId",
        _VPC,
        "a peering into its VPC",
        "network",
    ),
    Edge("alicloud:vpn/gateway:*", "vpcId", _VPC, "a VPN gateway in its VPC", "network"),
    Edge(
        "alicloud:vpn/gateway:*",
        "vswitchId",
        frozenset({"alicloud:vpc/switch:Switch"}),
        "a VPN gateway in its vSwitch",
        "network",
    ),
    Edge("alicloud:vpc/ipv6Gateway:*", "vpcId", _VPC, "an IPv6 gateway in its VPC", "network"),
    Edge(
        "alicloud:vpc/ipv4Gateway:*",
        "vpcId",
        _VPC,
        "an IPv4 gateway in its VPC (once enabled it takes over the VPC's internet traffic)",
        "network.nat",
    ),
    Edge(
        "alicloud:vpc/ipv6CidrBlock:*",
        "vpcId",
        _VPC,
        "a secondary IPv6 CIDR block on its VPC",
        "network",
    ),
    *(
        Edge(
            source,
            "vswitchId",
            frozenset({"alicloud:vpc/switch:Switch"}),
            "a high-availability VIP in its vSwitch (which stops SNAT entries there)",
            "network",
        )
        for source in ("alicloud:vpc/hAVip:*", "alicloud:vpc/haVipv2:*")
    ),
    Edge(
        "alicloud:vpc/vswitchCidrReservation:*",
        "vswitchId",
        frozenset({"alicloud:vpc/switch:Switch"}),
        "a CIDR reservation in its vSwitch",
        "network.zones",
    ),
    Edge(
        "alicloud:vpc/vPCRouteEntry:*",
        "routeTableId",
        frozenset({*_VPC, "alicloud:vpc/routeTable:RouteTable"}),
        "a route in its route tables",
        "network.nat",
    ),
    Edge(
        "alicloud:vpc/gateway*RouteTableAttachment:*",
        "routeTableId",
        frozenset({*_VPC, "alicloud:vpc/routeTable:RouteTable"}),
        "a gateway bound to its route tables",
        "network.nat",
    ),
    Edge(
        "alicloud:vpc/natIp*:*",
        "natGatewayId",
        _NAT,
        "an address or range on its NAT gateway",
        "network.nat",
    ),
    Edge(
        "alicloud:vpc/commonBandwithPackageAttachment:*",
        "instanceId",
        frozenset({"alicloud:ecs/eipAddress:EipAddress"}),
        "its NAT EIP put in a shared bandwidth package",
        "network.nat_eip_bandwidth",
    ),
    Edge(
        "alicloud:ess/*",
        "securityGroupId",
        _SG,
        "a scaling configuration in its security group",
        "node_pools",
    ),
    Edge(
        "alicloud:ess/*",
        "securityGroupIds",
        _SG,
        "a scaling configuration in its security group",
        "node_pools",
    ),
    # Whatever joins its security group is let in by the group's rules and, by the group's
    # default inner-access policy, reaches the nodes (and the rules the component writes then
    # admit more than the cluster). Not here: databases that take a security group into their
    # whitelist (rds, kvstore, mongodb, polardb), which lets the group's members in, not them.
    *(
        Edge(source, prop, _SG, f"{what} its security group", _OWN_GROUP)
        for source, prop, what in (
            ("alicloud:ecs/ecsNetworkInterface:*", "securityGroups", "a network interface in"),
            ("alicloud:vpc/networkInterface:*", "securityGroups", "a network interface in"),
            ("alicloud:vpc/networkInterface:*", "securityGroupIds", "a network interface in"),
            ("alicloud:ecs/ecsInstanceSet:*", "securityGroupIds", "instances in"),
            ("alicloud:ecs/*aunchTemplate:*", "securityGroupId", "a launch template for"),
            ("alicloud:ecs/*aunchTemplate:*", "securityGroupIds", "a launch template for"),
            ("alicloud:eci/*", "securityGroupId", "ECI container groups or virtual nodes in"),
            ("alicloud:cs/*", "securityGroupId", "another cluster or node pool in"),
            ("alicloud:cs/*", "securityGroupIds", "another cluster's node pool in"),
            ("alicloud:nlb/*", "securityGroupIds", "a network load balancer in"),
            ("alicloud:privatelink/vpcEndpoint:*", "securityGroupIds", "an endpoint's ENIs in"),
            ("alicloud:pvtz/endpoint:*", "securityGroupId", "a DNS resolver endpoint in"),
            ("alicloud:nas/mountTarget:*", "securityGroupId", "a NAS mount target in"),
            ("alicloud:sae/application:*", "securityGroupId", "SAE application instances in"),
            ("alicloud:bastionhost/instance:*", "securityGroupIds", "a bastion host in"),
            ("alicloud:alikafka/instance:*", "securityGroup", "a Kafka instance's brokers in"),
            ("alicloud:emr/cluster:*", "securityGroupId", "EMR cluster nodes in"),
            ("alicloud:ehpc/cluster*:*", "securityGroupId", "E-HPC cluster nodes in"),
            ("alicloud:eais/instance:*", "securityGroupId", "an elastic accelerator's ENI in"),
            ("alicloud:dms/airflow:*", "securityGroupId", "a DMS Airflow instance in"),
            ("alicloud:ecp/instance:*", "securityGroupId", "cloud phone instances in"),
            ("alicloud:cddc/dedicatedPropreHost:*", "securityGroupId", "database hosts in"),
            ("alicloud:rds/custom:*", "securityGroupIds", "RDS Custom instances in"),
            (
                "alicloud:*/loadBalancerSecurityGroupAttachment:*",
                "securityGroupId",
                "a load balancer joined to",
            ),
        )
    ),
    # The same, by a network interface declared inside the resource.
    *(
        Edge(
            source,
            "networkInterfaces",
            _SG,
            f"{what} with a network interface in its security group",
            _OWN_GROUP,
            field,
        )
        for source, field, what in (
            ("alicloud:ecs/instance:*", "securityGroupIds", "an instance"),
            ("alicloud:ecs/*aunchTemplate:*", "securityGroupId", "a launch template"),
            ("alicloud:ess/*", "securityGroupIds", "a scaling configuration"),
        )
    ),
    Edge(
        "alicloud:apigateway/instance:*",
        "zoneVswitchSecurityGroups",
        _SG,
        "an API Gateway instance with VPC integration interfaces in its security group",
        _OWN_GROUP,
        "securityGroup",
    ),
    # The same, by a VPC access block that names the VPC and vSwitches beside the group.
    *(
        Edge(source, prop, _SG, f"{what} its security group", _OWN_GROUP, field, _IN_A_VPC)
        for source, prop, field, what in (
            ("alicloud:fc/service:*", "vpcConfig", "securityGroupId", "functions with ENIs in"),
            ("alicloud:fc/v3Function:*", "vpcConfig", "securityGroupId", "a function with ENIs in"),
            ("alicloud:servicemesh/*", "network", "securityGroupId", "a service mesh in"),
            ("alicloud:ackone/cluster:*", "network", "securityGroupIds", "an ACK One fleet in"),
            (
                "alicloud:eventbridge/connection:*",
                "networkParameters",
                "securityGroupId",
                "an EventBridge connection's ENIs in",
            ),
            ("alicloud:emrv2/cluster:*", "nodeAttributes", "securityGroupId", "EMR nodes in"),
            (
                "alicloud:rocketmq/rocketMQInstance:*",
                "networkInfo",
                "vpcInfo.securityGroupIds",
                "a RocketMQ instance in",
            ),
            (
                "alicloud:emrv2/cluster:*",
                "nodeGroups",
                "additionalSecurityGroupIds",
                "an EMR node group in",
            ),
        )
    ),
)

#: The Service annotations that hand a load balancer to the cloud controller manager.
LB_ID_ANNOTATION = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"
FORCE_OVERRIDE = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners"


#: Tag ACK puts on what it creates for a cluster (its API server load balancer, say).
ACK_TAG = "ack.aliyun.com"


def _owned_behind(target: PolicyResource) -> tuple[str, str] | None:
    """(cluster name, how) when a dependency is a resource a cluster owns: a child of a cluster
    component, or anything carrying a cluster's ownership tag or ACK's own tag (so a read,
    `.get`, of an owned resource counts as that resource). Raises UnknownValueError when its
    tags are unknown at preview (a read whose ID is still to be created)."""
    cluster = owning_cluster(target)
    if cluster is not None:
        return cluster.name, ""
    tags = target.props.get("tags")
    if is_map(tags):
        if CLUSTER_TAG in tags:
            return str(tags[CLUSTER_TAG]), f" (read as '{target.name}')"
        if ACK_TAG in tags:
            return f"{tags[ACK_TAG]} (ACK's)", f" (read as '{target.name}')"
    return None


def _loose_attachments(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    for res in args.resources:
        if owning_cluster(res) is not None:
            continue  # the component's own wiring
        judged: set[str] = set()  # properties an earlier edge already judged
        for edge in EDGES:
            if edge.prop in judged or not fnmatch.fnmatchcase(res.resource_type, edge.source):
                continue
            judged.add(edge.prop)
            targets = res.property_dependencies.get(edge.prop, [])
            if edge.field is not None:
                targets = [t for t in targets if t.resource_type not in edge.beside]
            for target in targets:
                yield from _violation(res, edge, target)
            if not targets:
                yield from _untraceable(res, edge)
        yield from _services(res)


def _services(res: PolicyResource) -> Iterator[tuple[str, str]]:
    """A Service declared outside the component may not bind to a load balancer a cluster owns:
    the API server's (ACK's, named by the cluster's slb_id) or the ingress one, whose Service
    the component binds itself (ingress.bind_service); force-override would also rewrite the
    listeners the component set."""
    if res.resource_type != "kubernetes:core/v1:Service":
        return
    annotations = (res.props.get("metadata") or {}).get("annotations") or {}
    if LB_ID_ANNOTATION not in list(annotations):  # keys only: the ID is unknown at preview
        return
    force = str(annotations.get(FORCE_OVERRIDE, "")).lower() == "true"
    for target in res.property_dependencies.get("metadata", []):
        found = _owned_behind(target)
        if found is None:
            continue
        if target.resource_type in CLUSTER_TYPES or ACK_TAG in how_tagged(target):
            what = "is put on the API server's load balancer"
        elif target.resource_type in _LB:
            what = (
                "force-overrides the listeners the component set on its load balancer"
                if force
                else "binds to the component's ingress load balancer outside the component"
            )
        else:
            continue
        yield (
            res.urn,
            (
                f"Service '{res.name}' {what} ({target.resource_type} '{target.name}', owned "
                f"by cluster '{found[0]}'). Bind the ingress controller's Service through the "
                "component (ingress.bind_service) instead, and route other traffic through it "
                "with Ingress objects."
            ),
        )


def how_tagged(target: PolicyResource) -> Mapping[str, Any]:
    tags = target.props.get("tags")
    return tags if is_map(tags) else {}


def _untraceable(res: PolicyResource, edge: Edge) -> Iterator[tuple[str, str]]:
    """A value unknown at preview that no resource produced came from an invoke whose inputs
    were themselves unknown (the SDK drops an invoke's dependencies then): it may name a
    cluster's resource, and nothing shows it does not."""
    where = edge.prop if edge.field is None else f"{edge.prop}[].{edge.field}"
    try:
        value = res.props.get(edge.prop)
        for found in [value] if edge.field is None else _at(value, edge.field.split(".")):
            _read_all(found)
    except UnknownValueError:
        yield (
            res.urn,
            (
                f"{res.resource_type} '{res.name}' attaches through '{where}' to a value "
                "unknown at preview that no resource in the program produced (an invoke on "
                "values still to be created): it cannot be proven not to be a cluster's "
                f"resource. Change it through the cluster's typed arguments ({edge.instead})."
            ),
        )


def _at(value: Any, path: list[str]) -> Iterator[Any]:
    """The values at `path` inside `value`, through objects and lists of them."""
    for item in as_list(value):
        if is_map(item):
            inner = item.get(path[0])
            yield from _at(inner, path[1:]) if len(path) > 1 else [inner]


def _read_all(value: Any) -> None:
    """Read every value inside `value`: the proxies raise UnknownValueError on an unknown one,
    which a list (a group's IDs, one taken from an invoke) holds as an element."""
    if is_map(value):
        for key in value:
            _read_all(value[key])
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            _read_all(item)


def _violation(
    res: PolicyResource, edge: Edge, target: PolicyResource
) -> Iterator[tuple[str, str]]:
    """An attachment property whose value came from anything a cluster owns: the owned
    resource itself, a read of it, or a value derived from another owned resource (an invoke
    such as get_security_groups(vpc_id=cluster.vpc_id) carries the VPC as its dependency)."""
    try:
        found = _owned_behind(target)
    except UnknownValueError:
        yield (
            res.urn,
            (
                f"{res.resource_type} '{res.name}' attaches through '{edge.prop}' to "
                f"{target.resource_type} '{target.name}', whose identity is unknown at preview "
                "(a read of a resource still to be created): it cannot be proven not to be a "
                f"cluster's. Change it through the cluster's typed arguments ({edge.instead})."
            ),
        )
        return
    if found is None:
        return
    cluster, how = found
    if target.resource_type in edge.targets:
        what = edge.what
    else:
        what = f"an attachment whose '{edge.prop}' was derived from"
    yield (
        res.urn,
        (
            f"{res.resource_type} '{res.name}' is {what} ({target.resource_type} "
            f"'{target.name}'{how}, owned by cluster '{cluster}') through '{edge.prop}'. "
            f"Change it through the cluster's typed arguments ({edge.instead}) instead."
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
