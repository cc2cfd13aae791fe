"""Addons: an installed addon is a KubernetesAddon child of the component (version and config
updated in place); a disabled one stays on the cluster resource, create-only."""

from __future__ import annotations

import pytest

from ack_clusters import InvalidArguments
from ack_offline.changes import Node, predict

from .conftest import CLASSES, form_args, run

ADDON = "alicloud:cs/kubernetesAddon:KubernetesAddon"
CLUSTER = {
    "managed": "alicloud:cs/managedKubernetes:ManagedKubernetes",
    "serverless": "alicloud:cs/managedKubernetes:ManagedKubernetes",
    "dedicated": "alicloud:cs/kubernetes:Kubernetes",
}
ADDONS = [
    {"name": "ack-node-problem-detector", "version": "1.2.16"},
    {"name": "logtail-ds", "config": '{"IngressDashboardEnabled": "true"}'},
    {"name": "arms-prometheus", "disabled": True},
]


@pytest.mark.parametrize("kind", sorted(CLASSES))
@pytest.mark.parametrize("preview", [True, False])
def test_each_installed_addon_is_an_owned_child_keyed_by_its_name(kind, preview):
    result = run(lambda: CLASSES[kind]("demo", form_args(kind, addons=ADDONS)), preview=preview)
    component = next(
        r
        for r in result.resources
        if r.type.startswith("ack:index:") and r.name == "demo" and r.type.endswith("Cluster")
    )
    cluster = result.one(CLUSTER[kind])
    addons = {r.name: r for r in result.by_type(ADDON)}
    assert sorted(addons) == ["demo-ack-node-problem-detector", "demo-logtail-ds"]
    for addon in addons.values():
        assert addon.parent == component.urn
        assert addon.property_dependencies["clusterId"] == [cluster.urn]
    assert addons["demo-ack-node-problem-detector"].inputs["version"] == "1.2.16"
    assert "config" not in addons["demo-ack-node-problem-detector"].inputs
    # The disabled one is the cluster's, never a KubernetesAddon (which would install it).
    disabled = [a for a in cluster.inputs.get("addons", []) if a.get("disabled")]
    assert disabled == [{"name": "arms-prometheus", "disabled": True}]


@pytest.mark.parametrize("kind", ["managed", "dedicated"])
def test_addons_wait_for_the_nodes_that_run_them(kind):
    result = run(lambda: CLASSES[kind]("demo", form_args(kind, addons=ADDONS[:1])))
    (addon,) = result.by_type(ADDON)
    # depends_on a component waits for every resource in it: the pools' cs.NodePool.
    pools = {r.urn for r in result.by_type("alicloud:cs/nodePool:NodePool")}
    assert pools and pools <= set(addon.dependencies)


def test_on_eci_addons_wait_for_the_cluster():
    result = run(lambda: CLASSES["serverless"]("demo", form_args("serverless", addons=ADDONS[:1])))
    (addon,) = result.by_type(ADDON)
    assert result.one(CLUSTER["serverless"]).urn in addon.dependencies


def _graph(addons):
    program = run(lambda: CLASSES["managed"]("demo", form_args("managed", addons=addons)))
    return Node.of_run(program)


def test_a_version_or_config_change_updates_the_addon_in_place():
    before = _graph([{"name": "logtail-ds", "version": "v1", "config": '{"a": 1}'}])
    after = _graph([{"name": "logtail-ds", "version": "v2", "config": '{"a": 2}'}])
    changes = {c.name: c for c in predict(before, after) if c.type == ADDON}
    change = changes["demo-logtail-ds"]
    assert change.action == "update"
    assert {(i.path, i.effect) for i in change.inputs} == {
        ("version", "updates"),
        ("config", "updates"),
    }


def test_renaming_an_addon_replaces_nothing_else_and_removal_deletes_it():
    before = _graph([{"name": "logtail-ds"}])
    after = _graph([{"name": "ack-node-problem-detector"}])
    actions = {(c.name, c.action) for c in predict(before, after) if c.type == ADDON}
    assert actions == {("demo-logtail-ds", "delete"), ("demo-ack-node-problem-detector", "create")}


@pytest.mark.parametrize(
    ("addon", "field"),
    [
        ({"name": "Logtail"}, "addons.0.name"),
        ({"name": "logtail-ds", "disabled": True, "version": "v1"}, "addons.0"),
        ({"name": "logtail-ds", "version": ""}, "addons.0.version"),
    ],
)
def test_bad_addons_name_the_field(addon, field):
    with pytest.raises(InvalidArguments) as err:
        run(lambda: CLASSES["managed"]("demo", form_args("managed", addons=[addon])))
    assert [p for p, _ in err.value.problems] == [field]
