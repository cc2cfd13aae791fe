"""ClusterIngress: the load balancer a cluster owns for Service ingress, and optionally the
Kubernetes Service that hands it to the ingress controller."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from .args import Ingress

#: Annotations by which the cloud controller manager adopts an existing load balancer for a
#: Service instead of creating one nobody tracks.
LB_ID_ANNOTATION = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"
LB_OVERRIDE_ANNOTATION = (
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners"
)


class ClusterIngress:
    """Registers the ingress load balancer (and bound Service) as children of ``parent``, the
    cluster component.

    Not a component of its own on purpose: its resources have always been direct children of
    the cluster, and a new parent would change their URNs in every existing stack."""

    load_balancer_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: Ingress,
        *,
        private_vswitch_id: pulumi.Input[str],
        deletion_protection: bool,
        tags: Mapping[str, pulumi.Input[str]],
        provider: k8s.Provider,
        service_depends_on: Sequence[pulumi.Resource],
        parent: pulumi.Resource,
    ) -> None:
        lb = alicloud.slb.ApplicationLoadBalancer(
            f"{name}-ingress",
            load_balancer_name=f"{name}-ingress",
            address_type="internet" if args.public else "intranet",
            vswitch_id=None if args.public else private_vswitch_id,
            load_balancer_spec=args.spec,
            payment_type="PayAsYouGo",
            instance_charge_type="PayBySpec",
            delete_protection="on" if deletion_protection else "off",
            # Listeners belong to the cloud controller manager, configured from the Service;
            # console edits would be overwritten or break it.
            modification_protection_status="ConsoleProtection",
            modification_protection_reason="Managed by Pulumi and ACK",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        self.load_balancer_id = lb.id
        if not args.bind_service:
            return
        k8s.core.v1.Service(
            f"{name}-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.service_name,
                namespace=args.service_namespace,
                annotations={LB_ID_ANNOTATION: lb.id, LB_OVERRIDE_ANNOTATION: "true"},
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer",
                selector=args.selector,
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
                parent=parent, provider=provider, depends_on=list(service_depends_on)
            ),
        )
