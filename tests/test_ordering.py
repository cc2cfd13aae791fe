"""Safe ordering in every form: what boots (nodes, masters, ECI pods) waits for egress; the
cluster waits for its firewall and vSwitches. The engine destroys in the reverse order, so the
security group is freed only after the cluster and its network interfaces are gone."""

from __future__ import annotations

from typing import Any

import pytest

from ack_clusters import DedicatedCluster, ManagedCluster, ServerlessCluster

from .conftest import run

ZONES = ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]
POOL = {"instance_types": ["ecs.g7.large"], "desired_size": 2, "key_name": "k"}
FORMS: dict[str, tuple[Any, dict[str, Any], str]] = {
    # form: (component, args, what boots first: the type that must wait for egress)
    "managed": (ManagedCluster, {"node_pools": {"p": POOL}}, "alicloud:cs/nodePool:NodePool"),
    "dedicated": (
        DedicatedCluster,
        {"node_pools": {"p": POOL}, "key_name": "k"},
        "alicloud:cs/kubernetes:Kubernetes",
    ),
    "serverless": (ServerlessCluster, {}, "alicloud:cs/managedKubernetes:ManagedKubernetes"),
}
EGRESS = (
    "alicloud:vpc/snatEntry:SnatEntry",
    "alicloud:ecs/eipAssociation:EipAssociation",
    "alicloud:vpc/routeEntry:RouteEntry",
    "alicloud:vpc/routeTableAttachment:RouteTableAttachment",
)
CLUSTERS = ("alicloud:cs/managedKubernetes:ManagedKubernetes", "alicloud:cs/kubernetes:Kubernetes")


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("nat", ["single", "per_zone"])
def test_what_boots_waits_for_every_egress_resource(form, nat):
    component, extra, booting = FORMS[form]
    r = run(lambda: component("demo", {"network": {"zones": ZONES, "nat": nat}, **extra}))
    egress = {x.urn for t in EGRESS for x in r.by_type(t)}
    assert egress
    for boot in r.by_type(booting):
        assert egress <= set(boot.dependencies), boot.urn


@pytest.mark.parametrize("form", list(FORMS))
def test_the_cluster_waits_for_its_security_group_and_vswitches(form):
    component, extra, _ = FORMS[form]
    r = run(lambda: component("demo", {"network": {"zones": ZONES}, **extra}))
    cluster = next(x for x in r.resources if x.type in CLUSTERS)
    needed = {x.urn for x in r.by_type("alicloud:vpc/switch:Switch")}
    needed.add(r.one("alicloud:ecs/securityGroup:SecurityGroup").urn)
    assert needed <= set(cluster.dependencies)
