"""ACK's version rules (ack_clusters.versions): one minor at a time, never down, pools never
ahead of the control plane; and `ack-preview --diff` refusing a change ACK would refuse."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ack_clusters.versions import (
    minors_between,
    pool_ahead_problem,
    upgrade_problem,
    version_problems,
)
from ack_offline.preview import main

from .conftest import ROOT

MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"
NP = "alicloud:cs/nodePool:NodePool"
UNKNOWN = "<unknown>"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("1.31.1-aliyun.1", "1.32.1-aliyun.1"),  # the next minor
        ("1.33.1-aliyun.1", "1.33.3-aliyun.1"),  # a patch
        ("1.33.3-aliyun.1", "1.33.3-aliyun.2"),  # an ACK build
        ("1.33.3-aliyun.1", "1.33.3-aliyun.1"),
        (None, "1.33.3-aliyun.1"),  # ACK's default before: not known here
        ("1.33.3-aliyun.1", None),  # no longer pinned: the provider sends nothing
    ],
)
def test_upgrades_ack_makes_pass(old, new):
    assert upgrade_problem(old, new) is None


def test_a_skipped_minor_names_the_versions_to_go_through():
    said = upgrade_problem("1.31.1-aliyun.1", "1.33.3-aliyun.1")
    assert said is not None
    assert "skips 1.32" in said and "1.32 -> 1.33" in said
    assert minors_between("1.30.1-aliyun.1", "1.33.3-aliyun.1") == ["1.31", "1.32", "1.33"]


@pytest.mark.parametrize(
    ("old", "new"),
    [("1.33.3-aliyun.1", "1.32.1-aliyun.1"), ("1.33.3-aliyun.1", "1.33.1-aliyun.1")],
)
def test_a_downgrade_is_refused(old, new):
    said = upgrade_problem(old, new)
    assert said is not None and "downgrade" in said


def test_a_pool_ahead_of_its_control_plane_is_refused():
    assert pool_ahead_problem("1.32.1-aliyun.1", "1.33.3-aliyun.1") is not None
    assert pool_ahead_problem("1.33.1-aliyun.1", "1.33.3-aliyun.1") is None  # same minor
    assert pool_ahead_problem("1.33.1-aliyun.1", "1.32.3-aliyun.1") is None  # behind: allowed
    assert pool_ahead_problem("1.33.1-aliyun.1", None) is None  # the cluster's own


@dataclass
class N:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)


def test_graph_rules_name_the_resource_and_fail_closed_on_unknown():
    before = [N("u1", MK, "dev", {"version": "1.31.1-aliyun.1"})]
    skip = [N("u1", MK, "dev", {"version": "1.33.3-aliyun.1"})]
    [(where, said)] = version_problems(before, skip, unknown={UNKNOWN})
    assert where == "ManagedKubernetes 'dev'" and "1.32" in said
    unknown = [N("u1", MK, "dev", {"version": UNKNOWN})]
    [(_, said)] = version_problems(before, unknown, unknown={UNKNOWN})
    assert "cannot be proven" in said
    new_cluster = [N("u2", MK, "other", {"version": "1.33.3-aliyun.1"})]
    assert version_problems(before, new_cluster, unknown={UNKNOWN}) == []
    pool = N("p", NP, "general", {"kubernetesVersion": "1.33.3-aliyun.1"})
    [(where, _)] = version_problems(before, [*before, pool], unknown={UNKNOWN})
    assert where == "NodePool 'general'"


# --- ack-preview --diff -----------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    return tmp_path


def _base(project: Path, version: str) -> Path:
    stack = project / "stacks" / "Pulumi.managed-dev.yaml"
    text = stack.read_text()
    assert "kubernetes_version: 1.33.3-aliyun.1" in text
    base = project / "base.yaml"
    base.write_text(text.replace("1.33.3-aliyun.1", version))
    return base


def test_diff_refuses_a_skipped_minor_with_exit_2(capsys, project):
    base = _base(project, "1.31.1-aliyun.1")
    rc = main(["managed-dev", "--program", str(project), "--diff", str(base)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "kubernetes_version" in err and "1.31.1-aliyun.1 -> 1.33.3-aliyun.1" in err
    assert "1.32 -> 1.33" in err


def test_diff_refuses_a_downgrade(capsys, project):
    base = _base(project, "1.34.1-aliyun.1")
    rc = main(["managed-dev", "--program", str(project), "--diff", str(base)])
    assert rc == 2 and "downgrade" in capsys.readouterr().err


def test_diff_passes_one_minor_up(capsys, project):
    base = _base(project, "1.32.7-aliyun.1")
    rc = main(["managed-dev", "--program", str(project), "--diff", str(base)])
    out = capsys.readouterr().out
    assert rc == 0 and "version: updated in place" in out
