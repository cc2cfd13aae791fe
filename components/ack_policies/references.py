"""The reviewed uses of what a component owns that change nothing it owns: the allow list of
the drift rule.

The drift rule is closed: whatever a resource outside a component takes from what the
component owns (through a dependency, by naming its ID, name, ARN or address, or through a read
of it) is drift, whatever the resource's type, unless one entry here allows that use. Each entry
says why the use cannot change the owned resource, and has a case in tests/test_references.py
that passes through the real analyzer server; an entry that allows a whole property also lets
that property hold a value unknown at preview that no resource produced.

Where an entry names target types, only those owned resources may be reached; a use of any
other owned resource through the same property is still drift (a database may whitelist the
cluster's security group, not join it).
"""

from __future__ import annotations

import fnmatch
import functools
import json
from dataclasses import dataclass

from ._common import CLUSTER_TYPES

SG = "alicloud:ecs/securityGroup:SecurityGroup"
VPC = "alicloud:vpc/network:Network"
VSWITCH = "alicloud:vpc/switch:Switch"
SLB = "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer"
EIP = "alicloud:ecs/eipAddress:EipAddress"
ROLE = "alicloud:ram/role:Role"
NETWORK = frozenset({VPC, VSWITCH})
#: A cluster's outputs that are its API server's load balancer.
API_SERVER_LB_FIELDS = frozenset({"slbId", "slbIntranet", "slbInternet", "connections"})
#: A cluster's outputs that are its RRSA OIDC provider and issuer.
RRSA_FIELDS = frozenset({"rrsaMetadata"})


@dataclass(frozen=True)
class Allowed:
    """A loose resource of type `source` may take, through one of `props`, what an owner owns:
    any of it (`targets` None) or the owned resources of `targets`; by value, only the identity
    fields `fields` (None: any) and never `not_fields`."""

    source: str  # fnmatch pattern of the resource type
    props: tuple[str, ...]  # fnmatch patterns of its top-level properties
    targets: frozenset[str] | None
    why: str
    fields: frozenset[str] | None = None
    not_fields: frozenset[str] = frozenset()
    not_targets: frozenset[str] = frozenset()
    #: Where the property is a block: the fields in it (dotted paths) that may hold what the
    #: entry allows. A value unknown at preview elsewhere in the block, which no resource of the
    #: program's own explains, cannot be proven (a group an invoke found, beside the vSwitch).
    at: tuple[str, ...] | None = None

    def covers(self, type_: str, prop: str) -> bool:
        return fnmatch.fnmatchcase(type_, self.source) and any(
            fnmatch.fnmatchcase(prop, p) for p in self.props
        )


_PLACED = (
    "It places a resource of its own, with its own address and security group, in the "
    "cluster's network; the VPC and vSwitches are not changed."
)
_WHITELIST = (
    "A database's whitelist lets the cluster's nodes in, and changes nothing on the cluster's side."
)

ALLOWED: tuple[Allowed, ...] = (
    # --- Kubernetes: what runs on the cluster, through its provider. --------------------------
    Allowed(
        "kubernetes:*",
        ("*",),
        None,
        "Kubernetes objects run on the cluster; what they say about its resources (a node "
        "pool's ID in a node selector, the VPC in a controller's settings, its egress address "
        "in a Service's source ranges, its API server's address in a deploy tool's secret) "
        "changes none of them. Handing an owned load balancer, EIP or RAM role to a controller "
        "(an annotation of the cloud controller manager, Terway or ECI), putting an owned "
        "address behind a load balancer (Endpoints), patching what the component declared and "
        "writing into ACK's system namespaces are judged apart.",
    ),
    Allowed(
        "pulumi:providers:kubernetes",
        ("*",),
        None,
        "A Kubernetes provider only connects to the cluster (its kubeconfig); what it does is "
        "judged on the objects that use it.",
    ),
    # --- Letting the nodes in elsewhere. -------------------------------------------------------
    Allowed(
        "alicloud:ecs/securityGroupRule:*",
        ("sourceSecurityGroupId",),
        frozenset({SG}),
        "A rule on another group that admits the cluster's group lets the nodes in there; the "
        "cluster's own group is not changed.",
    ),
    Allowed(
        "alicloud:ecs/securityGroup:*",
        ("vpcId",),
        frozenset({VPC}),
        "A security group of one's own in the cluster's VPC changes nothing until something "
        "joins it.",
    ),
    *(
        Allowed(source, props, frozenset({SG, *NETWORK}), f"{_WHITELIST} {_PLACED}")
        for source, props in (
            ("alicloud:rds/instance:*", ("securityGroupIds", "vpcId", "vswitchId")),
            ("alicloud:rds/readOnlyInstance:*", ("vswitchId",)),
            ("alicloud:kvstore/instance:*", ("securityGroupId", "vpcId", "vswitchId")),
            ("alicloud:mongodb/*nstance:*", ("securityGroupId", "vpcId", "vswitchId")),
            ("alicloud:polardb/cluster:*", ("securityGroupIds", "vpcId", "vswitchId")),
            ("alicloud:redis/tairInstance:*", ("securityGroupId", "vpcId", "vswitchId")),
        )
    ),
    # --- Whitelisting the cluster's egress address (its NAT gateway's EIP). --------------------
    *(
        Allowed(
            source,
            props,
            frozenset({EIP}),
            "A whitelist (or a rule on a group of one's own) that admits the cluster's egress "
            "address lets its pods and nodes in elsewhere; the EIP is not changed.",
            fields=frozenset({"ipAddress"}),
        )
        for source, props in (
            ("alicloud:rds/instance:*", ("securityIps",)),
            ("alicloud:rds/readOnlyInstance:*", ("securityIps",)),
            ("alicloud:kvstore/instance:*", ("securityIps",)),
            ("alicloud:redis/tairInstance:*", ("securityIps",)),
            ("alicloud:mongodb/*nstance:*", ("securityIpLists", "securityIpGroups")),
            ("alicloud:polardb/cluster:*", ("securityIps", "dbClusterIpArrays")),
            ("alicloud:elasticsearch/instance:*", ("*hitelists",)),
            ("alicloud:mse/cluster:*", ("aclEntryLists",)),
            ("alicloud:slb/acl:*", ("entryLists",)),
            ("alicloud:alb/aclEntryAttachment:*", ("entry",)),
            ("alicloud:ecs/securityGroupRule:*", ("cidrIp",)),
        )
    ),
    *(
        Allowed(
            source,
            ("policy",),
            frozenset({VPC}),
            "A bucket policy grants access to its bucket; naming the cluster's VPC (the "
            "`acs:SourceVpc` condition) limits who reaches the bucket, and cannot change the VPC.",
        )
        for source in ("alicloud:oss/bucketPolicy:*", "alicloud:oss/bucket:*")
    ),
    # --- Resources of one's own placed in the cluster's network. -------------------------------
    *(
        Allowed(source, (prop,), NETWORK, _PLACED, at=at)
        for source, prop, at in (
            ("alicloud:ecs/instance:*", "networkInterfaces", ("vswitchId",)),
            ("alicloud:ecs/ecsInstanceSet:*", "networkInterfaces", ("vswitchId",)),
            ("alicloud:ecs/*aunchTemplate:*", "networkInterfaces", ("vswitchId",)),
            ("alicloud:alb/loadBalancer:*", "zoneMappings", ("vswitchId",)),
            ("alicloud:nlb/loadBalancer:*", "zoneMappings", ("vswitchId",)),
            ("alicloud:fc/service:*", "vpcConfig", ("vpcId", "vswitchIds")),
            ("alicloud:fc/v3Function:*", "vpcConfig", ("vpcId", "vswitchIds")),
            ("alicloud:servicemesh/serviceMesh:*", "network", ("vpcId", "vswitcheList")),
            ("alicloud:ackone/cluster:*", "network", ("vpcId", "vswitches")),
            ("alicloud:eventbridge/connection:*", "networkParameters", ("vpcId", "vswitcheId")),
            ("alicloud:kms/instance:*", "bindVpcs", ("vpcId", "vswitchId")),
            ("alicloud:emrv2/cluster:*", "nodeAttributes", ("vpcId",)),
            ("alicloud:emrv2/cluster:*", "nodeGroups", ("vswitchIds",)),
            (
                "alicloud:rocketmq/rocketMQInstance:*",
                "networkInfo",
                ("vpcInfo.vpcId", "vpcInfo.vswitchId", "vpcInfo.vswitches"),
            ),
        )
    ),
    *(
        Allowed(source, props, NETWORK, _PLACED)
        for source, props in (
            ("alicloud:ecs/instance:*", ("vswitchId",)),
            ("alicloud:ecs/ecsInstanceSet:*", ("vswitchId",)),
            ("alicloud:ecs/*aunchTemplate:*", ("vswitchId", "vpcId")),
            ("alicloud:ecs/ecsNetworkInterface:*", ("vswitchId",)),
            ("alicloud:vpc/networkInterface:*", ("vswitchId",)),
            ("alicloud:slb/applicationLoadBalancer:*", ("vswitchId", "vpcId")),
            ("alicloud:alb/loadBalancer:*", ("vpcId",)),
            ("alicloud:nlb/loadBalancer:*", ("vpcId",)),
            ("alicloud:nas/mountTarget:*", ("vswitchId", "vpcId")),
            ("alicloud:privatelink/vpcEndpoint:*", ("vpcId",)),
            ("alicloud:privatelink/vpcEndpointZone:*", ("vswitchId",)),
            ("alicloud:sae/application:*", ("vpcId", "vswitchId")),
            ("alicloud:eci/containerGroup:*", ("vswitchId",)),
            ("alicloud:alikafka/instance:*", ("vswitchId", "vswitchIds", "vpcId")),
            ("alicloud:elasticsearch/instance:*", ("vswitchId",)),
            ("alicloud:ess/scalingGroup:*", ("vswitchIds", "vswitchId")),
            ("alicloud:cr/vpcEndpointLinkedVpc:*", ("vpcId", "vswitchId")),
            ("alicloud:alb/serverGroup:*", ("vpcId",)),
            ("alicloud:nlb/serverGroup:*", ("vpcId",)),
            ("alicloud:bastionhost/instance:*", ("vswitchId", "slaveVswitchId")),
            ("alicloud:kms/instance:*", ("vpcId", "vswitchIds")),
            ("alicloud:mse/cluster:*", ("vpcId", "vswitchId")),
            ("alicloud:rds/rdsDbProxy:*", ("vpcId", "vswitchId")),
        )
    ),
    # --- Naming the cluster without changing it. -----------------------------------------------
    Allowed(
        "alicloud:ram/role:*",
        ("assumeRolePolicyDocument", "document"),
        frozenset(CLUSTER_TYPES),
        "A role trusted by the cluster's RRSA OIDC provider (a service account role) names "
        "the provider as who may assume it; the cluster is not changed. The RRSA rule judges "
        "the trust itself.",
        fields=RRSA_FIELDS,
    ),
    *(
        Allowed(
            source,
            ("value",),
            None,
            "A DNS record names an address; whatever it names, it changes nothing a cluster "
            "owns (it sends traffic to the cluster's load balancers, say).",
        )
        for source in (
            "alicloud:dns/record:*",
            "alicloud:dns/alidnsRecord:*",
            "alicloud:pvtz/zoneRecord:*",
        )
    ),
    Allowed(
        "alicloud:pvtz/zoneRecord:*",
        ("zoneId",),
        frozenset({"alicloud:pvtz/zone:Zone"}),
        "A record in a private zone the cluster owns (its `private_zones`) is the team's own: "
        "the component owns the zone and its binding to the VPC, never the names in it.",
    ),
    Allowed(
        "alicloud:cms/*",
        ("*",),
        None,
        "Monitoring (CloudMonitor alarms, rules and groups) reads the metrics of what the "
        "cluster owns and changes none of it.",
    ),
)


@functools.lru_cache(maxsize=4096)
def allowed(type_: str, prop: str, target: str | None, field: str | None) -> Allowed | None:
    """The entry that allows a resource of `type_` to reach, through `prop`, an owned resource
    of type `target` (None: one that cannot be proven not to be owned, or an ownership tag),
    by value through identity `field` if it was found by value."""
    for entry in ALLOWED:
        if not entry.covers(type_, prop):
            continue
        if target is None:
            if entry.targets is None and not entry.fields:
                return entry
            continue
        if entry.targets is not None and target not in entry.targets:
            continue
        if target in entry.not_targets:
            continue
        if field is not None and field != "tag":
            # Found by value: the output it names must be one the entry allows. Through a
            # dependency, which output was taken is not known until it is (in an update, or a
            # preview of a deployed stack, the value decides).
            if entry.fields is not None and field not in entry.fields:
                continue
            if field in entry.not_fields:
                continue
        return entry
    return None


@functools.lru_cache(maxsize=4096)
def block_entry(type_: str, prop: str) -> Allowed | None:
    """The entry that allows parts of a block property, if one does."""
    return next((e for e in ALLOWED if e.at is not None and e.covers(type_, prop)), None)


def outside(entry: Allowed, paths: list[str]) -> list[str]:
    """Those of `paths` (dotted, inside the property) the entry does not cover."""
    assert entry.at is not None
    return [p for p in paths if not any(p == a or p.startswith(f"{a}.") for a in entry.at)]


#: Policy documents that may name what a cluster owns (its node role's ARN, its ownership tags)
#: when every statement in them is a Deny: a Deny only takes rights away from whoever the
#: policy is attached to, so it cannot attach to or change an owned resource. This is how an
#: account guards the clusters against console drift (ack_clusters.DriftGuard,
#: docs/CONSOLE-DRIFT.md). One Allow, an Effect spelt otherwise, or a document that does not
#: parse is judged as before.
DENY_ONLY_DOCUMENTS = frozenset(
    {
        ("alicloud:ram/policy:Policy", "policyDocument"),
        ("alicloud:resourcemanager/controlPolicy:ControlPolicy", "policyDocument"),
    }
)


def deny_only(type_: str, prop: str, value: object) -> bool:
    """Whether `value` is a policy document of :data:`DENY_ONLY_DOCUMENTS` that only denies."""
    if (type_, prop) not in DENY_ONLY_DOCUMENTS or not isinstance(value, str):
        return False
    try:
        doc = json.loads(value)
    except ValueError:
        return False
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return (
        isinstance(statements, list)
        and bool(statements)
        and all(isinstance(s, dict) and s.get("Effect") == "Deny" for s in statements)
    )
