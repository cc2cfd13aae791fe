"""Ownership follows identity: a read (`.get`) of a resource a cluster owns, or a value an
invoke derived from one, is that resource for the drift rule (issue 14)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import ManagedCluster

from .conftest import AUTOSCALED_POOL, args, run
from .test_drift import instance_with_interface

DRIFT = "ack-no-loose-attachments-to-cluster-resources"


def cluster() -> ManagedCluster:
    return ManagedCluster("demo", args(ingress={}, node_pools={"general": AUTOSCALED_POOL}))


def rule(sg_id: Any) -> alicloud.ecs.SecurityGroupRule:
    return alicloud.ecs.SecurityGroupRule(
        "loose",
        security_group_id=sg_id,
        type="ingress",
        ip_protocol="tcp",
        port_range="8443/8443",
        cidr_ip="10.9.0.0/16",
        nic_type="intranet",
    )


def groups_in_vpc(c: ManagedCluster) -> Any:
    """The security groups an account holds in the cluster's VPC, looked up once the cluster's
    resources exist (as in a preview of a deployed stack)."""
    after = pulumi.InvokeOutputOptions(depends_on=[c])
    return alicloud.ecs.get_security_groups_output(vpc_id=c.vpc_id, opts=after).ids[0]


LAUNDERED: dict[str, Callable[[ManagedCluster], object]] = {
    "rule on a read of its security group": lambda c: rule(
        alicloud.ecs.SecurityGroup.get("read-sg", c.security_group_id).id
    ),
    "vSwitch in a read of its VPC": lambda c: alicloud.vpc.Switch(
        "loose",
        vpc_id=alicloud.vpc.Network.get("read-vpc", c.vpc_id).id,
        zone_id="cn-hangzhou-k",
        cidr_block="10.0.192.0/22",
    ),
    "listener on a read of its API server load balancer": lambda c: alicloud.slb.Listener(
        "loose",
        load_balancer_id=alicloud.slb.ApplicationLoadBalancer.get(
            "read-lb", c.api_server_slb_id
        ).id,
        frontend_port=9443,
        backend_port=6443,
        protocol="tcp",
        bandwidth=-1,
    ),
    "rule on a security group an invoke found in its VPC": lambda c: rule(groups_in_vpc(c)),
    "interface in a list of groups an invoke found in its VPC": lambda c: (
        alicloud.ecs.EcsNetworkInterface(
            "loose",
            vswitch_id="vsw-elsewhere",
            security_group_ids=[
                "sg-mine",
                groups_in_vpc(c),
            ],
        )
    ),
    "interface in a security group an invoke found in its VPC": lambda c: instance_with_interface(
        "loose", [groups_in_vpc(c)]
    ),
    "route in a route table an invoke found in its VPC": lambda c: alicloud.vpc.RouteEntry(
        "loose",
        route_table_id=alicloud.vpc.get_route_tables_output(vpc_id=c.vpc_id).ids[0],
        destination_cidrblock="10.50.0.0/16",
        nexthop_type="Instance",
        nexthop_id="i-123",
    ),
}


#: The kinds that read (`.get`) an owned resource by an ID still unknown at preview.
READS = {k for k in LAUNDERED if "read of" in k}
#: The kinds that take an ID from an invoke on the cluster's VPC.
INVOKES = {k for k in LAUNDERED if "invoke" in k}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("kind", list(LAUNDERED))
def test_laundering_through_a_read_or_an_invoke_is_blocked(gate, kind, preview):
    def program() -> None:
        LAUNDERED[kind](cluster())

    result = run(program, preview=preview)
    loose = next(r for r in result.resources if r.name == "loose")
    violations = gate(result)
    blocked = {(v.policy, v.urn) for v in violations if v.enforcement == "mandatory"}
    assert (DRIFT, loose.urn) in blocked
    assert {urn for _, urn in blocked} == {loose.urn}
    message = next(v.message for v in violations if v.policy == DRIFT)
    if preview and kind in READS:
        # The read's ID is the cluster's, still to be created: fail closed.
        assert "identity is unknown at preview" in message
    elif preview and kind in INVOKES:
        # The SDK drops an invoke's dependencies when its inputs are unknown: fail closed.
        assert "cannot be proven not to be a resource a cluster owns" in message
    else:
        assert "owned by cluster '" in message


def test_a_read_answers_with_what_the_cloud_holds():
    def program() -> None:
        c = cluster()
        alicloud.ecs.SecurityGroup.get("read-sg", c.security_group_id)

    result = run(program, preview=False)
    (read,) = result.reads
    owned = result.one("alicloud:ecs/securityGroup:SecurityGroup")
    assert read.read and read.id == owned.id
    assert read.inputs["tags"]["ack.pulumi.io/cluster"] == "demo"
    assert read.urn not in {r.urn for r in result.resources}
    (preview_read,) = run(program, preview=True).reads
    assert preview_read.inputs["tags"] == "[unknown]"


def test_a_users_own_security_group_in_the_cluster_vpc_is_not_drift(gate):
    def program() -> None:
        c = cluster()
        mine = alicloud.ecs.SecurityGroup("mine", vpc_id=c.vpc_id, security_group_name="mine")
        rule(mine.id)

    violations = gate(run(program, preview=True))
    assert not [v for v in violations if v.policy == DRIFT]


def test_a_read_of_an_unrelated_group_by_literal_id_is_not_drift(gate):
    def program() -> None:
        cluster()
        rule(alicloud.ecs.SecurityGroup.get("other", "sg-unrelated").id)

    violations = gate(run(program, preview=True))
    assert not [v for v in violations if v.policy == DRIFT]


ORDINARY = """
import pulumi, pulumi_alicloud as alicloud
from ack_clusters import ManagedCluster

zones = alicloud.get_zones(available_resource_creation="VSwitch").ids
types = alicloud.ecs.get_instance_types(cpu_core_count=2, memory_size=8)
image = alicloud.ecs.get_images(name_regex="^aliyun_3", most_recent=True).images[0]
caller = alicloud.get_caller_identity()
cluster = ManagedCluster(
    "apps",
    {
        "network": {"zones": zones[:2]},
        "node_pools": {
            "general": {
                "instance_types": [types.instance_types[0].id],
                "desired_size": 2,
                "key_name": "ops",
            }
        },
    },
)
# An invoke the fake cloud has no answer for: unknown, never an error.
bucket = alicloud.oss.get_buckets_output(name_regex="^logs")
pulumi.export("account", caller.account_id)
pulumi.export("image", image.id)
pulumi.export("buckets", bucket.names)
"""


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_program_reading_ordinary_data_sources_passes(tmp_path, capsys, mode):
    """Zones, instance types, images and the caller are answered; an invoke the fake cloud
    cannot answer is unknown. None of them ends the run in exit 2 (issue 27: get_zones did)."""
    from ack_offline.preview import main

    (tmp_path / "Pulumi.yaml").write_text("name: ordinary\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(ORDINARY)
    argv = ["dev", "--program", str(tmp_path), "--mode", mode, "--json"]
    assert main([*argv, "--policy-pack", "policies"]) == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    assert doc["outputs"]["account"] == "1234567890123456"
    assert doc["outputs"]["buckets"] == "[unknown]"
    switches = [r for r in doc["resources"] if r["type"] == "alicloud:vpc/switch:Switch"]
    assert {r["inputs"]["zoneId"] for r in switches} == {"cn-hangzhou-h", "cn-hangzhou-i"}
