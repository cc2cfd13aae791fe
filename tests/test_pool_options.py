"""Node pool day-two options: management and upgrade settings, billing, spot, zones, runtime,
user data; each validated and mapped to the provider input it stands for; node pool IDs out;
and the upgrade order (pools wait for the control plane)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from ack_clusters import InvalidArguments, ManagedCluster
from ack_offline.changes import Node, predict
from ack_offline.recorder import SECRET

from .conftest import AUTOSCALED_POOL, CLASSES, POOL, ZONES, form_args, run

NP = "alicloud:cs/nodePool:NodePool"
MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"
SWITCH = "alicloud:vpc/switch:Switch"


def pool_inputs(kind: str = "managed", preview: bool = False, **pool: Any) -> dict[str, Any]:
    args = form_args(kind, network={"zones": ZONES}, node_pools={"web": {**POOL, **pool}})
    return run(lambda: CLASSES[kind]("demo", args), preview=preview).one(NP).inputs


# (id, pool overrides, path into the cs.NodePool inputs, expected)
CASES: list[tuple[str, dict[str, Any], tuple[Any, ...], Any]] = [
    (
        "repair restarts",
        {"repair_restarts_nodes": False},
        ("management", "autoRepairPolicy"),
        {"restartNode": False},
    ),
    (
        "kubelet upgrades",
        {"upgrade_kubelet": True},
        ("management", "autoUpgradePolicy"),
        {"autoUpgradeKubelet": True},
    ),
    ("CVE fixes", {"fix_vulnerabilities": True}, ("management", "autoVulFix"), True),
    (
        "CVE policy",
        {
            "fix_vulnerabilities": True,
            "vulnerability_levels": ["asap", "nntf"],
            "fix_restarts_nodes": True,
        },
        ("management", "autoVulFixPolicy"),
        {"restartNode": True, "vulLevel": "asap,nntf"},
    ),
    ("upgrade batches", {"upgrade_max_parallelism": 3}, ("rollingPolicy",), {"maxParallelism": 3}),
    (
        "runtime",
        {"runtime": "containerd", "runtime_version": "1.6.38"},
        ("runtimeName",),
        "containerd",
    ),
    (
        "runtime version",
        {"runtime": "containerd", "runtime_version": "1.6.38"},
        ("runtimeVersion",),
        "1.6.38",
    ),
    ("prepaid", {"prepaid": {"period": 6}}, ("instanceChargeType",), "PrePaid"),
    ("prepaid period", {"prepaid": {"period": 6}}, ("period",), 6),
    ("prepaid unit", {"prepaid": {}}, ("periodUnit",), "Month"),
    ("prepaid renewal", {"prepaid": {"auto_renew_period": 3}}, ("autoRenewPeriod",), 3),
    (
        "spot cap",
        {"spot": True, "spot_price_limits": {"ecs.g7.large": 0.25}},
        ("spotStrategy",),
        "SpotWithPriceLimit",
    ),
    (
        "spot cap prices",
        {"spot": True, "spot_price_limits": {"ecs.g7.large": 0.25}},
        ("spotPriceLimits",),
        [{"instanceType": "ecs.g7.large", "priceLimit": "0.25"}],
    ),
    (
        "spot mix policy",
        {"spot": True, "spot_mix": {"on_demand_base_capacity": 2}},
        ("multiAzPolicy",),
        "COST_OPTIMIZED",
    ),
    (
        "on-demand base",
        {"spot": True, "spot_mix": {"on_demand_base_capacity": 2}},
        ("onDemandBaseCapacity",),
        "2",
    ),
    (
        "on-demand share",
        {"spot": True, "spot_mix": {"on_demand_percentage_above_base_capacity": 30}},
        ("onDemandPercentageAboveBaseCapacity",),
        "30",
    ),
    (
        "spot pools",
        {"spot": True, "spot_mix": {"spot_instance_pools": 3}},
        ("spotInstancePools",),
        3,
    ),
    (
        "recycle",
        {
            "scaling_policy": "recycle",
            "desired_size": None,
            "autoscaling": {"min_size": 1, "max_size": 3},
        },
        ("scalingPolicy",),
        "recycle",
    ),
    ("resource group", {"resource_group_id": "rg-aek2abc"}, ("resourceGroupId",), "rg-aek2abc"),
    (
        "ARM image",
        {"instance_types": ["ecs.g8y.large"], "image_type": "AliyunLinux3Arm64"},
        ("imageType",),
        "AliyunLinux3Arm64",
    ),
]


@pytest.mark.parametrize(("name", "pool", "path", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_option_reaches_its_provider_input(name, pool, path, expected):
    value: Any = pool_inputs(**pool)
    for step in path:
        value = value[step]
    assert value == expected


def test_defaults_add_no_input_a_pool_did_not_have():
    inputs = pool_inputs()
    for absent in (
        "rollingPolicy",
        "runtimeName",
        "period",
        "spotPriceLimits",
        "scalingPolicy",
        "resourceGroupId",
        "userData",
        "onDemandBaseCapacity",
    ):
        assert absent not in inputs, absent
    # autoVulFix is sent false: the provider keeps an Optional+Computed value left out, so
    # CVE patching once turned on would never turn off (the cloud's default is off, so a pool
    # that never had it sees no change).
    assert inputs["management"] == {
        "enable": True,
        "autoRepair": True,
        "autoUpgrade": True,
        "maxUnavailable": 1,
        "autoVulFix": False,
    }
    assert inputs["multiAzPolicy"] == "BALANCE" and inputs["instanceChargeType"] == "PostPaid"


def test_user_data_is_sent_base64_encoded_and_kept_secret():
    script = "#!/bin/sh\necho tuned > /etc/motd\n"
    args = form_args("managed", node_pools={"web": {**POOL, "user_data": script}})
    result = run(lambda: CLASSES["managed"]("demo", args))
    pool = result.one(NP)
    assert pool.inputs["userData"] == SECRET
    assert base64.b64decode(pool.wire_inputs["userData"]["value"]).decode() == script
    everything = json.dumps([r.to_json() for r in result.resources]) + json.dumps(
        result.stack_outputs
    )
    assert (
        "tuned" not in everything and base64.b64encode(script.encode()).decode() not in everything
    )


@pytest.mark.parametrize("preview", [True, False])
def test_a_pools_zones_pick_its_vswitches_in_the_clusters_order(preview):
    args = form_args(
        "managed",
        network={"zones": ZONES},
        node_pools={"web": {**POOL, "zones": [ZONES[2], ZONES[0]]}, "all": POOL},
    )
    result = run(lambda: CLASSES["managed"]("demo", args), preview=preview)
    switch_of = {
        r.inputs["zoneId"]: r.urn for r in result.by_type(SWITCH) if r.name.startswith("demo-node-")
    }
    pools = {r.name: r for r in result.by_type(NP)}
    assert pools["demo-web"].property_dependencies["vswitchIds"] == [
        switch_of[ZONES[0]],
        switch_of[ZONES[2]],
    ]
    assert len(pools["demo-all"].property_dependencies["vswitchIds"]) == len(ZONES)


@pytest.mark.parametrize("kind", ["managed", "dedicated"])
def test_pools_wait_for_the_control_plane(kind):
    """The upgrade order: every pool's cluster_id comes from the cluster, so the engine finishes
    a control plane update (a version bump) before any pool's."""
    result = run(
        lambda: CLASSES[kind]("demo", form_args(kind, kubernetes_version="1.33.3-aliyun.1"))
    )
    cluster = next(
        r
        for r in result.resources
        if r.type.startswith("alicloud:cs/") and r.type.endswith("ubernetes")
    )
    for pool in result.by_type(NP):
        assert pool.property_dependencies["clusterId"] == [cluster.urn]
        assert cluster.urn in pool.dependencies


def test_a_version_bump_updates_the_cluster_and_leaves_the_pools_alone():
    def graph(version: str, **extra: Any) -> list[Node]:
        args = form_args("managed", kubernetes_version=version, **extra)
        return Node.of_run(run(lambda: CLASSES["managed"]("demo", args)))

    changes = [
        c for c in predict(graph("1.32.7-aliyun.1"), graph("1.33.3-aliyun.1")) if c.action != "same"
    ]
    assert [(c.type, c.action, [i.path for i in c.inputs]) for c in changes] == [
        (MK, "update", ["version"])
    ]
    policy = graph("1.33.3-aliyun.1", upgrade_control_plane_only=True)
    (cluster,) = [n for n in policy if n.type == MK]
    assert cluster.inputs["upgradePolicy"] == {"controlPlaneOnly": True}


def test_node_pool_ids_are_an_output_and_a_stack_export():
    seen: dict[str, Any] = {}

    def program() -> None:
        c = ManagedCluster(
            "demo", form_args("managed", node_pools={"web": POOL, "batch": AUTOSCALED_POOL})
        )
        c.node_pool_ids.apply(seen.update)
        seen["exports"] = c.stack_exports()

    result = run(program)
    ids = {r.name.removeprefix("demo-"): r.state["nodePoolId"] for r in result.by_type(NP)}
    assert {k: v for k, v in seen.items() if k != "exports"} == ids
    assert set(seen["exports"]["node_pool_ids"]) == {"web", "batch"}


def test_an_arm_image_on_types_it_does_not_know_warns(caplog):
    args = form_args("managed", node_pools={"web": {**POOL, "image_type": "AliyunLinux3Arm64"}})
    run(lambda: CLASSES["managed"]("demo", args))
    assert any("built for ARM" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("pool", "text"),
    [
        (
            {"repair_restarts_nodes": True, "auto_repair": False},
            "repair_restarts_nodes is a setting of auto_repair",
        ),
        (
            {"upgrade_kubelet": True, "auto_upgrade": False},
            "upgrade_kubelet is a setting of auto_upgrade",
        ),
        (
            {"vulnerability_levels": ["asap"]},
            "vulnerability_levels is a setting of fix_vulnerabilities",
        ),
        ({"fix_vulnerabilities": True, "vulnerability_levels": ["asap", "asap"]}, "repeated: asap"),
        ({"fix_vulnerabilities": True, "vulnerability_levels": ["urgent"]}, "asap"),
        ({"runtime_version": "1.6.38"}, "runtime_version needs runtime"),
        ({"runtime": "docker"}, "containerd"),
        ({"zones": []}, "at least 1"),
        ({"zones": ["cn-hangzhou-i", "cn-hangzhou-i"]}, "repeated"),
        ({"zones": ["cn-shanghai-b"]}, "not in network.zones"),
        ({"prepaid": {"period": 4}}, "prepaid.period"),
        ({"prepaid": {}, "spot": True}, "prepaid and spot exclude each other"),
        (
            {**AUTOSCALED_POOL, "desired_size": None, "prepaid": {}},
            "prepaid pools cannot autoscale",
        ),
        ({"spot_price_limits": {"ecs.g7.large": 0.2}}, "set spot: true"),
        (
            {"spot": True, "spot_mix": {}, "spot_price_limits": {"ecs.g7.xlarge": 0.2}},
            "no price cap for ecs.g7.large",
        ),
        ({"spot": True, "spot_price_limits": {"ecs.g7.large": 0}}, "prices are positive"),
        ({"spot": True, "spot_mix": {"on_demand_percentage_above_base_capacity": 101}}, "100"),
        ({"scaling_policy": "stop"}, "recycle"),
        ({"resource_group_id": "default"}, "resource_group_id"),
        ({"instance_types": ["ecs.g8y.large"]}, "are ARM instance types"),
        (
            {
                "instance_types": ["ecs.g8y.large", "ecs.g7.large"],
                "image_type": "AliyunLinux3Arm64",
            },
            "mixes ARM and x86",
        ),
        (
            {
                "password": "Sup3r-Secret-pw",
                "key_name": None,
                "auto_repair": False,
                "auto_upgrade": False,
                "fix_vulnerabilities": True,
            },
            "turn all three off",
        ),
    ],
)
def test_bad_pool_options_are_refused_naming_the_pool(pool, text):
    args = form_args("managed", network={"zones": ZONES}, node_pools={"web": {**POOL, **pool}})
    with pytest.raises(InvalidArguments) as err:
        run(lambda: CLASSES["managed"]("demo", args))
    assert all(path.startswith("node_pools.web") or path == "" for path, _ in err.value.problems), (
        err.value.problems
    )
    assert text in str(err.value)


@pytest.mark.parametrize("kind", ["serverless", "dedicated"])
def test_upgrade_control_plane_only_is_for_managed_clusters(kind):
    with pytest.raises(InvalidArguments, match="upgrade_control_plane_only"):
        run(lambda: CLASSES[kind]("demo", form_args(kind, upgrade_control_plane_only=True)))
