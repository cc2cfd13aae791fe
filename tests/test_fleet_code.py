"""ack-fleet on a project whose program builds its clusters in code (no `PROJECT:cluster` in
its stack files): `check` and `allocate` read the ranges from the graph the program registers
offline, and `gate` judges its stacks as it judges config-driven ones."""

from __future__ import annotations

import ipaddress
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from ack_clusters.fleet.plan import ranges_of_graph
from ack_offline import fleet

from .conftest import PACK_DIR

PROGRAM = textwrap.dedent(
    """
    import pulumi
    from ack_clusters import ManagedCluster

    cfg = pulumi.Config()
    ManagedCluster(pulumi.get_stack(), {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"],
                    "vpc_cidr": cfg.get("vpc") or "10.0.0.0/16"},
        "service_cidr": cfg.get("services") or "172.21.0.0/20",
    })
    """
)


def code_project(root: Path, stacks: dict[str, dict[str, str]], program: str = PROGRAM) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text("name: shop\nruntime: python\n")
    (root / "__main__.py").write_text(program)
    for stack, config in stacks.items():
        doc = {"config": {"alicloud:region": "cn-hangzhou", **config}}
        (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    return root


@pytest.mark.heavy
def test_check_reads_the_ranges_a_code_defined_program_plans(tmp_path, capsys):
    root = code_project(
        tmp_path / "p",
        {"a": {}, "b": {"shop:vpc": "10.1.0.0/16", "shop:services": "172.22.0.0/20"}},
    )
    plan = tmp_path / "plan.md"
    assert fleet.main(["--program", str(root), "check", "--markdown", str(plan)]) == 0
    out, err = capsys.readouterr()
    assert "2 stacks, 4 ranges, 1 routing domain(s), 0 overlapping pair(s)" in out
    assert "is not set" not in err
    table = plan.read_text()
    assert "| b | vpc | `10.1.0.0/16` | `vpc.Network 'b-vpc' cidrBlock` |" in table
    assert "| a | services | `172.21.0.0/20` | `cs.ManagedKubernetes 'a' serviceCidr` |" in table

    # Both on the default Service range: the overlap is found, named by the resources.
    (root / "Pulumi.b.yaml").write_text(
        yaml.safe_dump({"config": {"alicloud:region": "cn-hangzhou", "shop:vpc": "10.1.0.0/16"}})
    )
    assert fleet.main(["--program", str(root), "check"]) == 1
    err = capsys.readouterr().err
    assert (
        "stacks a and b overlap: a services 172.21.0.0/20 (cs.ManagedKubernetes 'a' serviceCidr)"
        " with b services 172.21.0.0/20 (cs.ManagedKubernetes 'b' serviceCidr)" in err
    )


UNKNOWN_RANGE = textwrap.dedent(
    """
    import pulumi_alicloud as alicloud
    from ack_clusters import ManagedCluster

    key = alicloud.kms.Key("k")
    # A range only known once another resource exists: nothing offline can prove it.
    alicloud.vpc.Network("shared", cidr_block=key.id.apply(lambda _: "10.5.0.0/16"))
    alicloud.vpc.Network("picked")  # no cidr_block: the cloud picks one
    ManagedCluster("c", {"network": {"zones": ["cn-hangzhou-i"]}})
    """
)


@pytest.mark.heavy
def test_a_range_the_graph_cannot_tell_is_not_proven(tmp_path, capsys):
    root = code_project(tmp_path / "p", {"a": {}}, UNKNOWN_RANGE)
    assert fleet.main(["--program", str(root), "check"]) == 2
    err = capsys.readouterr().err
    assert "the address plan of the clusters its program builds cannot be proven" in err
    assert "vpc.Network 'shared': cidrBlock is not a CIDR known offline" in err
    assert "vpc.Network 'picked': cidrBlock is not set, so the cloud picks the range" in err


def test_a_program_that_fails_offline_is_no_plan(tmp_path, capsys):
    root = code_project(tmp_path / "p", {"a": {}}, "raise SystemExit('needs a deployed stack')\n")
    assert fleet.main(["--program", str(root), "check"]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.a.yaml gives no shop:cluster, so its program builds its clusters in code" in err
    assert "running it offline to read its ranges failed" in err


@pytest.mark.heavy
def test_allocate_prints_free_ranges_and_will_not_write_a_file_the_program_ignores(
    tmp_path, capsys
):
    root = code_project(tmp_path / "p", {"a": {}, "b": {"shop:vpc": "10.1.0.0/16"}})
    allocate = ["--program", str(root), "allocate", "c", "--region", "cn-hangzhou"]
    allocate += ["--zones", "cn-hangzhou-i"]
    assert fleet.main(allocate) == 0
    out, err = capsys.readouterr()
    got = yaml.safe_load(out)
    assert set(got) == {"network", "service_cidr"}
    taken = [ipaddress.ip_network(c) for c in ("10.0.0.0/16", "10.1.0.0/16", "172.21.0.0/20")]
    for cidr in (got["network"]["vpc_cidr"], got["service_cidr"]):
        assert not any(ipaddress.ip_network(cidr).overlaps(t) for t in taken), cidr
    assert "builds its clusters in code" in err
    assert fleet.main([*allocate, "--write"]) == 2
    err = capsys.readouterr().err
    assert "--write: the stacks of this project give no shop:cluster" in err
    assert not (root / "Pulumi.c.yaml").exists()


@pytest.mark.heavy
def test_gate_judges_a_code_defined_project(tmp_path, capsys):
    root = code_project(tmp_path / "p", {"a": {}})
    report = tmp_path / "gate.json"
    argv = ["--program", str(root), "gate", "--policy-pack", str(PACK_DIR), "--mode", "preview"]
    assert fleet.main([*argv, "--json", str(report)]) == 0
    (row,) = json.loads(report.read_text())["stacks"]
    assert row["exit"] == 0 and row["mandatory"] == 0 and row["resources"] > 10


def test_graph_ranges_come_from_the_inputs_that_hold_them():
    resources = [
        {
            "type": "alicloud:vpc/network:Network",
            "name": "v",
            "inputs": {"cidrBlock": "10.0.0.0/16"},
        },
        {
            "type": "alicloud:vpc/ipv4CidrBlock:Ipv4CidrBlock",
            "name": "more",
            "inputs": {"secondaryCidrBlock": "10.9.0.0/16"},
        },
        {
            "type": "alicloud:cs/managedKubernetes:ManagedKubernetes",
            "name": "c",
            "inputs": {"serviceCidr": "172.21.0.0/20", "podCidr": "172.16.0.0/16"},
        },
        {"type": "alicloud:cs/managedKubernetes:ManagedKubernetes", "name": "t", "inputs": {}},
        {"type": "alicloud:vpc/switch:Switch", "name": "s", "inputs": {"cidrBlock": "10.0.1.0/24"}},
        {"type": "alicloud:vpc/network:Network", "name": "x", "inputs": {"cidrBlock": "[secret]"}},
    ]
    ranges, problems = ranges_of_graph("s", resources)
    assert sorted((r.kind, str(r.cidr), r.source) for r in ranges) == [
        ("pods", "172.16.0.0/16", "cs.ManagedKubernetes 'c' podCidr"),
        ("services", "172.21.0.0/20", "cs.ManagedKubernetes 'c' serviceCidr"),
        ("vpc", "10.0.0.0/16", "vpc.Network 'v' cidrBlock"),
        ("vpc", "10.9.0.0/16", "vpc.Ipv4CidrBlock 'more' secondaryCidrBlock"),
    ]
    assert problems == [
        "cs.ManagedKubernetes 't': serviceCidr is not set, so the cloud picks the range; set it",
        "vpc.Network 'x': cidrBlock is not a CIDR known offline (another resource's output, a "
        "stack reference or a secret); give it as a CIDR in the program or its config",
    ]
