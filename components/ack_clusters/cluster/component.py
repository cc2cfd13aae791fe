"""What the cluster forms share on the registering side: the foundation (network, firewall, node
role), the control-plane arguments common to every `cs.ManagedKubernetes` profile, the ingress
load balancer, the kubeconfig, the Kubernetes provider and the outputs.

The forms differ only where the cloud differs (pod network, nodes, profile); everything else is
here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from ..access.component import ClusterAccess
from ..identity.component import NodeRole
from ..ingress.component import ClusterIngress
from ..network.component import ClusterNetwork
from ..node_pools.component import NodePool, scaling_group_ids
from ..security.component import ClusterSecurityGroup
from .args import Addon, Adoption, BaseClusterArgs, ManagedControlPlaneArgs, WorkerNodesArgs
from .plan import ClusterPlan


@dataclass
class Foundation:
    network: ClusterNetwork
    security_group: ClusterSecurityGroup
    #: The RAM role node pools run as: the component's NodeRole, or an adopted existing role;
    #: None for serverless clusters, which have no nodes.
    node_role_name: pulumi.Output[str] | None = None

    def node_vswitch_ids(self, plan: ClusterPlan) -> list[pulumi.Output[str]]:
        """Cluster (node or ECI) vSwitch IDs in the order the user listed the zones."""
        return [self.network.node_vswitch_ids[z.zone] for z in plan.network.zones]

    def pod_vswitch_ids(self, plan: ClusterPlan) -> list[pulumi.Output[str]]:
        ids = self.network.pod_vswitch_ids
        return [ids[z.zone] for z in plan.network.zones if z.zone in ids]


def addon_args(addons: list[Addon]) -> list[Any]:
    """Addons as plain input dicts, which `cs.ManagedKubernetes` and `cs.Kubernetes` both take:
    their addon TypedDicts have the same fields and differ only in name (hence `Any`). Unset
    fields are left out."""
    return [{k: v for k, v in x.model_dump().items() if v is not None} for x in addons]


class ClusterComponent(pulumi.ComponentResource):
    """Base of the cluster components. Subclasses validate and plan first (pure), then call
    ``super().__init__`` and the helpers below, so nothing registers before input is valid.

    Attributes are annotated where they are set, not on the class: class-level annotations are
    what Pulumi's schema analyzer reads, and the package's schema outputs are declared in
    ack_clusters.package."""

    def _foundation(
        self, plan: ClusterPlan, args: BaseClusterArgs, *, node_role: bool
    ) -> Foundation:
        child = pulumi.ResourceOptions(parent=self)
        adopt = args.adopt or Adoption()
        network = ClusterNetwork(
            plan.name,
            plan.network,
            tags=plan.tags,
            eip_bandwidth=args.network.nat_eip_bandwidth,
            deletion_protection=args.deletion_protection,
            vswitch_label=plan.vswitch_label,
            import_vpc_id=adopt.vpc_id,
            import_node_vswitch_ids=adopt.node_vswitch_ids,
            import_pod_vswitch_ids=adopt.pod_vswitch_ids,
            opts=child,
        )
        security_group = ClusterSecurityGroup(
            plan.name,
            vpc_id=network.vpc_id,
            rules=plan.rules,
            tags=plan.tags,
            import_id=adopt.security_group_id,
            opts=child,
        )
        role_name: pulumi.Output[str] | None = None
        if node_role and adopt.node_role_name:
            role_name = pulumi.Output.from_input(adopt.node_role_name)
        elif node_role:
            role_name = NodeRole(plan.name, tags=plan.tags, opts=child).role_name
        return Foundation(network, security_group, role_name)

    @staticmethod
    def _common_cluster_args(
        a: BaseClusterArgs, plan: ClusterPlan, foundation: Foundation
    ) -> dict[str, Any]:
        """Arguments `cs.ManagedKubernetes` (every profile) and `cs.Kubernetes` share."""
        return dict(
            name=plan.name,
            version=a.kubernetes_version,
            service_cidr=a.service_cidr,
            # Egress is ours (ClusterNetwork), not a side effect ACK creates and deletes.
            new_nat_gateway=False,
            slb_internet_enabled=a.public_api_server,
            security_group_id=foundation.security_group.security_group_id,
            deletion_protection=a.deletion_protection,
            # Certificates belong in the expiring kubeconfig, not in Pulumi state.
            skip_set_certificate_authority=True,
            tags=plan.tags,
        )

    @classmethod
    def _control_plane_args(
        cls, a: ManagedControlPlaneArgs, plan: ClusterPlan, foundation: Foundation
    ) -> dict[str, Any]:
        """`cs.ManagedKubernetes` arguments every profile takes the same way."""
        logs = a.control_plane_logs
        window = a.maintenance_window
        return dict(
            **cls._common_cluster_args(a, plan, foundation),
            vswitch_ids=foundation.node_vswitch_ids(plan),
            enable_rrsa=a.rrsa,
            encryption_provider_key=a.secrets_encryption_kms_key_id,
            disable_encryption=False if a.secrets_encryption_kms_key_id else None,
            control_plane_log_components=list(logs.components) if logs else None,
            control_plane_log_ttl=str(logs.ttl_days) if logs else None,
            control_plane_log_project=logs.project if logs else None,
            audit_log_config=alicloud.cs.ManagedKubernetesAuditLogConfigArgs(
                enabled=a.audit_log.enabled, sls_project_name=a.audit_log.project
            ),
            maintenance_window=(
                alicloud.cs.ManagedKubernetesMaintenanceWindowArgs(
                    enable=True,
                    weekly_period=window.weekly_period,
                    maintenance_time=window.maintenance_time,
                    duration=f"{window.duration_hours}h",
                )
                if window
                else None
            ),
            operation_policy=(
                alicloud.cs.ManagedKubernetesOperationPolicyArgs(
                    cluster_auto_upgrade=alicloud.cs.ManagedKubernetesOperationPolicyClusterAutoUpgradeArgs(
                        enabled=True, channel=a.auto_upgrade_channel
                    )
                )
                if a.auto_upgrade_channel
                else None
            ),
        )

    def _node_pools(
        self, a: WorkerNodesArgs, plan: ClusterPlan, foundation: Foundation, cluster_id: Any
    ) -> dict[str, NodePool]:
        assert foundation.node_role_name is not None
        adopt = a.adopt or Adoption()
        return {
            pool_name: NodePool(
                f"{plan.name}-{pool_name}",
                pool_name=pool_name,
                args=pool,
                cluster_id=cluster_id,
                vswitch_ids=foundation.node_vswitch_ids(plan),
                security_group_id=foundation.security_group.security_group_id,
                ram_role_name=foundation.node_role_name,
                tags=plan.tags,
                # Nodes boot and pull images right away: never before they have egress.
                depends_on=foundation.network.egress,
                import_id=(
                    f"{adopt.cluster_id}:{adopt.node_pool_ids[pool_name]}"
                    if pool_name in adopt.node_pool_ids
                    else None
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for pool_name, pool in a.node_pools.items()
        }

    @staticmethod
    def _pod_network_args(
        a: WorkerNodesArgs, plan: ClusterPlan, foundation: Foundation
    ) -> dict[str, Any]:
        """Pod network arguments of the node forms (managed and dedicated take them alike)."""
        flannel = a.network_plugin == "flannel"
        return dict(
            pod_vswitch_ids=foundation.pod_vswitch_ids(plan) or None,
            pod_cidr=a.effective_pod_cidr,
            node_cidr_mask=a.node_cidr_mask if flannel else None,
            # The network addon goes by name alone, as ACK's defaults do; user addons as given.
            addons=[{"name": a.network_addon}, *addon_args(a.addons)],
        )

    def _finish_node_cluster(
        self,
        cluster: alicloud.cs.ManagedKubernetes | alicloud.cs.Kubernetes,
        a: WorkerNodesArgs,
        plan: ClusterPlan,
        foundation: Foundation,
    ) -> None:
        """What the node forms (managed, dedicated) do once the cluster resource exists: node
        pools, access, ingress and outputs."""
        self.node_pools: dict[str, NodePool] = self._node_pools(a, plan, foundation, cluster.id)
        self.scaling_group_ids: pulumi.Output[dict[str, str]] = scaling_group_ids(self.node_pools)
        self._access(cluster, a, plan)
        # The ingress Service waits for nodes that can run the ingress controller.
        self._ingress(a, plan, foundation, service_depends_on=list(self.node_pools.values()))
        self.pod_vswitch_ids: pulumi.Output[list[str]] = pulumi.Output.all(
            *foundation.pod_vswitch_ids(plan)
        )
        assert foundation.node_role_name is not None
        self.node_role_name: pulumi.Output[str] = foundation.node_role_name
        self._outputs(
            cluster,
            a,
            plan,
            foundation,
            extra={
                "pod_vswitch_ids": self.pod_vswitch_ids,
                "node_role_name": self.node_role_name,
                "scaling_group_ids": self.scaling_group_ids,
                "node_pools": {
                    n: {"node_pool_id": p.node_pool_id, "scaling_group_id": p.scaling_group_id}
                    for n, p in self.node_pools.items()
                },
            },
        )

    def _access(
        self, cluster: pulumi.CustomResource, a: BaseClusterArgs, plan: ClusterPlan
    ) -> None:
        access = ClusterAccess(
            plan.name, cluster=cluster, minutes=a.kubeconfig_minutes, parent=self
        )
        self.kubeconfig: pulumi.Output[str] = access.kubeconfig
        self.provider: k8s.Provider = access.provider

    def _ingress(
        self,
        a: BaseClusterArgs,
        plan: ClusterPlan,
        foundation: Foundation,
        service_depends_on: list[pulumi.Resource],
    ) -> None:
        self.ingress_load_balancer_id: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if a.ingress is None:
            return
        ingress = ClusterIngress(
            plan.name,
            a.ingress,
            private_vswitch_id=foundation.node_vswitch_ids(plan)[0],
            deletion_protection=a.deletion_protection,
            tags=plan.tags,
            provider=self.provider,
            service_depends_on=service_depends_on,
            parent=self,
        )
        self.ingress_load_balancer_id = ingress.load_balancer_id

    def _outputs(
        self,
        cluster: alicloud.cs.ManagedKubernetes | alicloud.cs.Kubernetes,
        a: BaseClusterArgs,
        plan: ClusterPlan,
        foundation: Foundation,
        extra: dict[str, Any],
    ) -> None:
        network = foundation.network
        self.cluster_id: pulumi.Output[str] = cluster.id
        self.vpc_id: pulumi.Output[str] = network.vpc_id
        self.vswitch_ids: pulumi.Output[list[str]] = pulumi.Output.all(
            *foundation.node_vswitch_ids(plan)
        )
        self.security_group_id: pulumi.Output[str] = foundation.security_group.security_group_id
        self.nat_gateway_ids: dict[str, pulumi.Output[str]] = network.nat_gateway_ids
        self.nat_gateway_id: pulumi.Output[str | None] = pulumi.Output.from_input(
            next(iter(network.nat_gateway_ids.values()), None)
        )
        self.api_server_slb_id: pulumi.Output[str] = cluster.slb_id
        public = a.public_api_server
        # `connections` is a list of one in the provider's schema.
        self.api_server_endpoint: pulumi.Output[str] = cluster.connections.apply(
            lambda cs: (cs[0].api_server_internet if public else cs[0].api_server_intranet) or ""
        )
        self.register_outputs(
            {
                "cluster_id": self.cluster_id,
                "vpc_id": self.vpc_id,
                "vswitch_ids": self.vswitch_ids,
                "security_group_id": self.security_group_id,
                "nat_gateway_id": self.nat_gateway_id,
                "api_server_slb_id": self.api_server_slb_id,
                "api_server_endpoint": self.api_server_endpoint,
                "ingress_load_balancer_id": self.ingress_load_balancer_id,
                "kubeconfig": self.kubeconfig,
                **extra,
            }
        )
