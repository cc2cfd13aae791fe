"""ACK's own RAM roles, and the name of a cluster's node role: one list, shared by the policy
pack (which refuses custom policies on these roles) and DriftGuard (which never targets them,
and exempts them from its control policy). Pure data: nothing here imports Pulumi, and the
pack, vendored alone, imports nothing of ack_clusters.

ACK manages a cluster's resources (its nodes, scaling groups, load balancers, disks) by
assuming these roles; a Deny attached to one of them, or a control policy that does not exempt
them, breaks the cluster. Source: ACK's roles, each with its System policy `<role>Policy`
(AliyunCSDefaultRole, AliyunCSManagedKubernetesRole, AliyunCSServerlessKubernetesRole,
AliyunCSManagedNetworkRole, AliyunCSManagedCsiRole, ...: every one named AliyunCS..., hence the
prefix), SRC_ROLES below; how a Terraform program assigns them (a role and a `System` policy
attachment), SRC_TERRAFORM below.
ACK's service-linked roles (AliyunServiceRoleForCS...) are a family matched by prefix.
"""

from __future__ import annotations

SRC_ROLES = (
    "https://www.alibabacloud.com/help/en/container-service-for-kubernetes/latest/ack-default-roles"
)
SRC_TERRAFORM = (
    "https://alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/developer-reference/"
    "use-terraform-to-assign-default-roles-to-ack-when-you-use-ack-for-the-first-time"
)

ACK_SERVICE_ROLES: tuple[str, ...] = (
    "AliyunCSDefaultRole",
    "AliyunCSManagedKubernetesRole",
    "AliyunCSServerlessKubernetesRole",
    "AliyunCSManagedAutoScalerRole",
    "AliyunCSManagedNlcRole",
    "AliyunOOSLifecycleHook4CSRole",
)
#: Families of ACK's roles, matched by prefix (AliyunServiceRoleForCS... are service-linked).
ACK_SERVICE_ROLE_PREFIXES: tuple[str, ...] = ("AliyunServiceRoleForCS", "AliyunCS")
#: A node role's name is the cluster's name with this suffix (identity/component.py).
NODE_ROLE_SUFFIX = "-node-role"


def role_arn(name: str, *, account: str = "*", region: str = "*") -> str:
    """A RAM role's ARN as RAM gives it, the name in lower case (acs:ram::<account>:role/<name>;
    Alibaba Cloud's control-policy examples write it so): what a control policy exempts by
    `acs:PrincipalARN`, for the guard that writes it and the pack that checks it."""
    return f"acs:ram:{region}:{account}:role/{name.lower()}"


def is_ack_service_role(name: str) -> bool:
    """Whether `name` is one of ACK's roles. RAM role names are unique regardless of case (a
    role's ARN spells its name in lower case), so case is ignored."""
    lowered = name.lower()
    return lowered in {r.lower() for r in ACK_SERVICE_ROLES} or lowered.startswith(
        tuple(p.lower() for p in ACK_SERVICE_ROLE_PREFIXES)
    )
