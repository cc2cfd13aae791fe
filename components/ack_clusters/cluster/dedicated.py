"""DedicatedCluster: an ACK dedicated cluster, whose master ECS instances the user can see.

ACK stopped creating dedicated clusters on 2024-08-21 except by ticket; this component exists so
the many that still run can be managed as code, adopted with ``adopt`` (Pulumi's import), and
moved to ManagedCluster after ACK migrates them to Pro in place (see docs/MIGRATION.md).

Master system disks: ``cs.Kubernetes`` has no argument to encrypt them. They are encrypted only if
the account's regional default disk encryption (``ecs.DiskEncryptionByDefault``) was on when
they were created, an account-wide switch this component deliberately does not own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_alicloud as alicloud

from ..naming import DEDICATED_CLUSTER_TYPE
from .args import DedicatedClusterArgs
from .component import ClusterComponent
from .plan import ClusterPlan, parse_args, plan_cluster

CREATION_NOTICE = (
    "ACK stopped creating dedicated clusters on 2024-08-21 except by ticket: creating this "
    "cluster will fail without one. Use ManagedCluster (ack.pro.*) for new clusters; "
    "DedicatedCluster is for managing and adopting existing ones (set adopt.cluster_id)."
)


def plan_dedicated(name: str, args: DedicatedClusterArgs) -> ClusterPlan:
    return plan_cluster(
        f"DedicatedCluster {name!r}",
        name,
        args,
        with_pod_vswitches=args.wants_pod_vswitches,
        pod_cidr=args.effective_pod_cidr,
    )


class DedicatedCluster(ClusterComponent):
    """A dedicated ACK cluster: 3 or 5 masters spread over zones, workers in node pools (ESS),
    and the same network, firewall, node role, egress, ingress and outputs as ManagedCluster."""

    def __init__(
        self,
        name: str,
        args: DedicatedClusterArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.args = parse_args(DedicatedClusterArgs, f"DedicatedCluster {name!r}", name, args)
        self.plan = plan_dedicated(name, self.args)
        super().__init__(DEDICATED_CLUSTER_TYPE, name, None, opts)
        a, plan = self.args, self.plan
        adopting = a.adopt is not None and a.adopt.cluster_id is not None
        if not adopting:
            pulumi.log.warn(CREATION_NOTICE, resource=self)

        foundation = self._foundation(plan, a, node_role=True)
        network = foundation.network
        cluster = alicloud.cs.Kubernetes(
            name,
            master_vswitch_ids=[network.node_vswitch_ids[z] for z in a.master_zones],
            master_instance_types=a.master_instance_types,
            master_disk_category=a.masters.disk.category,
            master_disk_size=a.masters.disk.size,
            master_disk_performance_level=a.masters.disk.performance_level,
            master_instance_charge_type="PostPaid",
            key_name=a.key_name,
            password=(pulumi.Output.secret(a.password.get_secret_value()) if a.password else None),
            install_cloud_monitor=True,
            proxy_mode="ipvs",
            # Masters boot and pull images at once: never before they have egress.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=network.egress,
                import_=a.adopted_cluster_id,
            ),
            **self._pod_network_args(a, plan, foundation),
            **self._common_cluster_args(a, plan, foundation),
        )
        self._finish_node_cluster(cluster, a, plan, foundation)


__all__ = ["CREATION_NOTICE", "DedicatedCluster", "plan_dedicated"]
