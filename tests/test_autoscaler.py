"""The cluster autoscaler's settings: an owned cs.AutoscalingConfig, validated like ACK and the
provider take them."""

from __future__ import annotations

from typing import Any

import pytest

from ack_clusters import InvalidArguments
from ack_offline.changes import Node, predict

from .conftest import AUTOSCALED_POOL, CLASSES, POOL, form_args, run

CONFIG = "alicloud:cs/autoscalingConfig:AutoscalingConfig"
POOLS = {"web": AUTOSCALED_POOL, "batch": AUTOSCALED_POOL, "fixed": POOL}


def build(kind: str = "managed", preview: bool = False, pools=POOLS, **autoscaler: Any):
    args = form_args(kind, node_pools=pools, autoscaler=autoscaler)
    return run(lambda: CLASSES[kind]("demo", args), preview=preview)


@pytest.mark.parametrize("kind", ["managed", "dedicated"])
@pytest.mark.parametrize("preview", [True, False])
def test_the_settings_are_an_owned_child_that_waits_for_the_pools(kind, preview):
    result = build(kind, preview)
    config = result.one(CONFIG)
    component = result.one(CLASSES[kind]._form.type_token)
    assert config.parent == component.urn and config.name == "demo-autoscaler"
    cluster = next(
        r for r in result.resources if r.type.startswith("alicloud:cs/") and "ubernetes" in r.type
    )
    assert config.property_dependencies["clusterId"] == [cluster.urn]
    pools = {r.urn for r in result.by_type("alicloud:cs/nodePool:NodePool")}
    assert len(pools) == 3 and pools <= set(config.dependencies)


def test_every_setting_reaches_its_provider_input():
    result = build(
        scan_interval="15s",
        scale_down_enabled=False,
        cool_down_duration="20m",
        unneeded_duration="5m",
        utilization_threshold=0.65,
        gpu_utilization_threshold=0.3,
        expander="priority",
        priorities={"web": 10, "batch": 10},
        scaler_type="cluster-autoscaler",
        skip_nodes_with_local_storage=True,
        daemonset_eviction_for_nodes=True,
        recycle_node_deletion_enabled=True,
        max_graceful_termination_sec=600,
        min_replica_count=2,
    )
    inputs = result.one(CONFIG).inputs
    groups = {
        r.name.removeprefix("demo-"): r.state["scalingGroupId"]
        for r in result.by_type("alicloud:cs/nodePool:NodePool")
    }
    assert inputs == {
        "clusterId": inputs["clusterId"],
        "scanInterval": "15s",
        "scaleDownEnabled": False,
        "coolDownDuration": "20m",
        "unneededDuration": "5m",
        "utilizationThreshold": "0.65",
        "gpuUtilizationThreshold": "0.3",
        "expander": "priority",
        # One priority level, naming both pools' scaling groups (in pool-name order).
        "priorities": {"10": f"{groups['batch']},{groups['web']}"},
        "scalerType": "cluster-autoscaler",
        "skipNodesWithLocalStorage": True,
        "daemonsetEvictionForNodes": True,
        "recycleNodeDeletionEnabled": True,
        "maxGracefulTerminationSec": 600,
        "minReplicaCount": 2,
    }


def test_defaults_declare_acks_values_and_never_a_false_the_provider_would_drop():
    inputs = build().one(CONFIG).inputs
    assert inputs["utilizationThreshold"] == "0.5" and inputs["expander"] == "least-waste"
    for dropped in ("skipNodesWithSystemPods", "scaleUpFromZero", "skipNodesWithLocalStorage"):
        assert dropped not in inputs


def test_a_threshold_change_is_an_update_and_removal_deletes_only_the_setting():
    before = Node.of_run(build(utilization_threshold=0.5))
    after = Node.of_run(build(utilization_threshold=0.7))
    (change,) = [c for c in predict(before, after) if c.type == CONFIG]
    assert change.action == "update"
    assert [(i.path, i.effect) for i in change.inputs] == [("utilizationThreshold", "updates")]
    gone = Node.of_run(
        run(lambda: CLASSES["managed"]("demo", form_args("managed", node_pools=POOLS)))
    )
    deleted = [c for c in predict(before, gone) if c.action != "same"]
    assert [(c.type, c.action) for c in deleted] == [(CONFIG, "delete")]


@pytest.mark.parametrize(
    ("change", "pools", "field", "text"),
    [
        ({}, {"fixed": POOL}, "", "no pool in node_pools has autoscaling"),
        ({"priorities": {"web": 1}}, POOLS, "autoscaler", "only apply with expander 'priority'"),
        ({"expander": "priority"}, POOLS, "autoscaler", "needs priorities"),
        ({"expander": "priority", "priorities": {"fixed": 1}}, POOLS, "", "not autoscaled: fixed"),
        (
            {"expander": "priority", "priorities": {"web": 0}},
            POOLS,
            "autoscaler.priorities",
            "from 1 up",
        ),
        ({"scaler_type": "goatscaler", "expander": "random"}, POOLS, "autoscaler", "least-waste"),
        ({"skip_nodes_with_system_pods": False}, POOLS, "autoscaler", "never sent"),
        ({"scale_up_from_zero": False}, POOLS, "autoscaler", "never sent"),
        ({"scan_interval": "30"}, POOLS, "autoscaler.scan_interval", "pattern"),
        ({"cool_down_duration": "1d"}, POOLS, "autoscaler.cool_down_duration", "pattern"),
        ({"utilization_threshold": 0}, POOLS, "autoscaler.utilization_threshold", "greater than 0"),
        ({"gpu_utilization_threshold": 1.5}, POOLS, "autoscaler.gpu_utilization_threshold", "1"),
        ({"max_graceful_termination_sec": 0}, POOLS, "autoscaler.max_graceful_termination_sec", ""),
        ({"scale_down": True}, POOLS, "autoscaler.scale_down", "did you mean 'scale_down_enabled'"),
    ],
)
def test_bad_settings_name_the_field_and_register_nothing(change, pools, field, text):
    with pytest.raises(InvalidArguments) as err:
        build(pools=pools, **change)
    assert [p for p, _ in err.value.problems] == [field], err.value.problems
    assert text in str(err.value)


def test_a_serverless_cluster_has_no_node_autoscaler():
    with pytest.raises(
        InvalidArguments, match="autoscaler: a ServerlessCluster runs every pod on ECI"
    ):
        run(lambda: CLASSES["serverless"]("demo", form_args("serverless", autoscaler={})))
