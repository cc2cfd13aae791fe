"""NodeRole: the RAM role worker nodes run as, trusted by ECS only, least privilege."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_alicloud as alicloud

from ..naming import NODE_ROLE_TYPE
from .plan import node_policy_document, node_trust_policy


class NodeRole(pulumi.ComponentResource):
    role_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        tags: Mapping[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(NODE_ROLE_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # ACK rejects custom node roles named KubernetesWorkerRole-* or KubernetesMasterRole-*.
        role = alicloud.ram.Role(
            f"{name}-node-role",
            role_name=f"{name}-node-role",
            assume_role_policy_document=node_trust_policy(),
            description=f"Worker nodes of ACK cluster {name}",
            tags=tags,
            opts=child,
        )
        attach_custom_policy(
            f"{name}-node-policy",
            role,
            policy_name=f"{name}-node-policy",
            document=node_policy_document(),
            description=f"Least privilege for worker nodes of ACK cluster {name}",
            tags=tags,
            opts=child,
        )
        self.role_name = role.role_name
        self.role_arn = role.arn
        self.register_outputs({"role_name": self.role_name, "role_arn": self.role_arn})


def attach_custom_policy(
    name: str,
    role: alicloud.ram.Role,
    *,
    policy_name: str,
    document: str,
    description: str,
    tags: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> alicloud.ram.Policy:
    """A Custom RAM policy and its attachment to `role`, both logical name `name`."""
    policy = alicloud.ram.Policy(
        name,
        policy_name=policy_name,
        policy_document=document,
        description=description,
        tags=tags,
        opts=opts,
    )
    alicloud.ram.RolePolicyAttachment(
        name,
        role_name=role.role_name,
        policy_name=policy.policy_name,
        policy_type="Custom",
        opts=opts,
    )
    return policy
