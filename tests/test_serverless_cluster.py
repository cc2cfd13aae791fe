"""ServerlessCluster on the fake cloud: pods on ECI, no nodes, the same ownership as the rest."""

from __future__ import annotations

import logging

import pulumi
import pytest

from ack_clusters import InvalidArguments, ServerlessCluster
from ack_clusters.cluster.forms import SERVERLESS_NOTICE as CREATION_NOTICE
from ack_offline.recorder import SECRET

from .conftest import assert_owned_and_tagged, run

CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
BASE = {"network": {"zones": ["cn-hangzhou-h", "cn-hangzhou-i"]}}


def build(**overrides):
    def program():
        c = ServerlessCluster("sls", {**BASE, **overrides})
        pulumi.export("kubeconfig", c.kubeconfig)
        pulumi.export("endpoint", c.api_server_endpoint)
        pulumi.export("nat", c.nat_gateway_id)

    return program


def test_graph_has_network_egress_firewall_and_cluster_but_no_nodes():
    r = run(build())
    counts: dict[str, int] = {}
    for res in r.resources:
        counts[res.type] = counts.get(res.type, 0) + 1
    assert counts == {
        "ack:index:ServerlessCluster": 1,
        "ack:index:ClusterNetwork": 1,
        "ack:index:ClusterSecurityGroup": 1,
        "alicloud:vpc/network:Network": 1,
        "alicloud:vpc/switch:Switch": 2,
        "alicloud:vpc/natGateway:NatGateway": 1,
        "alicloud:ecs/eipAddress:EipAddress": 1,
        "alicloud:ecs/eipAssociation:EipAssociation": 1,
        "alicloud:vpc/snatEntry:SnatEntry": 2,
        "alicloud:ecs/securityGroup:SecurityGroup": 1,
        "alicloud:ecs/securityGroupRule:SecurityGroupRule": 1,
        CLUSTER: 1,
        "pulumi:providers:kubernetes": 1,
    }


def test_owned_and_tagged_like_every_cluster():
    assert_owned_and_tagged(run(build()), "ack:index:ServerlessCluster", "sls")


def test_serverless_profile_and_safe_defaults():
    c = run(build()).one(CLUSTER).inputs
    assert c["profile"] == "Serverless"
    assert c["clusterSpec"] == "ack.pro.small"
    assert c["newNatGateway"] is False
    assert c["slbInternetEnabled"] is False
    assert c["deletionProtection"] is True
    assert c["enableRrsa"] is True
    assert [a["name"] for a in c["addons"]] == ["managed-coredns"]
    assert "podVswitchIds" not in c and "podCidr" not in c


def test_eci_uses_the_cluster_vswitches_and_security_group():
    r = run(build())
    c = r.one(CLUSTER)
    switches = r.by_type("alicloud:vpc/switch:Switch")
    assert {s.name for s in switches} == {"sls-eci-cn-hangzhou-h", "sls-eci-cn-hangzhou-i"}
    assert set(c.property_dependencies["vswitchIds"]) == {s.urn for s in switches}
    sg = r.one("alicloud:ecs/securityGroup:SecurityGroup")
    assert c.property_dependencies["securityGroupId"] == [sg.urn]


def test_cluster_waits_for_egress_so_pods_can_pull_images():
    r = run(build())
    egress = {
        x.urn
        for t in ("alicloud:vpc/snatEntry:SnatEntry", "alicloud:ecs/eipAssociation:EipAssociation")
        for x in r.by_type(t)
    }
    assert len(egress) == 3
    assert egress <= set(r.one(CLUSTER).dependencies)


def test_no_kubelet_rule_without_nodes():
    rules = run(build()).by_type("alicloud:ecs/securityGroupRule:SecurityGroupRule")
    assert [x.name for x in rules] == ["sls-sg-control-plane"]


def test_service_discovery_none_installs_no_dns():
    c = run(build(service_discovery="none")).one(CLUSTER).inputs
    assert "addons" not in c


def test_kubeconfig_is_secret():
    r = run(build())
    assert r.stack_outputs["kubeconfig"] == SECRET
    assert r.one("pulumi:providers:kubernetes").inputs["kubeconfig"] == SECRET


def test_creation_notice_is_logged(caplog):
    with caplog.at_level(logging.WARNING):
        run(build())
    assert CREATION_NOTICE in caplog.text


@pytest.mark.parametrize(
    ("overrides", "path", "text"),
    [
        ({"node_pools": {"p": {}}}, "", "node_pools: a ServerlessCluster runs every pod on ECI"),
        ({"network_plugin": "terway"}, "", "network_plugin: a ServerlessCluster"),
        ({"cluster_spec": "ack.pro.xlarge"}, "cluster_spec", "Input should be"),
        (
            {"cluster_spec": "ack.standard", "secrets_encryption_kms_key_id": "key-1"},
            "",
            "needs cluster_spec ack.pro.small",
        ),
        (
            {"network": {**BASE["network"], "pod_vswitch_cidrs": {"cn-hangzhou-h": "10.0.0.0/20"}}},
            "",
            "ECI pods use the cluster vSwitches",
        ),
        (
            {
                "network": {
                    "zones": ["cn-hangzhou-h", "cn-hangzhou-i"],
                    "existing_vpc": {
                        "id": "vpc-a",
                        "cidr": "10.0.0.0/16",
                        "node_vswitches": {"cn-hangzhou-h": {"id": "vsw-a", "cidr": "10.0.0.0/20"}},
                    },
                }
            },
            "network.existing_vpc.node_vswitches",
            "no entry for zone(s) cn-hangzhou-i",
        ),
        (
            {
                "network": {
                    "zones": ["cn-hangzhou-h", "cn-hangzhou-i"],
                    "vpc_cidr": "10.0.0.0/16",
                    "node_vswitch_cidrs": {
                        "cn-hangzhou-h": "10.0.0.0/20",
                        "cn-hangzhou-i": "10.0.8.0/21",
                    },
                }
            },
            "network.node_vswitch_cidrs.cn-hangzhou-i",
            "overlaps",
        ),
        ({"addons": [{"name": "managed-coredns"}]}, "", "chosen by service_discovery"),
    ],
    ids=[
        "node pools",
        "network plugin",
        "spec",
        "kms on standard",
        "pod vswitches",
        "zone without vswitch",
        "overlapping vswitches",
        "dns twice",
    ],
)
def test_bad_input_is_refused_before_anything_registers(overrides, path, text):
    caught: list[InvalidArguments] = []

    def program():
        try:
            ServerlessCluster("sls", {**BASE, **overrides})
        except InvalidArguments as exc:
            caught.append(exc)

    result = run(program)
    assert result.resources == []
    assert caught
    assert any(p == path and text in m for p, m in caught[0].problems), caught[0].problems
