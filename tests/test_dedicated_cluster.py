"""DedicatedCluster: visible masters, workers in ESS, adoption, and the way to ManagedCluster."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ack_clusters import DedicatedCluster, InvalidArguments, ManagedCluster
from ack_clusters.cluster.forms import DEDICATED_NOTICE as CREATION_NOTICE

from .conftest import assert_owned_and_tagged, run

KUBERNETES = "alicloud:cs/kubernetes:Kubernetes"
ZONES = ["cn-beijing-h", "cn-beijing-i", "cn-beijing-j"]
CID = "c" + "ab" * 16
POOL_ID = "np" + "cd" * 16
COMMON: dict[str, Any] = {
    "network": {"zones": ZONES, "vpc_cidr": "192.168.0.0/16", "nat": "single"},
    "network_plugin": "flannel",
    "node_pools": {
        "workers": {"instance_types": ["ecs.g7.2xlarge"], "desired_size": 3, "key_name": "ops"}
    },
    "tags": {"team": "platform"},
}
DEDICATED = {**COMMON, "masters": {"count": 3}, "key_name": "masters"}


def dedicated(**overrides):
    return lambda: DedicatedCluster("legacy", {**DEDICATED, **overrides})


def test_masters_spread_over_distinct_zones_and_workers_in_node_pools():
    r = run(dedicated())
    cluster = r.one(KUBERNETES)
    switches = {s.urn: s for s in r.by_type("alicloud:vpc/switch:Switch")}
    master_switches = cluster.property_dependencies["masterVswitchIds"]
    assert len(cluster.inputs["masterVswitchIds"]) == 3
    assert {switches[u].inputs["zoneId"] for u in master_switches} == set(ZONES)
    assert cluster.inputs["masterInstanceTypes"] == ["ecs.g7.xlarge"] * 3
    assert cluster.inputs["masterDiskCategory"] == "cloud_essd"
    pool = r.one("alicloud:cs/nodePool:NodePool")
    assert pool.property_dependencies["clusterId"] == [cluster.urn]


def test_five_masters_over_three_zones_round_robin():
    r = run(dedicated(masters={"count": 5}))
    assert len(r.one(KUBERNETES).inputs["masterVswitchIds"]) == 5


def test_owned_tagged_and_safe_by_default():
    r = run(dedicated())
    assert_owned_and_tagged(r, "ack:index:DedicatedCluster", "legacy")
    c = r.one(KUBERNETES).inputs
    assert c["newNatGateway"] is False
    assert c["slbInternetEnabled"] is False
    assert c["deletionProtection"] is True
    assert c["skipSetCertificateAuthority"] is True
    assert [a["name"] for a in c["addons"]] == ["flannel"]
    assert r.one("alicloud:vpc/network:Network").protect is True


def test_masters_wait_for_egress_and_outputs_match_the_other_forms():
    def program():
        import pulumi

        c = DedicatedCluster("legacy", DEDICATED)
        pulumi.export("pools", {n: p.scaling_group_id for n, p in c.node_pools.items()})
        pulumi.export("kubeconfig", c.kubeconfig)
        pulumi.export("slb", c.api_server_slb_id)

    r = run(program)
    snat = {x.urn for x in r.by_type("alicloud:vpc/snatEntry:SnatEntry")}
    assert snat and snat <= set(r.one(KUBERNETES).dependencies)
    assert r.stack_outputs["pools"]["workers"].startswith("asg-")
    assert r.stack_outputs["kubeconfig"] == "[secret]"
    assert r.stack_outputs["slb"].startswith("lb-")


def test_creating_warns_that_ack_no_longer_creates_dedicated_clusters(caplog):
    with caplog.at_level(logging.WARNING):
        run(dedicated())
    assert CREATION_NOTICE in caplog.text


@pytest.mark.parametrize(
    ("overrides", "path", "text"),
    [
        ({"masters": {"count": 2}}, "masters.count", "3 or 5 masters"),
        ({"masters": {"count": 4}}, "masters.count", "3 or 5 masters"),
        (
            {"network": {**COMMON["network"], "zones": ZONES[:2]}},
            "",
            "list at least 3 zones",
        ),
        ({"masters": {"count": 3, "zones": ZONES[:2]}}, "masters", "3 masters need 3 master zones"),
        ({"masters": {"count": 3, "zones": ["cn-beijing-a"] * 3}}, "", "are not in network.zones"),
        (
            {"masters": {"count": 3, "instance_types": ["ecs.g7.large", "ecs.g6.large"]}},
            "masters",
            "one per master",
        ),
        ({"key_name": None}, "", "exactly one of key_name and password"),
        (
            {"secrets_encryption_kms_key_id": "key-1"},
            "secrets_encryption_kms_key_id",
            "is an argument of ManagedClusterArgs and ServerlessClusterArgs, not of "
            "DedicatedClusterArgs",
        ),
        (
            {
                "network": {
                    **COMMON["network"],
                    "node_vswitch_cidrs": {z: "192.168.0.0/22" for z in ZONES},
                }
            },
            f"network.node_vswitch_cidrs.{ZONES[1]}",
            "overlaps",
        ),
    ],
    ids=[
        "2 masters",
        "4 masters",
        "too few zones",
        "master zones count",
        "master zone outside",
        "instance type count",
        "no login",
        "managed-only feature",
        "overlapping vswitches",
    ],
)
def test_bad_input_is_refused_before_anything_registers(overrides, path, text):
    caught: list[InvalidArguments] = []

    def program():
        try:
            DedicatedCluster("legacy", {**DEDICATED, **overrides})
        except InvalidArguments as exc:
            caught.append(exc)

    assert run(program).resources == []
    assert caught
    assert any(p == path and text in m for p, m in caught[0].problems), caught[0].problems


# --- adoption ---------------------------------------------------------------------------------

ADOPT = {
    "cluster_id": CID,
    "vpc_id": "vpc-existing1",
    "node_vswitch_ids": {z: f"vsw-existing{i}" for i, z in enumerate(ZONES)},
    "security_group_id": "sg-existing1",
    "node_pool_ids": {"workers": POOL_ID},
    "node_role_name": "KubernetesWorkerRole-existing",
}


def test_adoption_imports_every_named_resource_with_its_id(caplog):
    with caplog.at_level(logging.WARNING):
        r = run(dedicated(adopt=ADOPT), preview=True)
    imports = {x.name: x.import_id for x in r.resources if x.import_id}
    assert imports == {
        "legacy": CID,
        "legacy-vpc": "vpc-existing1",
        **{f"legacy-node-{z}": f"vsw-existing{i}" for i, z in enumerate(ZONES)},
        "legacy-sg": "sg-existing1",
        "legacy-workers": f"{CID}:{POOL_ID}",  # the provider's node pool ID format
    }
    assert CREATION_NOTICE not in caplog.text  # adopting creates no cluster


def test_adopted_pools_keep_their_existing_role():
    r = run(dedicated(adopt=ADOPT))
    assert r.by_type("alicloud:ram/role:Role") == []
    assert r.one("alicloud:cs/nodePool:NodePool").inputs["ramRoleName"] == (
        "KubernetesWorkerRole-existing"
    )


def test_adopted_resources_keep_their_real_ids_in_outputs():
    def program():
        import pulumi

        c = DedicatedCluster("legacy", {**DEDICATED, "adopt": ADOPT})
        pulumi.export("cluster", c.cluster_id)
        pulumi.export("sg", c.security_group_id)
        pulumi.export("pool", c.node_pools["workers"].node_pool_id)

    outputs = run(program).stack_outputs
    assert outputs == {"cluster": CID, "sg": "sg-existing1", "pool": POOL_ID}


def test_adoption_input_is_checked():
    with pytest.raises(InvalidArguments) as exc:
        DedicatedCluster(
            "legacy",
            {**DEDICATED, "adopt": {"node_pool_ids": {"nope": POOL_ID}}},
        )
    messages = " ".join(m for _, m in exc.value.problems)
    assert "need adopt.cluster_id" in messages and "not in node_pools: nope" in messages


# --- migration to ManagedCluster after ACK's in-place migration to Pro ------------------------

MIGRATED = {
    **COMMON,
    "cluster_spec": "ack.pro.small",
    "migrated_from_dedicated": True,
    "adopt": {"cluster_id": CID},
}


def test_migration_keeps_every_shared_identity_and_imports_the_cluster():
    before = run(lambda: DedicatedCluster("legacy", DEDICATED))
    after = run(lambda: ManagedCluster("legacy", MIGRATED))
    aliases = after.alias_urns()
    answered = {r.urn for r in after.resources} | set().union(*aliases.values())
    before_urns = {r.urn for r in before.resources}

    lost = [r.type for r in before.resources if r.urn not in answered]
    assert lost == [KUBERNETES]  # its state entry is dropped; the cluster itself is imported

    new = [
        r for r in after.resources if r.urn not in before_urns and not aliases[r.urn] & before_urns
    ]
    assert [(r.type, r.import_id) for r in new] == [
        ("alicloud:cs/managedKubernetes:ManagedKubernetes", CID)
    ]


def test_without_the_migration_flag_every_child_would_be_new():
    before = {r.urn for r in run(lambda: DedicatedCluster("legacy", DEDICATED)).resources}
    plain = {**MIGRATED, "migrated_from_dedicated": False}
    after = run(lambda: ManagedCluster("legacy", plain))
    answered = {r.urn for r in after.resources} | set().union(*after.alias_urns().values())
    assert not before & answered


def test_migration_needs_the_cluster_id_and_a_pro_spec():
    with pytest.raises(InvalidArguments) as exc:
        ManagedCluster(
            "legacy", {**COMMON, "cluster_spec": "ack.standard", "migrated_from_dedicated": True}
        )
    messages = " ".join(m for _, m in exc.value.problems)
    assert "migrates dedicated clusters to Pro" in messages
    assert "needs adopt.cluster_id" in messages
