"""Inputs that do not shape the graph may come from other resources or stacks (pulumi.Input):
checked by the same rules when known, non-plain in the schema; the graph does not change."""

from __future__ import annotations

import json
import logging
from typing import Any

import pulumi
import pytest

from ack_clusters import InvalidArguments, ManagedCluster
from ack_clusters.package import codegen, schema
from ack_offline.fake_cloud import FakeAlibabaCloud
from ack_offline.recorder import run_program

from .conftest import CLASSES, POOL, ZONES, form_args, run

NETWORK_STACK = "acme/network/prod"
NETWORK_OUTPUTS: dict[str, Any] = {
    "vpc_id": "vpc-shared1",
    "vswitches": {ZONES[0]: "vsw-aaa111", ZONES[1]: "vsw-bbb222"},
}
MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"


def with_outputs(**overrides: Any) -> dict[str, Any]:
    """Managed arguments with `overrides` set as they are (form_args deep-copies, and an output
    cannot be copied)."""
    return {**form_args("managed"), **overrides}


def network_from(ref: pulumi.StackReference) -> dict[str, Any]:
    vswitches = ref.get_output("vswitches")
    return {
        "zones": ZONES[:2],
        "nat": "none",
        "existing_vpc": {
            "id": ref.get_output("vpc_id"),
            "cidr": "10.0.0.0/16",
            "node_vswitches": {
                ZONES[0]: {"id": vswitches.apply(lambda v: v[ZONES[0]]), "cidr": "10.0.0.0/20"},
                ZONES[1]: {"id": vswitches.apply(lambda v: v[ZONES[1]]), "cidr": "10.0.16.0/20"},
            },
            "pod_vswitches": {
                ZONES[0]: {"id": "vsw-pod1", "cidr": "10.0.64.0/19"},
                ZONES[1]: {"id": "vsw-pod2", "cidr": "10.0.96.0/19"},
            },
        },
    }


def shared_network_program(outputs: dict[str, Any] | None = None):
    def program() -> None:
        ref = pulumi.StackReference(NETWORK_STACK)
        ManagedCluster("app", with_outputs(network=network_from(ref)))

    return program


def run_with_reference(preview: bool, outputs: dict[str, Any] = NETWORK_OUTPUTS):
    cloud = FakeAlibabaCloud(preview=preview, stack_references={NETWORK_STACK: outputs})
    return run_program(shared_network_program(), mock=cloud, preview=preview, stack="test")


def test_a_cluster_on_a_network_from_another_stack():
    result = run_with_reference(preview=False)
    cluster = result.one(MK)
    assert cluster.inputs["vswitchIds"] == ["vsw-aaa111", "vsw-bbb222"]
    assert cluster.inputs["podVswitchIds"] == ["vsw-pod1", "vsw-pod2"]
    pools = result.by_type("alicloud:cs/nodePool:NodePool")
    assert pools and all(p.inputs["vswitchIds"] == ["vsw-aaa111", "vsw-bbb222"] for p in pools)
    sg = result.one("alicloud:ecs/securityGroup:SecurityGroup")
    assert sg.inputs["vpcId"] == "vpc-shared1"
    assert not result.by_type("alicloud:vpc/network:Network")  # not created: referenced


def test_the_graph_is_the_same_whether_values_are_given_or_referenced():
    def literal() -> None:
        network = json.loads(json.dumps(network_from_literals()))
        ManagedCluster("app", form_args("managed", network=network))

    referenced = run_with_reference(preview=True)
    given = run(literal, preview=True)
    assert sorted(
        r.urn for r in referenced.resources if r.type != "pulumi:pulumi:StackReference"
    ) == sorted(r.urn for r in given.resources)


def network_from_literals() -> dict[str, Any]:
    return {
        "zones": ZONES[:2],
        "nat": "none",
        "existing_vpc": {
            "id": NETWORK_OUTPUTS["vpc_id"],
            "cidr": "10.0.0.0/16",
            "node_vswitches": {
                z: {"id": NETWORK_OUTPUTS["vswitches"][z], "cidr": c}
                for z, c in zip(ZONES[:2], ["10.0.0.0/20", "10.0.16.0/20"], strict=True)
            },
            "pod_vswitches": {
                ZONES[0]: {"id": "vsw-pod1", "cidr": "10.0.64.0/19"},
                ZONES[1]: {"id": "vsw-pod2", "cidr": "10.0.96.0/19"},
            },
        },
    }


def test_a_bad_value_from_another_stack_fails_the_update_naming_the_field():
    bad = {**NETWORK_OUTPUTS, "vpc_id": "sg-not-a-vpc"}
    with pytest.raises(
        Exception, match=r"network\.existing_vpc\.id: 'sg-not-a-vpc' is not a VPC ID"
    ):
        run_with_reference(preview=False, outputs=bad)


def test_at_preview_unknown_values_are_announced_not_checked(caplog):
    caplog.set_level(logging.INFO)
    run_with_reference(preview=True)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "network.existing_vpc.id" in said and "checked when known" in said


@pytest.mark.parametrize(
    ("overrides", "path", "resource", "wire"),
    [
        (
            {"secrets_encryption_kms_key_id": "key-fromkms123"},
            "secrets_encryption_kms_key_id",
            MK,
            "encryptionProviderKey",
        ),
        (
            {"audit_log": {"project": "audit-logs"}},
            "audit_log.project",
            MK,
            ("auditLogConfig", "slsProjectName"),
        ),
        (
            {"control_plane_logs": {"project": "cp-logs"}},
            "control_plane_logs.project",
            MK,
            "controlPlaneLogProject",
        ),
        ({"tags": {"team": "payments"}}, "tags.team", MK, ("tags", "team")),
        (
            {"node_pools": {"p": {**POOL, "key_name": "ops-key"}}},
            "node_pools.p.key_name",
            "alicloud:cs/nodePool:NodePool",
            "keyName",
        ),
        (
            {"node_pools": {"p": {**POOL, "system_disk": {"kms_key_id": "key-disk"}}}},
            "node_pools.p.system_disk.kms_key_id",
            "alicloud:cs/nodePool:NodePool",
            "systemDiskKmsKey",
        ),
        (
            {"node_pools": {"p": {**POOL, "resource_group_id": "rg-apps"}}},
            "node_pools.p.resource_group_id",
            "alicloud:cs/nodePool:NodePool",
            "resourceGroupId",
        ),
    ],
)
def test_each_deferrable_input_takes_an_output_and_reaches_the_provider(
    overrides, path, resource, wire
):
    leaf = _leaf(overrides, path)
    outputs = _replace(overrides, path, pulumi.Output.from_input)

    result = run(lambda: ManagedCluster("demo", with_outputs(**outputs(overrides))))
    value: Any = result.one(resource).inputs
    for step in (wire,) if isinstance(wire, str) else wire:
        value = value[step]
    assert value == leaf


def _leaf(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for step in path.split("."):
        node = node[step]
    return node


def _replace(tree: dict[str, Any], path: str, wrap: Any):
    """A function that copies `tree` with the value at `path` wrapped (built inside the
    program, where outputs can be made)."""

    def build(t: dict[str, Any]) -> dict[str, Any]:
        copy = json.loads(json.dumps(t))
        node = copy
        steps = path.split(".")
        for step in steps[:-1]:
            node = node[step]
        node[steps[-1]] = wrap(node[steps[-1]])
        return copy

    return build


@pytest.mark.parametrize(
    ("overrides", "path", "text"),
    [
        (
            {"secrets_encryption_kms_key_id": "alias/x"},
            "secrets_encryption_kms_key_id",
            "is not a KMS key ID",
        ),
        (
            {"audit_log": {"project": "Audit_Logs"}},
            "audit_log.project",
            "is not an SLS project name",
        ),
        ({"tags": {"team": "aliyun-x"}}, "tags.team", "cannot start with 'aliyun'"),
        (
            {"node_pools": {"p": {**POOL, "key_name": "1bad"}}},
            "node_pools.p.key_name",
            "is not an ECS key pair name",
        ),
    ],
)
def test_a_bad_output_value_fails_when_known_naming_the_field(overrides, path, text):
    build = _replace(overrides, path, pulumi.Output.from_input)
    with pytest.raises(Exception) as err:
        run(lambda: ManagedCluster("demo", with_outputs(**build(overrides))))
    assert f"{path}: " in str(err.value) and text in str(err.value)


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_a_non_string_non_output_is_refused_at_once(kind):
    with pytest.raises(InvalidArguments) as err:
        run(lambda: CLASSES[kind]("demo", form_args(kind, tags={"team": 5})))
    assert [p for p, _ in err.value.problems] == ["tags.team"]


def test_the_schema_marks_exactly_the_deferrable_inputs_non_plain():
    spec: Any = schema()
    types = spec["types"]
    vpc = types["ack:index:ExistingVpc"]["properties"]
    assert "plain" not in vpc["id"] and vpc["cidr"].get("plain") is True
    managed = spec["resources"]["ack:index:ManagedCluster"]["inputProperties"]
    assert "plain" not in managed["secretsEncryptionKmsKeyId"]
    assert managed["serviceCidr"].get("plain") is True  # shapes the plan: stays plain
    assert managed["tags"]["additionalProperties"].get("plain") is not True


def test_every_later_field_is_one_the_graph_does_not_depend_on():
    """The marker is only on values that fill an input: never on a zone, CIDR, name or count."""
    from ack_clusters.cluster.args import ManagedClusterArgs
    from ack_clusters.later import _later_in

    found = []

    def visit(model: Any, prefix: str) -> None:
        for name, field in model.model_fields.items():
            if _later_in(field.annotation, field.metadata) is not None:
                found.append(f"{prefix}{name}")
            for sub in codegen.models_in(field.annotation):
                visit(sub, f"{prefix}{name}.")

    visit(ManagedClusterArgs, "")
    assert sorted(set(found)) == sorted(
        {
            "access.grants.ram_role_id",
            "access.grants.ram_user_id",
            "audit_log.project",
            "control_plane_logs.project",
            "network.cen.instance_id",
            "network.cen.route_table_id",
            "network.cen.transit_router_id",
            "network.existing_vpc.id",
            "network.existing_vpc.node_vswitches.id",
            "network.existing_vpc.pod_vswitches.id",
            "node_pools.data_disks.kms_key_id",
            "node_pools.key_name",
            "node_pools.password",
            "node_pools.resource_group_id",
            "node_pools.system_disk.kms_key_id",
            "node_pools.user_data",
            "secrets_encryption_kms_key_id",
            "tags",
        }
    )
