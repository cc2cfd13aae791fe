"""The project keeps its promises: README, CI and the code say the same thing."""

from __future__ import annotations

import re

import yaml

from components.args import ManagedClusterArgs, NetworkArgs, NodePoolArgs

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    (command,) = re.findall(r"^TEST_COMMAND='(.+)'$", ci, flags=re.M)
    assert f". .venv/bin/activate && {command}\n" in README


def test_ci_treats_no_tests_collected_as_failure():
    ci = (ROOT / ".ci" / "run").read_text()
    assert '"$rc" -eq 5' in ci and "exit 1" in ci


def test_every_argument_is_documented_in_the_readme():
    for model in (ManagedClusterArgs, NetworkArgs, NodePoolArgs):
        for field in model.model_fields:
            assert f"`{field}`" in README, f"{model.__name__}.{field} is not in README.md"


def test_pulumi_project_points_at_stacks_folder():
    meta = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert meta["main"].rstrip("/") == "stacks" and meta["stackConfigDir"] == "stacks"
    assert meta["runtime"]["name"] == "python"
    assert (ROOT / "stacks" / "__main__.py").is_file()
