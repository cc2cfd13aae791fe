"""ack-preview and the stacks in stacks/: what a user at a terminal or in CI sees."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ack_offline.preview import main
from ack_offline.project import SECURE_PLACEHOLDER, find_project

from .conftest import ROOT

STACKS = find_project(ROOT).stacks()


def preview_json(capsys, *argv: str) -> dict:
    assert main([*argv, "--json", "--program", str(ROOT)]) == 0
    return json.loads(capsys.readouterr().out)


def graph_shape(doc: dict) -> set[tuple]:
    """What must not differ between preview and update: identities, parents, edges, options."""
    return {
        (
            r["urn"],
            r["type"],
            r["parent"],
            r["custom"],
            r["protect"],
            tuple(r["dependencies"]),
            tuple((k, tuple(v)) for k, v in sorted(r["property_dependencies"].items())),
            tuple(r["ignore_changes"]),
            tuple(sorted(r["inputs"])),
        )
        for r in doc["resources"]
    }


def test_the_project_has_the_stacks_the_readme_promises():
    assert {"managed-dev", "managed-prod"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_json_report_shape(capsys, stack):
    doc = preview_json(capsys, stack)
    assert doc["violations"] == []
    assert doc["summary"]["resources"] == len(doc["resources"]) > 10
    for r in doc["resources"]:
        assert {
            "urn",
            "type",
            "name",
            "parent",
            "custom",
            "protect",
            "inputs",
            "dependencies",
            "property_dependencies",
        } <= set(r)


@pytest.mark.parametrize("stack", STACKS)
def test_preview_graph_equals_update_graph(capsys, stack):
    """No resource is created inside apply: the graph is fixed before any ID is known."""
    preview = preview_json(capsys, stack, "--mode", "preview")
    update = preview_json(capsys, stack, "--mode", "update")
    assert graph_shape(preview) == graph_shape(update)


@pytest.mark.parametrize("stack", STACKS)
def test_runs_are_deterministic(capsys, stack):
    first = preview_json(capsys, stack, "--mode", "update")
    second = preview_json(capsys, stack, "--mode", "update")
    assert first == second


def test_dev_and_prod_differ_the_way_real_stacks_do(capsys):
    dev = preview_json(capsys, "managed-dev", "--mode", "update")
    prod = preview_json(capsys, "managed-prod", "--mode", "update")

    def count(doc, typ):
        return doc["summary"]["by_type"].get(typ, 0)

    assert count(dev, "alicloud:vpc/natGateway:NatGateway") == 1
    assert count(prod, "alicloud:vpc/natGateway:NatGateway") == 3
    assert count(prod, "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer") == 1
    assert count(dev, "alicloud:cs/nodePool:NodePool") == 1
    assert count(prod, "alicloud:cs/nodePool:NodePool") == 2

    def cluster(doc):
        return next(r for r in doc["resources"] if r["type"].startswith("alicloud:cs/managed"))

    assert cluster(prod)["inputs"]["encryptionProviderKey"].startswith("key-")
    assert "podVswitchIds" in cluster(prod)["inputs"] and "podCidr" in cluster(dev)["inputs"]


def test_text_tree_shows_every_resource_under_its_parent(capsys):
    assert main(["managed-dev", "--program", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert "+ └─ ack:index:ManagedCluster  dev" in out
    assert "alicloud:vpc/network:Network  dev-vpc [protect]" in out
    assert "kubeconfig: [secret]" in out
    tree_lines = [line for line in out.splitlines() if line.startswith("+ ")]
    doc_count = int(out.splitlines()[0].split(": ")[1].split()[0])
    assert len(tree_lines) == doc_count + 1  # plus the stack itself


@pytest.mark.parametrize("mode", ["preview", "update"])
@pytest.mark.parametrize("as_json", [False, True])
def test_no_secret_is_ever_printed(capsys, tmp_path, mode, as_json):
    project = make_project(tmp_path, password_pool=True)
    argv = ["secret", "--program", str(project), "--mode", mode] + (["--json"] if as_json else [])
    assert main(argv) == 0
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert SECURE_PLACEHOLDER not in printed
    assert "client-key-data" not in printed and "BEGIN" not in printed
    assert "[secret]" in printed


def test_console_script_runs_as_installed(tmp_path):
    exe = shutil.which("ack-preview") or str(Path(sys.executable).parent / "ack-preview")
    done = subprocess.run(
        [exe, "managed-dev"], cwd=ROOT / "stacks", capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "ack:index:ManagedCluster" in done.stdout


# --- broken input: exit 2 and a message that says what to fix --------------------------------


def make_project(
    tmp_path: Path,
    *,
    cluster: dict | None = None,
    password_pool: bool = False,
    region: str | None = "cn-hangzhou",
) -> Path:
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "stacks" / "__main__.py", tmp_path / "stacks" / "__main__.py")
    pool = {"instance_types": ["ecs.g7.large"], "desired_size": 1}
    if password_pool:
        pool |= {
            "password": {"secure": "v1:AAAAencrypted"},
            "auto_repair": False,
            "auto_upgrade": False,
        }
    else:
        pool |= {"key_name": "ops"}
    config: dict = {
        "ack-clusters:cluster": cluster
        or {
            "kind": "managed",
            "name": "t",
            "network": {"zones": ["cn-hangzhou-i"]},
            "node_pools": {"p": pool},
        }
    }
    if region:
        config["alicloud:region"] = region
    for name in ("secret", "broken"):
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def broken(capsys, project: Path, stack: str = "broken") -> str:
    assert main([stack, "--program", str(project)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_misspelled_key_names_the_key_and_the_stack_file(capsys, tmp_path):
    err = broken(
        capsys,
        make_project(
            tmp_path,
            cluster={
                "kind": "managed",
                "name": "t",
                "network": {"zones": ["cn-hangzhou-i"]},
                "node_pool": {},
            },
        ),
    )
    assert "Pulumi.broken.yaml" in err
    assert (
        "ack-clusters:cluster.node_pool: unknown argument 'node_pool'; did you mean "
        "'node_pools'?" in err
    )


def test_missing_cluster_key_and_region(capsys, tmp_path):
    project = make_project(tmp_path, region=None)
    (project / "stacks" / "Pulumi.broken.yaml").write_text("config: {}\n")
    err = broken(capsys, project)
    assert "ack-clusters:cluster: is not set" in err


def test_zone_outside_the_region(capsys, tmp_path):
    err = broken(capsys, make_project(tmp_path, region="cn-beijing"))
    assert (
        "ack-clusters:cluster.network.zones.0: cn-hangzhou-i is not a zone of region cn-beijing"
        in err
    )


def test_unknown_stack_lists_the_known_ones(capsys):
    err = broken(capsys, ROOT, stack="nope")
    assert "Pulumi.nope.yaml" in err and "managed-dev" in err


def test_broken_project_file(capsys, tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: nodejs\n")
    err = broken(capsys, tmp_path)
    assert "runs Python programs" in err


def test_program_crash_is_reported_not_raised(capsys, tmp_path):
    project = make_project(tmp_path)
    (project / "stacks" / "__main__.py").write_text("raise RuntimeError('boom')\n")
    err = broken(capsys, project)
    assert "the program failed: RuntimeError: boom" in err


def test_running_it_in_process_leaves_the_callers_logging_as_it_was(capsys):
    """A script or test calling main() keeps its own handlers, open, and its level; ack-preview
    leaves no handler bound to a stream of its own behind (one bound to a closed stream turns
    every later log record into a "Logging error" with two stack traces)."""
    import io
    import logging

    root = logging.getLogger()
    mine = logging.StreamHandler(io.StringIO())
    saved = root.handlers[:], root.level
    root.handlers[:] = [mine]
    root.setLevel(logging.INFO)
    try:
        assert main(["managed-dev", "--program", str(ROOT)]) == 0
        assert root.handlers == [mine] and root.level == logging.INFO
        assert not mine.stream.closed
        logging.getLogger("after").info("still mine")
        assert "still mine" in mine.stream.getvalue()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    capsys.readouterr()


def test_config_values_reach_the_program_with_the_types_the_engine_gives_them(tmp_path, capsys):
    """Top-level values reach a program as text ("true"); inside an object the engine hands
    JSON with its types, so a nested boolean stays a boolean (it was the text "false", which
    a program testing it takes for true). Booleans are YAML 1.2's, as the CLI reads them:
    `on`, `yes` and `no` are text (PyYAML's YAML 1.1 took them for booleans)."""
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  alicloud:region: cn-hangzhou\n  t:flag: true\n"
        "  t:data:\n    on: false\n    n: 2\n    items: [true, {deep: false}, yes, no]\n"
    )
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "c = pulumi.Config('t')\n"
        "assert c.require('flag') == 'true' and c.require_bool('flag') is True\n"
        "data = c.require_object('data')\n"
        "expected = {'on': False, 'n': 2, 'items': [True, {'deep': False}, 'yes', 'no']}\n"
        "assert data == expected, data\n"
    )
    assert main(["dev", "--program", str(tmp_path)]) == 0, capsys.readouterr().err
    capsys.readouterr()
