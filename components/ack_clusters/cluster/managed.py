"""ManagedCluster: an ACK managed cluster (hidden control plane) and everything beneath it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_alicloud as alicloud

from ..naming import DEDICATED_CLUSTER_TYPE, MANAGED_CLUSTER_TYPE
from .args import ManagedClusterArgs
from .component import ClusterComponent
from .plan import ClusterPlan, parse_args, plan_cluster

__all__ = ["ManagedCluster", "plan_managed"]


def plan_managed(name: str, args: ManagedClusterArgs) -> ClusterPlan:
    return plan_cluster(
        f"ManagedCluster {name!r}",
        name,
        args,
        with_pod_vswitches=args.wants_pod_vswitches,
        pod_cidr=args.effective_pod_cidr,
    )


class ManagedCluster(ClusterComponent):
    """An ACK managed cluster with its VPC, vSwitches, NAT egress, firewall, node RAM role, node
    pools, optional ingress load balancer, kubeconfig and Kubernetes provider.

    Arguments are validated and the whole network planned before anything is registered: a bad
    input raises :class:`ack_clusters.errors.InvalidArguments` naming every bad field."""

    def __init__(
        self,
        name: str,
        args: ManagedClusterArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.args = parse_args(ManagedClusterArgs, f"ManagedCluster {name!r}", name, args)
        self.plan = plan_managed(name, self.args)
        a, plan = self.args, self.plan
        if a.migrated_from_dedicated:
            # After ACK's in-place migration to Pro, every shared child keeps its identity:
            # children inherit this alias, so their old URNs under DedicatedCluster match.
            alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=DEDICATED_CLUSTER_TYPE)])
            opts = pulumi.ResourceOptions.merge(opts, alias)
        # Everything above is pure; nothing has been registered yet.
        super().__init__(MANAGED_CLUSTER_TYPE, name, None, opts)

        foundation = self._foundation(plan, a, node_role=True)
        cluster = alicloud.cs.ManagedKubernetes(
            name,
            profile="Default",
            cluster_spec=a.cluster_spec,
            opts=pulumi.ResourceOptions(parent=self, import_=a.adopted_cluster_id),
            **self._pod_network_args(a, plan, foundation),
            **self._control_plane_args(a, plan, foundation),
        )

        self._finish_node_cluster(cluster, a, plan, foundation)
