"""ClusterSecurityGroup: the cluster's firewall, with only the rules its plan lists."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_alicloud as alicloud

from ..naming import SECURITY_GROUP_TYPE
from .plan import RuleSpec


class ClusterSecurityGroup(pulumi.ComponentResource):
    security_group_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        vpc_id: pulumi.Input[str],
        rules: tuple[RuleSpec, ...],
        tags: Mapping[str, pulumi.Input[str]],
        import_id: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(SECURITY_GROUP_TYPE, name, None, opts)
        group = alicloud.ecs.SecurityGroup(
            f"{name}-sg",
            security_group_name=f"{name}-sg",
            description=f"Firewall of ACK cluster {name}",
            vpc_id=vpc_id,
            security_group_type="normal",
            # Nodes, pods and the control plane ENIs in the group talk to each other freely.
            inner_access_policy="Accept",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, import_=import_id),
        )
        self.security_group_id = group.id
        for rule in rules:
            alicloud.ecs.SecurityGroupRule(
                f"{name}-sg-{rule.key}",
                security_group_id=group.id,
                type="ingress",
                ip_protocol=rule.protocol,
                port_range=rule.port_range,
                cidr_ip=rule.cidr,
                policy="accept",
                priority=1,
                nic_type="intranet",
                description=rule.description,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"security_group_id": self.security_group_id})
