"""ServerlessCluster: ACK Serverless. Pods run on ECI; a virtual kubelet in ACK's control plane
manages them, so there are no nodes, node pools or ESS groups to own.

Built on ``cs.ManagedKubernetes(profile="Serverless")``, the provider's documented replacement
for the deprecated ``cs.ServerlessKubernetes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_alicloud as alicloud

from ..naming import SERVERLESS_CLUSTER_TYPE
from .args import ServerlessClusterArgs
from .component import ClusterComponent, addon_args
from .plan import ClusterPlan, parse_args, plan_cluster

CREATION_NOTICE = (
    "ACK Serverless stopped creating clusters for accounts that never had one on 2025-02-17; "
    "Alibaba Cloud points new users to ACS. Existing ACK Serverless users can still create "
    "clusters within their quota."
)


def plan_serverless(name: str, args: ServerlessClusterArgs) -> ClusterPlan:
    return plan_cluster(
        f"ServerlessCluster {name!r}",
        name,
        args,
        with_pod_vswitches=False,
        pod_cidr=None,
        nodes=False,
    )


class ServerlessCluster(ClusterComponent):
    """An ACK Serverless cluster with its VPC, ECI vSwitches, NAT egress (so pods can pull public
    images), security group (which ECI pods use), optional ingress load balancer, kubeconfig and
    Kubernetes provider. RRSA is on by default so pods reach cloud APIs without node roles."""

    def __init__(
        self,
        name: str,
        args: ServerlessClusterArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.args = parse_args(ServerlessClusterArgs, f"ServerlessCluster {name!r}", name, args)
        self.plan = plan_serverless(name, self.args)
        super().__init__(SERVERLESS_CLUSTER_TYPE, name, None, opts)
        a, plan = self.args, self.plan
        pulumi.log.warn(CREATION_NOTICE, resource=self)

        foundation = self._foundation(plan, a, node_role=False)
        # The DNS addon goes by name alone, as ACK's defaults do; user addons as given.
        dns = [{"name": "managed-coredns"}] if a.service_discovery == "managed-coredns" else []
        cluster = alicloud.cs.ManagedKubernetes(
            name,
            profile="Serverless",
            cluster_spec=a.cluster_spec,
            addons=[*dns, *addon_args(a.addons)] or None,
            # ECI pods boot in these vSwitches and pull images at once: egress first.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=foundation.network.egress,
                import_=a.adopted_cluster_id,
            ),
            **self._control_plane_args(a, plan, foundation),
        )
        self._access(cluster, a, plan)
        self._ingress(a, plan, foundation, service_depends_on=[cluster])
        self._outputs(cluster, a, plan, foundation, extra={})
