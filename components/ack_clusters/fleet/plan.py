"""One address plan across stacks: which ranges each cluster uses, where two stacks of one
routing domain overlap, and free ranges for a new stack. Pure: nothing here touches Pulumi.

Clusters that CEN (or peering, or a VPN) joins into one routing domain must not share a single
address: a VPC, a Flannel pod range or a Service range of one that overlaps any range of
another breaks routing between them the day they are joined (a Service range is not routed,
but kube-proxy captures it inside the cluster, so a peer's addresses inside it become
unreachable from there). vSwitch and Terway pod ranges lie inside their VPC, so comparing VPCs
covers them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..cluster.args import BaseClusterArgs
from ..validation import CONTROL_PLANE_RANGE, PRIVATE_RANGES

Net = ipaddress.IPv4Network
RangeKind = Literal["vpc", "pods", "services"]


@dataclass(frozen=True, order=True)
class UsedRange:
    """One range a stack's cluster uses."""

    stack: str
    kind: RangeKind
    cidr: Net
    #: The argument it comes from, for messages (e.g. "network.vpc_cidr").
    source: str


@dataclass(frozen=True)
class Overlap:
    a: UsedRange
    b: UsedRange
    domain: str

    def __str__(self) -> str:
        return (
            f"routing domain {self.domain!r}: stack {self.a.stack} {self.a.kind} {self.a.cidr} "
            f"({self.a.source}) overlaps stack {self.b.stack} {self.b.kind} {self.b.cidr} "
            f"({self.b.source})"
        )


def overlaps(ranges: Sequence[UsedRange], domain: str) -> list[Overlap]:
    """Every pair of ranges of *different* stacks that overlap, in a stable order (a stack's own
    ranges are checked when its arguments are validated). Sorted sweep: n log n plus the
    overlaps found."""
    ordered = sorted(ranges, key=lambda r: (int(r.cidr.network_address), r.cidr.prefixlen, r))
    found: list[Overlap] = []
    open_: list[UsedRange] = []
    for r in ordered:
        start = int(r.cidr.network_address)
        open_ = [o for o in open_ if int(o.cidr.broadcast_address) >= start]
        for o in open_:
            if o.stack != r.stack:
                a, b = sorted((o, r))
                found.append(Overlap(a, b, domain))
        open_.append(r)
    return sorted(found, key=lambda o: (o.a, o.b))


def domains_of(
    stacks: Iterable[str], routing_domains: Mapping[str, Sequence[str]] | None
) -> dict[str, list[str]]:
    """Stacks by routing domain. Without a fleet file, every stack is in one domain (the
    strictest reading); with one, a stack it does not name is in a domain of its own."""
    stacks = sorted(stacks)
    if not routing_domains:
        return {"all": stacks}
    out = {name: sorted(members) for name, members in routing_domains.items()}
    named = {s for members in out.values() for s in members}
    unknown = sorted(named - set(stacks))
    if unknown:
        raise ValueError(f"the fleet file names stacks that do not exist: {', '.join(unknown)}")
    for s in stacks:
        if s not in named:
            out[f"{s} (alone)"] = [s]
    return out


# -- allocation ------------------------------------------------------------------------------


def free_range(
    used: Iterable[Net],
    prefix: int,
    *,
    within: Sequence[Net] = PRIVATE_RANGES,
    avoid: Sequence[Net] = (CONTROL_PLANE_RANGE,),
) -> Net:
    """The lowest /`prefix` block inside `within` (tried in order) that overlaps nothing in
    `used` or `avoid`. Raises ValueError when none is left."""
    taken = sorted({*used, *avoid}, key=lambda n: int(n.network_address))
    for space in within:
        if prefix < space.prefixlen:
            continue
        size = 1 << (32 - prefix)
        candidate = int(space.network_address)
        end = int(space.broadcast_address)
        for t in taken:
            t_start, t_end = int(t.network_address), int(t.broadcast_address)
            if t_end < candidate:
                continue
            if t_start > candidate + size - 1:
                break  # the gap before `t` holds the candidate
            # Skip past `t`, to the next aligned block.
            candidate = ((t_end + 1 + size - 1) // size) * size
        if candidate + size - 1 <= end:
            return ipaddress.IPv4Network((candidate, prefix))
    raise ValueError(f"no free /{prefix} left in {', '.join(map(str, within))}")


@dataclass(frozen=True)
class Allocation:
    vpc_cidr: Net
    service_cidr: Net
    pod_cidr: Net | None = None


def allocate(
    used: Iterable[Net],
    *,
    vpc_prefix: int = 16,
    service_prefix: int = 20,
    pod_prefix: int | None = None,
) -> Allocation:
    """Ranges for a new cluster that overlap nothing in `used` nor each other: a VPC from the
    10/8 space first, a Service range from 172.16/12 first (where ACK's defaults live), and a
    Flannel pod range when `pod_prefix` is given."""
    taken = list(used)
    ten, one72, one92 = PRIVATE_RANGES
    vpc = free_range(taken, vpc_prefix, within=(ten, one72, one92))
    taken.append(vpc)
    services = free_range(taken, service_prefix, within=(one72, ten, one92))
    taken.append(services)
    pods = None
    if pod_prefix is not None:
        pods = free_range(taken, pod_prefix, within=(one72, ten, one92))
    return Allocation(vpc, services, pods)


#: The new VPC's range when `network.vpc_cidr` is not given (the network planner's default).
DEFAULT_VPC_CIDR = ipaddress.IPv4Network("10.0.0.0/16")


def ranges_of(stack: str, args: BaseClusterArgs) -> list[UsedRange]:
    """The ranges one stack's cluster uses: its VPC (new or existing), its Service range and,
    with Flannel, its pod range. Defaults are named as such: two stacks on defaults collide."""
    network = args.network
    if network.existing_vpc is not None:
        vpc = UsedRange(stack, "vpc", Net(network.existing_vpc.cidr), "network.existing_vpc.cidr")
    elif network.vpc_cidr is not None:
        vpc = UsedRange(stack, "vpc", Net(network.vpc_cidr), "network.vpc_cidr")
    else:
        vpc = UsedRange(stack, "vpc", DEFAULT_VPC_CIDR, "network.vpc_cidr (default)")
    given = "service_cidr" in args.model_fields_set
    out = [
        vpc,
        UsedRange(
            stack,
            "services",
            Net(args.service_cidr),
            "service_cidr" if given else "service_cidr (default)",
        ),
    ]
    pods = args.effective_pod_cidr
    if pods is not None:
        explicit = "pod_cidr" in args.model_fields_set
        out.append(
            UsedRange(stack, "pods", Net(pods), "pod_cidr" if explicit else "pod_cidr (default)")
        )
    return out
