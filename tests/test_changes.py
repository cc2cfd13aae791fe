"""Replace or update, predicted from the provider's facts; and `ack-preview --diff`."""

from __future__ import annotations

import json
import shutil
import subprocess
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
        ("enableRrsa", True, False, "never applied"),
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


def test_service_cidr_replaces_the_cluster_and_is_stateful():
    found = outcome("service CIDR")
    cluster = next(c for c in found if c.type == MK)
    assert cluster.action == "replace" and cluster.refused
    assert {c.action for c in found if c.type != MK} == {"same"}


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
    assert '"~ NodePool dev-general<br>scalingConfig#58; updates"' in doc
    classes = {
        line.split()[2]: line.split()[1].split(",")
        for line in doc.splitlines()
        if line.startswith("  class ")
    }
    # One node each, and one legend entry each (the legend names what the picture uses).
    assert len(classes["replace"]) == 2 and len(classes["update"]) == 2
    assert "Changes: 0 to create, 1 to update, 1 to replace (1 stateful), 0 to delete." in doc
