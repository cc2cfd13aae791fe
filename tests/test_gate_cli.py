"""`ack-preview --policy-pack`: the gate as CI runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from ack_offline import gate
from ack_offline.preview import main
from ack_offline.project import find_project

from .conftest import PACK_DIR, ROOT

STACKS = find_project(ROOT).stacks()

LOOSE_RULE_PROGRAM = textwrap.dedent(
    """
    import pulumi_alicloud as alicloud
    from ack_clusters import ManagedCluster

    c = ManagedCluster("t", {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
        "node_pools": {"p": {"instance_types": ["ecs.g7.large"], "desired_size": 2,
                             "key_name": "ops"}},
    })
    alicloud.ecs.SecurityGroupRule(
        "loose", security_group_id=c.security_group_id, type="ingress", ip_protocol="tcp",
        port_range="8443/8443", cidr_ip="10.9.0.0/16",
    )
    """
)


@pytest.fixture
def drifting_project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: drift\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(LOOSE_RULE_PROGRAM)
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    return tmp_path


def gate_json(capsys, project: Path, *extra: str) -> tuple[int, dict]:
    rc = main(["dev", "--program", str(project), "--json", "--policy-pack", str(PACK_DIR), *extra])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_the_gate(capsys, stack):
    rc = main([stack, "--program", str(ROOT), "--json", "--policy-pack", str(PACK_DIR)])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["summary"]["mandatory"] == 0
    assert [v for v in doc["violations"] if v["enforcement"] == "mandatory"] == []


def test_a_mandatory_violation_fails_the_gate_with_exit_1(capsys, drifting_project):
    rc, doc = gate_json(capsys, drifting_project)
    assert rc == 1
    mandatory = [v for v in doc["violations"] if v["enforcement"] == "mandatory"]
    assert len(mandatory) == 1
    v = mandatory[0]
    assert set(v) == {"policy", "pack", "urn", "enforcement", "message"}
    assert v["policy"] == "ack-no-loose-attachments-to-cluster-resources"
    assert v["pack"] == "ack-guardrails"
    assert v["urn"].endswith("alicloud:ecs/securityGroupRule:SecurityGroupRule::loose")
    assert doc["summary"]["mandatory"] == 1
    assert doc["summary"]["advisory"] == len(doc["violations"]) - 1


def test_a_relative_pack_path_means_the_same_while_the_program_runs_elsewhere(
    capsys, drifting_project, monkeypatch
):
    # Packs start while the program runs, and the program runs from its own folder: let every
    # pack start late, once the program has changed the working directory.
    start = gate.PolicyPackProcess

    def late_start(*args: Any, **kwargs: Any) -> gate.PolicyPackProcess:
        time.sleep(0.2)
        return start(*args, **kwargs)

    monkeypatch.setattr(gate, "PolicyPackProcess", late_start)
    monkeypatch.chdir(ROOT)
    rc = main(["dev", "--program", str(drifting_project), "--json", "--policy-pack", "policies"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert doc["summary"]["mandatory"] == 1


def test_text_report_names_rule_resource_and_fix(capsys, drifting_project):
    rc = main(["dev", "--program", str(drifting_project), "--policy-pack", str(PACK_DIR)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "[mandatory] ack-guardrails/ack-no-loose-attachments-to-cluster-resources" in out
    assert "security.extra_ingress" in out
    assert "1 mandatory" in out


def test_policy_config_file_accepts_an_exception(capsys, drifting_project, tmp_path):
    config = tmp_path / "policy-config.json"
    config.write_text(
        json.dumps(
            {
                "ack-no-loose-attachments-to-cluster-resources": {
                    "allow": [
                        {
                            "urn": "urn:pulumi:dev::*::alicloud:ecs/securityGroupRule:"
                            "SecurityGroupRule::loose",
                            "reason": "a rule the database team moves out next sprint",
                        }
                    ]
                }
            }
        )
    )
    rc, doc = gate_json(capsys, drifting_project, "--policy-pack-config", str(config))
    assert rc == 0 and doc["summary"]["mandatory"] == 0


def test_each_pack_given_is_run(capsys, drifting_project):
    rc, doc = gate_json(capsys, drifting_project, "--policy-pack", str(PACK_DIR))
    assert rc == 1
    assert doc["summary"]["mandatory"] == 2  # the same pack twice reports twice


def test_a_failing_program_is_exit_2_and_leaves_no_pack_running(
    capsys, drifting_project, monkeypatch
):
    started: list[gate.PolicyPackProcess] = []
    start = gate.PolicyPackProcess

    def tracked(*args: Any, **kwargs: Any) -> gate.PolicyPackProcess:
        started.append(start(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(gate, "PolicyPackProcess", tracked)
    (drifting_project / "__main__.py").write_text("raise RuntimeError('boom')\n")
    rc = main(["dev", "--program", str(drifting_project), "--policy-pack", str(PACK_DIR)])
    assert rc == 2
    assert "RuntimeError: boom" in capsys.readouterr().err
    assert len(started) == 1 and started[0].process.poll() is not None


def test_a_broken_pack_is_exit_2_with_its_error(capsys, drifting_project, tmp_path):
    pack = tmp_path / "broken-pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text("raise ImportError('no such rule module')\n")
    rc = main(["dev", "--program", str(drifting_project), "--policy-pack", str(pack)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "failed to start" in err and "no such rule module" in err


def test_a_folder_that_is_not_a_pack_is_exit_2(capsys, drifting_project, tmp_path):
    rc = main(["dev", "--program", str(drifting_project), "--policy-pack", str(tmp_path)])
    assert rc == 2
    assert "not a policy pack" in capsys.readouterr().err


def test_unknown_policy_in_config_is_exit_2(capsys, drifting_project, tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"no-such-rule": "mandatory"}))
    rc = main(
        [
            "dev",
            "--program",
            str(drifting_project),
            "--policy-pack",
            str(PACK_DIR),
            "--policy-pack-config",
            str(config),
        ]
    )
    assert rc == 2
    assert "no-such-rule" in capsys.readouterr().err


SHARED_FORMATS = frozenset({"ack_policies.record", "ack_policies.goregex"})


def test_the_gate_does_not_import_the_rules():
    """What passes here passes under `pulumi preview --policy-pack`: the gate only speaks the
    analyzer protocol to a separate process."""
    import ast

    engine = sorted((ROOT / "components" / "ack_offline").glob("*.py"))
    assert engine
    rules = ("ack_policies", "pulumi_policy")
    for file in engine:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(
                ("import_module", "__import__", "run_module")
            ):
                names = [ast.unparse(a) for a in node.args]
            else:
                continue
            # The ownership record's format (pure data, no rule: the library writes records
            # with it, and the gate digests the options the engine keeps from an analyzer
            # with it) and the reading of Go's regular expressions (the fake cloud answers a
            # lookup's name_regex as the provider does) are what the gate may share.
            names = [n for n in names if n not in SHARED_FORMATS]
            if isinstance(node, ast.ImportFrom) and node.module == "ack_policies":
                names = [f"ack_policies.{a.name}" for a in node.names]
                names = [n for n in names if n not in SHARED_FORMATS]
            assert not any(rule in n for n in names for rule in rules), (file, node.lineno)
    # Nor does anything it imports load a rule (the library shares the record and the list of
    # ACK's roles, both pure data).
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ack_offline.preview, ack_offline.fleet; print(sorted(m for m in "
            "sys.modules if m.startswith(('ack_policies', 'pulumi_policy'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert loaded.strip() == str(
        ["ack_policies", "ack_policies.record", "ack_policies.service_roles"]
    ), loaded
    # The one place that names them finds their files (to take a digest), never imports them.
    integrity = (ROOT / "components" / "ack_offline" / "integrity.py").read_text()
    assert "find_spec" in integrity


def test_pack_copy_with_secret_config_never_prints_the_secret(capsys, tmp_path):
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    stack = tmp_path / "stacks" / "Pulumi.managed-dev.yaml"
    text = stack.read_text().replace(
        "key_name: dev-nodes",
        "password: {secure: v1:AAAAsecret}\n"
        "        auto_repair: false\n        auto_upgrade: false",
    )
    stack.write_text(text)
    main(["managed-dev", "--program", str(tmp_path), "--json", "--policy-pack", str(PACK_DIR)])
    out = capsys.readouterr()
    assert "Offline-Secret-0" not in out.out + out.err


@pytest.mark.parametrize("stack", STACKS)
def test_the_example_policy_config_is_valid(capsys, stack):
    config = PACK_DIR / "config.example.json"
    rc = main(
        [
            stack,
            "--program",
            str(ROOT),
            "--policy-pack",
            str(PACK_DIR),
            "--policy-pack-config",
            str(config),
        ]
    )
    assert rc == 0, capsys.readouterr().err


def test_mermaid_marks_where_the_gate_blocked(capsys, drifting_project):
    rc = main(
        ["dev", "--program", str(drifting_project), "--mermaid", "--policy-pack", str(PACK_DIR)]
    )
    doc = capsys.readouterr().out
    assert rc == 1
    assert (
        '"+ SecurityGroupRule loose<br>BLOCKED#58; ack-no-loose-attachments-to-cluster-resources'
        in doc
    )
    assert "classDef violation" in doc and '-.->|"securityGroupId"|' in doc
    assert "Policy gate: 1 mandatory" in doc


def test_the_change_runs_with_its_own_code_and_is_judged_by_this_installation(
    capsys, drifting_project, tmp_path
):
    """`--program-python` and `--program-path` run the program with another interpreter and
    the change's source first on its path (what the pull-request workflow's judged-by-base job
    does), while the packs and their rules stay this installation's: a module of the same name
    as the pack's server on the program's path reaches the program, never the pack."""
    change = tmp_path / "change"
    (change / "pulumi_policy").mkdir(parents=True)
    (change / "pulumi_policy" / "__init__.py").write_text("raise SystemExit('not the judge')\n")
    (change / "marker.py").write_text("VALUE = 'the change'\n")
    program = drifting_project / "__main__.py"
    program.write_text("import marker\nassert marker.VALUE == 'the change'\n" + program.read_text())
    rc, doc = gate_json(
        capsys,
        drifting_project,
        "--program-python",
        sys.executable,
        "--program-path",
        str(change),
    )
    assert rc == 1
    assert [
        v["urn"].rsplit("::", 1)[-1] for v in doc["violations"] if v["enforcement"] == "mandatory"
    ] == ["loose"]


def test_a_pack_runs_with_the_virtualenv_its_pulumipolicy_yaml_names(tmp_path):
    """As the Pulumi CLI runs it (runtime.options.virtualenv), once that virtualenv exists."""
    pack = tmp_path / "pack"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    assert gate.pack_python(pack) == sys.executable  # no virtualenv yet
    venv_python = pack / "venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(sys.executable)
    assert gate.pack_python(pack) == str(venv_python)
