"""Validators every concept shares: the strict model base, logical names, CIDRs, zones, ECS
instance types and tags. Pure: nothing here touches Pulumi.

Values that shape the resource graph (zones, CIDRs, pool names, NAT strategy) are plain values,
not ``Input``s, so the graph is known at preview time and every check runs before the first
resource registers.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

#: Logical names users choose (node pools, clusters): they become part of URNs and cloud names,
#: so they follow the strictest rule among the resources they name (DNS-label style).
NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$"
NAME_HELP = "1-40 characters: lowercase letters, digits and hyphens, starting with a letter"
#: The RFC 1918 ranges. ACK accepts other custom VPC ranges, but a public range in a VPC breaks
#: reachability of that range from the cluster, so the library only plans private ones.
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
#: ACK uses this range for its control plane and cloud services; it must stay free.
CONTROL_PLANE_RANGE = ipaddress.IPv4Network("100.64.0.0/10")
K8S_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_ZONE_PATTERN = re.compile(r"^[a-z]{2}-[a-z0-9-]+-[a-z0-9]+$")
#: Alibaba allows 20 tags per resource; the library adds OWNERSHIP_TAG_COUNT of its own.
TAG_LIMIT = 20
OWNERSHIP_TAG_COUNT = 2


class StrictModel(BaseModel):
    """Strict base: unknown keys are errors (a typo in config must not be silently ignored)."""

    # defer_build: a model builds its validator on first use, so importing the library does not
    # pay for the forms (and nested models) a program never uses.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )


def parse_network(value: str, *, what: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a valid {what} in CIDR notation with host bits clear "
            f"(for example '10.0.0.0/16'): {exc}"
        ) from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"{value!r}: only IPv4 ranges are supported for the {what}")
    return net


def require_private(net: ipaddress.IPv4Network, *, what: str) -> None:
    if not any(net.subnet_of(r) for r in PRIVATE_RANGES):
        raise ValueError(
            f"{net} is not a private range: the {what} must lie inside 10.0.0.0/8, "
            "172.16.0.0/12 or 192.168.0.0/16"
        )


def require_prefix(net: ipaddress.IPv4Network, low: int, high: int, *, what: str) -> None:
    if not low <= net.prefixlen <= high:
        raise ValueError(
            f"{net} has a /{net.prefixlen} mask; Alibaba Cloud accepts /{low} to /{high} "
            f"for a {what}"
        )


def zone_id(value: str) -> str:
    if not _ZONE_PATTERN.match(value):
        raise ValueError(f"{value!r} is not an Alibaba Cloud zone ID (for example 'cn-hangzhou-i')")
    return value


def distinct(keys: list[str], what: str) -> None:
    """Refuse repeated keys, naming them all."""
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"{what} must be distinct; repeated: {', '.join(repeated)}")


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > TAG_LIMIT - OWNERSHIP_TAG_COUNT:
        raise ValueError(
            f"{len(tags)} tags given; at most {TAG_LIMIT - OWNERSHIP_TAG_COUNT} fit beside the "
            f"{OWNERSHIP_TAG_COUNT} ownership tags (Alibaba allows {TAG_LIMIT} per resource)"
        )
    for key, val in tags.items():
        if not 1 <= len(key) <= 128:
            raise ValueError(f"tag key {key!r} must be 1-128 characters")
        if len(val) > 128:
            raise ValueError(f"tag {key!r}: value must be at most 128 characters")
        for text in (key, val):
            low = text.lower()
            if low.startswith(("aliyun", "acs:")) or "http://" in low or "https://" in low:
                raise ValueError(
                    f"tag {key!r}: keys and values cannot start with 'aliyun' or 'acs:' "
                    "nor contain 'http://' or 'https://'"
                )
    return tags


Tags = Annotated[dict[str, str], Field(default_factory=dict)]


def instance_type(value: str) -> str:
    if not re.fullmatch(r"ecs\.[a-z0-9-]+\.[a-z0-9-]+", value):
        raise ValueError(f"{value!r} is not an ECS instance type such as 'ecs.g7.xlarge'")
    return value


InstanceType = Annotated[str, AfterValidator(instance_type)]
ZoneId = Annotated[str, AfterValidator(zone_id)]
