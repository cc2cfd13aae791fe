"""Arguments of the ingress load balancer a cluster component owns."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from ..facts import SlbSpec
from ..validation import K8S_NAME, LabelKey, LabelValue, StrictModel

#: ACK's system namespaces, where its managed addons live; of their objects, the bound Service
#: may only be ACK's ingress controller Service (ACK's guide binds an existing SLB to it).
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
ACK_INGRESS_SERVICE = "nginx-ingress-lb"


class Ingress(StrictModel):
    """A load balancer the component owns for Service ingress (the other SLB entry)."""

    public: bool = Field(default=False, description="Internet-facing instead of private.")
    spec: SlbSpec = Field(
        default="slb.s2.small",
        description="SLB specification (pay-by-spec).",
    )
    bind_service: bool = Field(
        default=False,
        description="Also create the Kubernetes Service that binds the ingress controller to "
        "this load balancer by annotation.",
    )
    service_namespace: str = Field(
        default="kube-system", pattern=K8S_NAME, description="Namespace of the bound Service."
    )
    service_name: str = Field(
        default="nginx-ingress-lb", pattern=K8S_NAME, description="Name of the bound Service."
    )
    selector: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: {"app": "ingress-nginx"},
        description="Pod selector of the ingress controller the Service sends traffic to.",
    )

    @field_validator("service_name")
    @classmethod
    def _not_an_ack_object(cls, name: str, info: ValidationInfo) -> str:
        namespace = info.data.get("service_namespace")
        if namespace in SYSTEM_NAMESPACES and name != ACK_INGRESS_SERVICE:
            raise ValueError(
                f"in {namespace}, ACK's own namespace, the bound Service can only be ACK's "
                f"ingress controller Service, {ACK_INGRESS_SERVICE!r}: another name there "
                "could replace one of ACK's own (kube-dns, metrics-server); put a Service of "
                "another name in a namespace of your own (service_namespace)"
            )
        return name
