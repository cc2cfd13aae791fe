"""ClusterAccess: the cluster's kubeconfigs and a Kubernetes provider built from one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from .plan import exec_kubeconfig


class ClusterAccess:
    """How the program and its users reach the cluster, registered as children of ``parent``,
    the cluster component:

    - ``kubeconfig``: authenticates through ACK's credential plugin (see ``access.plan``), so it
      is the same on every run and never expires in state; the Kubernetes provider uses it;
    - ``admin_kubeconfig``: a client certificate fetched fresh on every run, expiring after
      ``minutes``, for a human who needs one without the plugin.

    Both are secret. Not a component of its own on purpose: the provider has always been a
    direct child of the cluster, and a new parent would change its URN, and with it every
    Kubernetes resource's provider reference, in every existing stack."""

    kubeconfig: pulumi.Output[str]
    admin_kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self,
        name: str,
        *,
        cluster: pulumi.CustomResource,
        endpoint: pulumi.Output[str],
        region: str,
        minutes: int,
        parent: pulumi.Resource,
    ) -> None:
        credential = alicloud.cs.get_cluster_credential_output(
            cluster_id=cluster.id,
            temporary_duration_minutes=minutes,
            opts=pulumi.InvokeOutputOptions(parent=parent),
        )
        # In a preview the invoke is skipped (the cluster ID is unknown) and its result carries
        # no dependency on the cluster; joining it with the ID keeps the edge in preview and
        # update alike, so whatever consumes a kubeconfig is ordered after the cluster.
        admin = pulumi.Output.all(cluster.id, credential.kube_config).apply(lambda v: v[1])
        # The provider does not mark the kubeconfig secret itself.
        self.admin_kubeconfig = pulumi.Output.secret(admin)
        # The cluster's CA is the one part of the credential that does not change between runs.
        ca = pulumi.Output.all(cluster.id, credential.certificate_authorities).apply(
            lambda v: _cluster_cert(v[1])
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.id, endpoint, ca).apply(
                lambda v: exec_kubeconfig(cluster_id=v[0], server=v[1], ca_data=v[2], region=region)
            )
        )
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=parent),
        )


def _cluster_cert(authorities: Any) -> str:
    """The cluster's CA from the credential's certificate authorities: typed objects from the
    SDK, or the plain mappings an invoke answers with (snake or camel case)."""
    if not authorities:
        return ""
    first = authorities[0]
    if isinstance(first, Mapping):
        return str(first.get("cluster_cert") or first.get("clusterCert") or "")
    return str(first.cluster_cert)
