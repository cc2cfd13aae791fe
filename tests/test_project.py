"""The project keeps its promises: README, CI and the code say the same thing."""

from __future__ import annotations

import json
import re

import yaml

from ack_clusters import (
    Adoption,
    DedicatedClusterArgs,
    ManagedClusterArgs,
    Masters,
    NetworkArgs,
    NodePoolArgs,
    ServerlessClusterArgs,
)

from .conftest import ROOT
from .docs_text import user_docs

README = (ROOT / "README.md").read_text()
#: The README and the reference pages it links to (tests/docs_text.py).
DOCS = user_docs()


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    (command,) = re.findall(r"^TEST_COMMAND='(.+)'$", ci, flags=re.M)
    assert f". .venv/bin/activate && {command}\n" in README


def test_ci_runs_the_from_a_wheel_flow_the_readme_describes():
    """README promises the pip-install flow is tried, not only its program: .ci/run runs
    try.sh (a wheel in a fresh virtualenv outside the checkout), under `set -e`."""
    ci = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in ci.splitlines()]
    assert "bash examples/from-a-wheel/try.sh" in lines
    assert "set -euo pipefail" in lines
    assert (ROOT / "examples" / "from-a-wheel" / "try.sh").is_file()
    assert "`.ci/run` runs it after the tests" in README


def test_ci_treats_no_tests_collected_as_failure():
    ci = (ROOT / ".ci" / "run").read_text()
    assert '"$rc" -eq 5' in ci and "exit 1" in ci


def test_every_argument_is_documented_in_the_readme():
    models = (
        ManagedClusterArgs,
        ServerlessClusterArgs,
        DedicatedClusterArgs,
        Masters,
        Adoption,
        NetworkArgs,
        NodePoolArgs,
    )
    for model in models:
        for field in model.model_fields:
            assert f"`{field}`" in DOCS, f"{model.__name__}.{field} is not in docs/REFERENCE.md"


def test_pulumi_project_points_at_stacks_folder():
    meta = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert meta["main"].rstrip("/") == "stacks" and meta["stackConfigDir"] == "stacks"
    assert meta["runtime"]["name"] == "python"
    assert (ROOT / "stacks" / "__main__.py").is_file()


def test_every_policy_is_documented_in_the_readme():
    from ack_policies import all_policies

    for policy in all_policies():
        assert f"`{policy.name}`" in DOCS, policy.name


def test_every_stack_is_deployed_previewed_and_checked_for_drift():
    """The matrices come from the stack files (a `stacks` job lists them), so a new stack needs
    no workflow edit: the listing step, run here, gives exactly the stacks there are."""
    import os
    import subprocess

    from .test_workflows import ORDER, listing_env

    stacks = sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )
    declared = [
        line.split("#")[0].strip()
        for line in (ROOT / ORDER).read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert sorted(declared) == stacks
    derived = "${{ fromJSON(needs.stacks.outputs.list) }}"
    for name in ("pull-request.yml", "drift-detection.yml", "ack-stacks.yml"):
        doc = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
        (step,) = [s for s in doc["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
        out = ROOT / ".pytest-github-output"
        try:
            script = step["run"].replace('"$GITHUB_OUTPUT"', str(out))
            env = {**os.environ, **listing_env(step)}
            subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, check=True)
            line = out.read_text().strip()
        finally:
            out.unlink(missing_ok=True)
        # Deploys and the pull request's previews go in the declared order (production last);
        # the nightly drift check in any.
        expected = stacks if name == "drift-detection.yml" else declared
        assert line == "list=" + json.dumps(expected), name
        matrix_jobs = [
            j for j in doc["jobs"].values() if "stack" in j.get("strategy", {}).get("matrix", {})
        ]
        assert matrix_jobs, name
        for job in matrix_jobs:
            assert job["strategy"]["matrix"]["stack"] == derived, name
            needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
            assert "stacks" in needs, name


def test_workflows_load_and_call_what_exists():
    workflows = ROOT / ".github" / "workflows"
    files = sorted(workflows.glob("*.yml"))
    assert {f.name for f in files} >= {"pull-request.yml", "drift-detection.yml", "deploy.yml"}
    for f in files:
        doc = yaml.safe_load(f.read_text())
        for job in doc["jobs"].values():
            for step in job.get("steps", []):
                run = step.get("run", "")
                if ".ci/run" in run:
                    assert (ROOT / ".ci" / "run").is_file()
                if "--policy-pack policies" in run:
                    assert (ROOT / "policies" / "PulumiPolicy.yaml").is_file()
                listed = job.get("strategy", {}).get("matrix", {}).get("stack", [])
                for stack in listed if isinstance(listed, list) else []:
                    assert (ROOT / "stacks" / f"Pulumi.{stack}.yaml").is_file(), stack


def test_workflows_pass_actionlint():
    """actionlint checks the workflows' syntax, expressions, action inputs (the local composite
    actions' too) and the shell in their run steps."""
    import shutil
    import subprocess

    actionlint = shutil.which("actionlint")
    assert actionlint, "actionlint is a dev dependency (pip install -e '.[dev]')"
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    done = subprocess.run(
        [actionlint, "-no-color", *workflows], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_real_cli_jobs_get_the_plugin_the_pack_venv_and_a_backend_login():
    setup = (ROOT / ".github" / "actions" / "pulumi-setup" / "action.yml").read_text()
    reusable = (ROOT / ".github" / "workflows" / "ack-stacks.yml").read_text()
    assert 'pulumi-version: "3.272.0"' in setup and 'default: "3.272.0"' in reusable
    for text in (setup, reusable):
        assert "requirements.txt" in text and "ack-ram-tool" in text and "pulumi login" in text
        assert "ack-policy-pack" in text and "requirements.lock" in text
    for name in ("pull-request.yml", "drift-detection.yml", "deploy.yml"):
        doc = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
        assert doc["permissions"] == {"contents": "read"}, name
        for job in doc["jobs"].values():
            runs_cli = any("pulumi " in s.get("run", "") for s in job.get("steps", []))
            if runs_cli:
                uses = [s.get("uses") for s in job["steps"]]
                assert "./.github/actions/pulumi-setup" in uses, name
                assert "./.github/actions/api-server-reachable" in uses, name
    # deploy.yml runs the CLI through the reusable workflow, whose steps are inline (a local
    # action's path would name the caller's repository).
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    assert deploy["jobs"]["up"]["uses"] == "./.github/workflows/ack-stacks.yml"
    assert "api_server_endpoint" in reusable and "/dev/tcp/" in reusable
    groups = set()
    for name in ("drift-detection.yml", "ack-stacks.yml"):  # one writer of a stack's state
        doc = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
        for job in doc["jobs"].values():
            if "stack" in job.get("strategy", {}).get("matrix", {}) and "concurrency" in job:
                assert job["concurrency"]["cancel-in-progress"] is False, name
                # (ack-stacks: a preview's group is its own; up and drift share the state's)
                groups.add(
                    job["concurrency"]["group"].replace(
                        "${{ inputs.command == 'preview' && format('preview-{0}', "
                        "github.run_id) || 'pulumi-state' }}",
                        "pulumi-state",
                    )
                )
    assert groups == {"pulumi-state-${{ matrix.stack }}"}


def test_a_pull_request_is_judged_by_the_base_branchs_gate_pack_and_config():
    """The change under review never weakens its judge (issue 27): the judged-by-base job
    installs the gate and pack from the base commit and takes their digest before the change
    is checked out; it never installs the change, and runs the change's programs, with its
    library source first on their path, under the base branch's ack-fleet, pack and config."""
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    steps = doc["jobs"]["judged-by-base"]["steps"]
    checkouts = [s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@")]
    judge, change = checkouts
    assert judge["with"] == {
        "ref": "${{ github.event.pull_request.base.sha }}",
        "path": "judge",
        "persist-credentials": False,
    }
    assert change["with"]["path"] == "change" and change["with"]["persist-credentials"] is False
    runs = [(i, s.get("run", "")) for i, s in enumerate(steps)]
    (digest_at,) = [i for i, run in runs if "integrity.digests" in run]
    assert steps.index(judge) < digest_at < steps.index(change)
    assert not any("change" in run and "pip install" in run for _, run in runs)
    (gate,) = [run for _, run in runs if "ack-fleet" in run]
    assert "judge/.venv/bin/ack-fleet --program change gate --policy-pack judge/policies" in gate
    assert "--program-path change/components" in gate
    assert "judge/policies/config.json" in gate


def test_pull_requests_get_the_change_as_a_picture():
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    job = doc["jobs"]["picture"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert "--mermaid" in script and "--diff" in script
    (post,) = [s for s in job["steps"] if s.get("uses") == "./.github/actions/pr-comment"]
    assert post["with"]["marker"] == "ack-offline-picture"


def test_pull_requests_get_each_stacks_real_preview_as_a_comment():
    """The real preview is posted per stack (its own marker), also when it fails: a blocked
    preview is the one reviewers most need to read."""
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    job = doc["jobs"]["preview"]
    # (id-token: the read-only RAM role is assumed through GitHub OIDC, no stored cloud key)
    assert job["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "id-token": "write",
    }
    assert "ALICLOUD_ACCESS_KEY" not in str(job.get("env"))
    steps = job["steps"]
    (preview,) = [s for s in steps if "pulumi preview --stack" in s.get("run", "")]
    assert "set -o pipefail" in preview["run"] and "tee" in preview["run"]
    (post,) = [s for s in steps if s.get("uses") == "./.github/actions/pr-comment"]
    assert post["with"]["marker"] == "pulumi-preview-${{ matrix.stack }}"
    assert post["if"].startswith("always()")
    assert steps.index(post) > steps.index(preview)


def test_the_readme_layout_names_what_exists():
    developing = (ROOT / "docs" / "DEVELOPING.md").read_text()
    block = developing.split("## Project layout", 1)[1].split("```", 2)[1]
    stack: list[str] = []
    named = 0
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = (len(line) - len(line.lstrip())) // 2
        if indent > 8:
            continue  # a wrapped description
        name = line.split()[0]
        stack[indent:] = [name]
        path = ROOT.joinpath(*stack)
        assert path.exists(), (
            f"docs/DEVELOPING.md layout names {'/'.join(stack)}, which does not exist"
        )
        named += 1
    assert named > 20


def test_the_type_checker_skips_only_sdk_code_nothing_uses():
    """A cold mypy skips the provider SDKs' unused service packages and the unused modules of
    the pulumi-alicloud packages in use; a package or a name the code starts to use must be
    checked (else its types would silently be Any)."""
    from . import mypy_skips

    # Compared over what the installed SDKs have: the lists are generated at the newest
    # versions, and the lowest supported ones (the dependency-bounds job) lack a few packages.
    installed = {
        f"{sdk}.{package}"
        for sdk in mypy_skips.SDKS
        for package in mypy_skips.service_packages(sdk)
    }
    configured = [name for name in mypy_skips.configured() if name.removesuffix(".*") in installed]
    assert configured == mypy_skips.skippable(), (
        "update pyproject.toml's skip override: python -m tests.mypy_skips"
    )
    followed = [name for name in mypy_skips.configured_followed() if mypy_skips.installed(name)]
    assert followed == mypy_skips.followed(), (
        "update pyproject.toml's follow override: python -m tests.mypy_skips"
    )
    for sdk in mypy_skips.SDKS:
        for package in mypy_skips.used(sdk):
            assert f"{sdk}.{package}" not in mypy_skips.configured(), package
    assert "pulumi_alicloud.cs" not in mypy_skips.configured()
    assert {"pulumi_alicloud.cs", "pulumi_alicloud.cs.node_pool"} <= set(followed)
