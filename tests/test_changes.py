"""Replace or update, predicted from the provider's facts; and `ack-preview --diff`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ack_offline import changes
from ack_offline.changes import Node, input_change, predict
from ack_offline.preview import main

from . import changes_doc
from .conftest import ROOT

MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"
K = "alicloud:cs/kubernetes:Kubernetes"
NP = "alicloud:cs/nodePool:NodePool"
NAT = "alicloud:vpc/natGateway:NatGateway"


def outcome(title: str) -> tuple[changes.Change, ...]:
    index = next(i for i, c in enumerate(changes_doc.CHANGES) if c.title == title)
    return changes_doc.outcome(index)


# --- single inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, name, effect",
    [
        (MK, "serviceCidr", "replaces"),  # ForceNew, not "create-only"
        (NP, "securityGroupIds", "replaces"),
        (NP, "ramRoleName", "replaces"),  # adopting another node role replaces every pool
        (K, "keyName", "replaces"),
        (K, "masterInstanceTypes", "replaces"),
        (K, "masterDiskSize", "replaces"),
        (K, "masterDiskCategory", "replaces"),
        (K, "masterInstanceChargeType", "replaces"),
        (NAT, "natType", "updates"),  # applied in place, whatever the SDK docs say
        (MK, "podVswitchIds", "never applied"),
        (MK, "addons", "never applied"),
        (MK, "slbInternetEnabled", "never applied"),
        (NP, "desiredSize", "updates"),
    ],
)
def test_what_a_changed_input_does(type_, name, effect):
    assert input_change(type_, name, "a", "b").effect == effect


@pytest.mark.parametrize(
    "name, old, new, effect",
    [
        ("clusterSpec", "ack.standard", "ack.pro.small", "updates"),  # the one migration
        ("clusterSpec", "ack.pro.small", "ack.standard", "never applied"),
        ("clusterSpec", "ack.pro.small", "ack.pro.xlarge", "never applied"),
        ("maintenanceWindow", {"enable": True}, None, "never applied"),
        ("maintenanceWindow", None, {"enable": True}, "updates"),
        ("operationPolicy", {"clusterAutoUpgrade": {}}, None, "never applied"),
        ("controlPlaneLogComponents", ["apiserver"], None, "never applied"),
        ("controlPlaneLogComponents", ["apiserver"], ["apiserver", "kcm"], "updates"),
        ("enableRrsa", True, False, "fails"),  # modifyCluster errors (kubernetes.go:1024)
        ("enableRrsa", True, None, "fails"),  # not Computed: removing it is sending false
        ("enableRrsa", False, True, "updates"),
    ],
)
def test_updates_the_provider_applies_only_for_some_values(name, old, new, effect):
    assert input_change(MK, name, old, new).effect == effect


def test_a_nested_force_new_field_replaces_its_resource():
    # A node pool's data disk: nothing nested is ForceNew, so a bigger disk is an update ...
    assert input_change(NP, "dataDisks", [{"size": 40}], [{"size": 80}]).effect == "updates"
    # ... while the cluster's worker data disk category (removed field) is not modelled here;
    # a nested ForceNew is found wherever the facts have one:
    facts = {"fields": {"a": {"force_new": True}, "b": {}}}
    assert changes._nested_force_new(facts, [{"a": 1}], [{"a": 2}], "x") == "x[0].a"
    assert changes._nested_force_new(facts, [{"b": 1}], [{"b": 2}], "x") is None


def test_unknown_values_make_a_change_uncertain():
    change = input_change(MK, "serviceCidr", "[unknown]", "172.22.0.0/20")
    assert change.effect == "replaces" and change.uncertain


def test_kubernetes_objects_are_replaced_when_their_name_changes():
    svc = "kubernetes:core/v1:Service"
    assert input_change(svc, "metadata", {"name": "a"}, {"name": "b"}).effect == "replaces"
    assert input_change(svc, "metadata", {"name": "a"}, {"name": "a", "labels": {}}).effect == (
        "updates"
    )


# --- whole graphs -------------------------------------------------------------------------------


def test_service_cidr_replaces_the_cluster_and_everything_that_takes_its_id():
    found = outcome("service CIDR")
    cluster = next(c for c in found if c.type == MK)
    assert cluster.action == "replace" and cluster.refused
    replaced = {(c.type, c.name) for c in found if c.action == "replace"}
    # Every pool's cluster_id is ForceNew (node_pool.go:71): they follow the cluster.
    assert {(NP, "demo-web"), (NP, "demo-batch"), (MK, "demo")} <= replaced
    pool = next(c for c in found if c.name == "demo-web")
    (why,) = pool.inputs
    assert why.path == "clusterId" and why.effect == "replaces"
    assert "ManagedKubernetes demo" in why.reason and why.source.endswith("node_pool.go:71")
    # The network, security group and role do not depend on the cluster.
    assert {c.action for c in found if c.type.startswith(("alicloud:vpc/", "alicloud:ecs/"))} == {
        "same"
    }


def test_in_place_changes_replace_nothing():
    for title in ("pool size", "tags", "Kubernetes version", "NAT bandwidth", "pool image"):
        found = outcome(title)
        assert {c.action for c in found} <= {"same", "update"}, title
        assert not any(c.never_applied for c in found), title


def test_changes_the_provider_drops_are_marked():
    for title in ("Pro to standard", "maintenance window removed", "control plane logs off"):
        found = outcome(title)
        assert any(c.never_applied for c in found), title


def test_renamed_resource_with_an_alias_is_the_same_resource():
    vpc = "alicloud:vpc/network:Network"
    old = [Node("urn:a", vpc, "a", True, {"cidrBlock": "10.0.0.0/8"})]
    renamed = Node("urn:b", vpc, "b", True, {"cidrBlock": "10.0.0.0/8"})
    aliased = Node(
        "urn:b", vpc, "b", True, {"cidrBlock": "10.0.0.0/8"}, aliases=frozenset({"urn:a"})
    )
    assert [c.action for c in predict(old, [aliased])] == ["same"]
    assert sorted(c.action for c in predict(old, [renamed])) == ["create", "delete"]


def test_ignored_fields_do_not_count():
    a = Node("urn:p", NP, "p", True, {"desiredSize": "1"}, ignore_changes=("desiredSize",))
    b = Node("urn:p", NP, "p", True, {"desiredSize": "4"}, ignore_changes=("desiredSize",))
    assert predict([a], [b])[0].action == "same"


# --- ack-preview --diff -------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    return tmp_path


def stack_file(project: Path, stack: str = "managed-dev") -> Path:
    return project / "stacks" / f"Pulumi.{stack}.yaml"


def edited(project: Path, old: str, new: str, stack: str = "managed-dev") -> Path:
    """A copy of the stack file with one edit, outside the project (the BASE is the project's)."""
    text = stack_file(project, stack).read_text()
    assert old in text
    out = project / f"edited-{stack}.yaml"
    out.write_text(text.replace(old, new))
    return out


def diff(capsys, project: Path, base: str, *extra: str, stack: str = "managed-dev"):
    rc = main([stack, "--program", str(project), "--diff", base, *extra])
    return rc, capsys.readouterr()


def test_no_change_is_no_change(capsys, project):
    rc, out = diff(capsys, project, str(stack_file(project)))
    assert rc == 0 and "no changes" in out.out


def base_with_another_service_cidr(project: Path) -> Path:
    """A BASE whose cluster has another service CIDR: going from it to the stack as it is
    replaces the cluster."""
    text = (
        stack_file(project)
        .read_text()
        .replace("    cluster_spec:", "    service_cidr: 172.22.0.0/20\n    cluster_spec:")
    )
    base = project / "base.yaml"
    base.write_text(text)
    return base


def test_a_mandatory_violation_outranks_a_refused_replacement(capsys, project):
    """Exit 1 when both apply, as ack-fleet ranks them: what no flag can allow comes first."""
    stack = stack_file(project)
    stack.write_text(
        stack.read_text().replace(
            "    cluster_spec:", "    public_api_server: true\n    cluster_spec:", 1
        )
    )
    base = base_with_another_service_cidr(project)
    pack = ("--policy-pack", str(ROOT / "policies"))
    rc, out = diff(capsys, project, str(base), *pack)
    assert rc == 1 and "[STATEFUL: refused without --allow-replace]" in out.out
    assert diff(capsys, project, str(base), *pack, "--allow-replace")[0] == 1


def test_replacing_the_cluster_exits_3_unless_allowed(capsys, project):
    base = base_with_another_service_cidr(project)
    rc, out = diff(capsys, project, str(base))
    assert rc == 3
    assert "replace" in out.out and "ManagedKubernetes  dev" in out.out
    assert "serviceCidr: ForceNew" in out.out and "resource_alicloud_cs_managed_kubernetes.go" in (
        out.out
    )
    assert "refused without --allow-replace" in out.out
    rc, out = diff(capsys, project, str(base), "--allow-replace")
    assert rc == 0 and "allowed by --allow-replace" in out.out


def test_a_change_the_provider_never_applies_is_shown(capsys, project):
    base = edited(project, "cluster_spec: ack.pro.small", "cluster_spec: ack.pro.xlarge")
    rc, out = diff(capsys, project, str(base))
    assert rc == 0
    assert "clusterSpec: changed in the diff, NEVER APPLIED by the provider" in out.out


def test_json_carries_the_prediction(capsys, project):
    base = edited(project, "max_size: 4", "max_size: 6")
    rc = main(["managed-dev", "--program", str(project), "--diff", str(base), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    (pool,) = doc["changes"]["resources"]
    assert pool["type"] == NP and pool["action"] == "update"
    assert doc["changes"]["summary"]["update"] == 1


def test_a_saved_graph_is_a_base(capsys, project):
    main(["managed-dev", "--program", str(project), "--json"])
    saved = project / "graph.json"
    saved.write_text(capsys.readouterr().out)
    rc, out = diff(capsys, project, str(saved))
    assert rc == 0 and "no changes" in out.out
    stack_file(project).write_text(
        stack_file(project).read_text().replace("max_size: 4", "max_size: 5")
    )
    rc, out = diff(capsys, project, str(saved))
    assert rc == 0 and "1 to update" in out.out


def test_a_git_revision_is_a_base(capsys, project):
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    stack_file(project).write_text(
        stack_file(project).read_text().replace("nat_eip_bandwidth: 50", "nat_eip_bandwidth: 80")
    )
    rc, out = diff(capsys, project, "HEAD")
    assert rc == 0
    assert "stacks/Pulumi.managed-dev.yaml@HEAD" in out.out
    assert "EipAddress" in out.out and "bandwidth: updated in place" in out.out


def test_a_base_that_is_nothing_is_an_error(capsys, project):
    rc, out = diff(capsys, project, "no-such-revision")
    assert rc == 2 and "neither a file nor a git revision" in out.err
    bad = project / "bad.json"
    bad.write_text("{}")
    rc, out = diff(capsys, project, str(bad))
    assert rc == 2 and "not a saved --json graph" in out.err


def test_allow_replace_needs_diff(capsys, project):
    assert main(["managed-dev", "--program", str(project), "--allow-replace"]) == 2


def test_two_runs_of_a_stack_show_no_changes(capsys, project):
    """What `pulumi preview --expect-no-changes` needs: ACK issues a new credential on every
    run (the fake cloud too), but the Kubernetes provider authenticates through the credential
    plugin, so its configuration is the same from run to run."""
    rc, out = diff(
        capsys,
        project,
        str(stack_file(project, "managed-prod")),
        "--mode",
        "update",
        stack="managed-prod",
    )
    assert rc == 0 and "no changes" in out.out


def test_a_provider_configured_from_the_fresh_credential_would_change_every_run(capsys, tmp_path):
    """The engine models a fresh credential per run: a provider built from the admin
    kubeconfig (as this library did before) shows an update on every run."""
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_kubernetes as k8s\n"
        "from ack_clusters import ManagedCluster\n"
        "c = ManagedCluster('c', {'network': {'zones': ['cn-hangzhou-i', 'cn-hangzhou-j']}})\n"
        "k8s.Provider('admin', kubeconfig=c.admin_kubeconfig)\n"
    )
    rc = main(
        [
            "dev",
            "--program",
            str(tmp_path),
            "--mode",
            "update",
            "--diff",
            str(tmp_path / "Pulumi.dev.yaml"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "pulumi:providers:kubernetes  admin" in out and "kubeconfig: updated in place" in out
    assert "client-key-data" not in out  # the credential itself is never printed


def test_mermaid_marks_what_each_resource_undergoes(capsys, project):
    base = base_with_another_service_cidr(project)
    stack_file(project).write_text(
        stack_file(project).read_text().replace("max_size: 4", "max_size: 6")
    )
    rc, out = diff(capsys, project, str(base), "--mermaid")
    assert rc == 3  # the cluster is replaced
    doc = out.out
    assert doc.startswith("```mermaid\nflowchart LR") and "\n```" in doc
    assert '"+- ManagedKubernetes dev<br>stateful#58; replaced<br>serviceCidr#58; replaces' in doc
    # The pool follows the cluster (its cluster_id is ForceNew), whatever else changed in it.
    assert "scalingConfig#58; updates<br>clusterId#58; replaces" in doc
    classes = {
        line.split()[2]: line.split()[1].split(",")
        for line in doc.splitlines()
        if line.startswith("  class ")
    }
    # One node each (cluster, pool, Kubernetes provider), and one legend entry each.
    assert len(classes["replace"]) == 4 and "update" not in classes
    assert (
        "Changes: 0 to create, 0 to update, 3 to replace (2 stateful), 0 to delete (0 stateful)."
        in doc
    )


# --- the blast radius ---------------------------------------------------------------------------

AUTOSCALER = "alicloud:cs/autoscalingConfig:AutoscalingConfig"
ADDON = "alicloud:cs/kubernetesAddon:KubernetesAddon"
ASSOC = "alicloud:cen/transitRouterRouteTableAssociation:TransitRouterRouteTableAssociation"
PROP = "alicloud:cen/transitRouterRouteTablePropagation:TransitRouterRouteTablePropagation"
ATTACH = "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment"


def _managed(preview: bool, **args):
    from ack_clusters import ManagedCluster

    from .conftest import ZONES, run

    base = {
        "network": {"zones": ZONES[:2]},
        "node_pools": {
            "web": {"instance_types": ["ecs.g7.large"], "desired_size": 2, "key_name": "ops"}
        },
    }
    return Node.of_run(run(lambda: ManagedCluster("demo", {**base, **args}), preview=preview))


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_replaced_cluster_takes_its_pools_addons_autoscaler_and_kubernetes_provider(preview):
    from .conftest import AUTOSCALED_POOL

    extra = {
        "addons": [{"name": "logtail-ds"}],
        "autoscaler": {},
        "node_pools": {"web": {**AUTOSCALED_POOL, "key_name": "ops"}},
    }
    before = _managed(preview, **extra)
    after = _managed(preview, service_cidr="172.22.0.0/20", **extra)
    found = {c.type: c for c in predict(before, after) if c.action == "replace"}
    assert set(found) >= {MK, NP, ADDON, AUTOSCALER, "pulumi:providers:kubernetes"}
    for follower in (NP, ADDON, AUTOSCALER):
        assert [(i.path, i.effect) for i in found[follower].inputs] == [("clusterId", "replaces")]
    assert "pulumi-kubernetes DiffConfig" in found["pulumi:providers:kubernetes"].inputs[0].reason


def test_no_change_follows_nothing():
    assert {c.action for c in predict(_managed(True), _managed(True))} == {"same"}


def test_an_input_that_is_not_force_new_is_updated_when_it_takes_a_new_id():
    vsw = "alicloud:vpc/switch:Switch"
    a = Node("urn:a", vsw, "a", True, {"cidrBlock": "10.0.0.0/24"}, id="vsw-1")
    b = Node("urn:a", vsw, "a", True, {"cidrBlock": "10.0.1.0/24"}, id="vsw-1")
    # The cluster's vswitch_ids is updatable: a replaced vSwitch updates it in place.
    c_old = Node("urn:c", MK, "c", True, {"vswitchIds": ["vsw-1"]}, id="c-1")
    by_dependency = Node(
        "urn:c",
        MK,
        "c",
        True,
        {"vswitchIds": ["vsw-1"]},
        property_dependencies={"vswitchIds": ["urn:a"]},
    )
    by_literal = Node("urn:c", MK, "c", True, {"vswitchIds": ["vsw-1"]})
    for after in (by_dependency, by_literal):
        found = {x.urn: x for x in predict([a, c_old], [b, after])}
        assert found["urn:a"].action == "replace"
        assert found["urn:c"].action == "update"
        (i,) = found["urn:c"].inputs
        assert (i.path, i.effect, i.reason) == (
            "vswitchIds",
            "updates",
            "takes the new ID of Switch a",
        )


def test_kubernetes_workloads_follow_their_replaced_provider():
    prov = "pulumi:providers:kubernetes"
    svc = "kubernetes:core/v1:Service"
    nodes = [
        Node("urn:c", MK, "c", True, {"serviceCidr": "172.16.0.0/20"}),
        Node(
            "urn:p",
            prov,
            "p",
            True,
            {"kubeconfig": "x"},
            property_dependencies={"kubeconfig": ["urn:c"]},
        ),
        Node("urn:s", svc, "s", True, {"metadata": {"name": "s"}}, provider="urn:p"),
    ]
    after = [Node("urn:c", MK, "c", True, {"serviceCidr": "172.22.0.0/20"}), *nodes[1:]]
    found = {c.urn: c for c in predict(nodes, after)}
    assert [found[u].action for u in ("urn:c", "urn:p", "urn:s")] == ["replace"] * 3
    assert found["urn:s"].inputs[0].path == "provider"
    # A provider that names its cluster (clusterIdentifier) is updated, its workloads kept.
    named = [
        n
        if n.urn != "urn:p"
        else Node(**{**n.__dict__, "inputs": {"kubeconfig": "x", "clusterIdentifier": "c"}})
        for n in nodes
    ]
    after = [Node("urn:c", MK, "c", True, {"serviceCidr": "172.22.0.0/20"}), *named[1:]]
    found = {c.urn: c for c in predict(named, after)}
    assert [found[u].action for u in ("urn:p", "urn:s")] == ["update", "same"]


def test_a_replaced_cen_attachment_takes_its_association_and_propagation():
    cen = {"instance_id": "cen-a1", "transit_router_id": "tr-a1", "route_table_id": "vtb-1"}
    from .conftest import ZONES

    network = {"zones": ZONES[:2]}
    before = _managed(False, network={**network, "cen": cen})
    after = _managed(False, network={**network, "cen": {**cen, "transit_router_id": "tr-b2"}})
    found = {c.type: c for c in predict(before, after)}
    assert found[ATTACH].action == "replace"
    for follower in (ASSOC, PROP):
        assert found[follower].action == "replace", follower
        assert found[follower].inputs[0].path == "transitRouterAttachmentId"


# --- effects as the provider's code has them ----------------------------------------------------


def test_optional_computed_inputs_removed_are_kept():
    # scaling_config is Optional+Computed (node_pool.go:770): a pool that stops autoscaling
    # keeps its scaling group's autoscaling in the cloud.
    (i,) = changes.input_changes(NP, "scalingConfig", {"enable": True, "maxSize": 5}, None)
    assert i.effect == "kept" and i.source.endswith("node_pool.go:770")
    # An addon's config removed (addon.go:62) ...
    assert input_change(ADDON, "config", '{"a": 1}', None).effect == "kept"
    # ... or reduced to a subset of what the cloud holds: needUpgrade sends nothing.
    reduced = input_change(ADDON, "config", '{"a": 1, "b": {"c": 2, "d": 3}}', '{"b": {"c": 2}}')
    assert reduced.effect == "kept" and reduced.source.endswith("addon.go:285")
    assert input_change(ADDON, "config", '{"a": 1}', '{"a": 2}').effect == "updates"
    # An input that is Optional but not Computed is cleared as usual.
    assert input_change(NP, "labels", [{"key": "a", "value": "b"}], None).effect == "updates"


def test_a_pools_management_fields_removed_are_kept_and_the_rest_is_updated():
    old = {
        "enable": True,
        "autoRepair": True,
        "autoVulFix": True,
        "autoVulFixPolicy": {"restartNode": True},
    }
    new = {"enable": True, "autoRepair": False}
    found = {(i.path, i.effect) for i in changes.input_changes(NP, "management", old, new)}
    assert found == {
        ("management.autoVulFix", "kept"),
        ("management.autoVulFixPolicy", "kept"),
        ("management", "updates"),  # auto_repair false is sent
    }
    only_removed = changes.input_changes(
        NP, "management", old, {"enable": True, "autoRepair": True}
    )
    assert {i.effect for i in only_removed} == {"kept"}


def test_turning_cve_patching_off_in_the_library_is_sent():
    """auto_vul_fix is Optional+Computed: the library sends false, so turning CVE patching off
    reaches the cloud instead of being kept there."""
    web = {"instance_types": ["ecs.g7.large"], "desired_size": 2, "key_name": "ops"}
    on = _managed(False, node_pools={"web": {**web, "fix_vulnerabilities": True}})
    off = _managed(False, node_pools={"web": {**web}})
    (pool,) = [c for c in predict(on, off) if c.type == NP]
    assert pool.action == "update" and not pool.kept
    assert [(i.path, i.effect) for i in pool.inputs] == [("management", "updates")]


def test_a_rolling_policy_is_sent_only_with_other_changes():
    old = Node("urn:p", NP, "p", True, {"rollingPolicy": {"maxParallelism": 1}, "desiredSize": "2"})
    alone = Node(
        "urn:p", NP, "p", True, {"rollingPolicy": {"maxParallelism": 3}, "desiredSize": "2"}
    )
    (c,) = predict([old], [alone])
    (i,) = c.inputs
    assert i.effect == "never applied" and i.source.endswith("node_pool.go:3330")
    with_size = Node(
        "urn:p", NP, "p", True, {"rollingPolicy": {"maxParallelism": 3}, "desiredSize": "4"}
    )
    (c,) = predict([old], [with_size])
    assert {(i.path, i.effect) for i in c.inputs} == {
        ("rollingPolicy", "updates"),
        ("desiredSize", "updates"),
    }


def test_turning_rrsa_off_fails_and_is_guarded_whatever_the_flags():
    old = Node("urn:c", MK, "c", True, {"enableRrsa": True})
    new = Node("urn:c", MK, "c", True, {"enableRrsa": False})
    found = predict([old], [new])
    (i,) = found[0].fails
    assert "It's not supported to disable RRSA!" in i.reason
    assert changes.guarded(found, allow_replace=True, allow_delete=True)


def test_deleting_a_stateful_resource_is_guarded_like_a_replacement():
    old = [
        Node("urn:p", NP, "p", True, {}),
        Node("urn:r", "alicloud:vpc/routeEntry:RouteEntry", "r", True, {}),
    ]
    found = predict(old, [])
    assert [c.deletes_state for c in found] == [True, False]
    assert changes.guarded(found, allow_replace=True, allow_delete=False) == [
        "NodePool p is deleted (--allow-delete)"
    ]
    assert changes.guarded(found, allow_replace=False, allow_delete=True) == []


# --- --diff REV runs the program as it was ------------------------------------------------------

MAIN = """\
import pulumi
from ack_clusters import ManagedCluster
from settings import SERVICE_CIDR

ManagedCluster(
    "shop",
    {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
        "service_cidr": SERVICE_CIDR,
        "node_pools": {
            "web": {"instance_types": ["ecs.g7.large"], "desired_size": 2, "key_name": "ops"}
        },
    },
)
"""


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture
def own_project(tmp_path: Path, monkeypatch) -> Path:
    """A team's own project, outside this checkout, in a git repository of its own: its
    `__main__.py` imports the library, and a module of its own holds the service CIDR."""
    repo = tmp_path / "repo"
    project = repo / "infra"
    project.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: shop\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (project / "__main__.py").write_text(MAIN)
    (project / "settings.py").write_text('SERVICE_CIDR = "172.16.0.0/20"\n')
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return project


def leftovers(project: Path) -> list[str]:
    return sorted(p.name for p in (project.parent.parent / "tmp").iterdir())


def test_a_code_change_against_head_predicts_the_replacement(capsys, own_project):
    (own_project / "settings.py").write_text('SERVICE_CIDR = "172.22.0.0/20"\n')
    status = git(own_project, "status", "--porcelain")
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 3, out.err
    assert "Pulumi.dev.yaml@HEAD with its program" in out.out
    assert "ManagedKubernetes  shop  [STATEFUL: refused without --allow-replace]" in out.out
    assert "serviceCidr: ForceNew" in out.out
    assert "NodePool  shop-web" in out.out and "takes the new ID of ManagedKubernetes shop" in (
        out.out
    )
    assert "3 to replace (2 stateful)" in out.out  # the cluster, its pool, its k8s provider
    assert "guarded change: ManagedKubernetes shop is replaced" in out.err
    assert diff(capsys, own_project, "HEAD", "--allow-replace", stack="dev")[0] == 0
    # Nothing is left behind, in the repository or in the temporary folder.
    assert git(own_project, "status", "--porcelain") == status
    assert git(own_project, "worktree", "list").count("\n") == 1
    assert leftovers(own_project) == []


def test_no_code_change_is_no_change(capsys, own_project):
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 0 and "no changes" in out.out


def test_a_renamed_pool_is_a_guarded_deletion(capsys, own_project):
    main_py = own_project / "__main__.py"
    main_py.write_text(main_py.read_text().replace('"web"', '"frontend"'))
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 3
    assert (
        "delete  alicloud:cs/nodePool:NodePool  shop-web  [STATEFUL: refused without --allow"
        in (out.out)
    )
    assert diff(capsys, own_project, "HEAD", "--allow-replace", stack="dev")[0] == 3
    assert diff(capsys, own_project, "HEAD", "--allow-delete", stack="dev")[0] == 0


def test_a_stack_that_did_not_exist_at_the_revision_is_all_creates(capsys, own_project):
    (own_project / "Pulumi.qa.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    rc, out = diff(capsys, own_project, "HEAD", stack="qa")
    assert rc == 0 and "the stack did not exist: everything is new" in out.out
    assert " 0 to update, 0 to replace (0 stateful), 0 to delete" in out.out


def test_a_project_that_did_not_exist_at_the_revision_is_all_creates(capsys, own_project):
    git(own_project, "commit", "-q", "--allow-empty", "-m", "later")
    git(own_project, "rm", "-rq", "--cached", ".")
    git(own_project, "commit", "-qm", "untracked")
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 0 and "no Pulumi.yaml at that revision: everything is new" in out.out


def test_main_in_pulumi_yaml_is_read_at_the_revision(capsys, own_project):
    """The base runs the program Pulumi.yaml named at the revision, from where it was."""
    src = own_project / "src"
    src.mkdir()
    for name in ("__main__.py", "settings.py"):
        (own_project / name).rename(src / name)
    (own_project / "Pulumi.yaml").write_text("name: shop\nruntime: python\nmain: src/\n")
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 0 and "no changes" in out.out, out.err
    (src / "settings.py").write_text('SERVICE_CIDR = "172.22.0.0/20"\n')
    assert diff(capsys, own_project, "HEAD", stack="dev")[0] == 3


def test_a_program_outside_the_repository_is_no_verdict(capsys, own_project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "__main__.py").write_text("")
    (own_project / "Pulumi.yaml").write_text(f"name: shop\nruntime: python\nmain: {elsewhere}\n")
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 2 and "is outside the git repository" in out.err


def test_a_committed_link_out_of_the_repository_is_no_verdict(capsys, own_project, tmp_path):
    """A link to a file outside the repository reads today's file on both sides: the base is
    not the program as it was, so no verdict, naming the link; a link inside it is fine."""
    outside = tmp_path / "outside.py"
    outside.write_text('SERVICE_CIDR = "172.16.0.0/20"\n')
    (own_project / "settings.py").unlink()
    (own_project / "shared.py").write_text('SERVICE_CIDR = "172.16.0.0/20"\n')
    (own_project / "settings.py").symlink_to("shared.py")
    git(own_project, "add", "-A")
    git(own_project, "commit", "-qm", "an inside link")
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 0, out.err
    (own_project / "settings.py").unlink()
    (own_project / "settings.py").symlink_to(outside)
    git(own_project, "commit", "-qam", "a link out")
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 2 and "settings.py at " in out.err and "symbolic link out of the" in out.err
    assert leftovers(own_project) == []


def test_a_base_program_that_fails_is_no_verdict_and_said_as_the_bases(capsys, own_project):
    (own_project / "settings.py").write_text("SERVICE_CIDR = '172.16.0.0/20'\n")
    (own_project / "__main__.py").write_text("raise RuntimeError('broken then')\n")
    git(own_project, "commit", "-qam", "broken")
    (own_project / "__main__.py").write_text(MAIN)
    rc, out = diff(capsys, own_project, "HEAD", stack="dev")
    assert rc == 2 and "--diff HEAD: the base (infra/Pulumi.dev.yaml@HEAD" in out.err
    assert "broken then" in out.err
    assert leftovers(own_project) == []


def test_sigterm_during_the_base_run_leaves_nothing_behind(own_project):
    """The checkout is removed whatever ends the command: here SIGTERM while the base runs."""
    (own_project / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    git(own_project, "commit", "-qam", "slow")
    (own_project / "__main__.py").write_text(MAIN)
    scratch = own_project.parent.parent / "tmp"
    env = {**os.environ, "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "ack_offline.cli", "dev", "--program", str(own_project)]
    process = subprocess.Popen(
        [*command, "--diff", "HEAD"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not any(p.name.startswith("ack-base-") for p in scratch.iterdir()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(1.0)  # the base program is running (or starting) now
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and b"stopped by SIGTERM" in err
    assert leftovers(own_project) == []


def test_an_empty_addon_config_is_a_subset_and_kept():
    assert input_change(ADDON, "config", '{"a": 1}', "{}").effect == "kept"


def test_nat_no_longer_per_zone_deletes_gateways_and_eips_guarded():
    found = outcome("NAT: one per zone to one in all")
    deleted = {c.type for c in found if c.deletes_state}
    assert deleted == {NAT, "alicloud:ecs/eipAddress:EipAddress"}
    reasons = changes.guarded(found, allow_replace=True, allow_delete=False)
    assert reasons and all(r.endswith("is deleted (--allow-delete)") for r in reasons)
    assert changes.guarded(found, allow_replace=True, allow_delete=True) == []


def test_what_holds_addresses_or_records_is_guarded_when_replaced_or_deleted():
    """A vSwitch (nodes, an app subnet's databases), a private zone (its records) and the ingress
    load balancer (the address clients know) lose what they hold: guarded like a cluster."""
    vsw = "alicloud:vpc/switch:Switch"
    zone = "alicloud:pvtz/zone:Zone"
    slb = "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer"
    rule = "alicloud:ecs/securityGroupRule:SecurityGroupRule"
    old = [
        Node("urn:db", vsw, "app-db", True, {"cidrBlock": "10.0.255.0/24"}),
        Node("urn:cache", vsw, "app-cache", True, {"cidrBlock": "10.0.254.0/24"}),
        Node("urn:z", zone, "pvtz-svc", True, {"zoneName": "svc.internal"}),
        Node("urn:lb", slb, "ingress", True, {"loadBalancerSpec": "slb.s2.small"}),
        Node("urn:r", rule, "r", True, {"cidrIp": "10.0.0.0/8"}),
    ]
    new = [Node("urn:cache", vsw, "app-cache", True, {"cidrBlock": "10.0.253.0/24"})]
    found = {c.urn: c for c in predict(old, new)}
    assert found["urn:cache"].action == "replace"
    assert [u for u, c in sorted(found.items()) if c.deletes_state] == ["urn:db", "urn:lb", "urn:z"]
    replaced = changes.guarded(list(found.values()), allow_replace=False, allow_delete=True)
    assert replaced == ["Switch app-cache is replaced (--allow-replace)"]
    deleted = changes.guarded(list(found.values()), allow_replace=True, allow_delete=False)
    assert len(deleted) == 3 and all(r.endswith("is deleted (--allow-delete)") for r in deleted)
    # A security group rule holds nothing: its deletion is an ordinary change.
    assert not found["urn:r"].deletes_state
