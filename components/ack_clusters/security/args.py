"""Arguments of the cluster security group: extra inbound rules, never world-open management."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..validation import StrictModel, distinct, parse_network, public_part, source_range

#: Ports that must never be open to the whole internet.
MANAGEMENT_PORTS = {22: "SSH", 3389: "RDP"}
#: The widest public range, as a prefix length, that the extra rules together may open a
#: management port (or every port) to; the policy pack's `widestPublicSource` default agrees.
WIDEST_PUBLIC_SOURCE = 16


class IngressRule(StrictModel):
    """An extra inbound rule on the cluster security group."""

    description: str = Field(min_length=1, max_length=512, description="What the rule is for.")
    protocol: Literal["tcp", "udp", "icmp", "all"] = Field(description="IP protocol.")
    port_range: str = Field(
        default="-1/-1", description="'from/to' for tcp and udp (e.g. '443/443'), else -1/-1."
    )
    cidr: str = Field(description="Source IPv4 range.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return str(source_range(parse_network(v, what="source range")))

    @model_validator(mode="after")
    def _ports(self) -> IngressRule:
        m = re.fullmatch(r"(-?\d+)/(-?\d+)", self.port_range)
        if m is None:
            raise ValueError(f"port_range {self.port_range!r} must look like '443/443'")
        lo, hi = int(m[1]), int(m[2])
        if self.protocol in ("tcp", "udp"):
            if not (1 <= lo <= hi <= 65535):
                raise ValueError(
                    f"port_range {self.port_range!r}: tcp/udp need 1 <= from <= to <= 65535"
                )
        elif (lo, hi) != (-1, -1):
            raise ValueError(f"port_range must be '-1/-1' for protocol {self.protocol}")
        if self.cidr == "0.0.0.0/0":
            if self.protocol == "all" or (lo, hi) == (1, 65535):
                raise ValueError("opening all ports to 0.0.0.0/0 is refused; name a source range")
            for port, name in MANAGEMENT_PORTS.items():
                if self.protocol == "tcp" and lo <= port <= hi:
                    raise ValueError(
                        f"opening {name} (port {port}) to 0.0.0.0/0 is refused; use a bastion "
                        "or your office range as the source"
                    )
        return self

    def covers(self, port: int | None) -> bool:
        """Whether the rule admits `port` (None: whether it admits every port)."""
        lo, hi = (int(x) for x in self.port_range.split("/"))
        everything = self.protocol == "all" or (lo, hi) in ((-1, -1), (1, 65535))
        if port is None:
            return everything
        return everything or (self.protocol == "tcp" and lo <= port <= hi)

    @property
    def key(self) -> str:
        """Stable identity of the rule (its logical name never depends on list position)."""
        ports = self.port_range.replace("/", "-").replace("-1--1", "any")
        return f"{self.protocol}-{ports}-{self.cidr.replace('/', '-')}"


class SecurityArgs(StrictModel):
    """Rules on the cluster security group beyond what ACK needs."""

    extra_ingress: list[IngressRule] = Field(
        default_factory=list, description="Extra inbound rules; never world-open management."
    )

    @field_validator("extra_ingress")
    @classmethod
    def _distinct(cls, rules: list[IngressRule]) -> list[IngressRule]:
        distinct([r.key for r in rules], "ingress rules")
        return rules

    @field_validator("extra_ingress")
    @classmethod
    def _not_open_together(cls, rules: list[IngressRule]) -> list[IngressRule]:
        """Judge the rules together, as address sets: 0.0.0.0/1 and 128.0.0.0/1 are the
        internet as much as 0.0.0.0/0 is."""
        limit = 1 << (32 - WIDEST_PUBLIC_SOURCE)
        for port, service in [(None, "all ports"), *MANAGEMENT_PORTS.items()]:
            sources = [ipaddress.IPv4Network(r.cidr) for r in rules if r.covers(port)]
            public = public_part(sources)
            exposed = sum(n.num_addresses for n in public)
            if exposed > limit:
                shown = ", ".join(str(n) for n in public[:4])
                raise ValueError(
                    f"together these rules open {service} to {exposed:,} public addresses "
                    f"({shown}); at most a /{WIDEST_PUBLIC_SOURCE} is allowed: name the ranges "
                    "your administrators come from"
                )
        return rules
