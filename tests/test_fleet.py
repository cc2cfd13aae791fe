"""Fleets: one address plan across stacks (ack-fleet), proven offline."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ack_clusters.fleet.plan import (
    UsedRange,
    allocate,
    domains_of,
    free_range,
    overlapping_stacks,
)
from ack_clusters.validation import CONTROL_PLANE_RANGE, PRIVATE_RANGES
from ack_offline import exits, fleet, revisions
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
    found = overlapping_stacks(ranges, "prod")
    assert found.pairs == 1
    (pair,) = found.stack_pairs()
    assert str(pair) == (
        "routing domain 'prod': stacks a and b overlap: a vpc 10.0.0.0/16 (vpc) with b "
        "services 10.0.4.0/24 (services)"
    )


def test_every_overlapping_pair_is_found_however_the_ranges_nest():
    ranges = [
        used("a", "vpc", "10.0.0.0/8"),
        used("b", "vpc", "10.1.0.0/16"),
        used("c", "vpc", "10.1.2.0/24"),
        used("d", "vpc", "10.200.0.0/16"),
    ]
    found = overlapping_stacks(ranges, "x")
    pairs = {(o.a, o.b) for o in found.stack_pairs()}
    assert pairs == {("a", "b"), ("a", "c"), ("a", "d"), ("b", "c")} and found.pairs == 4


def test_two_stacks_overlapping_in_several_ranges_are_one_line():
    """One line per pair of stacks, naming every pair of their ranges that overlaps."""
    ranges = [
        used("a", "vpc", "10.0.0.0/16"),
        used("a", "services", "172.21.0.0/20"),
        used("b", "vpc", "10.0.0.0/16"),
        used("b", "services", "172.21.0.0/20"),
    ]
    found = overlapping_stacks(ranges, "all")
    (pair,) = found.stack_pairs()
    assert found.pairs == 1 and len(pair.ranges) == 2
    assert str(pair).count("with") == 2 and "\n" not in str(pair)
    assert found.most_shared == ((Net("10.0.0.0/16"), 2), (Net("172.21.0.0/20"), 2))


stack_ranges = st.lists(
    st.tuples(
        st.sampled_from("abcdefgh"),
        st.sampled_from(["vpc", "services", "pods"]),
        st.builds(
            lambda base, prefix: Net((base >> (32 - prefix) << (32 - prefix), prefix)),
            st.integers(0x0A000000, 0x0A0FFFFF),  # in 10.0/12: nested and equal ones are common
            st.integers(8, 24),
        ),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(raw=stack_ranges, limit=st.none() | st.integers(0, 5))
def test_the_overlapping_pairs_are_exactly_those_a_pairwise_comparison_finds(raw, limit):
    """Counting through the tree of blocks gives the pairs comparing every two ranges gives,
    each with exactly the ranges that overlap, in order, the first `limit` of them listed."""
    ranges = [UsedRange(s, k, n, k) for s, k, n in raw]
    expected: dict[tuple[str, str], set[tuple[UsedRange, UsedRange]]] = {}
    for ra in ranges:
        for rb in ranges:
            if ra.stack < rb.stack and ra.cidr.overlaps(rb.cidr):
                expected.setdefault((ra.stack, rb.stack), set()).add((ra, rb))
    found = overlapping_stacks(ranges, "d")
    assert found.pairs == len(expected)
    listed = list(found.stack_pairs(limit))
    keys = sorted(expected)
    assert [(o.a, o.b) for o in listed] == keys[: len(keys) if limit is None else limit]
    for o in listed:
        assert set(o.ranges) == expected[(o.a, o.b)] and list(o.ranges) == sorted(o.ranges)


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
    out, err = capsys.readouterr()
    line = (
        "routing domain 'all': stacks prod-a and prod-c overlap: prod-a vpc 10.10.0.0/16 "
        "(network.vpc_cidr) with prod-c services 10.10.16.0/20 (service_cidr)"
    )
    assert err == f"ack-fleet: {line}\n"
    assert (
        out
        == "ack-fleet: 3 stacks, 6 ranges, 1 routing domain(s), 1 overlapping pair(s) of stacks\n"
    )
    text = plan.read_text()
    assert "| prod-b | vpc | `10.0.0.0/16` | `network.vpc_cidr (default)` |" in text
    assert text.endswith(f"## Overlaps\n\n- `{line}`\n")
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


SHIPPED_FLEET = ROOT / "stacks" / "fleet.yaml"


def test_the_shipped_stacks_pass_check_with_their_fleet_file_and_ci_runs_it(capsys):
    """This repository's stacks, as shipped, hold their own address plan (stacks/fleet.yaml),
    and .ci/run proves it on every run, under `set -e`, before the gate."""
    assert fleet.main(["--program", str(ROOT), "--fleet", str(SHIPPED_FLEET), "check"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (
        "ack-fleet: 4 stacks, 10 ranges, 3 routing domain(s), 0 overlapping pair(s) of stacks\n",
        "",
    )
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "set -euo pipefail" in lines
    check_at = lines.index("ack-fleet --fleet stacks/fleet.yaml check")
    assert check_at < next(i for i, line in enumerate(lines) if line.startswith("ack-fleet gate"))


def test_the_shipped_fleet_judges_a_domain_and_keeps_the_legacy_cluster_out(tmp_path, capsys):
    """The dev domain holds two stacks (check judges something), and the adopted legacy
    cluster is in none: in dev, its ranges would be managed-dev's."""
    domains = fleet.load_fleet(SHIPPED_FLEET)
    assert domains is not None and domains["dev"] == ["managed-dev", "serverless-dev"]
    assert not any("dedicated-dev" in members for members in domains.values())
    fleet_file = tmp_path / "fleet.yaml"
    with_legacy = {**domains, "dev": [*domains["dev"], "dedicated-dev"]}
    fleet_file.write_text(yaml.safe_dump({"routing_domains": with_legacy}))
    assert fleet.main(["--program", str(ROOT), "--fleet", str(fleet_file), "check"]) == 1
    assert "stacks dedicated-dev and managed-dev overlap" in capsys.readouterr().err


def many_stacks(tmp_path: Path, count: int) -> Path:
    """A project of `count` serverless stacks, all on the default ranges."""
    root = project_with(tmp_path, {})
    for i in range(count):
        text = (
            "config:\n  alicloud:region: cn-hangzhou\n  ack-clusters:cluster:\n"
            f"    kind: serverless\n    name: c{i}\n"
            "    network: {zones: [cn-hangzhou-i, cn-hangzhou-j]}\n"
        )
        (root / "stacks" / f"Pulumi.s{i:04d}.yaml").write_text(text)
    return root


@pytest.mark.heavy
def test_check_on_2000_stacks_on_defaults_says_it_in_a_bounded_number_of_lines(tmp_path, capsys):
    """2,000 stacks on the default ranges are 1,999,000 overlapping pairs (3,998,000 pairs of
    ranges, one line each before): 100 pairs are listed, one line per pair, then one line with
    the count and the ranges that cause it; the Markdown plan the same."""
    root = many_stacks(tmp_path, 2000)
    plan = tmp_path / "plan.md"
    started = time.perf_counter()
    assert fleet.main(["--program", str(root), "check", "--markdown", str(plan)]) == 1
    seconds = time.perf_counter() - started
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == fleet.MAX_PAIRS + 1 == 101
    assert all(" overlap: " in line for line in lines[:-1])
    assert lines[0].startswith("ack-fleet: routing domain 'all': stacks s0000 and s0001 overlap")
    assert lines[-1] == (
        "ack-fleet: routing domain 'all': 1,999,000 pairs of stacks overlap, 100 listed "
        "(--max-pairs 0 lists all); the ranges the most stacks use: 10.0.0.0/16 (2,000 "
        "stacks), 172.21.0.0/20 (2,000 stacks)"
    )
    assert "1999000 overlapping pair(s) of stacks" in out
    assert plan.read_text().count("\n- ") == 101
    assert seconds < 60  # about 2 s here; the pairwise listing took 56 s and 881 MB


def test_check_lists_every_pair_once_when_asked_and_each_domain_its_own(tmp_path, capsys):
    """--max-pairs 0 lists every pair: exactly one line per pair of stacks, never one per
    pair of ranges; a smaller limit is shared by the domains, each saying what it left out."""
    root = many_stacks(tmp_path, 12)
    assert fleet.main(["--program", str(root), "check", "--max-pairs", "0"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(set(lines)) == 12 * 11 // 2
    fleet_file = tmp_path / "fleet.yaml"
    domains = {"a": [f"s{i:04d}" for i in range(6)], "b": [f"s{i:04d}" for i in range(6, 12)]}
    fleet_file.write_text(yaml.safe_dump({"routing_domains": domains}))
    args = ["--program", str(root), "--fleet", str(fleet_file), "check", "--max-pairs", "20"]
    assert fleet.main(args) == 1
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 21 and all(" overlap: " in line for line in lines[:20])
    assert [line.split(": ", 2)[1] for line in lines[:20]] == ["routing domain 'a'"] * 15 + [
        "routing domain 'b'"
    ] * 5
    assert lines[-1] == (
        "ack-fleet: routing domain 'b': 15 pairs of stacks overlap, 5 listed (--max-pairs 0 "
        "lists all); the ranges the most stacks use: 10.0.0.0/16 (6 stacks), 172.21.0.0/20 "
        "(6 stacks)"
    )
    assert "30 overlapping pair(s) of stacks" in out


def allocating(stack: str, *extra: str, zones: str = "cn-hangzhou-i") -> list[str]:
    """`allocate STACK --write` in cn-hangzhou, with `extra` options."""
    return ["allocate", stack, "--region", "cn-hangzhou", "--zones", zones, "--write", *extra]


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (allocating("one"), "Pulumi.one.yaml exists already: pass --force"),
        (allocating("ONE", "--name", "x"), "differs from it only in case"),
        (
            allocating("new", zones="cn-shanghai-e"),
            "--zones: 'cn-shanghai-e' is not a zone of region cn-hangzhou",
        ),
        (
            allocating("new", zones="cn-hangzhou-i,,"),
            "--zones: 'cn-hangzhou-i,,': comma-separated zone IDs, none empty",
        ),
        (
            allocating("new", zones="cn-hangzhou-i,cn-hangzhou-i"),
            "--zones: cn-hangzhou-i is given twice",
        ),
        (allocating("Bad Name"), "stack name 'Bad Name': 1-100 letters, digits"),
        (allocating("../../x"), "stack name '../../x'"),
        (allocating("x" * 101), "stack name 'xxxx"),
        (
            allocating("Bad_Name"),
            "stack name 'Bad_Name' as the cluster's name: 'Bad_Name' is not a cluster name",
        ),
        (allocating("new", "--name", "Bad Name"), "--name: 'Bad Name' is not a cluster name"),
        (
            allocating("new", "--region", "cn-hangzou", zones="cn-hangzou-i"),
            "--region: 'cn-hangzou' is not a region; did you mean 'cn-hangzhou'?",
        ),
        (
            allocating("new", "--region", "CN-Hangzhou"),
            "--region: 'CN-Hangzhou' is not an Alibaba Cloud region ID",
        ),
        (
            allocating("new", "--region", "xx-nowhere-1", zones="xx-nowhere-1a"),
            "--region: 'xx-nowhere-1' is not among the regions known",
        ),
        (
            allocating("new", "--domain", "prod"),
            "--domain: names a routing domain of a fleet file: give it with --fleet",
        ),
        (
            [a for a in allocating("new", "--force") if a != "--write"],
            "--force: replaces a stack file, so it goes with --write",
        ),
        (["check", "--markdown", "/proc/no/such/plan.md"], "--markdown /proc/no/such/plan.md"),
        (
            ["check", "--markdown", "stacks/Pulumi.one.yaml"],
            "--markdown: stacks/Pulumi.one.yaml is a file check reads; write elsewhere",
        ),
    ],
)
def test_bad_requests_are_exit_2_naming_the_problem_and_write_nothing(
    tmp_path, capsys, monkeypatch, argv, text
):
    root = project_with(tmp_path, {"one": cluster("one", None)})
    before = {p.name: p.read_bytes() for p in (root / "stacks").iterdir()}
    monkeypatch.chdir(root)
    assert fleet.main(["--program", str(root), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ack-fleet: ") and text in err and err.count("\n") == 1, err
    assert {p.name: p.read_bytes() for p in (root / "stacks").iterdir()} == before


def test_a_broken_stack_is_exit_2_naming_its_file_and_key(tmp_path, capsys):
    root = project_with(tmp_path, {"one": cluster("one", "10.0.0.1/16")})
    assert fleet.main(["--program", str(root), "check"]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.one.yaml" in err and "ack-clusters:cluster.network.vpc_cidr" in err


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "config:\n  alicloud:region: cn-hangzou\n",
            "alicloud:region: 'cn-hangzou' is not a region",
        ),
        (
            "config:\n  alicloud:region: cn-shanghai\n",
            "cn-hangzhou-i is not a zone of region cn-shanghai",
        ),
        ("config: {}\n", "alicloud:region: is not set"),
    ],
)
def test_check_holds_a_stack_to_its_region_as_the_program_does(tmp_path, capsys, text, said):
    """A misspelt region, or zones of another region, are refused by check as by the stack
    program (allocate writes neither)."""
    root = project_with(tmp_path, {"one": cluster("one", "10.1.0.0/16")})
    file = root / "stacks" / "Pulumi.one.yaml"
    doc = yaml.safe_load(file.read_text())
    doc["config"] = {
        **yaml.safe_load(text)["config"],
        "ack-clusters:cluster": doc["config"]["ack-clusters:cluster"],
    }
    file.write_text(yaml.safe_dump(doc))
    assert fleet.main(["--program", str(root), "check"]) == 2
    assert said in capsys.readouterr().err


DEEP_YAML = "routing_domains: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_JSON = '{"routing_domains": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize(
    ("fleet_text", "said"),
    [
        (None, "fleet.yaml cannot be read: No such file or directory"),
        ("/dev/zero", "fleet.yaml is not a file"),  # endless
        ("fifo", "fleet.yaml is not a file"),  # no writer: a read would wait for ever
        (DEEP_YAML, "fleet.yaml is nested too deeply"),
        (DEEP_JSON, "fleet.yaml is nested too deeply"),
        ("routing_domains: {prod: [one\n", "fleet.yaml is not valid YAML"),
        ("- one\n", "fleet.yaml: must be a mapping with routing_domains"),
        ("", "fleet.yaml: must be a mapping with routing_domains"),
        ("routing_domain: {prod: [one]}\n", "did you mean routing_domains?"),
        ("routing_domains: {prod: one}\n", "routing_domains.prod must be a list of stack names"),
        ("routing_domains: {prod: [one, one]}\n", "routing_domains.prod names 'one' twice"),
        ("routing_domains: {prod: [one, nine]}\n", "names stacks that do not exist: nine"),
        # The name ack-fleet gives the domain of a stack the file does not name: refused, so
        # that it cannot stand in for (and hide) that domain.
        ('routing_domains: {"two (alone)": [one]}\n', "routing domain 'two (alone)' is not a name"),
        ('routing_domains: {"a\\nb": [one]}\n', "routing domain 'a\\nb' is not a name"),
        ("routing_domains: {1: [one]}\n", "routing domain 1 is not a name"),
    ],
)
def test_a_broken_fleet_file_is_exit_2_naming_it(tmp_path, capsys, fleet_text, said):
    root = project_with(
        tmp_path, {"one": cluster("one", "10.1.0.0/16"), "two": cluster("two", None)}
    )
    fleet_file = tmp_path / "fleet.yaml"
    if fleet_text == "/dev/zero":
        fleet_file.symlink_to("/dev/zero")
    elif fleet_text == "fifo":
        os.mkfifo(fleet_file)
    elif fleet_text is not None:
        fleet_file.write_text(fleet_text)
    for command in (
        ["check"],
        ["allocate", "new", "--region", "cn-hangzhou", "--zones", "cn-hangzhou-i", "--write"],
    ):
        assert fleet.main(["--program", str(root), "--fleet", str(fleet_file), *command]) == 2
        err = capsys.readouterr().err
        assert said in err and err.startswith(f"ack-fleet: {fleet_file}"), err
        assert not (root / "stacks" / "Pulumi.new.yaml").exists()


@pytest.mark.parametrize(
    "text",
    [
        "config:\n  ack-clusters:cluster: " + "[" * 5000 + "]" * 5000 + "\n",
        "config:\n  ack-clusters:cluster: {kind: managed, name: a, network: "
        + "{a: " * 3000
        + "1"
        + "}" * 3000
        + "}\n",
    ],
)
def test_a_deeply_nested_stack_file_is_exit_2_naming_it(tmp_path, capsys, text):
    root = project_with(tmp_path, {"one": cluster("one", "10.1.0.0/16")})
    (root / "stacks" / "Pulumi.two.yaml").write_text(text)
    assert fleet.main(["--program", str(root), "check"]) == 2
    assert (
        capsys.readouterr().err
        == f"ack-fleet: {root / 'stacks' / 'Pulumi.two.yaml'} is nested too deeply\n"
    )


def test_a_stack_file_whose_name_is_no_stack_name_is_refused_escaped(tmp_path, capsys):
    """A file name cannot forge a line of the report: refused, its name escaped."""
    root = project_with(tmp_path, {"one": cluster("one", "10.1.0.0/16")})
    (root / "stacks" / "Pulumi.x\nack-fleet: 0 overlaps.yaml").write_text("config: {}\n")
    assert fleet.main(["--program", str(root), "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'x\\nack-fleet: 0 overlaps' is not a stack name" in err


@pytest.mark.parametrize(
    "command", [["check"], ["allocate", "x", "--region", "cn-hangzhou", "--zones", "cn-hangzhou-i"]]
)
def test_standard_output_that_cannot_be_written_is_exit_2_without_a_traceback(tmp_path, command):
    """A full disk (/dev/full) or a closed pipe under standard output: exit 2, one line."""
    root = project_with(tmp_path, {"one": cluster("one", "10.1.0.0/16")})
    argv = [sys.executable, "-m", "ack_offline.fleet", "--program", str(root), *command]
    with open("/dev/full", "w") as full:
        done = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "ack-fleet: cannot write standard output: No space left on device\n"
    # A reader that went away (`ack-fleet check | head -0`).
    reader = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()
    assert reader.wait(timeout=120) == 2
    assert reader.stderr.read() == "ack-fleet: cannot write standard output: Broken pipe\n"
    reader.stderr.close()


# -- allocation: recorded, locked, checked -----------------------------------------------------


def allocate_args(root: Path, stack: str, *extra: str, fleet_file: Path | None = None) -> list[str]:
    """`ack-fleet allocate STACK` in cn-hangzhou's zones i and j, with `extra` options."""
    where = ["--program", str(root)] + (["--fleet", str(fleet_file)] if fleet_file else [])
    return [*where, *allocating(stack, zones="cn-hangzhou-i,cn-hangzhou-j")[:-1], *extra]


FLEET = """\
# Which stacks CEN joins (a comment that stays).
routing_domains:
  prod: [one]  # the production CEN
  staging:
    - two   # the staging one
"""


def test_allocate_records_the_stack_in_its_domain_so_the_next_one_avoids_it(tmp_path, capsys):
    """`allocate --domain D --write` twice: the second stack avoids the first (the fleet file
    now names it in D), check passes, and the fleet file keeps its comments and layout."""
    root = project_with(tmp_path, {"one": cluster("one", None), "two": cluster("two", None)})
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(FLEET)
    for stack in ("three", "four"):
        args = allocate_args(root, stack, "--domain", "prod", "--write", fleet_file=fleet_file)
        assert fleet.main(args) == 0
    assert fleet_file.read_text() == FLEET.replace("[one]", "[one, three, four]")
    vpcs = {
        s: yaml.safe_load((root / "stacks" / f"Pulumi.{s}.yaml").read_text())["config"][
            "ack-clusters:cluster"
        ]["network"]["vpc_cidr"]
        for s in ("three", "four")
    }
    assert vpcs == {"three": "10.1.0.0/16", "four": "10.2.0.0/16"}  # one has 10.0/16
    # A block list, and a name YAML would read as something else than a string.
    args = allocate_args(root, "yes", "--domain", "staging", fleet_file=fleet_file)
    assert fleet.main([*args, "--name", "yes-cluster", "--write"]) == 0
    assert fleet_file.read_text().endswith('    - two   # the staging one\n    - "yes"\n')
    assert yaml.safe_load(fleet_file.read_text())["routing_domains"]["staging"] == ["two", "yes"]
    capsys.readouterr()
    assert fleet.main(["--program", str(root), "--fleet", str(fleet_file), "check"]) == 0
    # Without --write: printed, the fleet file as it was, and what to add said.
    args = allocate_args(root, "five", "--domain", "prod", fleet_file=fleet_file)
    before = fleet_file.read_text()
    assert fleet.main(args) == 0
    out, err = capsys.readouterr()
    assert "vpc_cidr: 10.3.0.0/16" in out and fleet_file.read_text() == before
    assert "add five to routing domain prod" in err


def test_a_fleet_file_whose_layout_cannot_be_kept_is_written_anew_and_said(tmp_path, capsys):
    root = project_with(tmp_path, {"one": cluster("one", None), "two": cluster("two", None)})
    fleet_file = tmp_path / "fleet.yaml"
    # An alias: editing the list in place would add the stack to both domains.
    fleet_file.write_text("routing_domains:\n  prod: &p [one]\n  copy: *p\n")
    args = allocate_args(root, "three", "--domain", "prod", "--write", fleet_file=fleet_file)
    assert fleet.main(args) == 0
    assert yaml.safe_load(fleet_file.read_text()) == {
        "routing_domains": {"prod": ["one", "three"], "copy": ["one"]}
    }
    assert "written anew" in capsys.readouterr().err


def test_allocate_refuses_an_existing_stack_unless_forced_then_allocates_it_anew(tmp_path):
    root = project_with(
        tmp_path, {"one": cluster("one", None), "two": cluster("two", "10.1.0.0/16")}
    )
    file = root / "stacks" / "Pulumi.two.yaml"
    before = file.read_text()
    assert fleet.main(allocate_args(root, "two", "--write")) == 2
    assert file.read_text() == before
    assert fleet.main(allocate_args(root, "two", "--write", "--force")) == 0
    made = yaml.safe_load(file.read_text())["config"]["ack-clusters:cluster"]
    # Its old ranges are not kept for it; the others' are avoided.
    assert made["network"]["vpc_cidr"] == "10.1.0.0/16" and made["kind"] == "managed"


def test_an_unwritable_target_is_exit_2_and_leaves_nothing_half_written(tmp_path, capsys):
    """The fleet file is written, then the stack file: when either cannot be, both are as they
    were, so the fleet never holds a stack without its file nor the other way round."""
    root = project_with(tmp_path, {"one": cluster("one", None)})
    # A name the file system takes, but not with the partial file's prefix and suffix.
    fleet_file = tmp_path / ("f" * 240 + ".yaml")
    fleet_file.write_text(FLEET.replace("    - two   # the staging one\n", "    - one\n"))
    before = fleet_file.read_text()
    args = allocate_args(root, "three", "--domain", "prod", "--write", fleet_file=fleet_file)
    assert fleet.main(args) == 2
    err = capsys.readouterr().err
    assert err == f"ack-fleet: {fleet_file}: cannot write: File name too long\n"
    assert fleet_file.read_text() == before
    assert sorted(p.name for p in (root / "stacks").iterdir()) == ["Pulumi.one.yaml", "__main__.py"]
    # The stack file itself: its partial file's place is taken. The fleet file is put back.
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(before)
    blocker = root / "stacks" / f".Pulumi.three.yaml.ack-fleet-{os.getpid()}"
    blocker.mkdir()
    args = allocate_args(root, "three", "--domain", "prod", "--write", fleet_file=fleet_file)
    assert fleet.main(args) == 2
    assert capsys.readouterr().err == (
        f"ack-fleet: {root / 'stacks' / 'Pulumi.three.yaml'}: cannot write: File exists\n"
    )
    assert not (root / "stacks" / "Pulumi.three.yaml").exists()
    assert fleet_file.read_text() == before
    blocker.rmdir()
    assert fleet.main(args) == 0 and "three" in fleet_file.read_text()


_STOPPED_BETWEEN_THE_WRITES = """
import os, signal, sys, time
from ack_offline import fleet
real = fleet.write_atomically
def write(path, text):
    real(path, text)
    if path.name == "fleet.yaml":  # the fleet file written, the stack file not yet
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)
fleet.write_atomically = write
sys.argv = ["ack-fleet", *sys.argv[1:]]
fleet.console()
"""

_STOPPED_CHECKING = """
import os, signal, sys, time
from ack_offline import fleet
def check(ns):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)
    return 0
fleet.check = check
sys.argv = ["ack-fleet", *sys.argv[1:]]
fleet.console()
"""


@pytest.mark.parametrize("command", ["check", "allocate --write"])
def test_sigterm_during_check_or_allocate_is_a_stopped_run_with_files_that_agree(tmp_path, command):
    """SIGTERM during check or allocate said "internal error (_Stopped: SIGTERM); please report
    it"; between allocate's two writes it left the fleet file naming a stack with no file. It
    is "stopped by SIGTERM", exit 2, and allocate's two files are both written or neither."""
    root = project_with(tmp_path, {"one": cluster("one", None), "two": cluster("two", None)})
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(FLEET)
    if command == "check":
        script, args = _STOPPED_CHECKING, ["--program", str(root), "check"]
    else:
        script = _STOPPED_BETWEEN_THE_WRITES
        args = allocate_args(root, "three", "--domain", "prod", "--write", fleet_file=fleet_file)
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == "ack-fleet: stopped by SIGTERM", done.stderr
    assert "internal error" not in done.stderr
    if command != "check":
        recorded = "three" in yaml.safe_load(fleet_file.read_text())["routing_domains"]["prod"]
        assert recorded and (root / "stacks" / "Pulumi.three.yaml").exists()
        assert f"wrote {root / 'stacks' / 'Pulumi.three.yaml'}" in done.stdout


def test_a_stack_stopped_before_it_opened_its_output_is_not_judged_as_stopped(monkeypatch):
    """SIGTERM half a second into a gate ended a stack before it created its output files:
    "not started: FileNotFoundError ... stdout". It is "not judged: ack-fleet was stopped"."""
    monkeypatch.setattr(fleet, "_STOPPING", threading.Event())

    class Ended:
        pid, exitcode = 0, -15

        def terminate(self) -> None:
            pass

    def start(argv: list[str], out: Path, err: Path) -> Ended:
        fleet._STOPPING.set()  # the signal arrives as the stack starts
        return Ended()

    monkeypatch.setattr(fleet, "_start_ack_preview", start)
    assert fleet.run_ack_preview(["a"], 10) == (2, "", "not judged: ack-fleet was stopped")


_ALLOCATE_AT_ONCE = """
import sys, time
from pathlib import Path
from ack_offline import fleet  # imported before the start: all allocate at once
Path(sys.argv[2]).touch()
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.001)
sys.exit(fleet.main(sys.argv[3:]))
"""


@pytest.mark.heavy
def test_parallel_allocations_never_hand_out_the_same_block(tmp_path):
    """Six `allocate --write` processes started at the same instant, in one domain: six
    different blocks, all six in the fleet file, and check passes."""
    root = project_with(tmp_path, {"one": cluster("one", None)})
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text("routing_domains:\n  prod: [one]\n")
    go = tmp_path / "go"
    stacks = [f"p{i}" for i in range(6)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _ALLOCATE_AT_ONCE,
                str(go),
                str(tmp_path / f"ready-{s}"),
                *allocate_args(root, s, "--domain", "prod", "--write", fleet_file=fleet_file),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in stacks
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{s}").exists() for s in stacks):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes)
        time.sleep(0.01)
    go.touch()  # every process has imported ack-fleet and waits for this
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, results
    made = [
        yaml.safe_load((root / "stacks" / f"Pulumi.{s}.yaml").read_text())["config"][
            "ack-clusters:cluster"
        ]
        for s in stacks
    ]
    vpcs = {m["network"]["vpc_cidr"] for m in made}
    services = {m["service_cidr"] for m in made}
    assert len(vpcs) == len(services) == 6 and "10.0.0.0/16" not in vpcs
    assert sorted(yaml.safe_load(fleet_file.read_text())["routing_domains"]["prod"]) == sorted(
        ["one", *stacks]
    )
    assert fleet.main(["--program", str(root), "--fleet", str(fleet_file), "check"]) == 0


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
def test_since_a_revision_gates_the_changed_stacks_and_predicts_their_changes(
    tmp_path, monkeypatch
):
    _tool_checkout_unseen(monkeypatch)
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


CODE_PROGRAM = """\
import pulumi
from ack_clusters import ServerlessCluster

ServerlessCluster(
    pulumi.get_stack(),
    {"network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]}, "service_cidr": "SERVICE"},
)
"""


@pytest.mark.heavy
def test_since_a_revision_runs_the_program_as_it_was_for_a_code_change(tmp_path, monkeypatch):
    """A code change (a Service range set in the program, not in any stack file) gates every
    stack against the program as it was: the replacement is predicted and exits 3, its reason
    is in the report."""
    _tool_checkout_unseen(monkeypatch)
    root = project_with(tmp_path, {"a": cluster("a", "10.1.0.0/16")})
    shutil.copytree(
        ROOT / "policies", root / "policies", ignore=shutil.ignore_patterns("__pycache__")
    )
    main_py = root / "stacks" / "__main__.py"
    main_py.write_text(CODE_PROGRAM.replace("SERVICE", "172.16.0.0/20"))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        git(root, *args)
    report = tmp_path / "gate.json"
    since = [
        *("--program", str(root), "gate", "--since", "HEAD", "--mode", "preview"),
        *("--policy-pack", str(root / "policies"), "--json", str(report)),
    ]
    assert fleet.main(since) == 0  # nothing changed yet
    main_py.write_text(CODE_PROGRAM.replace("SERVICE", "172.22.0.0/20"))
    assert fleet.main(since) == 3
    (row,) = json.loads(report.read_text())["stacks"]
    assert row["exit"] == 3 and row["replacements"] >= 1
    assert "ManagedKubernetes a is replaced (--allow-replace)" in row["guarded"]


@pytest.mark.parametrize(
    ("codes", "worst"),
    [((0, 3, 1), 1), ((3, 0), 3), ((1, 2, 3), 2), ((0,), 0), ((), 0), ((0, -9), 2)],
)
def test_the_fleet_gate_and_ack_preview_rank_exit_codes_alike(codes, worst):
    """One order for both tools (ack_offline.exits): no verdict, then a mandatory violation,
    then a guarded change; an exit ack-preview never gives is no verdict."""
    assert exits.worst(codes) == worst
    assert fleet.WORST_FIRST == exits.WORST_FIRST == (2, 1, 3, 0)


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


def _tool_checkout_unseen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program's import path as its interpreter says, less this checkout of the tool: the
    tests' interpreter has it installed editable, from outside every repository a test makes,
    which alone would make --since gate every stack (as it must for a real program)."""
    real = revisions.import_path

    def probe(python: str, pythonpath: list[Path], cwd: Path) -> dict[str, Any]:
        found = real(python, pythonpath, cwd)

        def ours(path: str) -> bool:
            return Path(path).resolve().is_relative_to(ROOT.resolve())

        return {
            "path": [e for e in found["path"] if not ours(e[0])],
            "editable": [e for e in found["editable"] if not ours(e[1])],
        }

    monkeypatch.setattr(revisions, "import_path", probe)


def _gated(
    monkeypatch, root: Path, *args: str, pack: Path | None = None
) -> tuple[int, list[str], str]:
    """`ack-fleet gate --since ...` with each stack's ack-preview answered at once: the exit
    code, the stacks it gated, and what it said."""
    gated: list[str] = []
    _tool_checkout_unseen(monkeypatch)

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


@pytest.mark.parametrize(
    ("pattern", "ignored", "every"),
    [
        ("local_settings.py", "proj/stacks/local_settings.py", True),  # beside the program
        ("*.local.json", "proj/stacks/config/clusters.local.json", True),  # the program's folder
        ("local.json", "policies/local.json", True),  # the pack's folder
        # where no program imports or reads from: the repository's root is not on its path
        ("local_settings.py", "local_settings.py", False),
        ("build/", "build/lib/shared/naming.py", False),
        ("node_modules/", "tests/mermaid/node_modules/katex/src/metrics/parse_tfm.py", False),
        ("node_modules/", "proj/stacks/node_modules/x/y.py", False),  # npm's, pinned by its lock
        (".venv/", ".venv/pyvenv.cfg", False),
        ("__pycache__/", "proj/stacks/__pycache__/x.cpython-311.pyc", False),
        ("*.egg-info/", "proj/x.egg-info/PKG-INFO", False),
        (".mypy_cache/", ".mypy_cache/x.json", False),
    ],
)
def test_since_gates_every_stack_when_git_ignores_what_a_program_may_read(
    tmp_path, monkeypatch, capsys, pattern, ignored, every
):
    """A file git ignores that a program or pack may read (a local settings module beside the
    program, a pack's own config) may change without git seeing it: every stack is gated.
    Caches, bytecode, installed packages and ignored files no program can import or read (a
    build folder, a test tool's node_modules: `npm ci` gated every stack) are not sources."""
    root = _committed(tmp_path)
    repo = root.parent
    (repo / ".gitignore").write_text(pattern + "\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    (repo / ignored).parent.mkdir(parents=True, exist_ok=True)
    (repo / ignored).write_text("x\n")
    path = root / "stacks" / "Pulumi.b.yaml"
    path.write_text(path.read_text() + "\n# touched\n")
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    err = capsys.readouterr().err
    assert code == 0 and gated == (["a", "b"] if every else ["b"]), err
    assert ("ignored by git" in err) == every


def test_since_counts_an_ignored_module_on_a_program_path(tmp_path, monkeypatch, capsys):
    """An ignored module in a folder --program-path puts on the import path is a source."""
    root = _committed(tmp_path)
    repo = root.parent
    (repo / ".gitignore").write_text("generated_*.py\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    (repo / "shared" / "generated_names.py").write_text("X = 1\n")
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    assert code == 0 and gated == [], capsys.readouterr().err
    code, gated, _ = _gated(
        monkeypatch, root, "--since", "HEAD", "--program-path", str(repo / "shared")
    )
    assert code == 0 and gated == ["a", "b"]
    assert "shared/generated_names.py is ignored by git" in capsys.readouterr().err


def _virtualenv(folder: Path) -> tuple[str, Path]:
    """A new virtualenv (no pip): its interpreter and its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return str(python), Path(site)


@pytest.mark.parametrize("how", ["none", "PYTHONPATH", ".pth", "editable"])
def test_since_gates_every_stack_when_the_program_imports_from_outside_the_repository(
    tmp_path, monkeypatch, capsys, how
):
    """Code the program may import from outside the repository (a .pth file in its
    virtualenv, PYTHONPATH, an editable install of a sibling repository) may change without
    git seeing it: every stack (it passed 0 stacks, exit 0). A virtualenv of installed packages
    alone does not (none: the stack file changed only)."""
    root = _committed(tmp_path)
    shared = tmp_path / "sibling"
    shared.mkdir()
    (shared / "shared_mod.py").write_text("X = 1\n")
    python, site = _virtualenv(tmp_path / "venv")
    if how == "PYTHONPATH":
        monkeypatch.setenv("PYTHONPATH", str(shared))
    elif how == ".pth":
        (site / "shared.pth").write_text(f"{shared}\n")
    elif how == "editable":
        info = site / "sibling-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sibling\nVersion: 1.0\n")
        direct = {"url": shared.as_uri(), "dir_info": {"editable": True}}
        (info / "direct_url.json").write_text(json.dumps(direct))
    path = root / "stacks" / "Pulumi.b.yaml"
    path.write_text(path.read_text() + "\n# touched\n")
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD", "--program-python", python)
    err = capsys.readouterr().err
    assert code == 0 and gated == (["b"] if how == "none" else ["a", "b"]), err
    if how != "none":
        assert str(shared) in err and "outside the repository" in err


def _touch_stack_b(root: Path) -> None:
    path = root / "stacks" / "Pulumi.b.yaml"
    path.write_text(path.read_text() + "\n# touched\n")


@pytest.mark.parametrize("where", ["outside", "inside"])
def test_since_gates_every_stack_when_a_tracked_link_leads_out_of_the_repository(
    tmp_path, monkeypatch, capsys, where
):
    """A committed symbolic link to a module outside the repository: git tracks the link, not
    the file it reads, which changed unseen (it gated 0 stacks). A link inside it is ordinary."""
    root = _committed(tmp_path)
    repo = root.parent
    outside = tmp_path / "shared-outside"
    outside.mkdir()
    (outside / "netdefs.py").write_text("X = 1\n")
    target = outside / "netdefs.py" if where == "outside" else Path("../../shared/naming.py")
    (root / "stacks" / "netdefs.py").symlink_to(target)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    _touch_stack_b(root)
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    err = capsys.readouterr().err
    assert code == 0 and gated == (["a", "b"] if where == "outside" else ["b"]), err
    assert ("proj/stacks/netdefs.py is a symbolic link out" in err) == (where == "outside")


@pytest.mark.parametrize(
    ("nested", "program_path", "every"),
    [
        ("lib/netlib", "lib", True),  # a package of a folder on the import path
        ("lib/netlib", "lib/netlib", True),  # the folder on the import path itself
        ("lib/netlib", "lib/netlib/src", True),  # a folder inside it
        ("proj/stacks/vendored", None, True),  # the program's folder
        ("tools/other", "lib", False),  # where no program imports or reads from
    ],
)
def test_since_gates_every_stack_for_an_ignored_nested_repository_a_program_may_read(
    tmp_path, monkeypatch, capsys, nested, program_path, every
):
    """git lists an ignored nested repository as its folder alone (`lib/netlib/`), never its
    files: on the import path or in a program's folder it may change unseen (it gated 0)."""
    root = _committed(tmp_path)
    repo = root.parent
    (repo / ".gitignore").write_text(
        nested.split("/")[0] + "/\n" if "proj" not in nested else "vendored/\n"
    )
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    (repo / nested / "src").mkdir(parents=True)
    (repo / nested / "__init__.py").write_text("X = 1\n")
    git(repo / nested, "init", "-q")
    (repo / "lib").mkdir(exist_ok=True)
    _touch_stack_b(root)
    extra = ["--program-path", str(repo / program_path)] if program_path else []
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD", *extra)
    err = capsys.readouterr().err
    assert code == 0 and gated == (["a", "b"] if every else ["b"]), err
    assert (f"{nested} is ignored by git" in err) == every


@pytest.mark.parametrize("beside", [False, True], ids=["sourceless", "beside-its-source"])
def test_since_counts_an_ignored_sourceless_module(tmp_path, monkeypatch, capsys, beside):
    """`netdefs.pyc` with no `netdefs.py` is imported as the module (sourceless): ignored, its
    changes are unseen (it gated 0). Beside its source it is never imported."""
    root = _committed(tmp_path)
    repo = root.parent
    (repo / ".gitignore").write_text("*.pyc\n")
    if beside:
        (repo / "shared" / "netdefs.py").write_text("X = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "ignore")
    (repo / "shared" / "netdefs.pyc").write_bytes(b"compiled")
    _touch_stack_b(root)
    code, gated, _ = _gated(
        monkeypatch, root, "--since", "HEAD", "--program-path", str(repo / "shared")
    )
    err = capsys.readouterr().err
    assert code == 0 and gated == (["b"] if beside else ["a", "b"]), err
    assert ("shared/netdefs.pyc is ignored by git" in err) == (not beside)


@pytest.mark.parametrize("where", ["none", "outside", "ignored"])
def test_since_asks_each_packs_own_interpreter_for_its_import_path(
    tmp_path, monkeypatch, capsys, where
):
    """A pack runs in the virtualenv its PulumiPolicy.yaml names: a .pth file there reaching
    outside the repository, or into a folder git ignores, may change what the pack loads
    unseen (only the program's interpreter was asked: 0 stacks gated)."""
    root = _committed(tmp_path)
    repo = root.parent
    pack = repo / "policies"
    meta = pack / "PulumiPolicy.yaml"
    meta.write_text("runtime:\n  name: python\n  options:\n    virtualenv: venv\ndescription: p\n")
    (repo / ".gitignore").write_text("venv/\norgrules/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pack venv")
    _, site = _virtualenv(pack / "venv")
    rules = tmp_path / "orgrules" if where == "outside" else repo / "orgrules"
    rules.mkdir()
    (rules / "org_rules.py").write_text("X = 1\n")
    # The pack's virtualenv reaches the tests' installed packages (pulumi-policy, grpc), which
    # are not what this test is about.
    ours = [os.path.realpath(p) for p in sysconfig.get_paths().values()]
    (site / "deps.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in ours))
    if where != "none":
        (site / "org.pth").write_text(f"{rules}\n")
    real = revisions.import_path

    def probe(python: str, pythonpath: list[Path], cwd: Path) -> dict[str, Any]:
        found = real(python, pythonpath, cwd)
        return {**found, "path": [e for e in found["path"] if e[0] not in ours]}

    monkeypatch.setattr(revisions, "import_path", probe)
    _touch_stack_b(root)
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    err = capsys.readouterr().err
    assert code == 0 and gated == (["b"] if where == "none" else ["a", "b"]), err
    if where == "outside":
        assert f"{rules} is on the program's import path (the pack policies's" in err
    elif where == "ignored":
        assert "orgrules/org_rules.py is ignored by git" in err


def test_since_sees_submodules_and_files_git_is_told_to_ignore(tmp_path, monkeypatch, capsys):
    """A submodule's change counts however git is told to ignore it (.gitmodules ignore = all,
    diff.ignoreSubmodules), and a tracked file marked assume-unchanged or skip-worktree counts
    as changed: every stack (they gated 0)."""
    root = _committed(tmp_path)
    repo = root.parent
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "names.py").write_text("PREFIX = 'ack'\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "lib"]):
        git(lib, *args)
    git(repo, "-c", "protocol.file.allow=always", "submodule", "-q", "add", str(lib), "lib")
    git(repo, "config", "-f", ".gitmodules", "submodule.lib.ignore", "all")
    git(repo, "config", "diff.ignoreSubmodules", "all")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "submodule")
    assert _gated(monkeypatch, root, "--since", "HEAD")[1] == []
    (repo / "lib" / "names.py").write_text("PREFIX = 'other'\n")
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    assert code == 0 and gated == ["a", "b"] and "lib changed" in capsys.readouterr().err
    git(repo / "lib", "checkout", "-q", "names.py")
    git(repo, "update-index", "--assume-unchanged", "shared/naming.py")
    (repo / "shared" / "naming.py").write_text("PREFIX = 'other'\n")
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    assert code == 0 and gated == ["a", "b"]
    assert "shared/naming.py is marked assume-unchanged" in capsys.readouterr().err
    git(repo, "update-index", "--no-assume-unchanged", "shared/naming.py")
    git(repo, "checkout", "-q", "shared/naming.py")
    git(repo, "update-index", "--skip-worktree", "proj/stacks/Pulumi.b.yaml")
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    assert code == 0 and gated == ["b"], capsys.readouterr().err  # a stack file: that stack


def test_since_gates_every_stack_when_the_stack_files_are_outside_the_repository(
    tmp_path, monkeypatch, capsys
):
    root = _committed(tmp_path)
    outside = tmp_path / "configs"
    outside.mkdir()
    for stack_file in (root / "stacks").glob("Pulumi.*.yaml"):
        stack_file.rename(outside / stack_file.name)
    meta = (root / "Pulumi.yaml").read_text()
    assert "stackConfigDir: stacks" in meta
    (root / "Pulumi.yaml").write_text(
        meta.replace("stackConfigDir: stacks", f"stackConfigDir: {outside}")
    )
    git(root.parent, "commit", "-qam", "configs elsewhere")
    code, gated, _ = _gated(monkeypatch, root, "--since", "HEAD")
    assert code == 0 and gated == ["a", "b"]
    assert "is outside the repository" in capsys.readouterr().err


def _gate_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each stack's ack-preview replaced by a pass; the argument lists it was given."""
    called: list[list[str]] = []

    def ack_preview(argv: list[str], timeout: float) -> tuple[int, str, str]:
        called.append(argv)
        return 0, json.dumps({"summary": {"resources": 1, "mandatory": 0, "advisory": 0}}), ""

    monkeypatch.setattr(fleet, "run_ack_preview", ack_preview)
    return called


def _allocate_write(root: Path, stack: str) -> list[str]:
    where = ["--program", str(root), "allocate", "--region", "cn-hangzhou"]
    return [*where, "--zones", "cn-hangzhou-i", "--name", "c", "--write", "--", stack]


def _gate(root: Path, report: Path) -> list[str]:
    pack = ["--policy-pack", str(ROOT / "policies")]
    return ["--program", str(root), "gate", *pack, "--mode", "preview", "--json", str(report)]


@pytest.mark.parametrize("name", ["-x", "--allow-replace", "a b", "x" * 101, "é"])
def test_allocate_check_and_gate_refuse_the_same_stack_names(tmp_path, monkeypatch, capsys, name):
    """One rule: allocate never writes a stack that check refuses or gate does not judge
    (`-x` was written, then refused by gate only)."""
    root = project_with(tmp_path, {"one": cluster("one", "10.1.0.0/16")})
    assert fleet.main(_allocate_write(root, name)) == 2
    assert "not starting with '-'" in capsys.readouterr().err
    assert [p.name for p in (root / "stacks").glob("Pulumi.*.yaml")] == ["Pulumi.one.yaml"]
    (root / "stacks" / f"Pulumi.{name}.yaml").write_text(
        (root / "stacks" / "Pulumi.one.yaml").read_text()
    )
    assert fleet.main(["--program", str(root), "check"]) == 2
    assert "is not a stack name" in capsys.readouterr().err
    called = _gate_calls(monkeypatch)
    assert fleet.main(_gate(root, tmp_path / "gate.json")) == 2
    rows = {r["stack"]: r for r in json.loads((tmp_path / "gate.json").read_text())["stacks"]}
    assert rows[name]["exit"] == 2 and "not a stack name" in rows[name]["error"]
    assert rows["one"]["exit"] == 0 and [argv[0] for argv in called] == ["one"]


@pytest.mark.parametrize("name", ["_x", "9.z-", "Prod.eu-1_A", "x" * 100])
def test_a_stack_name_allocate_writes_is_checked_and_gated(tmp_path, monkeypatch, capsys, name):
    root = project_with(tmp_path, {"one": cluster("one", "10.1.0.0/16")})
    assert fleet.main(_allocate_write(root, name)) == 0
    assert fleet.main(["--program", str(root), "check"]) == 0
    called = _gate_calls(monkeypatch)
    assert fleet.main(_gate(root, tmp_path / "gate.json")) == 0
    assert sorted(argv[0] for argv in called) == sorted([name, "one"])
    capsys.readouterr()


@pytest.mark.parametrize("folder", ["emptied", "missing"])
def test_check_and_gate_of_no_stack_are_no_verdict(tmp_path, monkeypatch, capsys, folder):
    """A stackConfigDir emptied or misspelt: nothing was judged, so exit 2 saying so (it was
    "0 stacks gated, exit 0")."""
    root = project_with(tmp_path, {})
    if folder == "missing":
        text = (root / "Pulumi.yaml").read_text().replace("stackConfigDir: stacks", "")
        (root / "Pulumi.yaml").write_text(text + "stackConfigDir: stacsk\n")
    called = _gate_calls(monkeypatch)
    assert fleet.main(["--program", str(root), "check"]) == 2
    assert "check: no stack files" in capsys.readouterr().err
    assert fleet.main(_gate(root, tmp_path / "gate.json")) == 2
    err = capsys.readouterr().err
    assert "gate: no stack files" in err and called == []
    assert ("does not exist" in err) == (folder == "missing")


def test_the_gate_summary_counts_the_stacks_judged_and_names_the_others(
    tmp_path, monkeypatch, capsys
):
    root = project_with(tmp_path, {s: cluster(s, None) for s in ("a", "b", "c")})

    def ack_preview(argv: list[str], timeout: float) -> tuple[int, str, str]:
        if argv[0] == "b":
            return -9, "", "killed"  # no report: not judged
        return 0, json.dumps({"summary": {"resources": 1, "mandatory": 0}}), ""

    monkeypatch.setattr(fleet, "run_ack_preview", ack_preview)
    assert fleet.main(_gate(root, tmp_path / "gate.json")) == 2
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "ack-fleet: 2 of 3 stack runs judged, exit 2; not judged: b (preview)"
    monkeypatch.setattr(fleet, "run_ack_preview", lambda argv, timeout: ack_preview(["a"], 0))
    assert fleet.main(_gate(root, tmp_path / "gate.json")) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "ack-fleet: 3 of 3 stack runs judged, exit 0"


@pytest.mark.parametrize("name", ["HEAD", "origin/main", "SHA"])
def test_a_file_named_like_the_revision_never_replaces_it(tmp_path, monkeypatch, capsys, name):
    """`--diff HEAD` with a file `HEAD` in the working folder (a pull request may add one named
    `origin/main`, or the base's SHA, which ack-fleet --since passes): the revision is compared,
    never the file (which here would predict a replacement: exit 3)."""
    root = _committed(tmp_path)
    git(root.parent, "update-ref", "refs/remotes/origin/main", "HEAD")
    if name == "SHA":
        name = git(root.parent, "rev-parse", "HEAD").strip()
    monkeypatch.chdir(tmp_path)
    changed = cluster("a", "10.1.0.0/16", "172.22.0.0/20")
    doc = {"config": {"alicloud:region": "cn-hangzhou", "ack-clusters:cluster": changed}}
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(yaml.safe_dump(doc))
    assert ack_preview(["a", "--program", str(root), "--diff", name]) == 0
    capsys.readouterr()


def test_diff_takes_a_file_only_when_spelled_as_one(tmp_path, monkeypatch, capsys):
    """A file is read only when git names no commit by BASE and its name ends in .json, .yaml
    or .yml; a copy of the stack file so named is an ordinary base (exit 3: a replacement)."""
    root = _committed(tmp_path)
    monkeypatch.chdir(tmp_path)
    changed = cluster("a", "10.1.0.0/16", "172.22.0.0/20")
    doc = {"config": {"alicloud:region": "cn-hangzhou", "ack-clusters:cluster": changed}}
    (tmp_path / "saved").write_text(yaml.safe_dump(doc))
    assert ack_preview(["a", "--program", str(root), "--diff", "saved"]) == 2
    assert "a file is taken only when its name ends in .json" in capsys.readouterr().err
    (tmp_path / "saved.yaml").write_text(yaml.safe_dump(doc))
    assert ack_preview(["a", "--program", str(root), "--diff", "saved.yaml"]) == 3
    capsys.readouterr()


@pytest.mark.parametrize("ext", [".yml", ".json"])
def test_a_pulumi_yml_or_json_project_is_read_as_pulumi_reads_it(tmp_path, capsys, ext):
    """Pulumi takes Pulumi.json, Pulumi.yaml and Pulumi.yml (in that order), and a stack file
    with its project file's extension (sdk/go/common/workspace/paths.go): check, allocate and
    ack-preview read such a project (they said "no Pulumi.yaml")."""
    root = project_with(tmp_path, {"one": cluster("one", "10.1.0.0/16")})
    meta = yaml.safe_load((root / "Pulumi.yaml").read_text())
    (root / "Pulumi.yaml").unlink()
    stack = yaml.safe_load((root / "stacks" / "Pulumi.one.yaml").read_text())
    (root / "stacks" / "Pulumi.one.yaml").unlink()
    dump = (lambda d: json.dumps(d, indent=2)) if ext == ".json" else yaml.safe_dump
    (root / f"Pulumi{ext}").write_text(dump(meta))
    (root / "stacks" / f"Pulumi.one{ext}").write_text(dump(stack))
    assert fleet.main(["--program", str(root), "check"]) == 0
    assert "1 stacks, " in capsys.readouterr().out
    assert fleet.main(_allocate_write(root, "two")) == 0
    written = root / "stacks" / f"Pulumi.two{ext}"
    doc = json.loads(written.read_text()) if ext == ".json" else yaml.safe_load(written.read_text())
    assert doc["config"]["alicloud:region"] == "cn-hangzhou"
    assert fleet.main(["--program", str(root), "check"]) == 0
    assert "2 stacks, " in capsys.readouterr().out
    assert ack_preview(["two", "--program", str(root)]) == 0
    capsys.readouterr()


def test_a_json_stack_file_naming_a_key_twice_is_refused(tmp_path, capsys):
    root = project_with(tmp_path, {})
    meta = yaml.safe_load((root / "Pulumi.yaml").read_text())
    (root / "Pulumi.yaml").unlink()
    (root / "Pulumi.json").write_text(json.dumps(meta))
    text = '{"config": {"alicloud:region": "cn-hangzhou", "alicloud:region": "cn-beijing"}}'
    (root / "stacks" / "Pulumi.one.json").write_text(text)
    assert fleet.main(["--program", str(root), "check"]) == 2
    assert "duplicate key 'alicloud:region'" in capsys.readouterr().err
