"""What Alibaba Cloud lets a RAM policy decide by a resource's tags, per service the clusters own
resources in, and who must never be denied. Pure data, each fact with the page it comes from.

How a Deny with a tag condition fails: when an action does not support ``acs:ResourceTag``
(the resource it acts on carries no tags, or the service does not evaluate the key for it),
the key is absent from the request, ``StringEquals`` on it is false, and the Deny silently
does not apply. So an action goes into a tag-conditioned Deny only where the resource it acts
on is one the library tags and the service documents tag-based authorization; every other
mutating action the clusters care about is listed in :data:`DETECT_ONLY` and is caught by the
ActionTrail alert instead (and by the nightly refresh).
"""

from __future__ import annotations

from dataclasses import dataclass

from ack_policies import service_roles

from ..naming import CLUSTER_TAG, MANAGED_BY, MANAGED_BY_TAG

#: The condition key RAM evaluates against the tags of the resource a request acts on.
#: Source: https://www.alibabacloud.com/help/en/ram/use-cases/use-tags-to-control-access-to-ecs-resources-1
#: ("acs:ResourceTag/<tag-key>: the tag information attached to the requested resource").
RESOURCE_TAG = "acs:ResourceTag/"
#: The tag every owned resource carries with this value (naming.ownership_tags).
OWNED_TAG_KEY = MANAGED_BY_TAG
OWNED_TAG_VALUE = MANAGED_BY
#: The tag naming the owning cluster (to scope a guard to some clusters).
CLUSTER_TAG_KEY = CLUSTER_TAG

#: Pages the facts below come from.
SRC_TAG_SERVICE = (
    "https://www.alibabacloud.com/help/en/resource-management/tag/user-guide/"
    "use-tags-to-control-access-to-resources-1"
)
SRC_ECS = (
    "https://www.alibabacloud.com/help/en/ecs/user-guide/manage-resource-permissions-with-tags"
)
SRC_VPC = "https://www.alibabacloud.com/help/en/vpc/developer-reference/api-vpc-2016-04-28-ram"
SRC_SLB = (
    "https://www.alibabacloud.com/help/en/slb/classic-load-balancer/developer-reference/"
    "api-slb-2014-05-15-ram"
)
SRC_ESS = "https://www.alibabacloud.com/help/en/auto-scaling/use-cases/tag-based-authentication"
SRC_ACK = (
    "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/"
    "use-labels-to-enforce-fine-grained-access-control"
)
SRC_RAM_TAGS = (
    "https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-tagresources"
)
SRC_ACTIONTRAIL_EVENTS = (
    "https://www.alibabacloud.com/help/en/eventbridge/user-guide/actiontrail-events"
)
SRC_ASSUMED_ROLE_EVENT = (
    "https://www.alibabacloud.com/help/en/actiontrail/user-guide/"
    "query-actiontrail-events-by-assuming-a-ram-role"
)
SRC_EVENT_PATTERNS = "https://www.alibabacloud.com/help/en/eventbridge/user-guide/event-patterns"
SRC_CREATE_TRAIL = (
    "https://www.alibabacloud.com/help/en/actiontrail/latest/api-actiontrail-2020-07-06-createtrail"
)
SRC_TARGET_PARAMS = (
    "https://www.alibabacloud.com/help/en/eventbridge/latest/event-target-parameters"
)


@dataclass(frozen=True)
class Guarded:
    """Mutating actions of one service on resources the clusters own."""

    service: str  # RAM code: the prefix of its actions ("ecs")
    trail_name: str  # ActionTrail's serviceName for its events ("Ecs")
    what: str  # the owned resources these actions change
    actions: tuple[str, ...]  # API names (the action is "<service>:<name>")
    source: str


#: Denied when the resource acted on carries the ownership tag. The resource each action acts
#: on is one the library tags (naming.ownership_tags on the VPC, vSwitches, NAT gateway, EIPs,
#: security group, ingress SLB, cluster, node pools) and the service documents tag-based
#: authorization for it.
TAG_DENY: tuple[Guarded, ...] = (
    Guarded(
        "ecs",
        "Ecs",
        "the cluster's security group and its rules; the node pools' ECS instances",
        (
            "AuthorizeSecurityGroup",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroup",
            "RevokeSecurityGroupEgress",
            "ModifySecurityGroupRule",
            "ModifySecurityGroupEgressRule",
            "ModifySecurityGroupAttribute",
            "ModifySecurityGroupPolicy",
            "DeleteSecurityGroup",
            "ModifyInstanceAttribute",
            "ModifyInstanceSpec",
            "StopInstance",
            "StopInstances",
            "RebootInstance",
            "DeleteInstance",
            "DeleteInstances",
            "AttachInstanceRamRole",
            "DetachInstanceRamRole",
            "UntagResources",
        ),
        SRC_ECS,
    ),
    Guarded(
        "vpc",
        "Vpc",
        "the VPC, vSwitches, NAT gateway and EIPs",
        (
            "ModifyVpcAttribute",
            "DeleteVpc",
            "ModifyVSwitchAttribute",
            "DeleteVSwitch",
            "ModifyNatGatewayAttribute",
            "ModifyNatGatewaySpec",
            "DeleteNatGateway",
            "ModifyEipAddressAttribute",
            "AssociateEipAddress",
            "UnassociateEipAddress",
            "ReleaseEipAddress",
            "UnTagResources",
        ),
        SRC_VPC,
    ),
    Guarded(
        "slb",
        "Slb",
        "the ingress load balancer the library creates",
        (
            "SetLoadBalancerStatus",
            "SetLoadBalancerName",
            "ModifyLoadBalancerInstanceSpec",
            "ModifyLoadBalancerInternetSpec",
            "SetLoadBalancerDeleteProtection",
            "SetLoadBalancerModificationProtection",
            "DeleteLoadBalancer",
            "UntagResources",
        ),
        SRC_SLB,
    ),
    Guarded(
        "ess",
        "Ess",
        "the node pools' scaling groups (only if ACK copies the pool's tags to them, which is "
        "not proven here: the alert covers them either way)",
        (
            "ModifyScalingGroup",
            "DisableScalingGroup",
            "DeleteScalingGroup",
            "ModifyScalingConfiguration",
            "CreateScalingRule",
            "ModifyScalingRule",
            "DeleteScalingRule",
            "ExecuteScalingRule",
            "AttachInstances",
            "DetachInstances",
            "RemoveInstances",
            "UntagResources",
        ),
        SRC_ESS,
    ),
    Guarded(
        "cs",
        "CS",
        "the cluster and its node pools and addons (ACK evaluates tags on clusters)",
        (
            "ModifyCluster",
            "DeleteCluster",
            "UpgradeCluster",
            "ModifyClusterNodePool",
            "DeleteClusterNodepool",
            "ScaleClusterNodePool",
            "RemoveClusterNodes",
            "RemoveNodePoolNodes",
            "InstallClusterAddons",
            "UnInstallClusterAddons",
            "ModifyClusterAddon",
            "UpgradeClusterAddons",
            "ModifyClusterConfiguration",
            "UntagResources",
        ),
        SRC_ACK,
    ),
)


@dataclass(frozen=True)
class Undeniable:
    """Mutating actions a tag condition cannot guard, and why."""

    service: str
    trail_name: str
    actions: tuple[str, ...]
    why: str
    source: str


#: Caught by the ActionTrail alert (and the nightly refresh), never by the tag Deny.
DETECT_ONLY: tuple[Undeniable, ...] = (
    Undeniable(
        "vpc",
        "Vpc",
        ("CreateSnatEntry", "ModifySnatEntry", "DeleteSnatEntry", "CreateForwardEntry"),
        "SNAT and DNAT entries and their tables carry no tags (the provider's vpc.SnatEntry has "
        "no tags input), so acs:ResourceTag is absent",
        SRC_VPC,
    ),
    Undeniable(
        "vpc",
        "Vpc",
        ("CreateRouteEntry", "DeleteRouteEntry", "ModifyRouteEntry", "CreateVSwitch"),
        "these act on a route table or create a resource in the VPC; whether VPC evaluates the "
        "tags of the route table or the parent VPC for them is not documented on the page",
        SRC_VPC,
    ),
    Undeniable(
        "slb",
        "Slb",
        (
            "CreateLoadBalancerTCPListener",
            "CreateLoadBalancerHTTPListener",
            "CreateLoadBalancerHTTPSListener",
            "SetLoadBalancerTCPListenerAttribute",
            "SetLoadBalancerHTTPListenerAttribute",
            "DeleteLoadBalancerListener",
            "AddBackendServers",
            "RemoveBackendServers",
            "SetBackendServers",
        ),
        "listeners and backend sets carry no tags, and the API server's load balancer is ACK's "
        "(the library does not create or tag it)",
        SRC_SLB,
    ),
    Undeniable(
        "ess",
        "Ess",
        (
            "CreateScheduledTask",
            "ModifyScheduledTask",
            "DeleteScheduledTask",
            "CreateAlarm",
            "ModifyAlarm",
            "EnableAlarm",
            "DeleteAlarm",
        ),
        "Auto Scaling lists scheduled tasks and event-triggered tasks among the APIs that do not "
        "support tag authentication",
        SRC_ESS,
    ),
    Undeniable(
        "ram",
        "Ram",
        (
            "AttachPolicyToRole",
            "DetachPolicyFromRole",
            "UpdateRole",
            "DeleteRole",
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
        ),
        "RAM tags roles and policies, but tag-based authorization of these actions is not "
        "documented; the node roles are denied by name instead (node_role_names)",
        SRC_RAM_TAGS,
    ),
)

#: RAM actions denied on the named node roles (resource ARN acs:ram:*:*:role/<name>).
NODE_ROLE_ACTIONS: tuple[str, ...] = (
    "AttachPolicyToRole",
    "DetachPolicyFromRole",
    "UpdateRole",
    "DeleteRole",
)

#: ACK's own roles: they keep managing the cluster, so the guard is never attached to them and
#: the alert never fires on them. One list, shared with the policy pack's rule that refuses
#: custom policies on them (ack_policies.service_roles).
ACK_SERVICE_ROLES = service_roles.ACK_SERVICE_ROLES
ACK_SERVICE_ROLE_PREFIXES = service_roles.ACK_SERVICE_ROLE_PREFIXES
is_ack_service_role = service_roles.is_ack_service_role
#: Every role above starts with it; the alert excludes callers whose name starts with it
#: (Alibaba Cloud's service roles are all named Aliyun...).
SERVICE_ROLE_PREFIX = "Aliyun"
#: A node role's name (identity/component.py: f"{name}-node-role").
NODE_ROLE_SUFFIX = service_roles.NODE_ROLE_SUFFIX


def denied_action_names() -> list[str]:
    """Every "<service>:<Api>" the tag Deny names, sorted."""
    return sorted({f"{g.service}:{a}" for g in TAG_DENY for a in g.actions})


def watched_events() -> dict[str, list[str]]:
    """ActionTrail serviceName -> the API names the alert watches (denied or not)."""
    out: dict[str, set[str]] = {}
    for g in TAG_DENY:
        out.setdefault(g.trail_name, set()).update(g.actions)
    for u in DETECT_ONLY:
        out.setdefault(u.trail_name, set()).update(u.actions)
    return {k: sorted(v) for k, v in sorted(out.items())}
