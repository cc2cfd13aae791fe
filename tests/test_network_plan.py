"""The network planner on its own: layouts, stability, and property tests of its invariants."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ack_clusters.errors import PlanProblems
from ack_clusters.network.args import NetworkArgs
from ack_clusters.network.plan import plan_network

ZONES = [f"cn-hangzhou-{c}" for c in "abcdefghijk"]
SERVICE = {"service_cidr": "172.21.0.0/20"}


def plan(with_pods: bool = True, reserved: dict[str, str] | None = None, **kw):
    return plan_network(
        NetworkArgs(**kw), with_pod_vswitches=with_pods, reserved=reserved or SERVICE
    )


def test_default_layout_puts_pods_then_nodes_in_each_zone_slot():
    p = plan(zones=ZONES[:3])
    assert str(p.vpc_cidr) == "10.0.0.0/16"
    assert [(str(z.pod_cidr), str(z.node_cidr)) for z in p.zones] == [
        ("10.0.0.0/19", "10.0.32.0/22"),
        ("10.0.64.0/19", "10.0.96.0/22"),
        ("10.0.128.0/19", "10.0.160.0/22"),
    ]


def test_appending_a_zone_never_moves_existing_vswitches():
    before = plan(zones=ZONES[:2])
    after = plan(zones=ZONES[:3])
    assert after.zones[:2] == before.zones


def test_without_pod_vswitches_each_zone_gets_one_node_block():
    p = plan(with_pods=False, zones=ZONES[:2], vpc_cidr="192.168.0.0/16")
    assert [str(z.node_cidr) for z in p.zones] == ["192.168.0.0/22", "192.168.4.0/22"]
    assert all(z.pod_cidr is None for z in p.zones)


@pytest.mark.parametrize(
    ("strategy", "gateways"),
    [("none", []), ("single", [("egress", ZONES[0])]), ("per_zone", [(z, z) for z in ZONES[:3]])],
)
def test_nat_strategy_decides_gateways_and_their_zones(strategy, gateways):
    p = plan(zones=ZONES[:3], nat=strategy)
    assert [(g.key, g.host_zone) for g in p.nat_gateways] == gateways
    assert p.zone_route_tables == (strategy == "per_zone")
    if strategy == "single":
        assert p.nat_gateways[0].zones == tuple(ZONES[:3])


def test_too_many_zones_for_the_vpc_names_the_vpc_field_and_the_fix():
    with pytest.raises(PlanProblems) as exc:
        plan(zones=ZONES[:5])  # /16 holds four /18 slots
    ((path, msg),) = exc.value.problems
    assert path == "network.vpc_cidr"
    assert "4 zone slot(s)" in msg and "5 zones" in msg


def test_service_cidr_inside_the_vpc_is_refused():
    with pytest.raises(PlanProblems) as exc:
        plan(zones=ZONES[:1], reserved={"service_cidr": "10.0.200.0/24"})
    paths = [p for p, _ in exc.value.problems]
    assert paths[0] == "service_cidr"


def test_explicit_cidrs_must_cover_each_zone_fit_the_vpc_and_not_overlap():
    with pytest.raises(PlanProblems) as exc:
        plan(
            with_pods=False,
            zones=ZONES[:3],
            vpc_cidr="10.1.0.0/16",
            node_vswitch_cidrs={
                ZONES[0]: "10.1.0.0/24",
                ZONES[1]: "10.1.0.128/25",
                "cn-hangzhou-z": "10.2.0.0/24",
            },
        )
    problems = dict(exc.value.problems)
    assert "no entry for zone(s) cn-hangzhou-c" in problems["network.node_vswitch_cidrs"]
    assert "overlaps" in problems[f"network.node_vswitch_cidrs.{ZONES[1]}"]


def test_existing_vpc_uses_given_vswitches_and_checks_their_ranges():
    p = plan(
        with_pods=False,
        zones=ZONES[:1],
        existing_vpc={
            "id": "vpc-abc",
            "cidr": "172.16.0.0/16",
            "node_vswitches": {ZONES[0]: {"id": "vsw-a", "cidr": "172.16.1.0/24"}},
        },
    )
    assert p.existing_vpc_id == "vpc-abc"
    assert p.zones[0].node_vswitch_id == "vsw-a"
    with pytest.raises(PlanProblems) as exc:
        plan(
            with_pods=False,
            zones=ZONES[:1],
            existing_vpc={
                "id": "vpc-abc",
                "cidr": "172.16.0.0/16",
                "node_vswitches": {ZONES[0]: {"id": "vsw-a", "cidr": "10.9.0.0/24"}},
            },
        )
    assert exc.value.problems == [
        (
            f"network.existing_vpc.node_vswitches.{ZONES[0]}",
            "10.9.0.0/24 is outside the VPC range 172.16.0.0/16",
        )
    ]


# --- properties ------------------------------------------------------------------------------

private_vpcs = st.one_of(
    st.builds(
        lambda p, n: ipaddress.ip_network(f"10.{n}.0.0/{p}", strict=False),
        st.integers(8, 24),
        st.integers(0, 255),
    ),
    st.builds(
        lambda p, n: ipaddress.ip_network(f"172.{16 + n}.0.0/{p}", strict=False),
        st.integers(12, 24),
        st.integers(0, 15),
    ),
    st.builds(
        lambda p: ipaddress.ip_network(f"192.168.0.0/{p}", strict=False), st.integers(16, 24)
    ),
)
reserved_ranges = st.sampled_from(
    ["172.21.0.0/20", "192.168.0.0/20", "10.0.0.0/16", "172.20.0.0/16"]
)


@settings(max_examples=300, deadline=None)
@given(
    vpc=private_vpcs,
    n_zones=st.integers(1, 8),
    node_prefix=st.integers(16, 29),
    pod_prefix=st.integers(16, 29),
    with_pods=st.booleans(),
    service=reserved_ranges,
)
def test_planned_ranges_never_overlap_always_fit_and_avoid_reserved(
    vpc, n_zones, node_prefix, pod_prefix, with_pods, service
):
    kw = dict(
        zones=ZONES[:n_zones],
        vpc_cidr=str(vpc),
        node_vswitch_prefix=node_prefix,
        pod_vswitch_prefix=pod_prefix,
    )
    try:
        p = plan(with_pods=with_pods, reserved={"service_cidr": service}, **kw)
    except PlanProblems as exc:
        # Refusals always name a field of the input, never crash.
        assert exc.problems
        assert all(path.startswith(("network.", "service_cidr")) for path, _ in exc.problems)
        return
    cidrs = p.all_cidrs()
    assert len(cidrs) == n_zones * (2 if with_pods else 1)
    assert all(c.subnet_of(p.vpc_cidr) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])
    assert not any(c.overlaps(ipaddress.ip_network(service)) for c in cidrs)
    assert all(16 <= c.prefixlen <= 29 for c in cidrs)


@settings(max_examples=200, deadline=None)
@given(
    blocks=st.lists(st.integers(0, 1023), min_size=1, max_size=6),
    prefix=st.integers(20, 26),
)
def test_explicit_cidrs_are_accepted_only_when_disjoint_and_inside(blocks, prefix):
    vpc = ipaddress.ip_network("10.8.0.0/16")
    zones = ZONES[: len(blocks)]
    size = 1 << (32 - prefix)
    slots = 1 << (prefix - 16)
    cidrs = {
        z: str(ipaddress.ip_network((int(vpc.network_address) + (b % slots) * size, prefix)))
        for z, b in zip(zones, blocks, strict=True)
    }
    nets = [ipaddress.ip_network(c) for c in cidrs.values()]
    disjoint = not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    try:
        p = plan(with_pods=False, zones=zones, vpc_cidr=str(vpc), node_vswitch_cidrs=cidrs)
    except PlanProblems as exc:
        assert not disjoint
        assert all("overlaps" in m for _, m in exc.problems)
        return
    assert disjoint
    assert {z.zone: str(z.node_cidr) for z in p.zones} == cidrs
