"""Stable identity: changes the cloud applies in place keep every URN and touch no create-only
input; create-only changes are the documented ones, and are detected."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from functools import cache
from typing import Any

import pytest

from ack_clusters import DedicatedCluster, ManagedCluster, ServerlessCluster
from ack_offline.stability import CREATE_ONLY, create_only_changes

from . import changes_doc
from .conftest import ROOT, ZONES, run

POOLS = changes_doc.POOLS
BASE: dict[str, Any] = changes_doc.BASES["managed"]

IN_PLACE: dict[str, dict[str, Any]] = {
    "pool size": {"node_pools": {**POOLS, "web": {**POOLS["web"], "desired_size": 7}}},
    "autoscaling bounds": {
        "node_pools": {
            **POOLS,
            "batch": {**POOLS["batch"], "autoscaling": {"min_size": 1, "max_size": 9}},
        }
    },
    "labels": {"node_pools": {**POOLS, "web": {**POOLS["web"], "labels": {"tier": "web"}}}},
    "taints": {
        "node_pools": {
            **POOLS,
            "web": {**POOLS["web"], "taints": [{"key": "dedicated", "value": "web"}]},
        }
    },
    "instance types": {
        "node_pools": {**POOLS, "web": {**POOLS["web"], "instance_types": ["ecs.g7.xlarge"]}}
    },
    "tags": {"tags": {"team": "payments"}},
    "log settings": {"control_plane_logs": {"ttl_days": 90, "components": ["apiserver"]}},
    "audit log off": {"audit_log": {"enabled": False}},
    "maintenance window": {"maintenance_window": {"weekly_period": "Sunday"}},
    "kubernetes version": {"kubernetes_version": "1.33.3-aliyun.1"},
    "deletion protection": {"deletion_protection": False},
    "NAT bandwidth": {"network": {"zones": ZONES[:2], "nat": "per_zone", "nat_eip_bandwidth": 150}},
}


def graph(**change: Any):
    return _graph(json.dumps({**BASE, **change}, sort_keys=True))


@cache
def _graph(args: str):
    """One run per distinct arguments: most tests here compare a change with the same base."""
    return run(lambda: ManagedCluster("demo", json.loads(args)))


@pytest.mark.parametrize("change", list(IN_PLACE), ids=list(IN_PLACE))
def test_in_place_changes_keep_identity_and_replace_nothing(change):
    before, after = graph(), graph(**IN_PLACE[change])
    assert {r.urn for r in before.resources} == {r.urn for r in after.resources}
    assert create_only_changes(before, after) == []


def test_adding_a_pool_only_adds():
    before = graph()
    after = graph(node_pools={**POOLS, "gpu": POOLS["web"]})
    assert {r.urn for r in before.resources} < {r.urn for r in after.resources}
    assert create_only_changes(before, after) == []


def test_adding_a_zone_only_adds_with_flannel():
    before = graph(network_plugin="flannel")
    after = graph(
        network_plugin="flannel",
        network={"zones": ZONES, "nat": "per_zone"},
    )
    assert {r.urn for r in before.resources} < {r.urn for r in after.resources}
    assert create_only_changes(before, after) == []


def test_adding_a_zone_to_terway_touches_create_only_pod_vswitches():
    """Documented in docs/CHANGES.md: ACK takes pod_vswitch_ids only at creation, so a new
    zone's pod vSwitch must also be added to Terway's eni-config by hand."""
    before = graph()
    after = graph(network={"zones": ZONES, "nat": "per_zone"})
    assert {f for _, f in create_only_changes(before, after)} == {"podVswitchIds"}


CREATE_ONLY_CHANGES: dict[str, tuple[dict[str, Any], str]] = {
    "service CIDR": ({"service_cidr": "172.22.0.0/20"}, "serviceCidr"),
    "public API server": ({"public_api_server": True}, "slbInternetEnabled"),
    "default addon disabled": ({"addons": [{"name": "logtail-ds", "disabled": True}]}, "addons"),
    "VPC range": (
        {"network": {"zones": ZONES[:2], "nat": "per_zone", "vpc_cidr": "10.8.0.0/16"}},
        "cidrBlock",
    ),
}


@pytest.mark.parametrize("change", list(CREATE_ONLY_CHANGES), ids=list(CREATE_ONLY_CHANGES))
def test_create_only_changes_are_detected(change):
    overrides, field = CREATE_ONLY_CHANGES[change]
    risks = create_only_changes(graph(), graph(**overrides))
    assert field in {f for _, f in risks}


def test_removing_a_zone_from_the_middle_moves_the_zones_after_it():
    """Documented: planned CIDRs follow zone order, so pin CIDRs before removing a middle zone."""
    three = {"zones": ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"], "nat": "single"}
    two = {"zones": ["cn-hangzhou-i", "cn-hangzhou-k"], "nat": "single"}
    risks = create_only_changes(graph(network=three), graph(network=two))
    assert any(u.endswith("node-cn-hangzhou-k") and f == "cidrBlock" for u, f in risks)


@pytest.mark.parametrize(
    "component", [ManagedCluster, ServerlessCluster, DedicatedCluster], ids=lambda c: c.__name__
)
def test_every_component_ignores_only_documented_fields(component):
    args: dict[str, Any] = {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]}
    }
    if component is not ServerlessCluster:
        args["node_pools"] = {
            "auto": {**POOLS["batch"], "desired_size": 1, "ignore_scaling_changes": True}
        }
    if component is DedicatedCluster:
        args["key_name"] = "ops"
    ignored = {
        (r.type, f)
        for r in run(lambda: component("demo", args)).resources
        for f in r.ignore_changes
    }
    expected = (
        {("alicloud:cs/nodePool:NodePool", "desiredSize")}
        if component is not ServerlessCluster
        else set()
    )
    assert ignored == expected


#: Where the SDK's documentation says "create only" but the provider's Update code applies the
#: change (v1.289.0: alicloud/resource_alicloud_nat_gateway.go:571-576 calls
#: UpdateNatGatewayNatType for nat_type and vswitch_id). The code is what runs.
DOCS_WRONG = {
    ("alicloud:vpc/natGateway:NatGateway", "natType"),
    ("alicloud:vpc/natGateway:NatGateway", "vswitchId"),
}


def test_the_provider_docstrings_agree_with_the_table():
    """Every field the SDK's docstrings call create-only is create-only in the provider's
    facts too."""
    pattern = re.compile(
        r"Only works for \*\*Create\*\* Operation"
        r"|immutable after resource creation|cannot be modified",
        re.I,
    )
    for type_token, fields in CREATE_ONLY.items():
        _, mod, cls = type_token.split(":")
        args_cls = getattr(
            importlib.import_module(f"pulumi_alicloud.{mod.split('/')[0]}"), f"{cls}Args"
        )
        doc = inspect.getdoc(args_cls.__init__) or ""
        for chunk in doc.split("\n:param")[1:]:
            m = re.match(r" [^\]]*\]+ (\w+):", chunk)
            if not (m and pattern.search(chunk)):
                continue
            camel = re.sub(r"_(\w)", lambda x: x[1].upper(), m[1])
            if camel in ("loadBalancerSpec", "autoMode", "efloNodeGroup"):
                continue  # deprecated or not set by the components
            if (type_token, camel) in DOCS_WRONG:
                assert fields.get(camel) is None, "the provider changed: drop it from DOCS_WRONG"
                continue
            # The SDK's words and the provider's code agree: a change replaces or is dropped.
            assert fields.get(camel) in {"replaces", "never applied"}, (type_token, camel)


@pytest.mark.heavy
def test_the_document_is_generated_from_the_facts():
    doc = (ROOT / "docs" / "CHANGES.md").read_text()
    assert doc == changes_doc.render(), "regenerate: python -m tests.changes_doc > docs/CHANGES.md"
