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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ._common import CLUSTER_TAG, CLUSTER_TYPES, load_document
from .service_roles import (
    ACK_SERVICE_ROLE_PREFIXES,
    ACK_SERVICE_ROLES,
    NODE_ROLE_SUFFIX,
    role_arn,
)

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

#: The properties of pulumi-alicloud's resources that are IP whitelists: the addresses a
#: resource of one's own (a database, a load balancer's or a registry's access control list, a
#: search or messaging service, a bastion, a file system's access rule) admits. Found by reading
#: the SDK (pulumi_alicloud 4.0.0; every `*security_ip*`, `*white*`, `acl_entr*`, ACL `entry`
#: and `source_cidr_ip` input) and keeping those that say who may reach the resource. Left out
#: on purpose: addresses a resource takes for its own (an ENI's `private_ips`), sends traffic to
#: (a WAF domain's origin `source_ips`, a DNS forward rule's `forward_ips`), translates (a SNAT
#: entry's `source_cidr`), or that filter the account's own internet traffic (Cloud Firewall's
#: `source_ip` and address books, which can cut the cluster's egress), and lists that are not
#: who may reach a resource (a CDN domain's `block_ips`, an MSE Nacos config's `beta_ips`,
#: health checks' and traffic mirror filters' source addresses): those stay drift.
WHITELISTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("alicloud:rds/instance:*", ("securityIps",)),
    ("alicloud:rds/readOnlyInstance:*", ("securityIps",)),
    ("alicloud:rds/ddrInstance:*", ("securityIps",)),
    ("alicloud:rds/rdsCloneDbInstance:*", ("securityIps",)),
    ("alicloud:rds/rdsUpgradeDbInstance:*", ("securityIps",)),
    ("alicloud:rds/whitelistTemplate:*", ("ipWhiteList",)),
    ("alicloud:kvstore/instance:*", ("securityIps",)),
    ("alicloud:redis/tairInstance:*", ("securityIps",)),
    ("alicloud:redis/globalSecurityIpGroup:*", ("globalIpList",)),
    ("alicloud:mongodb/*nstance:*", ("securityIpLists", "securityIpGroups")),
    ("alicloud:mongodb/globalSecurityIpGroup:*", ("globalSecurityIpList",)),
    ("alicloud:polardb/cluster:*", ("securityIps", "dbClusterIpArrays")),
    ("alicloud:polardb/globalSecurityIpGroup:*", ("globalIpList",)),
    ("alicloud:adb/cluster:*", ("securityIps",)),
    ("alicloud:adb/dBCluster:*", ("securityIps",)),
    ("alicloud:adb/dBClusterLakeVersion:*", ("securityIps",)),
    ("alicloud:gpdb/instance:*", ("ipWhitelists", "securityIpLists")),
    ("alicloud:gpdb/elasticInstance:*", ("securityIpLists",)),
    ("alicloud:gpdb/dbInstanceIpArray:*", ("securityIpLists",)),
    ("alicloud:clickhouse/dbCluster:*", ("dbClusterAccessWhiteLists",)),
    ("alicloud:selectdb/dbInstance:*", ("desiredSecurityIpLists",)),
    ("alicloud:hbase/instance:*", ("ipWhite",)),
    ("alicloud:cassandra/cluster:*", ("ipWhite",)),
    ("alicloud:lindorm/instance:*", ("ipWhiteLists",)),
    ("alicloud:elasticsearch/instance:*", ("*hitelists",)),
    ("alicloud:mse/cluster:*", ("aclEntryLists",)),
    ("alicloud:alikafka/instanceAllowedIpAttachment:*", ("allowedIp",)),
    ("alicloud:rocketmq/rocketMQInstance:*", ("ipWhitelists",)),
    ("alicloud:rocketmq/acl:*", ("ipWhitelists",)),
    ("alicloud:slb/acl:*", ("entryLists",)),
    ("alicloud:slb/aclEntryAttachment:*", ("entry",)),
    ("alicloud:alb/acl:*", ("aclEntries",)),
    ("alicloud:alb/aclEntryAttachment:*", ("entry", "entries")),
    ("alicloud:ga/acl:*", ("aclEntries",)),
    ("alicloud:ga/aclEntryAttachment:*", ("entry",)),
    ("alicloud:apigateway/accessControlList:*", ("aclEntrys",)),
    ("alicloud:apigateway/aclEntryAttachment:*", ("entry",)),
    ("alicloud:cr/endpointAclPolicy:*", ("entry",)),
    ("alicloud:bastionhost/instance:*", ("publicWhiteLists",)),
    ("alicloud:nas/accessRule:*", ("sourceCidrIp",)),
    ("alicloud:ecs/securityGroupRule:*", ("cidrIp",)),
    ("alicloud:clickhouseenterprisedbcluster/securityIp:*", ("securityIpList",)),
    ("alicloud:gpdb/supabaseProject:*", ("securityIpLists",)),
    ("alicloud:lindorm/instanceV2:*", ("whiteIpLists",)),
    ("alicloud:maxcompute/project:*", ("ipWhiteList",)),
    ("alicloud:polardb/application:*", ("securityIpLists",)),
    ("alicloud:cr/internetEndpoint:*", ("entries",)),
    ("alicloud:kms/networkRule:*", ("sourcePrivateIps",)),
    ("alicloud:yundun/bastionHostInstance:*", ("publicWhiteLists",)),
    ("alicloud:ddos/domainResource:*", ("whiteLists",)),
    # A network ACL of one's own: its entries' sources and destinations. Bound to the
    # cluster's vSwitches (its `resources`, or a NetworkAclAttachment), it is drift there.
    ("alicloud:vpc/networkAcl:*", ("ingressAclEntries", "egressAclEntries")),
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
    # By its address only (`fields`): an EIP is changed, bound and released by its allocation
    # ID (AssociateEipAddress, ModifyEipAddressAttribute, ReleaseEipAddress take AllocationId;
    # https://www.alibabacloud.com/help/en/eip/developer-reference/api-vpc-2016-04-28-associateeipaddress),
    # so a whitelist that names its ID is not a whitelist, and stays drift.
    *(
        Allowed(
            source,
            props,
            frozenset({EIP}),
            "A whitelist (an access control list, or a rule on a group of one's own) that "
            "admits the cluster's egress address lets its pods and nodes in elsewhere; the EIP "
            "is not changed.",
            fields=frozenset({"ipAddress"}),
        )
        for source, props in WHITELISTS
    ),
    *(
        Allowed(
            source,
            props,
            frozenset({EIP}),
            "A bucket policy that admits requests from the cluster's egress address (an "
            "`acs:SourceIp` condition) limits who reaches the bucket; it cannot change the "
            "EIP, which no policy names by its address.",
            fields=frozenset({"ipAddress"}),
        )
        for source, props in (
            ("alicloud:oss/bucketPolicy:*", ("policy",)),
            ("alicloud:oss/bucket:*", ("policy",)),
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
            ("alicloud:gpdb/instance:*", ("vpcId", "vswitchId")),
            ("alicloud:adb/dBCluster:*", ("vpcId", "vswitchId")),
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
    # --- Monitoring that reads the metrics of what the cluster owns, and alerts on them. -------
    # Source: terraform-provider-alicloud, alicloud/resource_alicloud_cms_*.go (what each
    # property is sent as). Only properties that say what is measured, or name the monitor, are
    # here: an alarm's or a group rule's `targets` (PutMetricRuleTargets: an FC function, an
    # MNS queue, an SLS store or an Auto Scaling rule the alarm runs) and `webhook`, an event
    # rule's fc/mns/sls/webhook/open_api_parameters (PutEventRuleTargets: open_api_parameters
    # calls any OpenAPI action, Ess ModifyScalingGroup say), an IntegrationPolicy (an agent
    # installed into the cluster) and an AddonRelease (an add-on released into it) act, and are
    # drift when they take what a cluster owns.
    Allowed(
        "alicloud:cms/alarm:*",
        ("metricDimensions", "dimensions", "compositeExpression", "prometheuses", "name"),
        None,
        "An alarm's dimensions, expressions and name are PutResourceMetricRule's Resources, "
        "CompositeExpression, Prometheus and RuleName: which resources' metrics it reads and "
        "what it is called; CloudMonitor only reads those metrics and changes none of them.",
    ),
    Allowed(
        "alicloud:cms/groupMetricRule:*",
        ("dimensions", "groupMetricRuleName"),
        None,
        "A group metric rule's dimensions are PutGroupMetricRule's ExtraDimensionJson: which "
        "resources' metrics of its monitor group it reads; it changes none of them.",
    ),
    Allowed(
        "alicloud:cms/monitorGroup:*",
        ("monitorGroupName",),
        None,
        "A monitor group's name (CreateMonitorGroup's GroupName) only names the group.",
    ),
    Allowed(
        "alicloud:cms/monitorGroupInstances:*",
        ("instances",),
        None,
        "A monitor group's instances (CreateMonitorGroupInstances) are resources CloudMonitor "
        "reads the metrics of, together; adding them to a group changes none of them.",
    ),
    *(
        Allowed(
            f"alicloud:cms/{kind}:*",
            (name, "describe"),
            None,
            "An alarm contact or contact group only says who is told of an alarm; a name or "
            "description naming the cluster changes nothing it owns.",
        )
        for kind, name in (
            ("alarmContact", "alarmContactName"),
            ("alarmContactGroup", "alarmContactGroupName"),
        )
    ),
    Allowed(
        "alicloud:cms/siteMonitor:*",
        ("address", "taskName"),
        None,
        "A site monitor (CreateSiteMonitor's Address) probes an address from CloudMonitor's "
        "probes, as any client on the internet may (its ingress or API server address, say); "
        "it changes nothing the cluster owns.",
    ),
    Allowed(
        "alicloud:cms/eventRule:*",
        ("eventPattern", "description"),
        None,
        "An event rule's pattern (PutEventRule's EventPattern) filters which events of what "
        "the cluster owns raise an alert; the rule's targets, which act, are not allowed here.",
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
#: docs/CONSOLE-DRIFT.md). One Allow, an Effect spelt otherwise, a document that does not
#: parse or names a key twice is judged as before. `document` is ram.Policy's deprecated
#: spelling of `policyDocument` (pulumi_alicloud.ram.Policy: "Field `document` has been
#: deprecated from provider version 1.114.0. New field `policy_document` instead.").
DENY_ONLY_DOCUMENTS = frozenset(
    {
        ("alicloud:ram/policy:Policy", "policyDocument"),
        ("alicloud:ram/policy:Policy", "document"),
        ("alicloud:resourcemanager/controlPolicy:ControlPolicy", "policyDocument"),
    }
)
CONTROL_POLICY = "alicloud:resourcemanager/controlPolicy:ControlPolicy"


def _statements(value: object) -> list[dict[str, object]] | None:
    """The statements of a policy document, or None if it cannot be read (not JSON, a key
    named twice at any depth, no statement, a statement that is not an object)."""
    if not isinstance(value, str):
        return None
    try:
        doc = load_document(value)
    except ValueError:
        return None
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return None
    if not all(isinstance(s, dict) for s in statements):
        return None
    return statements


def deny_only(type_: str, prop: str, value: object) -> bool:
    """Whether `value` is a policy document of :data:`DENY_ONLY_DOCUMENTS` that only denies."""
    if (type_, prop) not in DENY_ONLY_DOCUMENTS:
        return False
    statements = _statements(value)
    return statements is not None and all(s.get("Effect") == "Deny" for s in statements)


#: Verbs of actions that only read (RAM names actions Verb + Object: DescribeClusterDetail,
#: GetRole, ListTagResources, QueryMetricList, CheckInstanceExist): an Allow of them on what a
#: cluster owns changes nothing of it (a CI role reading the cluster's kubeconfig and details,
#: scoped to the cluster rather than to "*").
READ_VERBS = ("get", "describe", "list", "query", "check")


def read_only(type_: str, prop: str, value: object) -> bool:
    """Whether `value` is a RAM policy document (not a control policy: that one guards) whose
    every Allow names actions that only read, each spelt service:Verb... (a wildcard after the
    verb keeps it a read: `cs:Describe*`; `cs:*` or `cs:D*` does not), without NotAction or
    NotResource."""
    if (type_, prop) not in DENY_ONLY_DOCUMENTS or type_ == CONTROL_POLICY:
        return False
    statements = _statements(value)
    if statements is None:
        return False
    for st in statements:
        if st.get("Effect") == "Deny":
            continue
        if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
            return False
        actions = st.get("Action")
        actions = [actions] if isinstance(actions, str) else actions
        if not isinstance(actions, list) or not actions:
            return False
        for action in actions:
            if not isinstance(action, str) or action.count(":") != 1:
                return False
            if not action.split(":", 1)[1].lower().startswith(READ_VERBS):
                return False
    return True


#: The condition a control policy exempts principals by, as DriftGuard writes it
#: (ack_clusters/guard/plan.py, control_policy_document). Operators and keys are spelt exactly:
#: RAM's policy grammar is case-sensitive
#: (https://www.alibabacloud.com/help/en/ram/policy-structure-and-syntax).
EXEMPT_OPERATOR = "StringNotLike"
EXEMPT_KEY = "acs:PrincipalARN"
#: An account ID for the sample ARNs an exemption must cover (a RAM role's ARN is
#: acs:ram::<account>:role/<name>).
_SAMPLE_ACCOUNT = "1234567890123456"


def _like(pattern: str, text: str) -> bool:
    """StringLike: `*` any run of characters, `?` one; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def must_exempt(node_roles: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Who a control policy must leave alone, each as (what it is, the ARNs it is known by):
    ACK's service roles (a sample of each prefix family) and the given node roles, by the ARN
    RAM gives them: the role's name in lower case (acs:ram::<account>:role/aliyuncsdefaultrole),
    as Alibaba Cloud's own control-policy examples write it (Resource Management, "Examples of
    custom control policies")."""
    named = [
        *((f"role/{n}", n) for n in ACK_SERVICE_ROLES),
        *((f"role/{p}*", f"{p}Sample") for p in ACK_SERVICE_ROLE_PREFIXES),
        *((f"role/{n} (a node role)", n) for n in sorted(set(node_roles))),
    ]
    return [(what, [role_arn(n, account=_SAMPLE_ACCOUNT, region="")]) for what, n in named]


#: The condition that scopes a tag Deny to some clusters (DriftGuard's `clusters`).
_CLUSTER_TAG_KEY = f"acs:ResourceTag/{CLUSTER_TAG}"
_ROLE_ARN = re.compile(r"^acs:ram:[^:]*:[^:]*:role/([A-Za-z0-9.@_-]+)$")


def _as_strings(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _node_roles_at_stake(
    st: dict[str, object], node_roles: Mapping[str, Iterable[str]]
) -> set[str]:
    """The node roles a Deny statement could deny what they do: the node roles of the clusters
    its `StringEquals` on the cluster tag names, if it names some; the node roles its Resource
    lists, if it only lists roles by their full names; else every cluster's."""
    every = {r for roles in node_roles.values() for r in roles}
    condition = st.get("Condition")
    equals = condition.get("StringEquals") if isinstance(condition, dict) else None
    scoped = _as_strings(equals.get(_CLUSTER_TAG_KEY)) if isinstance(equals, dict) else None
    if scoped is not None:
        return {r for c in scoped for r in (*node_roles.get(c, ()), f"{c}{NODE_ROLE_SUFFIX}")}
    resources = _as_strings(st.get("Resource")) if "NotResource" not in st else None
    named = [_ROLE_ARN.match(r) for r in resources or []]
    if resources and all(named):
        listed = {m.group(1).lower() for m in named if m}
        return {r for r in every if r.lower() in listed}
    return every


def missing_exemptions(value: object, node_roles: Mapping[str, Iterable[str]]) -> list[str]:
    """What a deny-only control policy does not exempt, in any of its statements, of ACK's
    service roles and the node roles (by cluster name) it could deny: a control policy applies
    to every RAM identity of its targets, these included."""
    statements = _statements(value) or []
    missing: dict[str, None] = {}
    for st in statements:
        condition = st.get("Condition")
        block = condition.get(EXEMPT_OPERATOR) if isinstance(condition, dict) else None
        patterns = _as_strings(block.get(EXEMPT_KEY)) if isinstance(block, dict) else None
        for what, arns in must_exempt(_node_roles_at_stake(st, node_roles)):
            if patterns is None or not all(any(_like(p, arn) for p in patterns) for arn in arns):
                missing[what] = None
    return list(missing)
