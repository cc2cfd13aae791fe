"""Property tests over all three cluster forms (hypothesis): valid arguments always build a graph
that passes the policy gate with no mandatory violation; a known mistake or a value of the wrong
type always fails with InvalidArguments before anything registers, never deeper in the library."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ack_clusters import InvalidArguments

from .conftest import CLASSES, run
from .conftest import ZONES as SHARED_ZONES

#: The shared zones and one more, so that drawn clusters span up to four.
ZONES = [*SHARED_ZONES, "cn-hangzhou-h"]
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


#: (base, shortest prefix): private ranges that leave 172.31.240.0/20 free for Services.
VPC_BASES = [("10.0.0.0", 12), ("10.64.0.0", 12), ("172.16.0.0", 13), ("192.168.0.0", 16)]


@st.composite
def vpcs(draw: st.DrawFn) -> str:
    base, shortest = draw(st.sampled_from(VPC_BASES))
    prefix = draw(st.integers(shortest, 16))
    return str(ipaddress.ip_network(f"{base}/{prefix}", strict=False))


@st.composite
def pools(draw: st.DrawFn) -> dict[str, Any]:
    out = {}
    for name in draw(st.lists(st.sampled_from(["web", "batch", "gpu-a"]), max_size=2, unique=True)):
        pool: dict[str, Any] = {"instance_types": ["ecs.g7.xlarge"], "key_name": "ops"}
        if draw(st.booleans()):
            lo = draw(st.integers(0, 5))
            hi = draw(st.integers(max(lo, 1), 20))
            pool["autoscaling"] = {"min_size": lo, "max_size": hi}
            if draw(st.booleans()):
                pool |= {"desired_size": draw(st.integers(lo, hi)), "ignore_scaling_changes": True}
        else:
            pool["desired_size"] = draw(st.integers(0, 50))
        pool["spot"] = draw(st.booleans())
        pool["labels"] = draw(st.dictionaries(st.sampled_from(["tier", "team"]), st.just("x")))
        out[name] = pool
    return out


@st.composite
def valid_args(draw: st.DrawFn, form: str) -> dict[str, Any]:
    n_zones = draw(st.integers(3 if form == "dedicated" else 1, 4))
    zones = draw(st.permutations(ZONES))[:n_zones]
    args: dict[str, Any] = {
        "network": {
            "zones": zones,
            "vpc_cidr": draw(vpcs()),
            "nat": draw(st.sampled_from(["none", "single", "per_zone"])),
        },
        "tags": draw(st.dictionaries(st.sampled_from(["env", "team", "owner"]), st.just("v"))),
        "ingress": draw(st.sampled_from([None, {}, {"bind_service": True}])),
    }
    if args["ingress"] is None:
        del args["ingress"]
    if form != "serverless":
        plugin = draw(st.sampled_from(["terway", "flannel"]))
        args["network_plugin"] = plugin
        args["node_pools"] = draw(pools())
        if plugin == "terway":
            args["network"]["pod_vswitch_prefix"] = 20
            args["network"]["node_vswitch_prefix"] = 23
        # Service and Flannel pod ranges that no drawn VPC overlaps.
        args["service_cidr"] = "172.31.240.0/20"
        if plugin == "flannel":
            args["pod_cidr"] = "172.30.0.0/16"
    else:
        args["service_cidr"] = "172.31.240.0/20"
        args["service_discovery"] = draw(st.sampled_from(["managed-coredns", "none"]))
    if form == "dedicated":
        args |= {"masters": {"count": draw(st.sampled_from([3, 5]))}, "key_name": "ops"}
    if form == "managed":
        args["cluster_spec"] = draw(st.sampled_from(["ack.standard", "ack.pro.small"]))
    return args


def build(form: str, args: dict[str, Any]):
    outcome: list[Exception] = []

    def program() -> None:
        try:
            CLASSES[form]("prop", args)
        except InvalidArguments as exc:
            outcome.append(exc)

    return run(program), outcome


def check_valid(policy_pack, form: str, args: dict[str, Any]) -> None:
    result, refused = build(form, args)
    assert refused == [], refused
    mandatory = [v for v in policy_pack.analyze(result) if v.enforcement == "mandatory"]
    assert mandatory == [], [(v.policy, v.urn) for v in mandatory]


@pytest.mark.heavy
@SETTINGS
@given(args=valid_args("managed"))
def test_valid_managed_arguments_build_and_pass_the_gate(policy_pack, args):
    check_valid(policy_pack, "managed", args)


@SETTINGS
@given(args=valid_args("serverless"))
def test_valid_serverless_arguments_build_and_pass_the_gate(policy_pack, args):
    check_valid(policy_pack, "serverless", args)


@pytest.mark.heavy
@SETTINGS
@given(args=valid_args("dedicated"))
def test_valid_dedicated_arguments_build_and_pass_the_gate(policy_pack, args):
    check_valid(policy_pack, "dedicated", args)


#: Known mistakes, as (path, bad value) set into otherwise valid arguments.
MISTAKES: list[tuple[tuple[str, ...], Any]] = [
    (("network", "vpc_cidr"), "10.0.0.1/16"),
    (("network", "vpc_cidr"), "8.8.0.0/16"),
    (("network", "zones"), []),
    (("network", "zones"), ["cn-hangzhou-h", "cn-hangzhou-h"]),
    (("network", "nat"), "double"),
    (("network", "nat_eip_bandwidth"), 0),
    (("service_cidr",), "10.0.0.0/33"),
    (("tags",), {"aliyun:x": "y"}),
    (("kubeconfig_minutes",), 5),
    (("deletion_protection",), "sometimes"),
    (("no_such_argument",), 1),
]
NODE_MISTAKES: list[tuple[tuple[str, ...], Any]] = [
    (("node_pools",), {"web": {"instance_types": ["ecs.g7.large"], "key_name": "ops"}}),
    (
        ("node_pools",),
        {"Bad_Name": {"instance_types": ["ecs.g7.large"], "desired_size": 1, "key_name": "ops"}},
    ),
    (("node_pools",), {"web": {"instance_types": [], "desired_size": 1, "key_name": "ops"}}),
    (("network_plugin",), "calico"),
]


def mutate(args: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(args)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def check_refused(form: str, args: dict[str, Any]) -> None:
    result, refused = build(form, args)
    assert result.resources == []
    assert len(refused) == 1 and refused[0].problems


@SETTINGS
@given(
    form=st.sampled_from(list(CLASSES)),
    data=st.data(),
)
def test_a_known_mistake_is_always_refused_before_registration(form, data):
    args = data.draw(valid_args(form))
    choices = MISTAKES + (NODE_MISTAKES if form != "serverless" else [])
    path, value = data.draw(st.sampled_from(choices))
    check_refused(form, mutate(args, path, value))


junk = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@SETTINGS
@given(form=st.sampled_from(list(CLASSES)), data=st.data())
def test_values_of_the_wrong_shape_never_escape_as_anything_but_invalid_arguments(form, data):
    args = data.draw(valid_args(form))
    key = data.draw(st.sampled_from(sorted(args)))
    value = data.draw(junk)
    bad = mutate(args, (key,), value)
    result, refused = build(form, bad)
    # Either refused cleanly, or (when the junk happened to be acceptable) built.
    if refused:
        assert result.resources == []
