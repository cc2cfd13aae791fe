"""ClusterAccess: the cluster's kubeconfig and a Kubernetes provider built from it."""

from __future__ import annotations

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s


class ClusterAccess:
    """The admin kubeconfig (fetched fresh each run, expiring, secret) and a provider built from
    it, registered as children of ``parent``, the cluster component.

    Not a component of its own on purpose: the provider has always been a direct child of the
    cluster, and a new parent would change its URN, and with it every Kubernetes resource's
    provider reference, in every existing stack."""

    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self,
        name: str,
        *,
        cluster: pulumi.CustomResource,
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
        # update alike, so whatever consumes the kubeconfig is ordered after the cluster.
        joined = pulumi.Output.all(cluster.id, credential.kube_config).apply(lambda v: v[1])
        # The provider does not mark the kubeconfig secret itself.
        self.kubeconfig = pulumi.Output.secret(joined)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=parent),
        )
