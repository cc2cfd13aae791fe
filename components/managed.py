"""ManagedCluster: an ACK managed cluster (hidden control plane) and everything beneath it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from .args import ManagedClusterArgs
from .cluster import build_foundation, fetch_kubeconfig, kubernetes_provider
from .naming import MANAGED_CLUSTER_TYPE
from .node_pool import NodePool
from .plan.cluster import ClusterPlan, parse_args, plan_cluster

#: Annotations by which the cloud controller manager adopts an existing load balancer for a
#: Service instead of creating one nobody tracks.
LB_ID_ANNOTATION = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"
LB_OVERRIDE_ANNOTATION = (
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners"
)


def plan_managed(name: str, args: ManagedClusterArgs) -> ClusterPlan:
    return plan_cluster(
        f"ManagedCluster {name!r}",
        name,
        args,
        with_pod_vswitches=args.wants_pod_vswitches,
        pod_cidr=args.effective_pod_cidr,
    )


class ManagedCluster(pulumi.ComponentResource):
    """An ACK managed cluster with its VPC, vSwitches, NAT egress, firewall, node RAM role, node
    pools, optional ingress load balancer, kubeconfig and Kubernetes provider.

    Arguments are validated and the whole network planned before anything is registered: a bad
    input raises :class:`components.errors.InvalidArguments` naming every bad field."""

    cluster_id: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    vswitch_ids: pulumi.Output[list[str]]
    pod_vswitch_ids: pulumi.Output[list[str]]
    security_group_id: pulumi.Output[str]
    nat_gateway_id: pulumi.Output[str | None]
    nat_gateway_ids: dict[str, pulumi.Output[str]]
    api_server_slb_id: pulumi.Output[str]
    api_server_endpoint: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    ingress_load_balancer_id: pulumi.Output[str | None]
    node_pools: dict[str, NodePool]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self,
        name: str,
        args: ManagedClusterArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        subject = f"ManagedCluster {name!r}"
        self.args = parse_args(ManagedClusterArgs, subject, name, args)
        self.plan = plan_managed(name, self.args)
        # Everything above is pure; nothing has been registered yet.
        super().__init__(MANAGED_CLUSTER_TYPE, name, None, opts)
        a, plan = self.args, self.plan

        foundation = build_foundation(self, plan, a, node_role=True)
        assert foundation.node_role is not None
        network = foundation.network
        node_vswitches = foundation.node_vswitch_ids(plan)

        cluster = alicloud.cs.ManagedKubernetes(
            name,
            name=name,
            profile="Default",
            cluster_spec=a.cluster_spec,
            version=a.kubernetes_version,
            vswitch_ids=node_vswitches,
            pod_vswitch_ids=foundation.pod_vswitch_ids(plan) or None,
            pod_cidr=a.effective_pod_cidr,
            node_cidr_mask=a.node_cidr_mask if a.network_plugin == "flannel" else None,
            service_cidr=a.service_cidr,
            # Egress is ours (ClusterNetwork), not a side effect ACK creates and deletes.
            new_nat_gateway=False,
            slb_internet_enabled=a.public_api_server,
            security_group_id=foundation.security_group.security_group_id,
            deletion_protection=a.deletion_protection,
            enable_rrsa=a.rrsa,
            encryption_provider_key=a.secrets_encryption_kms_key_id,
            disable_encryption=False if a.secrets_encryption_kms_key_id else None,
            control_plane_log_components=(
                list(a.control_plane_logs.components) if a.control_plane_logs else None
            ),
            control_plane_log_ttl=(
                str(a.control_plane_logs.ttl_days) if a.control_plane_logs else None
            ),
            control_plane_log_project=(
                a.control_plane_logs.project if a.control_plane_logs else None
            ),
            audit_log_config=alicloud.cs.ManagedKubernetesAuditLogConfigArgs(
                enabled=a.audit_log.enabled, sls_project_name=a.audit_log.project
            ),
            maintenance_window=(
                alicloud.cs.ManagedKubernetesMaintenanceWindowArgs(
                    enable=True,
                    weekly_period=a.maintenance_window.weekly_period,
                    maintenance_time=a.maintenance_window.maintenance_time,
                    duration=f"{a.maintenance_window.duration_hours}h",
                )
                if a.maintenance_window
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
            addons=[
                alicloud.cs.ManagedKubernetesAddonArgs(
                    name="terway-eniip" if a.network_plugin == "terway" else "flannel"
                ),
                *(
                    alicloud.cs.ManagedKubernetesAddonArgs(
                        name=x.name, config=x.config, version=x.version, disabled=x.disabled
                    )
                    for x in a.addons
                ),
            ],
            # Certificates belong in the expiring kubeconfig, not in Pulumi state.
            skip_set_certificate_authority=True,
            tags=plan.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.node_pools = {
            pool_name: NodePool(
                f"{name}-{pool_name}",
                pool_name=pool_name,
                args=pool,
                cluster_id=cluster.id,
                vswitch_ids=node_vswitches,
                security_group_id=foundation.security_group.security_group_id,
                ram_role_name=foundation.node_role.role_name,
                tags=plan.tags,
                # Nodes boot and pull images right away: never before they have egress.
                depends_on=network.egress,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for pool_name, pool in a.node_pools.items()
        }

        self.kubeconfig = fetch_kubeconfig(self, cluster.id, a.kubeconfig_minutes)
        self.provider = kubernetes_provider(self, name, self.kubeconfig)

        ingress_id: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if a.ingress is not None:
            lb = alicloud.slb.ApplicationLoadBalancer(
                f"{name}-ingress",
                load_balancer_name=f"{name}-ingress",
                address_type="internet" if a.ingress.public else "intranet",
                vswitch_id=None if a.ingress.public else node_vswitches[0],
                load_balancer_spec=a.ingress.spec,
                payment_type="PayAsYouGo",
                instance_charge_type="PayBySpec",
                delete_protection="on" if a.deletion_protection else "off",
                # Listeners belong to the cloud controller manager, configured from the
                # Service; console edits would be overwritten or break it.
                modification_protection_status="ConsoleProtection",
                modification_protection_reason="Managed by Pulumi and ACK",
                tags=plan.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            ingress_id = lb.id
            if a.ingress.bind_service:
                k8s.core.v1.Service(
                    f"{name}-ingress",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=a.ingress.service_name,
                        namespace=a.ingress.service_namespace,
                        annotations={LB_ID_ANNOTATION: lb.id, LB_OVERRIDE_ANNOTATION: "true"},
                    ),
                    spec=k8s.core.v1.ServiceSpecArgs(
                        type="LoadBalancer",
                        selector=a.ingress.selector,
                        external_traffic_policy="Local",
                        ports=[
                            k8s.core.v1.ServicePortArgs(
                                name="http", port=80, target_port="http", protocol="TCP"
                            ),
                            k8s.core.v1.ServicePortArgs(
                                name="https", port=443, target_port="https", protocol="TCP"
                            ),
                        ],
                    ),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        provider=self.provider,
                        depends_on=list(self.node_pools.values()),
                    ),
                )

        self.cluster_id = cluster.id
        self.vpc_id = network.vpc_id
        self.vswitch_ids = pulumi.Output.all(*node_vswitches)
        self.pod_vswitch_ids = pulumi.Output.all(*foundation.pod_vswitch_ids(plan))
        self.security_group_id = foundation.security_group.security_group_id
        self.nat_gateway_ids = network.nat_gateway_ids
        first_nat = next(iter(network.nat_gateway_ids.values()), None)
        self.nat_gateway_id = pulumi.Output.from_input(first_nat)
        self.api_server_slb_id = cluster.slb_id
        public = a.public_api_server
        self.api_server_endpoint = cluster.connections.apply(
            lambda cs: (cs[0].api_server_internet if public else cs[0].api_server_intranet) or ""
        )
        self.node_role_name = foundation.node_role.role_name
        self.ingress_load_balancer_id = ingress_id

        self.register_outputs(
            {
                "cluster_id": self.cluster_id,
                "vpc_id": self.vpc_id,
                "vswitch_ids": self.vswitch_ids,
                "pod_vswitch_ids": self.pod_vswitch_ids,
                "security_group_id": self.security_group_id,
                "nat_gateway_id": self.nat_gateway_id,
                "api_server_slb_id": self.api_server_slb_id,
                "api_server_endpoint": self.api_server_endpoint,
                "node_role_name": self.node_role_name,
                "ingress_load_balancer_id": self.ingress_load_balancer_id,
                "node_pools": {
                    n: {"node_pool_id": p.node_pool_id, "scaling_group_id": p.scaling_group_id}
                    for n, p in self.node_pools.items()
                },
                "kubeconfig": self.kubeconfig,
            }
        )
