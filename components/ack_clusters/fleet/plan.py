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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
class StackOverlap:
    """Two stacks of one routing domain that share addresses: every pair of their ranges that
    overlaps (a stack has at most three ranges, so at most nine pairs)."""

    domain: str
    a: str
    b: str
    ranges: tuple[tuple[UsedRange, UsedRange], ...]

    def __str__(self) -> str:
        pairs = "; ".join(
            f"{self.a} {ra.kind} {ra.cidr} ({ra.source}) with {self.b} {rb.kind} {rb.cidr} "
            f"({rb.source})"
            for ra, rb in self.ranges
        )
        return f"routing domain {self.domain!r}: stacks {self.a} and {self.b} overlap: {pairs}"


class DomainOverlaps:
    """What overlaps in one routing domain: how many pairs of stacks, each pair with its ranges
    (made as they are listed, in order of stack names: a domain of 2,000 stacks on the same
    defaults has two million pairs, and holding them all is not needed to count them), and the
    ranges the most stacks use (the usual cause of very many pairs: stacks left on a default).
    """

    def __init__(
        self,
        domain: str,
        names: list[str],
        peers: list[int],
        by_stack: dict[str, list[UsedRange]],
        most_shared: tuple[tuple[Net, int], ...],
    ) -> None:
        self.domain = domain
        self._names, self._peers, self._by_stack = names, peers, by_stack
        #: How many pairs of different stacks overlap.
        self.pairs = sum((p >> (i + 1)).bit_count() for i, p in enumerate(peers))
        #: (range, how many stacks use exactly it), most used first, at most three; only
        #: ranges two or more stacks use.
        self.most_shared = most_shared

    def stack_pairs(self, limit: int | None = None) -> Iterator[StackOverlap]:
        """The overlapping pairs, the first `limit` of them (all when None)."""
        made = 0
        for i, a in enumerate(self._names):
            later, j = self._peers[i] >> (i + 1), i + 1
            while later:
                if limit is not None and made >= limit:
                    return
                step = (later & -later).bit_length() - 1
                j += step
                other = self._names[j]
                found = tuple(
                    (ra, rb)
                    for ra in self._by_stack[a]
                    for rb in self._by_stack[other]
                    if ra.cidr.overlaps(rb.cidr)
                )
                yield StackOverlap(self.domain, a, other, found)
                made += 1
                later >>= step + 1
                j += 1


def overlapping_stacks(ranges: Sequence[UsedRange], domain: str) -> DomainOverlaps:
    """Every pair of *different* stacks with overlapping ranges (a stack's own ranges are
    checked when its arguments are validated), counted at once, listed on demand.

    CIDR blocks never partly overlap: two either nest or are disjoint. So the distinct blocks
    form a forest, and the stacks a block overlaps are those on its ancestors, on itself and
    in its subtree. With one bit per stack, that is a few big-integer ORs per block and per
    stack, whatever the number of pairs: 2,000 stacks on the same defaults are two blocks, not
    two million pairs of ranges. Only blocks that overlap something (nested, or used by two
    stacks) get a bit set, so a fleet without overlaps costs a sort."""
    users: dict[Net, set[str]] = {}
    for r in ranges:
        users.setdefault(r.cidr, set()).add(r.stack)
    blocks = sorted(users, key=lambda n: (int(n.network_address), n.prefixlen))
    # Each block's parent (the smallest block holding it), by a sweep in (start, size) order:
    # the blocks still open when a block starts are its ancestors.
    parent: dict[Net, Net] = {}
    open_: list[Net] = []
    for block in blocks:
        while open_ and int(open_[-1].broadcast_address) < int(block.network_address):
            open_.pop()
        if open_:
            parent[block] = open_[-1]
        open_.append(block)
    nested = set(parent) | set(parent.values())
    involved = [b for b in blocks if b in nested or len(users[b]) > 1]
    names = sorted({s for b in involved for s in users[b]})
    index = {name: i for i, name in enumerate(names)}
    own = {b: sum(1 << index[s] for s in users[b]) for b in involved}
    above: dict[Net, int] = {}  # the stacks on a block's ancestors
    for b in involved:  # parents come first
        up = parent.get(b)
        above[b] = 0 if up is None else above[up] | own[up]
    below = dict(own)  # the stacks on a block and inside it
    for b in reversed(involved):
        up = parent.get(b)
        if up is not None:
            below[up] |= below[b]
    by_stack: dict[str, list[UsedRange]] = {name: [] for name in names}
    for r in sorted(set(ranges)):
        if r.stack in index:
            by_stack[r.stack].append(r)
    peers = []
    for i, name in enumerate(names):
        mask = 0
        for r in by_stack[name]:
            if r.cidr in own:
                mask |= above[r.cidr] | below[r.cidr]
        peers.append(mask & ~(1 << i))
    shared = sorted(
        ((b, len(users[b])) for b in involved if len(users[b]) > 1),
        key=lambda x: (-x[1], int(x[0].network_address), x[0].prefixlen),
    )
    return DomainOverlaps(domain, names, peers, by_stack, tuple(shared[:3]))


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


# -- a program's graph -----------------------------------------------------------------------

_TF = "terraform-provider-alicloud alicloud/"
#: Where the resources of a program's graph (``ack-preview --json``'s ``resources``) hold the
#: ranges the address plan compares: type -> (input on the wire, kind, whether a resource
#: without it lets the cloud pick the range). Provider facts (terraform-provider-alicloud,
#: v1.289.0):
#: - vpc.Network ``cidr_block`` is Optional+Computed and sent only when set
#:   (resource_alicloud_vpc.go:29, :221): unset, the cloud or an IPAM pool picks it.
#:   ``secondary_cidr_blocks`` (deprecated, :120) and vpc.Ipv4CidrBlock ``secondary_cidr_block``
#:   (resource_alicloud_vpc_ipv4_cidr_block.go:37, :69) add ranges to a VPC.
#: - cs.ManagedKubernetes ``service_cidr`` and ``pod_cidr`` are Optional, ForceNew and sent only
#:   when set (resource_alicloud_cs_managed_kubernetes.go:235-244, :1038, :1058): unset, ACK picks
#:   the Service range; no pod range is Terway's (pods take vSwitch addresses, in the VPC).
#:   The same for cs.Kubernetes (resource_alicloud_cs_kubernetes.go:323-328, :1472, :1536) and
#:   cs.ServerlessKubernetes ``service_cidr`` (resource_alicloud_cs_serverless_kubernetes.go:72,
#:   :450).
GRAPH_RANGES: Mapping[str, tuple[tuple[str, RangeKind, bool], ...]] = {
    "alicloud:vpc/network:Network": (
        ("cidrBlock", "vpc", True),
        ("secondaryCidrBlocks", "vpc", False),
    ),
    "alicloud:vpc/ipv4CidrBlock:Ipv4CidrBlock": (("secondaryCidrBlock", "vpc", True),),
    "alicloud:cs/managedKubernetes:ManagedKubernetes": (
        ("serviceCidr", "services", True),
        ("podCidr", "pods", False),
    ),
    "alicloud:cs/kubernetes:Kubernetes": (
        ("serviceCidr", "services", True),
        ("podCidr", "pods", False),
    ),
    "alicloud:cs/serverlessKubernetes:ServerlessKubernetes": (("serviceCidr", "services", True),),
}


def _short(type_: str) -> str:
    """``alicloud:vpc/network:Network`` as ``vpc.Network``."""
    parts = type_.split(":")
    return f"{parts[1].split('/')[0]}.{parts[-1]}" if len(parts) == 3 else type_


def ranges_of_graph(
    stack: str, resources: Iterable[Mapping[str, Any]]
) -> tuple[list[UsedRange], list[str]]:
    """The ranges a stack whose program builds its clusters in code uses, read from the graph
    the program registers offline (its VPCs' ranges, its clusters' Service and Flannel pod
    ranges): (ranges, problems). A range the graph cannot tell (unset, so the cloud picks it;
    unknown until another resource exists; a secret) is a problem, never skipped: the plan
    cannot be proven without it. A cluster on an existing VPC counts that VPC where the stack
    that creates it declares it."""
    out: list[UsedRange] = []
    problems: list[str] = []
    for r in resources:
        wanted = GRAPH_RANGES.get(str(r.get("type", "")))
        if not wanted:
            continue
        inputs = r.get("inputs") or {}
        what = f"{_short(str(r['type']))} {str(r.get('name', ''))!r}"
        for key, kind, required in wanted:
            value = inputs.get(key)
            if value in (None, "", []):
                if required:
                    problems.append(
                        f"{what}: {key} is not set, so the cloud picks the range; set it"
                    )
                continue
            for item in value if isinstance(value, list) else [value]:
                try:
                    cidr = Net(item, strict=False) if isinstance(item, str) else None
                except ValueError:
                    cidr = None
                if cidr is None:
                    problems.append(
                        f"{what}: {key} is not a CIDR known offline (another resource's output, "
                        "a stack reference or a secret); give it as a CIDR in the program or "
                        "its config"
                    )
                    continue
                out.append(UsedRange(stack, kind, cidr, f"{what} {key}"))
    return sorted(set(out)), problems
