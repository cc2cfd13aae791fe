"""Plan the cluster security group's rules: what ACK needs, plus the user's typed extras.

Intra-group traffic is allowed by the group's ``inner_access_policy``; the rules below admit the
sources outside the group that a working cluster needs, and nothing world-open.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..network.plan import NetworkPlan
from ..validation import CONTROL_PLANE_RANGE
from .args import IngressRule


@dataclass(frozen=True)
class RuleSpec:
    key: str  # stable logical-name suffix, derived from what the rule means
    description: str
    protocol: str
    port_range: str
    cidr: str


def plan_security_rules(
    net: NetworkPlan, *, pod_cidr: str | None, extra: list[IngressRule], kubelet: bool = True
) -> tuple[RuleSpec, ...]:
    rules = [
        RuleSpec(
            key="control-plane",
            description="ACK control plane and cloud services (100.64.0.0/10)",
            protocol="all",
            port_range="-1/-1",
            cidr=str(CONTROL_PLANE_RANGE),
        )
    ]
    for z in net.zones if kubelet else ():
        # Managed control planes reach nodes through ENIs placed in the control-plane
        # vSwitches (our node vSwitches): kubelet serves logs, exec and metrics on 10250.
        rules.append(
            RuleSpec(
                key=f"kubelet-{z.zone}",
                description=f"Control plane ENIs in {z.zone} to kubelet",
                protocol="tcp",
                port_range="10250/10250",
                cidr=str(z.node_cidr),
            )
        )
    for z in net.zones:
        if z.pod_cidr is not None:
            rules.append(
                RuleSpec(
                    key=f"pods-{z.zone}",
                    description=f"Terway pods in {z.zone} to nodes",
                    protocol="all",
                    port_range="-1/-1",
                    cidr=str(z.pod_cidr),
                )
            )
    if pod_cidr is not None:
        rules.append(
            RuleSpec(
                key="pods",
                description="Flannel pods to nodes",
                protocol="all",
                port_range="-1/-1",
                cidr=pod_cidr,
            )
        )
    for r in extra:
        rules.append(
            RuleSpec(
                key=f"extra-{r.key}",
                description=r.description,
                protocol=r.protocol,
                port_range=r.port_range,
                cidr=r.cidr,
            )
        )
    return tuple(rules)
