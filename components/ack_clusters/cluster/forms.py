"""The three cluster forms, side by side: each is data (:class:`ClusterForm`) plus the function
that registers its control plane, and its component class is one line on the shared build path
(:class:`ack_clusters.cluster.component.ClusterComponent`).

| Form | Control plane | Pods run on |
| --- | --- | --- |
| ManagedCluster | `cs.ManagedKubernetes(profile="Default")`, run by ACK | ECS workers |
| ServerlessCluster | `cs.ManagedKubernetes(profile="Serverless")`, run by ACK | ECI |
| DedicatedCluster | `cs.Kubernetes`: master ECS instances the user can see | ECS workers |
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_alicloud as alicloud

from ..facts import NOT_READ_BACK
from ..later import given, given_tags
from ..naming import DEDICATED_CLUSTER_TYPE, MANAGED_CLUSTER_TYPE, SERVERLESS_CLUSTER_TYPE
from ..validation import revealed
from .args import (
    Addon,
    BaseClusterArgs,
    DedicatedClusterArgs,
    ManagedClusterArgs,
    ManagedControlPlaneArgs,
    ServerlessClusterArgs,
    WorkerNodesArgs,
)
from .component import (
    ClusterComponent,
    ClusterForm,
    Foundation,
    ManagedControlPlaneOutputs,
    WorkerNodeOutputs,
)
from .plan import ClusterPlan

SERVERLESS_NOTICE = (
    "ACK Serverless stopped creating clusters for accounts that never had one on 2025-02-17; "
    "Alibaba Cloud points new users to ACS. Existing ACK Serverless users can still create "
    "clusters within their quota."
)
DEDICATED_NOTICE = (
    "ACK stopped creating dedicated clusters on 2024-08-21 except by ticket: creating this "
    "cluster will fail without one. Use ManagedCluster (ack.pro.*) for new clusters; "
    "DedicatedCluster is for managing and adopting existing ones (set adopt.cluster_id)."
)


# -- what the `cs` resources share ------------------------------------------------------------


def addon_args(addons: list[Addon]) -> list[Any]:
    """The addons the cluster resource itself takes: the disabled ones, which keep ACK from
    installing a default addon at creation (the provider never updates this input). Installed
    addons are KubernetesAddon children instead, so their version and config can change.
    Plain input dicts, which `cs.ManagedKubernetes` and `cs.Kubernetes` both take (their addon
    TypedDicts differ only in name, hence `Any`)."""
    return [{"name": x.name, "disabled": True} for x in addons if x.disabled]


def cluster_args(a: BaseClusterArgs, plan: ClusterPlan, foundation: Foundation) -> dict[str, Any]:
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
        tags=given_tags(plan.tags),
    )


def managed_control_plane_args(
    a: ManagedControlPlaneArgs, plan: ClusterPlan, foundation: Foundation
) -> dict[str, Any]:
    """`cs.ManagedKubernetes` arguments every profile takes the same way."""
    logs = a.control_plane_logs
    window = a.maintenance_window
    return dict(
        **cluster_args(a, plan, foundation),
        vswitch_ids=foundation.node_vswitch_ids(plan),
        enable_rrsa=a.rrsa,
        encryption_provider_key=given(a.secrets_encryption_kms_key_id),
        disable_encryption=False if a.secrets_encryption_kms_key_id is not None else None,
        control_plane_log_components=list(logs.components) if logs else None,
        control_plane_log_ttl=str(logs.ttl_days) if logs else None,
        control_plane_log_project=given(logs.project) if logs else None,
        audit_log_config=alicloud.cs.ManagedKubernetesAuditLogConfigArgs(
            enabled=a.audit_log.enabled, sls_project_name=given(a.audit_log.project)
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


def pod_network_args(
    a: WorkerNodesArgs, plan: ClusterPlan, foundation: Foundation
) -> dict[str, Any]:
    """Pod network arguments of the forms with worker nodes (managed and dedicated)."""
    flannel = a.network_plugin == "flannel"
    return dict(
        pod_vswitch_ids=foundation.pod_vswitch_ids(plan) or None,
        pod_cidr=a.effective_pod_cidr,
        node_cidr_mask=a.node_cidr_mask if flannel else None,
        # The network addon goes by name alone, as ACK's defaults do; user addons as given.
        addons=[{"name": a.network_addon}, *addon_args(a.addons)],
    )


MANAGED_KUBERNETES = "alicloud:cs/managedKubernetes:ManagedKubernetes"
KUBERNETES = "alicloud:cs/kubernetes:Kubernetes"


def control_plane_opts(
    parent: pulumi.Resource, a: BaseClusterArgs, foundation: Foundation, type_token: str
) -> pulumi.ResourceOptions:
    """The options every form's control plane takes.

    - It waits for egress: masters and ECI pods boot and pull images at once, and a managed
      cluster never sends new_nat_gateway=false (the provider skips false), so ACK's snat_entry
      default decides; with our NAT gateway and SNAT entries in place first, either default
      leaves egress as declared.
    - Adopted, it is imported and ignores the inputs the provider never reads back (so an import
      could not match them) and never updates (so ignoring them hides nothing). A cluster the
      component creates ignores nothing."""
    return pulumi.ResourceOptions(
        parent=parent,
        depends_on=foundation.network.egress,
        import_=a.adopted_cluster_id,
        ignore_changes=list(NOT_READ_BACK[type_token]) if a.adopted_cluster_id else None,
    )


# -- the control plane of each form -------------------------------------------------------------


def managed_control_plane(
    parent: pulumi.Resource, a: ManagedClusterArgs, plan: ClusterPlan, foundation: Foundation
) -> alicloud.cs.ManagedKubernetes:
    return alicloud.cs.ManagedKubernetes(
        plan.name,
        profile="Default",
        cluster_spec=a.cluster_spec,
        # Read by the provider only when the version changes: it never re-triggers an upgrade.
        upgrade_policy=(
            alicloud.cs.ManagedKubernetesUpgradePolicyArgs(
                control_plane_only=a.upgrade_control_plane_only
            )
            if a.upgrade_control_plane_only is not None
            else None
        ),
        opts=control_plane_opts(parent, a, foundation, MANAGED_KUBERNETES),
        **pod_network_args(a, plan, foundation),
        **managed_control_plane_args(a, plan, foundation),
    )


def serverless_control_plane(
    parent: pulumi.Resource, a: ServerlessClusterArgs, plan: ClusterPlan, foundation: Foundation
) -> alicloud.cs.ManagedKubernetes:
    # The DNS addon goes by name alone, as ACK's defaults do; user addons as given.
    dns = [{"name": "managed-coredns"}] if a.service_discovery == "managed-coredns" else []
    return alicloud.cs.ManagedKubernetes(
        plan.name,
        profile="Serverless",
        cluster_spec=a.cluster_spec,
        addons=[*dns, *addon_args(a.addons)] or None,
        opts=control_plane_opts(parent, a, foundation, MANAGED_KUBERNETES),
        **managed_control_plane_args(a, plan, foundation),
    )


def dedicated_control_plane(
    parent: pulumi.Resource, a: DedicatedClusterArgs, plan: ClusterPlan, foundation: Foundation
) -> alicloud.cs.Kubernetes:
    """Master system disks: ``cs.Kubernetes`` has no argument to encrypt them. They are
    encrypted only if the account's regional default disk encryption
    (``ecs.DiskEncryptionByDefault``) was on when they were created, an account-wide switch
    this library deliberately does not own."""
    network = foundation.network
    return alicloud.cs.Kubernetes(
        plan.name,
        master_vswitch_ids=[network.node_vswitch_ids[z] for z in a.master_zones],
        master_instance_types=a.master_instance_types,
        master_disk_category=a.masters.disk.category,
        master_disk_size=a.masters.disk.size,
        master_disk_performance_level=a.masters.disk.performance_level,
        master_instance_charge_type="PostPaid",
        key_name=given(a.key_name),
        # Secret whether it came as a secret output, a plain output or text.
        password=(pulumi.Output.secret(given(revealed(a.password))) if a.password else None),
        install_cloud_monitor=True,
        proxy_mode="ipvs",
        opts=control_plane_opts(parent, a, foundation, KUBERNETES),
        **pod_network_args(a, plan, foundation),
        **cluster_args(a, plan, foundation),
    )


def _migration_aliases(a: ManagedClusterArgs) -> Sequence[pulumi.Alias]:
    # After ACK's in-place migration to Pro, every shared child keeps its identity: children
    # inherit this alias, so their old URNs under DedicatedCluster match.
    return [pulumi.Alias(type_=DEDICATED_CLUSTER_TYPE)] if a.migrated_from_dedicated else []


# -- the forms ------------------------------------------------------------------------------------

MANAGED: ClusterForm[ManagedClusterArgs] = ClusterForm(
    kind="managed",
    component="ManagedCluster",
    type_token=MANAGED_CLUSTER_TYPE,
    args_model=ManagedClusterArgs,
    summary="An ACK managed cluster with its VPC, vSwitches, NAT egress, security group, node "
    "RAM role,\nnode pools, optional ingress load balancer and a fresh, secret kubeconfig.",
    control_plane=managed_control_plane,
    aliases=_migration_aliases,
)
SERVERLESS: ClusterForm[ServerlessClusterArgs] = ClusterForm(
    kind="serverless",
    component="ServerlessCluster",
    type_token=SERVERLESS_CLUSTER_TYPE,
    args_model=ServerlessClusterArgs,
    summary="An ACK Serverless cluster: pods on ECI in the cluster vSwitches, no nodes to manage.",
    control_plane=serverless_control_plane,
    notice=lambda a: SERVERLESS_NOTICE,
)
DEDICATED: ClusterForm[DedicatedClusterArgs] = ClusterForm(
    kind="dedicated",
    component="DedicatedCluster",
    type_token=DEDICATED_CLUSTER_TYPE,
    args_model=DedicatedClusterArgs,
    summary="An ACK dedicated cluster (3 or 5 visible masters), for managing and adopting the "
    "ones that\nexist: ACK creates new dedicated clusters only by ticket.",
    control_plane=dedicated_control_plane,
    notice=lambda a: None if a.adopted_cluster_id else DEDICATED_NOTICE,
)


class ManagedCluster(
    ClusterComponent[ManagedClusterArgs],
    WorkerNodeOutputs,
    ManagedControlPlaneOutputs,
    form=MANAGED,
):
    """An ACK managed cluster (control plane run by ACK) with its VPC, vSwitches, NAT egress,
    firewall, node RAM role, node pools, optional ingress load balancer, kubeconfig and
    Kubernetes provider."""


class ServerlessCluster(
    ClusterComponent[ServerlessClusterArgs], ManagedControlPlaneOutputs, form=SERVERLESS
):
    """An ACK Serverless cluster with its VPC, ECI vSwitches, NAT egress (so pods can pull public
    images), security group (which ECI pods use), optional ingress load balancer, kubeconfig and
    Kubernetes provider. RRSA is on by default so pods reach cloud APIs without node roles.
    Built on ``cs.ManagedKubernetes(profile="Serverless")``, the provider's documented
    replacement for the deprecated ``cs.ServerlessKubernetes``."""


class DedicatedCluster(ClusterComponent[DedicatedClusterArgs], WorkerNodeOutputs, form=DEDICATED):
    """A dedicated ACK cluster: 3 or 5 masters spread over zones, workers in node pools (ESS),
    and the same network, firewall, node role, egress, ingress and outputs as ManagedCluster.

    ACK stopped creating dedicated clusters on 2024-08-21 except by ticket; this component is for
    managing the many that still run, adopting them (``adopt``, Pulumi's import), and moving them
    to ManagedCluster after ACK migrates them to Pro in place (see docs/MIGRATION.md)."""


#: Every form's component, by the stack config's `kind`.
CLUSTERS: dict[str, type[ClusterComponent[Any]]] = {
    cls._form.kind: cls for cls in (ManagedCluster, ServerlessCluster, DedicatedCluster)
}
