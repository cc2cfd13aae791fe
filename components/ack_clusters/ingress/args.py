"""Arguments of the ingress load balancer a cluster component owns."""

from __future__ import annotations

from pydantic import Field

from ..facts import SlbSpec
from ..validation import K8S_NAME, LabelKey, LabelValue, StrictModel


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
