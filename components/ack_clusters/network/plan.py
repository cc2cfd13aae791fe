"""Plan a cluster network: one node vSwitch (and optionally one pod vSwitch) per zone, and the NAT
gateways that give them egress.

Layout of a planned VPC: zone *i* owns the *i*-th equal "slot" of the VPC. Inside a slot the pod
vSwitch sits at the start of the first half and the node vSwitch at the start of the second half.
A zone's ranges depend only on its position, so appending a zone never moves an existing vSwitch
(moving one would replace it, which fails while nodes use it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from ..errors import PlanProblems
from ..validation import CONTROL_PLANE_RANGE, Deferred
from .args import NetworkArgs

Net = ipaddress.IPv4Network


@dataclass(frozen=True)
class ZoneLayout:
    zone: str
    node_cidr: Net
    pod_cidr: Net | None = None
    #: Set when the vSwitch already exists (bring-your-own network).
    #: An existing vSwitch's ID (an output when it comes from another resource).
    node_vswitch_id: str | Deferred | None = None
    pod_vswitch_id: str | Deferred | None = None


@dataclass(frozen=True)
class NatGatewayPlan:
    #: Stable key for logical names: "egress" for the single gateway, else the zone ID.
    key: str
    #: Zone whose node vSwitch hosts the gateway.
    host_zone: str
    #: Zones whose vSwitches send their egress through this gateway.
    zones: tuple[str, ...]


@dataclass(frozen=True)
class NetworkPlan:
    vpc_cidr: Net
    zones: tuple[ZoneLayout, ...]
    nat_gateways: tuple[NatGatewayPlan, ...]
    existing_vpc_id: str | Deferred | None = None

    @property
    def zone_route_tables(self) -> bool:
        """Per-zone gateways need per-zone route tables: a VPC's system route table can only
        point 0.0.0.0/0 at one NAT gateway."""
        return len(self.nat_gateways) > 1

    def all_cidrs(self) -> list[Net]:
        out: list[Net] = []
        for z in self.zones:
            out.append(z.node_cidr)
            if z.pod_cidr is not None:
                out.append(z.pod_cidr)
        return out


def _slot_layout(
    vpc: Net, index: int, node_prefix: int, pod_prefix: int | None
) -> tuple[Net, Net | None]:
    if pod_prefix is None:
        return _nth(vpc, node_prefix, index), None
    slot = _nth(vpc, min(node_prefix, pod_prefix) - 1, index)
    first, second = slot.subnets(prefixlen_diff=1)
    return _nth(second, node_prefix, 0), _nth(first, pod_prefix, 0)


def _nth(net: Net, prefix: int, index: int) -> Net:
    """The index-th block of length /prefix inside net (no list of all blocks is built)."""
    size = 1 << (32 - prefix)
    return ipaddress.IPv4Network((int(net.network_address) + index * size, prefix))


def plan_network(
    args: NetworkArgs,
    *,
    with_pod_vswitches: bool,
    reserved: dict[str, str],
    path: str = "network",
) -> NetworkPlan:
    """Decide every range of the cluster network, or raise PlanProblems naming each bad field.

    ``reserved`` maps a field path (e.g. ``service_cidr``) to a range that must stay outside the
    VPC: ACK requires Service and Flannel pod ranges not to overlap the VPC or each other.
    """
    problems: list[tuple[str, str]] = []
    vpc = ipaddress.IPv4Network(args.effective_vpc_cidr)
    vpc_path = f"{path}.existing_vpc.cidr" if args.existing_vpc else f"{path}.vpc_cidr"

    reserved_nets = {p: ipaddress.IPv4Network(c) for p, c in reserved.items()}
    for rpath, rnet in reserved_nets.items():
        if rnet.overlaps(vpc):
            problems.append(
                (
                    rpath,
                    f"{rnet} overlaps the VPC range {vpc} ({vpc_path}); choose a range "
                    "outside the VPC",
                )
            )
        if rnet.overlaps(CONTROL_PLANE_RANGE):
            problems.append((rpath, f"{rnet} overlaps {CONTROL_PLANE_RANGE}, reserved by ACK"))
    items = sorted(reserved_nets.items())
    for i, (p1, n1) in enumerate(items):
        for p2, n2 in items[i + 1 :]:
            if n1.overlaps(n2):
                problems.append((p2, f"{n2} overlaps {p1} ({n1}); they must be disjoint"))

    zones = args.zones
    layouts: list[ZoneLayout] = []
    if args.existing_vpc is not None:
        ev = args.existing_vpc
        epath = f"{path}.existing_vpc"
        _check_keys(problems, f"{epath}.node_vswitches", ev.node_vswitches, zones)
        if with_pod_vswitches:
            _check_keys(problems, f"{epath}.pod_vswitches", ev.pod_vswitches, zones)
        elif ev.pod_vswitches:
            problems.append((f"{epath}.pod_vswitches", "pod vSwitches are only used by Terway"))
        for z in zones:
            node_vsw = ev.node_vswitches.get(z)
            pod_vsw = ev.pod_vswitches.get(z) if with_pod_vswitches else None
            if node_vsw is None:
                continue
            layouts.append(
                ZoneLayout(
                    zone=z,
                    node_cidr=ipaddress.IPv4Network(node_vsw.cidr),
                    pod_cidr=ipaddress.IPv4Network(pod_vsw.cidr) if pod_vsw else None,
                    node_vswitch_id=node_vsw.id,
                    pod_vswitch_id=pod_vsw.id if pod_vsw else None,
                )
            )
    else:
        if args.node_vswitch_cidrs is not None:
            _check_keys(problems, f"{path}.node_vswitch_cidrs", args.node_vswitch_cidrs, zones)
        if args.pod_vswitch_cidrs is not None:
            if with_pod_vswitches:
                _check_keys(problems, f"{path}.pod_vswitch_cidrs", args.pod_vswitch_cidrs, zones)
            else:
                problems.append(
                    (f"{path}.pod_vswitch_cidrs", "pod vSwitches are only used by Terway")
                )
        pod_prefix = args.pod_vswitch_prefix if with_pod_vswitches else None
        needs_planning = args.node_vswitch_cidrs is None or (
            with_pod_vswitches and args.pod_vswitch_cidrs is None
        )
        if needs_planning:
            slot_prefix = (
                min(args.node_vswitch_prefix, pod_prefix) - 1
                if pod_prefix is not None
                else args.node_vswitch_prefix
            )
            capacity = 1 << (slot_prefix - vpc.prefixlen) if slot_prefix >= vpc.prefixlen else 0
            if capacity < len(zones):
                problems.append(
                    (
                        vpc_path,
                        f"{vpc} holds {capacity} zone slot(s) of /{slot_prefix} but "
                        f"{len(zones)} zones are listed: use a larger VPC, or longer "
                        f"node_vswitch_prefix/pod_vswitch_prefix, or explicit CIDRs",
                    )
                )
                raise PlanProblems(problems)
        for i, z in enumerate(zones):
            planned_node, planned_pod = (
                _slot_layout(vpc, i, args.node_vswitch_prefix, pod_prefix)
                if needs_planning
                else (None, None)
            )
            node_given = (args.node_vswitch_cidrs or {}).get(z)
            pod_given = (args.pod_vswitch_cidrs or {}).get(z) if with_pod_vswitches else None
            node = ipaddress.IPv4Network(node_given) if node_given else planned_node
            pod = ipaddress.IPv4Network(pod_given) if pod_given else planned_pod
            if node is None or (with_pod_vswitches and pod is None):
                continue  # missing explicit CIDR already reported by _check_keys
            layouts.append(ZoneLayout(zone=z, node_cidr=node, pod_cidr=pod))

    _check_ranges(problems, path, args, vpc, layouts, reserved_nets)
    if problems:
        raise PlanProblems(problems)

    return NetworkPlan(
        vpc_cidr=vpc,
        zones=tuple(layouts),
        nat_gateways=_plan_nat(args, zones),
        existing_vpc_id=args.existing_vpc.id if args.existing_vpc else None,
    )


def _plan_nat(args: NetworkArgs, zones: list[str]) -> tuple[NatGatewayPlan, ...]:
    if args.nat == "none":
        return ()
    if args.nat == "single":
        return (NatGatewayPlan(key="egress", host_zone=zones[0], zones=tuple(zones)),)
    return tuple(NatGatewayPlan(key=z, host_zone=z, zones=(z,)) for z in zones)


def _check_keys(
    problems: list[tuple[str, str]], path: str, given: Mapping[str, object], zones: list[str]
) -> None:
    missing = [z for z in zones if z not in given]
    extra = sorted(set(given) - set(zones))
    said = []
    if missing:
        said.append(f"no entry for zone(s) {', '.join(missing)}; give one per zone")
    if extra:
        said.append(f"zone(s) {', '.join(extra)} are not listed in zones")
    if said:
        problems.append((path, "; ".join(said)))


def _check_ranges(
    problems: list[tuple[str, str]],
    path: str,
    args: NetworkArgs,
    vpc: Net,
    layouts: list[ZoneLayout],
    reserved: dict[str, Net],
) -> None:
    if args.existing_vpc is not None:
        node_path = f"{path}.existing_vpc.node_vswitches"
        pod_path = f"{path}.existing_vpc.pod_vswitches"
    else:
        node_path = f"{path}.node_vswitch_cidrs"
        pod_path = f"{path}.pod_vswitch_cidrs"
    named: list[tuple[str, Net]] = []
    for z in layouts:
        named.append((f"{node_path}.{z.zone}", z.node_cidr))
        if z.pod_cidr is not None:
            named.append((f"{pod_path}.{z.zone}", z.pod_cidr))
    for p, net in named:
        if not net.subnet_of(vpc):
            problems.append((p, f"{net} is outside the VPC range {vpc}"))
        for rpath, rnet in reserved.items():
            if net.overlaps(rnet):
                problems.append((p, f"{net} overlaps {rpath} ({rnet})"))
    for i, (p1, n1) in enumerate(named):
        for p2, n2 in named[i + 1 :]:
            if n1.overlaps(n2):
                problems.append((p2, f"{n2} overlaps {p1} ({n1}); vSwitches must be disjoint"))


# -- app subnets: vSwitches for databases and apps, in the same address plan -------------------


class AppSubnetArgs(Protocol):
    """What planning needs of an app subnet (ack_clusters.around.args.AppSubnet)."""

    @property
    def zone(self) -> str: ...
    @property
    def cidr(self) -> str | None: ...
    @property
    def prefix(self) -> int: ...


@dataclass(frozen=True)
class AppSubnetPlan:
    #: The user's name for it: keys its logical and cloud name.
    name: str
    zone: str
    cidr: Net


def zone_slot(args: NetworkArgs, *, with_pod_vswitches: bool) -> int | None:
    """The prefix length of the slot each zone owns in a planned VPC (see the module's
    docstring), or None where zones do not take slots (explicit CIDRs, an existing VPC)."""
    if args.existing_vpc is not None:
        return None
    if args.node_vswitch_cidrs is not None and (
        not with_pod_vswitches or args.pod_vswitch_cidrs is not None
    ):
        return None
    if with_pod_vswitches:
        return min(args.node_vswitch_prefix, args.pod_vswitch_prefix) - 1
    return args.node_vswitch_prefix


def plan_app_subnets(
    args: NetworkArgs,
    network: NetworkPlan,
    subnets: Mapping[str, AppSubnetArgs],
    *,
    with_pod_vswitches: bool,
    path: str = "app_subnets",
) -> tuple[AppSubnetPlan, ...]:
    """Place each app subnet in the cluster's VPC, or raise PlanProblems naming each bad one.

    Zones take the VPC's slots from its start (zone *i*, slot *i*); planned app subnets take
    blocks from its end, in the order they are listed (each below the one before), so appending
    an app subnet never moves another, and adding zones grows toward them. Where a zone's slot
    would reach an app subnet, planning refuses (naming both) instead of moving either: a moved
    vSwitch is a replaced one, which fails while something uses it. Removing or reordering a
    planned app subnet moves those listed after it: give `cidr` to pin one.
    """
    if not subnets:
        return ()
    problems: list[tuple[str, str]] = []
    vpc = network.vpc_cidr
    start, end = int(vpc.network_address), int(vpc.broadcast_address) + 1
    cursor = end
    placed: list[tuple[str, Net]] = []
    out: list[AppSubnetPlan] = []
    for name, s in subnets.items():
        here = f"{path}.{name}"
        if s.cidr is not None:
            net = ipaddress.IPv4Network(s.cidr)
        elif args.existing_vpc is not None:
            problems.append(
                (
                    f"{here}.cidr",
                    "the cluster uses an existing VPC, whose free ranges are not known here: "
                    "give the app subnet's cidr (the stack that owns a VPC shared by several "
                    "teams plans its ranges)",
                )
            )
            continue
        else:
            size = 1 << (32 - s.prefix)
            first = (cursor - size) // size * size
            if first < start:
                problems.append(
                    (
                        f"{here}.prefix",
                        f"no free /{s.prefix} is left at the end of the VPC {vpc} below the app "
                        "subnets listed before it: use a longer prefix, a larger VPC, or cidr",
                    )
                )
                continue
            net = ipaddress.IPv4Network((first, s.prefix))
            cursor = first
        if not net.subnet_of(vpc):
            problems.append((f"{here}.cidr", f"{net} is outside the VPC range {vpc}"))
        placed.append((here, net))
        out.append(AppSubnetPlan(name=name, zone=s.zone, cidr=net))

    slot_prefix = zone_slot(args, with_pod_vswitches=with_pod_vswitches)
    for here, net in placed:
        for z in network.zones:
            for what, zone_net in (("node", z.node_cidr), ("pod", z.pod_cidr)):
                if zone_net is None or not net.overlaps(zone_net):
                    continue
                problems.append(
                    (
                        here,
                        f"{net} overlaps the {what} vSwitch of zone {z.zone} ({zone_net})"
                        + (
                            ": zones take the VPC's slots from its start and app subnets "
                            "its end, and they have met; use a larger VPC (vpc_cidr), or "
                            "longer prefixes"
                            if slot_prefix is not None
                            else ""
                        ),
                    )
                )
    for i, (p1, n1) in enumerate(placed):
        for p2, n2 in placed[i + 1 :]:
            if n1.overlaps(n2):
                problems.append((p2, f"{n2} overlaps {p1} ({n1}); vSwitches must be disjoint"))
    if problems:
        raise PlanProblems(problems)
    return tuple(out)
