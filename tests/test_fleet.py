"""Fleets: one address plan across stacks (ack-fleet), proven offline."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ack_clusters.fleet.plan import UsedRange, allocate, domains_of, free_range, overlaps
from ack_clusters.validation import CONTROL_PLANE_RANGE, PRIVATE_RANGES
from ack_offline import fleet
from ack_offline.preview import main as ack_preview

from .conftest import ACK_PREVIEW, ROOT

Net = ipaddress.IPv4Network


def used(stack: str, kind: str, cidr: str) -> UsedRange:
    return UsedRange(stack, kind, Net(cidr), kind)  # type: ignore[arg-type]


def test_overlaps_name_both_stacks_and_ranges_and_skip_a_stacks_own():
    ranges = [
        used("a", "vpc", "10.0.0.0/16"),
        used("a", "services", "10.0.128.0/20"),  # a's own: its arguments are checked already
        used("b", "services", "10.0.4.0/24"),  # inside a's VPC
        used("c", "vpc", "10.1.0.0/16"),  # adjacent, not overlapping
    ]
    (found,) = overlaps(ranges, "prod")
    assert str(found) == (
        "routing domain 'prod': stack a vpc 10.0.0.0/16 (vpc) overlaps stack b services "
        "10.0.4.0/24 (services)"
    )


def test_every_overlapping_pair_is_found_however_the_ranges_nest():
    ranges = [
        used("a", "vpc", "10.0.0.0/8"),
        used("b", "vpc", "10.1.0.0/16"),
        used("c", "vpc", "10.1.2.0/24"),
        used("d", "vpc", "10.200.0.0/16"),
    ]
    pairs = {(o.a.stack, o.b.stack) for o in overlaps(ranges, "x")}
    assert pairs == {("a", "b"), ("a", "c"), ("a", "d"), ("b", "c")}


def test_without_a_fleet_file_every_stack_shares_one_domain():
    assert domains_of(["b", "a"], None) == {"all": ["a", "b"]}
    assert domains_of(["a", "b", "c"], {"prod": ["a", "b"]}) == {
        "prod": ["a", "b"],
        "c (alone)": ["c"],
    }
    with pytest.raises(ValueError, match="do not exist: z"):
        domains_of(["a"], {"prod": ["a", "z"]})


networks = st.builds(
    lambda base, prefix: Net((base >> (32 - prefix) << (32 - prefix), prefix)),
    st.integers(0, 2**32 - 1),
    st.integers(8, 24),
)


@settings(max_examples=200, deadline=None)
@given(taken=st.lists(networks, max_size=40), flannel=st.booleans())
def test_allocations_never_overlap_what_is_taken_nor_each_other_nor_leave_private_space(
    taken, flannel
):
    try:
        got = allocate(taken, pod_prefix=16 if flannel else None)
    except ValueError:
        # Only when the private space really is full at that size.
        assert any(t.prefixlen <= 12 and t.is_private for t in taken)
        return
    new = [got.vpc_cidr, got.service_cidr] + ([got.pod_cidr] if got.pod_cidr else [])
    for n in new:
        assert n is not None
        assert any(n.subnet_of(space) for space in PRIVATE_RANGES)
        assert not n.overlaps(CONTROL_PLANE_RANGE)
        assert not any(n.overlaps(t) for t in taken)
    for i, a in enumerate(new):
        for b in new[i + 1 :]:
            assert not a.overlaps(b)


def test_allocation_takes_the_lowest_free_aligned_block():
    taken = [Net("10.0.0.0/16"), Net("10.1.0.0/17")]
    assert free_range(taken, 16, within=(Net("10.0.0.0/8"),)) == Net("10.2.0.0/16")
    assert free_range(taken, 17, within=(Net("10.0.0.0/8"),)) == Net("10.1.128.0/17")
    with pytest.raises(ValueError, match="no free /9"):
        free_range([Net("10.0.0.0/9"), Net("10.128.0.0/9")], 9, within=(Net("10.0.0.0/8"),))


# -- the command, on a project of its own --------------------------------------------------


def project_with(tmp_path: Path, stacks: dict[str, dict[str, object]]) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "stacks").mkdir()
    shutil.copy(ROOT / "stacks" / "__main__.py", root / "stacks" / "__main__.py")
    for name, cluster in stacks.items():
        doc = {"config": {"alicloud:region": "cn-hangzhou", "ack-clusters:cluster": cluster}}
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(doc))
    return root


def cluster(name: str, vpc: str | None, service: str | None = None) -> dict[str, object]:
    network: dict[str, object] = {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]}
    if vpc:
        network["vpc_cidr"] = vpc
    out: dict[str, object] = {"kind": "serverless", "name": name, "network": network}
    if service:
        out["service_cidr"] = service
    return out


def test_check_names_the_overlap_and_writes_the_plan(tmp_path, capsys):
    root = project_with(
        tmp_path,
        {
            "prod-a": cluster("a", "10.10.0.0/16", "172.30.0.0/20"),
            "prod-b": cluster("b", None),  # defaults: 10.0.0.0/16 and 172.21.0.0/20
            "prod-c": cluster("c", "10.11.0.0/16", "10.10.16.0/20"),  # inside prod-a's VPC
        },
    )
    plan = tmp_path / "plan.md"
    assert fleet.main(["--program", str(root), "check", "--markdown", str(plan)]) == 1
    err = capsys.readouterr().err
    assert (
        "stack prod-a vpc 10.10.0.0/16 (network.vpc_cidr) overlaps stack prod-c services "
        "10.10.16.0/20 (service_cidr)"
    ) in err
    text = plan.read_text()
    assert "| prod-b | vpc | `10.0.0.0/16` | network.vpc_cidr (default) |" in text
    assert "## Overlaps" in text and "prod-c services" in text
    # In separate routing domains, nothing is shared.
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(yaml.safe_dump({"routing_domains": {"a": ["prod-a"], "c": ["prod-c"]}}))
    assert fleet.main(["--program", str(root), "--fleet", str(fleet_file), "check"]) == 0


def test_allocate_writes_a_stack_that_fits_the_fleet_and_builds(tmp_path, capsys):
    root = project_with(
        tmp_path,
        {"one": cluster("one", None), "two": cluster("two", "10.1.0.0/16", "172.16.0.0/20")},
    )
    args = ["--program", str(root), "allocate", "three", "--region", "cn-hangzhou"]
    args += ["--zones", "cn-hangzhou-i,cn-hangzhou-j", "--kind", "managed", "--flannel", "--write"]
    assert fleet.main(args) == 0
    written = yaml.safe_load((root / "stacks" / "Pulumi.three.yaml").read_text())
    made = written["config"]["ack-clusters:cluster"]
    assert made["network"]["vpc_cidr"] == "10.2.0.0/16"  # after 10.0/16 (default) and 10.1/16
    assert made["service_cidr"] == "172.16.16.0/20"  # after two's 172.16.0.0/20
    assert made["pod_cidr"] == "172.17.0.0/16"
    # The new stack overlaps none of the others.
    capsys.readouterr()
    fleet.main(["--program", str(root), "check"])
    assert "three" not in capsys.readouterr().err
    # And it is a stack the program builds (a node pool added, as a user would).
    made["node_pools"] = {
        "web": {"instance_types": ["ecs.g7.large"], "desired_size": 1, "key_name": "ops"}
    }
    (root / "stacks" / "Pulumi.three.yaml").write_text(yaml.safe_dump(written))
    assert ack_preview(["three", "--program", str(root)]) == 0


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        (
            ["allocate", "one", "--region", "cn-hangzhou", "--zones", "cn-hangzhou-i"],
            "exists already",
        ),
        (
            ["allocate", "new", "--region", "cn-hangzhou", "--zones", "cn-shanghai-e"],
            "not a zone of region",
        ),
        (
            ["allocate", "Bad_Name", "--region", "cn-hangzhou", "--zones", "cn-hangzhou-i"],
            "stack name",
        ),
    ],
)
def test_bad_requests_are_exit_2_naming_the_problem(tmp_path, capsys, extra, text):
    root = project_with(tmp_path, {"one": cluster("one", None)})
    assert fleet.main(["--program", str(root), *extra]) == 2
    assert text in capsys.readouterr().err


def test_a_broken_stack_is_exit_2_naming_its_file_and_key(tmp_path, capsys):
    root = project_with(tmp_path, {"one": cluster("one", "10.0.0.1/16")})
    assert fleet.main(["--program", str(root), "check"]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.one.yaml" in err and "ack-clusters:cluster.network.vpc_cidr" in err


# -- the fleet gate --------------------------------------------------------------------------


@pytest.mark.heavy
def test_the_fleet_gate_reports_every_stack_and_exits_with_the_worst(tmp_path, capsys):
    root = project_with(
        tmp_path,
        {
            "ok": cluster("ok", "10.1.0.0/16"),
            "public": {**cluster("public", "10.2.0.0/16"), "public_api_server": True},
            "broken": cluster("broken", "10.3.0.1/16"),
        },
    )
    report = tmp_path / "gate.json"
    args = ["--program", str(root), "gate", "--policy-pack", str(ROOT / "policies")]
    rc = fleet.main([*args, "--workers", "2", "--json", str(report)])
    out = capsys.readouterr()
    assert rc == 2  # a broken stack outranks a violation: no verdict is the worst
    doc = json.loads(report.read_text())["stacks"]
    # Each stack judged twice: as a preview of a new stack and as an update of a deployed one.
    assert sorted((r["stack"], r["mode"]) for r in doc) == sorted(
        (s, m) for s in ("ok", "public", "broken") for m in ("preview", "update")
    )
    rows = {r["stack"]: r for r in doc if r["mode"] == "preview"}
    assert rows["ok"]["exit"] == 0 and rows["ok"]["resources"] == 15
    assert rows["public"]["exit"] == 1 and rows["public"]["mandatory"] >= 1
    assert rows["broken"]["exit"] == 2 and "vpc_cidr" in rows["broken"]["error"]
    assert "| public | preview | 1 | 15 |" in out.out and "| public | update | 1 | 15 |" in out.out
    assert "[ack-api-server-not-public]" in out.err
    # Without the broken stack, the worst is the violation.
    (root / "stacks" / "Pulumi.broken.yaml").unlink()
    assert fleet.main(args) == 1


@pytest.mark.parametrize(
    ("code", "report"),
    [(0, False), (1, False), (-9, False), (5, False), (-11, True), (127, True)],
    ids=["quiet exit 0", "quiet exit 1", "killed", "crashed", "killed after a report", "odd"],
)
def test_a_stack_without_a_report_or_a_known_exit_is_not_a_pass(
    tmp_path, monkeypatch, capsys, code, report
):
    """Beside a stack that passes, one that leaves no report, or ends in a way ack-preview
    never ends (a signal, a crash), makes the whole gate 'no verdict'."""
    root = project_with(
        tmp_path, {"ok": cluster("ok", "10.1.0.0/16"), "bad": cluster("bad", "10.2.0.0/16")}
    )
    passing = json.dumps({"summary": {"resources": 15, "mandatory": 0, "advisory": 0}})

    def ack_preview(argv: list[str], timeout: float) -> tuple[int, str, str]:
        if argv[0] == "ok":
            return 0, passing, ""
        return code, passing if report else "", "it went wrong"

    monkeypatch.setattr(fleet, "run_ack_preview", ack_preview)
    report_file = tmp_path / "gate.json"
    gate = ["--program", str(root), "gate", "--policy-pack", str(ROOT / "policies")]
    assert fleet.main([*gate, "--json", str(report_file)]) == 2
    found = json.loads(report_file.read_text())["stacks"]
    rows = {r["stack"]: r for r in found if r["mode"] == "update"}
    assert rows["ok"]["exit"] == 0 and rows["bad"]["exit"] == 2
    assert "it went wrong" in rows["bad"]["error"]
    capsys.readouterr()


@pytest.mark.heavy
@pytest.mark.parametrize(
    "args",
    [
        ["managed-dev", "--json", "--policy-pack", str(ROOT / "policies")],
        ["serverless-dev"],  # a program warning on stderr
        ["no-such-stack"],  # exit 2 and its message
    ],
    ids=["json with the gate", "text", "broken"],
)
def test_each_stack_runs_exactly_as_the_console_script_runs_it(args):
    """The fleet forks each stack's process from a server that imported what ack-preview
    imports; what it reports must be what `ack-preview` in a new interpreter reports."""
    argv = [*args, "--program", str(ROOT)]
    forked = fleet.run_ack_preview(argv, timeout=120)
    fresh = subprocess.run(
        [*ACK_PREVIEW, *argv], capture_output=True, text=True, timeout=120, check=False
    )
    assert forked == (fresh.returncode, fresh.stdout, fresh.stderr)


def test_without_a_fork_server_each_stack_gets_a_new_interpreter(monkeypatch):
    monkeypatch.setattr(fleet, "_fork_server", lambda: None)
    code, out, err = fleet.run_ack_preview(["serverless-dev", "--program", str(ROOT)], 120)
    assert code == 0 and "Stack ack-clusters-serverless-dev" in out and "WARNING:" in err


@pytest.mark.heavy
@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "interpreter"])
def test_a_stack_past_the_time_limit_gets_no_verdict(fork_server, tmp_path, monkeypatch):
    if not fork_server:
        monkeypatch.setattr(fleet, "_fork_server", lambda: None)
    root = project_with(tmp_path, {"slow": cluster("slow", "10.1.0.0/16")})
    (root / "stacks" / "__main__.py").write_text("import time\ntime.sleep(120)\n")
    argv = ["slow", "--json", "--program", str(root), "--policy-pack", str(ROOT / "policies")]
    code, out, err = fleet.run_ack_preview(argv, timeout=1)
    assert (code, out) == (2, "") and "no verdict within 1 s" in err


@pytest.mark.heavy
def test_since_a_revision_gates_the_changed_stacks_and_predicts_their_changes(tmp_path):
    root = project_with(
        tmp_path, {"a": cluster("a", "10.1.0.0/16"), "b": cluster("b", "10.2.0.0/16")}
    )
    # The pack is part of the repository: one outside it would make every stack count as changed.
    shutil.copytree(
        ROOT / "policies", root / "policies", ignore=shutil.ignore_patterns("__pycache__")
    )
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *cmd], cwd=root, check=True, capture_output=True)
    changed = cluster("b", "10.2.0.0/16", "172.22.0.0/20")  # a new Service range: replaces
    doc = {"config": {"alicloud:region": "cn-hangzhou", "ack-clusters:cluster": changed}}
    (root / "stacks" / "Pulumi.b.yaml").write_text(yaml.safe_dump(doc))
    report = tmp_path / "gate.json"
    since = [
        *("--program", str(root), "gate", "--since", "HEAD", "--mode", "preview"),
        *("--policy-pack", str(root / "policies")),
    ]
    rc = fleet.main([*since, "--json", str(report)])
    (row,) = json.loads(report.read_text())["stacks"]
    assert row["stack"] == "b" and row["replacements"] >= 1
    assert rc == 3  # a cluster replacement is refused without --allow-replace
    # A change outside the stack files (the program) gates every stack.
    (root / "stacks" / "__main__.py").write_text(
        (root / "stacks" / "__main__.py").read_text() + "\n"
    )
    fleet.main([*since, "--json", str(report)])
    assert {r["stack"] for r in json.loads(report.read_text())["stacks"]} == {"a", "b"}


def _committed(tmp_path: Path) -> Path:
    """A repository holding a project in a subfolder (as a monorepo does), committed."""
    repo = tmp_path / "repo"
    repo.mkdir()
    root = project_with(repo, {"a": cluster("a", "10.1.0.0/16"), "b": cluster("b", "10.2.0.0/16")})
    (repo / "shared").mkdir()
    (repo / "shared" / "naming.py").write_text("PREFIX = 'ack'\n")
    shutil.copytree(
        ROOT / "policies", repo / "policies", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return root


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _gated(
    monkeypatch, root: Path, *args: str, pack: Path | None = None
) -> tuple[int, list[str], str]:
    """`ack-fleet gate --since ...` with each stack's ack-preview answered at once: the exit
    code, the stacks it gated, and what it said."""
    gated: list[str] = []

    def ack_preview(argv: list[str], timeout: float) -> tuple[int, str, str]:
        gated.append(argv[0])
        return 0, json.dumps({"summary": {"resources": 1, "mandatory": 0, "advisory": 0}}), ""

    monkeypatch.setattr(fleet, "run_ack_preview", ack_preview)
    pack = pack or root.parent / "policies"
    argv = ["--program", str(root), "gate", "--mode", "preview", "--policy-pack", str(pack)]
    code = fleet.main([*argv, *args])
    return code, sorted(gated), ""


@pytest.mark.parametrize(
    "change",
    [
        "a stack file",
        "a module beside the project",
        "the pack in the repository",
        "the project file",
        "an untracked file",
        "a deleted stack file",
        "a staged rename",
    ],
)
def test_since_gates_every_stack_when_anything_but_stack_files_changed(
    tmp_path, monkeypatch, capsys, change
):
    """`--since` looks at the whole repository, not the project folder: a shared module, the
    pack or anything else outside the stack files may change every stack."""
    root = _committed(tmp_path)
    repo = root.parent
    if change == "a stack file":
        path = root / "stacks" / "Pulumi.b.yaml"
        path.write_text(path.read_text() + "\n# touched\n")
        expected = ["b"]
    else:
        expected = ["a", "b"]
        if change == "a module beside the project":
            (repo / "shared" / "naming.py").write_text("PREFIX = 'other'\n")
        elif change == "the pack in the repository":
            main = repo / "policies" / "__main__.py"
            main.write_text(main.read_text() + "\n")
        elif change == "the project file":
            (root / "Pulumi.yaml").write_text((root / "Pulumi.yaml").read_text() + "\n")
        elif change == "an untracked file":
            (repo / "shared" / "extra.py").write_text("X = 1\n")
        elif change == "a deleted stack file":
            (root / "stacks" / "Pulumi.a.yaml").unlink()
            expected = ["b"]  # every stack there is
        else:
            git(repo, "mv", "shared/naming.py", "shared/names.py")
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    err = capsys.readouterr().err
    assert code == 0 and gated == expected, err
    assert "since " in err and ("every stack" in err) == (change != "a stack file")


def test_since_gates_every_stack_when_the_pack_is_outside_the_repository(
    tmp_path, monkeypatch, capsys
):
    root = _committed(tmp_path)
    outside = tmp_path / "elsewhere"
    shutil.copytree(root.parent / "policies", outside)
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD", pack=outside)
    assert code == 0 and gated == ["a", "b"]
    assert "is outside the repository" in capsys.readouterr().err


@pytest.mark.parametrize(
    "since", ["--output=written.txt", "-p", "no-such-revision", "HEAD~5", "", "HEAD:stacks"]
)
def test_since_takes_only_a_commit(tmp_path, monkeypatch, capsys, since):
    """A value git would read as an option, or one naming no commit, ends the gate (exit 2):
    never 'nothing changed', never an option to git."""
    root = _committed(tmp_path)
    code, gated, _ = _gated(monkeypatch, root, f"--since={since}")
    err = capsys.readouterr().err
    assert code == 2 and gated == [] and "--since" in err
    assert not list(tmp_path.rglob("written.txt"))


def test_the_fleet_gate_without_a_pack_judges_nothing_and_says_so(tmp_path, capsys):
    root = project_with(tmp_path, {"a": cluster("a", "10.1.0.0/16")})
    assert fleet.main(["--program", str(root), "gate"]) == 2
    assert "--policy-pack" in capsys.readouterr().err


@pytest.mark.parametrize("base", ["--output=written.txt", "no-such-revision"])
def test_ack_preview_diff_takes_only_a_file_or_a_commit(tmp_path, capsys, base):
    root = _committed(tmp_path)
    code = ack_preview(["a", "--program", str(root), f"--diff={base}"])
    assert code == 2 and "--diff" in capsys.readouterr().err
    assert not list(tmp_path.rglob("written.txt"))
