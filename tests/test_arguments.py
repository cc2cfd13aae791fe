"""Bad input is refused before anything registers, with the field path and the fix."""

from __future__ import annotations

import pytest

from components import InvalidArguments, ManagedCluster

from .conftest import args, run

POOL = {"instance_types": ["ecs.g7.large"], "desired_size": 1, "key_name": "k"}
NET = {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]}

CASES = [
    (
        "malformed VPC CIDR",
        {"network": {**NET, "vpc_cidr": "10.0.0.1/16"}},
        "network.vpc_cidr",
        "host bits",
    ),
    (
        "public VPC CIDR",
        {"network": {**NET, "vpc_cidr": "8.8.0.0/16"}},
        "network.vpc_cidr",
        "not a private range",
    ),
    (
        "repeated zone",
        {"network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-i"]}},
        "network.zones",
        "repeated",
    ),
    ("no zones", {"network": {"zones": []}}, "network.zones", "at least 1"),
    (
        "VPC and existing VPC",
        {
            "network": {
                **NET,
                "vpc_cidr": "10.0.0.0/16",
                "existing_vpc": {"id": "vpc-a", "cidr": "10.0.0.0/16", "node_vswitches": {}},
            }
        },
        "network",
        "cannot be combined with existing_vpc",
    ),
    ("service CIDR in VPC", {"service_cidr": "10.0.16.0/20"}, "service_cidr", "overlaps the VPC"),
    (
        "KMS on standard",
        {"cluster_spec": "ack.standard", "secrets_encryption_kms_key_id": "key-1"},
        "",
        "needs a Pro cluster_spec",
    ),
    ("unknown spec", {"cluster_spec": "ack.mega"}, "cluster_spec", "Input should be"),
    ("pod_cidr with Terway", {"pod_cidr": "172.20.0.0/16"}, "", "pod_cidr is for Flannel"),
    ("network addon by hand", {"addons": [{"name": "flannel"}]}, "", "use network_plugin"),
    (
        "min above max",
        {
            "node_pools": {
                "p": {**POOL, "desired_size": None, "autoscaling": {"min_size": 5, "max_size": 2}}
            }
        },
        "node_pools.p.autoscaling",
        "must not exceed",
    ),
    (
        "desired outside autoscaling range",
        {
            "node_pools": {
                "p": {
                    **POOL,
                    "desired_size": 9,
                    "autoscaling": {"min_size": 1, "max_size": 3},
                    "ignore_scaling_changes": True,
                }
            }
        },
        "node_pools.p",
        "must lie within",
    ),
    (
        "desired on autoscaled pool without ignoring",
        {"node_pools": {"p": {**POOL, "autoscaling": {"min_size": 1, "max_size": 3}}}},
        "node_pools.p",
        "set ignore_scaling_changes=true",
    ),
    (
        "invalid pool name",
        {"node_pools": {"Pool_1": POOL}},
        "node_pools.Pool_1.[key]",
        "should match pattern",
    ),
    (
        "no login",
        {"node_pools": {"p": {**POOL, "key_name": None}}},
        "node_pools.p",
        "exactly one of key_name and password",
    ),
    (
        "password on managed pool",
        {"node_pools": {"p": {**POOL, "key_name": None, "password": "Abcdef12!"}}},
        "node_pools.p",
        "accept key_name only",
    ),
    (
        "world-open SSH",
        {
            "security": {
                "extra_ingress": [
                    {
                        "description": "ssh",
                        "protocol": "tcp",
                        "port_range": "22/22",
                        "cidr": "0.0.0.0/0",
                    }
                ]
            }
        },
        "security.extra_ingress.0",
        "SSH (port 22) to 0.0.0.0/0 is refused",
    ),
    (
        "upgrade channel without window",
        {"auto_upgrade_channel": "stable"},
        "",
        "maintenance window",
    ),
    ("reserved tag prefix", {"tags": {"aliyun:owner": "x"}}, "tags", "cannot start with"),
    ("unknown argument", {"node_count": 3}, "node_count", "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("case", "overrides", "path", "text"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_its_path_and_nothing_registers(case, overrides, path, text):
    caught: list[InvalidArguments] = []

    def program():
        try:
            ManagedCluster("demo", args(**overrides))
        except InvalidArguments as exc:
            caught.append(exc)

    result = run(program)
    assert result.resources == [], "a refused input must register nothing"
    assert caught, f"{case}: not refused"
    problems = caught[0].problems
    assert any(p == path and text in m for p, m in problems), problems


def test_bad_cluster_name_is_refused_with_other_problems_together():
    with pytest.raises(InvalidArguments) as exc:
        ManagedCluster("Bad_Name", args(cluster_spec="ack.mega"))
    paths = [p for p, _ in exc.value.problems]
    assert paths == ["name", "cluster_spec"]
