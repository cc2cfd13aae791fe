"""The reusable workflow other repositories call (.github/workflows/ack-stacks.yml, issue 29):
its stacks in a declared order, new stacks created by `up` only, exactly the lock file
installed, GitHub OIDC instead of stored cloud keys, ack-ram-tool from a URL a mirror can
replace. Each script is run here as the runner runs it, against fakes of the tools it calls."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from .conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
REUSABLE = yaml.safe_load((WORKFLOWS / "ack-stacks.yml").read_text())
# (PyYAML reads the key `on` as True)
CALL = REUSABLE[True]["workflow_call"]


def _step(job: str, name_part: str) -> dict[str, Any]:
    (step,) = [
        s
        for s in REUSABLE["jobs"][job]["steps"]
        if name_part in s.get("name", "") or s.get("id") == name_part
    ]
    return step


def _run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # As the runner runs a step's script (the default shell: bash -e).
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


# -- the interface ------------------------------------------------------------------------------


def test_other_repositories_call_it_with_their_project_and_stacks():
    inputs = CALL["inputs"]
    assert {
        "command",
        "working-directory",
        "stacks-dir",
        "deploy-order",
        "lock-file",
        "python-version",
        "pulumi-version",
        "backend-url",
        "region",
        "role-arn",
        "oidc-provider-arn",
        "runners",
        "ack-ram-tool-url",
        "ack-ram-tool-sha256",
    } <= set(inputs)
    assert inputs["command"]["required"] is True and inputs["backend-url"]["required"] is True
    assert set(CALL["secrets"]) == {
        "PULUMI_ACCESS_TOKEN",
        "PULUMI_CONFIG_PASSPHRASE",
        "STATE_ACCESS_KEY_ID",
        "STATE_SECRET_ACCESS_KEY",
    }
    # This repository deploys through it too, with its stacks in stacks/.
    deploy = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())["jobs"]["up"]
    assert deploy["uses"] == "./.github/workflows/ack-stacks.yml"
    assert deploy["with"]["command"] == "up"
    assert deploy["with"]["deploy-order"] == "stacks/deploy-order.txt"
    assert deploy["permissions"] == {"contents": "read", "id-token": "write"}


def test_no_local_action_is_used_by_the_reusable_workflow():
    """A `./.github/actions/...` path in a called workflow names the caller's repository."""
    for job in REUSABLE["jobs"].values():
        for step in job.get("steps", []):
            assert not str(step.get("uses", "")).startswith("./"), step


def test_cloud_credentials_come_from_oidc_never_from_a_stored_key():
    for name in ("ack-stacks.yml", "deploy.yml", "pull-request.yml"):
        text = (WORKFLOWS / name).read_text()
        assert "ALICLOUD_ACCESS_KEY" not in text and "ALICLOUD_SECRET_KEY" not in text, name
    job = REUSABLE["jobs"]["pulumi"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    oidc = _step("pulumi", "GitHub OIDC")
    assert oidc["uses"] == "aliyun/configure-aliyun-credentials-action@v1"
    assert set(oidc["with"]) == {"role-to-assume", "oidc-provider-arn"}
    # The role is the stack environment's own unless the caller names one.
    assert "vars.ALICLOUD_ROLE_ARN" in oidc["with"]["role-to-assume"]
    assert job["environment"] == "${{ inputs.command == 'preview' && 'preview' || matrix.stack }}"
    steps = job["steps"]
    assert steps.index(oidc) < steps.index(_step("pulumi", "Pulumi, with the policy pack"))
    # The offline gate runs with no credentials at all, before the job that has them.
    assert "offline" in job["needs"]
    assert "permissions" not in REUSABLE["jobs"]["offline"]
    assert REUSABLE["permissions"] == {"contents": "read"}


def test_up_goes_one_stack_at_a_time_and_stops_at_the_first_failure():
    strategy = REUSABLE["jobs"]["pulumi"]["strategy"]
    assert strategy["max-parallel"] == "${{ inputs.command == 'up' && 1 || 4 }}"
    assert strategy["fail-fast"] == "${{ inputs.command == 'up' }}"
    assert strategy["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.list) }}"
    script = _step("pulumi", "Pulumi, with the policy pack")["run"]
    assert 'pulumi up --yes --stack "$STACK" --policy-pack "$ACK_POLICY_PACK"' in script
    assert "--refresh --expect-no-changes" in script


# -- the declared order -------------------------------------------------------------------------


def _listing(tmp_path: Path, files: list[str], order: str | None) -> subprocess.CompletedProcess:
    project = tmp_path / "infra"
    (project / "stacks").mkdir(parents=True)
    for name in files:
        (project / "stacks" / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    if order is not None:
        (project / "deploy-order.txt").write_text(order)
    step = _step("stacks", "list")
    out = tmp_path / "output"
    out.write_text("")
    done = _run(
        step["run"],
        project,
        {"GITHUB_OUTPUT": str(out), "STACKS_DIR": "stacks", "DEPLOY_ORDER": "deploy-order.txt"},
    )
    done.stdout = out.read_text()
    return done


def test_stacks_deploy_in_the_declared_order_not_alphabetically(tmp_path):
    order = "# dev first\ndev\nstaging  # then\n\nprod\n"
    done = _listing(tmp_path, ["prod", "dev", "staging"], order)
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'list=["dev", "staging", "prod"]\n'


@pytest.mark.parametrize(
    ("files", "order", "said"),
    [
        (["dev", "prod", "new"], "dev\nprod\n", "not named: ['new']"),
        (["dev"], "dev\nprod\n", "with no stack file: ['prod']"),
        (["dev", "prod"], "dev\nprod\ndev\n", "named twice: ['dev']"),
        (["dev"], None, "declare the order"),
        ([], "", "no stack files"),
        (["dev", "a b"], "dev\na b\n", "not stack names"),
    ],
)
def test_a_stack_the_order_does_not_account_for_fails_the_listing(tmp_path, files, order, said):
    done = _listing(tmp_path, files, order)
    assert done.returncode != 0
    assert said in done.stderr
    assert done.stdout == ""


def test_the_pull_request_lists_stacks_as_the_deploy_does():
    """The pull request fails on a stack file the order misses, before the merge would."""
    pr = yaml.safe_load((WORKFLOWS / "pull-request.yml").read_text())
    (step,) = [s for s in pr["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
    assert step["run"] == _step("stacks", "list")["run"]
    assert step["env"] == {"STACKS_DIR": "stacks", "DEPLOY_ORDER": "stacks/deploy-order.txt"}


# -- new stacks ---------------------------------------------------------------------------------

_FAKE_PULUMI = """#!/usr/bin/env bash
echo "$*" >> "$PULUMI_LOG"
if [ "$1 $2" = "stack select" ] && [ "$3" != "--create" ] && [ -z "$EXISTS" ]; then
  echo "error: no stack named '$4' found" >&2; exit 255
fi
"""


@pytest.mark.parametrize(
    ("command", "exists", "calls", "selected"),
    [
        ("up", "yes", ["stack select --stack new"], "true"),
        ("up", "", ["stack select --stack new", "stack select --create --stack new"], "true"),
        ("preview", "", ["stack select --stack new"], "false"),
        ("drift", "", ["stack select --stack new"], "false"),
        ("preview", "yes", ["stack select --stack new"], "true"),
    ],
)
def test_only_up_creates_a_stack_that_does_not_exist(tmp_path, command, exists, calls, selected):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(_FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    log, out = tmp_path / "log", tmp_path / "output"
    log.touch()
    out.touch()
    done = _run(
        _step("pulumi", "Select the stack")["run"],
        tmp_path,
        {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "PULUMI_LOG": str(log),
            "EXISTS": exists,
            "GITHUB_OUTPUT": str(out),
            "STACK": "new",
            "COMMAND": command,
            "SECRETS_PROVIDER": "",
        },
    )
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == calls
    assert out.read_text() == f"exists={selected}\n"
    if selected == "false":
        assert "a new stack" in done.stdout
    # Both later steps that touch the stack are skipped for a stack that is not there.
    for name in ("API server is reachable", "Pulumi, with the policy pack"):
        assert _step("pulumi", name)["if"] == "steps.select.outputs.exists == 'true'"


# -- the lock file ------------------------------------------------------------------------------


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), line
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_the_lock_pins_every_runtime_requirement_within_its_bounds():
    """Preview and deploy install exactly this file (--no-deps, then `pip check`), so they
    resolve the same provider: it must hold every requirement, at a version the bounds allow."""
    pins = _lock()
    text = (ROOT / "pyproject.toml").read_text()
    for block in ("dependencies", "policy"):
        m = re.search(rf"^{block} = \[(.*?)\]$", text, re.M | re.S)
        assert m is not None
        for spec in re.findall(r'"([^"]+)"', re.sub(r"#.*", "", m[1])):
            req = Requirement(spec)
            name = req.name.lower().replace("_", "-")
            assert name in pins, f"requirements.lock does not pin {name}"
            assert req.specifier.contains(pins[name]), (name, pins[name], str(req.specifier))
    assert "pulumi-ack-clusters" not in pins


def test_the_cli_is_the_locked_sdks_version():
    pulumi = _lock()["pulumi"]
    setup = (ROOT / ".github" / "actions" / "pulumi-setup" / "action.yml").read_text()
    assert f'pulumi-version: "{pulumi}"' in setup
    assert CALL["inputs"]["pulumi-version"]["default"] == pulumi


def test_a_missing_lock_file_fails_with_how_to_make_one(tmp_path):
    script = _step("offline", "Install exactly the lock file")["run"]
    done = _run(script, tmp_path, {"LOCK": "requirements.lock", "PROJECT": "false"})
    assert done.returncode == 1
    assert "requirements.lock is missing" in done.stdout and "docs/CI.md" in done.stdout
    assert "--no-deps -r" in script and "pip check" in script
    # The pack's own virtualenv is held to the lock too.
    assert '--constraint "$LOCK"' in _step("offline", "The policy pack")["run"]


# -- ack-ram-tool from a mirror -----------------------------------------------------------------

_FAKE_CURL = """#!/usr/bin/env bash
# curl -fsSLO URL: copies MIRROR/<file name> here; logs the URL.
url="${@: -1}"
echo "$url" >> "$CURL_LOG"
cp "$MIRROR/${url##*/}" .
"""


def _mirror(tmp_path: Path) -> tuple[Path, str]:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    tool = tmp_path / "ack-ram-tool"
    tool.write_text("#!/bin/sh\necho ack-ram-tool\n")
    archive = mirror / "ack-ram-tool_0.13.2_Linux_x86_64.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tool, arcname="ack-ram-tool")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (mirror / "checksums.txt").write_text(f"{digest}  {archive.name}\n")
    return mirror, digest


def _fetch_tool(tmp_path: Path, mirror: Path, sha256: str) -> tuple[Any, list[str]]:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "curl").write_text(_FAKE_CURL)
    (bin_dir / "curl").chmod(0o755)
    runner = tmp_path / "runner"
    runner.mkdir(exist_ok=True)
    log = tmp_path / "curl.log"
    log.write_text("")
    (tmp_path / "path").write_text("")
    done = _run(
        _step("pulumi", "ACK's credential plugin")["run"],
        tmp_path,
        {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "CURL_LOG": str(log),
            "MIRROR": str(mirror),
            "RUNNER_TEMP": str(runner),
            "GITHUB_PATH": str(tmp_path / "path"),
            "VERSION": "0.13.2",
            "URL": "https://oss-cn-hangzhou.example.com/ack-ram-tool/vVERSION",
            "SHA256": sha256,
        },
    )
    return done, log.read_text().splitlines()


def test_ack_ram_tool_comes_from_the_url_given_checked_against_its_checksum(tmp_path):
    mirror, digest = _mirror(tmp_path)
    done, urls = _fetch_tool(tmp_path, mirror, "")
    assert done.returncode == 0, done.stderr
    base = "https://oss-cn-hangzhou.example.com/ack-ram-tool/v0.13.2"
    assert urls == [f"{base}/ack-ram-tool_0.13.2_Linux_x86_64.tar.gz", f"{base}/checksums.txt"]
    assert (tmp_path / "runner" / "bin" / "ack-ram-tool").is_file()
    # With the SHA-256 given, the mirror's checksums.txt is not even fetched.
    done, urls = _fetch_tool(tmp_path, mirror, digest)
    assert done.returncode == 0, done.stderr
    assert [u.rsplit("/", 1)[1] for u in urls] == ["ack-ram-tool_0.13.2_Linux_x86_64.tar.gz"]
    # A tampered archive fails either way.
    (mirror / "ack-ram-tool_0.13.2_Linux_x86_64.tar.gz").write_bytes(b"not the release")
    assert _fetch_tool(tmp_path, mirror, digest)[0].returncode != 0
    assert _fetch_tool(tmp_path, mirror, "")[0].returncode != 0


def test_the_default_source_is_the_github_release_and_the_setup_action_agrees():
    default = CALL["inputs"]["ack-ram-tool-url"]["default"]
    assert default == (
        "https://github.com/AliyunContainerService/ack-ram-tool/releases/download/vVERSION"
    )
    setup = yaml.safe_load(
        (ROOT / ".github" / "actions" / "pulumi-setup" / "action.yml").read_text()
    )
    assert setup["inputs"]["ack-ram-tool-url"]["default"] == default
    version = CALL["inputs"]["ack-ram-tool-version"]["default"]
    assert f'VERSION: "{version}"' in (ROOT / ".github/actions/pulumi-setup/action.yml").read_text()
    assert json.loads(CALL["inputs"]["runners"]["default"]) == {}
