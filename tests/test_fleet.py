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
    assert fleet.main(["--program", str(root), "gate", "--json", str(report_file)]) == 2
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
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *cmd], cwd=root, check=True, capture_output=True)
    changed = cluster("b", "10.2.0.0/16", "172.22.0.0/20")  # a new Service range: replaces
    doc = {"config": {"alicloud:region": "cn-hangzhou", "ack-clusters:cluster": changed}}
    (root / "stacks" / "Pulumi.b.yaml").write_text(yaml.safe_dump(doc))
    report = tmp_path / "gate.json"
    since = ["--program", str(root), "gate", "--since", "HEAD", "--mode", "preview"]
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
