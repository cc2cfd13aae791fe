"""What the three cluster forms share on the registering side: the foundation (network, firewall,
node role), the kubeconfig and the Kubernetes provider."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from .args import ClusterArgs
from .identity import NodeRole
from .network import ClusterNetwork
from .plan.cluster import ClusterPlan
from .security import ClusterSecurityGroup


@dataclass
class Foundation:
    network: ClusterNetwork
    security_group: ClusterSecurityGroup
    node_role: NodeRole | None

    def node_vswitch_ids(self, plan: ClusterPlan) -> list[pulumi.Output[str]]:
        """Node vSwitch IDs in the order the user listed the zones."""
        return [self.network.node_vswitch_ids[z.zone] for z in plan.network.zones]

    def pod_vswitch_ids(self, plan: ClusterPlan) -> list[pulumi.Output[str]]:
        ids = self.network.pod_vswitch_ids
        return [ids[z.zone] for z in plan.network.zones if z.zone in ids]


def build_foundation(
    parent: pulumi.ComponentResource, plan: ClusterPlan, args: ClusterArgs, *, node_role: bool
) -> Foundation:
    child = pulumi.ResourceOptions(parent=parent)
    network = ClusterNetwork(
        plan.name,
        plan.network,
        tags=plan.tags,
        eip_bandwidth=args.network.nat_eip_bandwidth,
        deletion_protection=args.deletion_protection,
        opts=child,
    )
    security_group = ClusterSecurityGroup(
        plan.name, vpc_id=network.vpc_id, rules=plan.rules, tags=plan.tags, opts=child
    )
    role = NodeRole(plan.name, tags=plan.tags, opts=child) if node_role else None
    return Foundation(network=network, security_group=security_group, node_role=role)


def fetch_kubeconfig(
    parent: pulumi.Resource, cluster_id: pulumi.Output[str], minutes: int
) -> pulumi.Output[str]:
    """A fresh, expiring admin kubeconfig, fetched on every run and kept secret (the provider
    does not mark it secret itself)."""
    credential = alicloud.cs.get_cluster_credential_output(
        cluster_id=cluster_id,
        temporary_duration_minutes=minutes,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
    # In a preview the invoke is skipped (the cluster ID is unknown) and its result carries no
    # dependency on the cluster; joining it with the ID keeps the edge in preview and update
    # alike, so whatever consumes the kubeconfig is ordered after the cluster in both.
    kubeconfig = pulumi.Output.all(cluster_id, credential.kube_config).apply(lambda v: v[1])
    return pulumi.Output.secret(kubeconfig)


def kubernetes_provider(
    parent: pulumi.Resource, name: str, kubeconfig: pulumi.Output[str]
) -> k8s.Provider:
    return k8s.Provider(
        f"{name}-k8s", kubeconfig=kubeconfig, opts=pulumi.ResourceOptions(parent=parent)
    )
