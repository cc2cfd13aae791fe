"""The fake cloud mints, in an update, the IDs the library checks (issue 27, finding 11): every
value a cluster takes from another resource and checks by its form (``cen-``, ``tr-``,
``vtb-``, ``vpc-``, ``vsw-``, ``rg-``, ``key-``, a RAM ID's digits, an OIDC provider's ARN, ...)
is minted in that form by the resource type that makes it, so that a program creating the
resource and handing it to a cluster passes offline as it would in the cloud."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest
from pulumi.runtime import mocks

import ack_clusters
from ack_clusters import ManagedCluster
from ack_clusters.validation import Later, Refused
from ack_offline.fake_cloud import FakeAlibabaCloud

from .conftest import AUTOSCALED_POOL, ZONES, args, run

#: What each checked value is, by the Later's words: the resource type that makes it, the
#: inputs it is made with, and the output (or "id") the program hands the cluster.
MADE_BY: dict[str, list[tuple[str, dict[str, Any], str]]] = {
    "a VPC ID": [("alicloud:vpc/network:Network", {"cidrBlock": "10.0.0.0/16"}, "id")],
    "a vSwitch ID": [
        (
            "alicloud:vpc/switch:Switch",
            {"vpcId": "vpc-x", "cidrBlock": "10.0.0.0/24", "zoneId": "cn-hangzhou-i"},
            "id",
        )
    ],
    "a KMS key ID": [("alicloud:kms/key:Key", {"description": "k"}, "id")],
    "an ECS key pair name": [
        ("alicloud:ecs/keyPair:KeyPair", {"keyPairName": "ops"}, "id"),
        ("alicloud:ecs/keyPair:KeyPair", {"keyName": "ops"}, "id"),
    ],
    "an SLS project name": [
        ("alicloud:log/project:Project", {"projectName": "app-logs"}, "id"),
        ("alicloud:log/project:Project", {"name": "app-logs"}, "id"),
    ],
    "a resource group ID": [
        (
            "alicloud:resourcemanager/resourceGroup:ResourceGroup",
            {"resourceGroupName": "apps", "displayName": "apps"},
            "id",
        )
    ],
    "a CEN instance ID": [("alicloud:cen/instance:Instance", {"cenInstanceName": "net"}, "id")],
    "a transit router ID": [
        ("alicloud:cen/transitRouter:TransitRouter", {"cenId": "cen-x"}, "transitRouterId")
    ],
    "a transit router route table ID": [
        (
            "alicloud:cen/transitRouterRouteTable:TransitRouterRouteTable",
            {"transitRouterId": "tr-x"},
            "transitRouterRouteTableId",
        )
    ],
    "a RAM OIDC provider ARN": [
        (
            "alicloud:ram/oidcProvider:OidcProvider",
            {
                "oidcProviderName": "github",
                "issuerUrl": "https://token.actions.githubusercontent.com",
            },
            "arn",
        ),
        (
            "alicloud:cs/managedKubernetes:ManagedKubernetes",
            {"enableRrsa": True},
            "rrsaMetadata.ramOidcProviderArn",
        ),
    ],
    "an OIDC issuer URL": [
        (
            "alicloud:cs/managedKubernetes:ManagedKubernetes",
            {"enableRrsa": True},
            "rrsaMetadata.rrsaOidcIssuerUrl",
        )
    ],
    "a RAM user or role ID": [
        ("alicloud:ram/user:User", {"name": "ci"}, "id"),
        ("alicloud:ram/role:Role", {"roleName": "ci"}, "roleId"),
    ],
}
#: Checked values no resource makes: a person writes them (or a secret holds them).
WRITTEN = frozenset(
    {
        "a tag value",
        "an ECS login password",
        "an alert URL",
        "a DingTalk signing secret",
        "a user data script",
    }
)


def _checked() -> dict[str, Later]:
    """Every rule the library checks a value given as an output by, wherever it is declared."""
    found: dict[str, Later] = {}
    for module in pkgutil.walk_packages(ack_clusters.__path__, "ack_clusters."):
        if module.name.endswith("__main__"):
            continue
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, Later):
                found[value.what] = value
    return found


CHECKED = _checked()


def test_every_checked_value_is_made_by_a_resource_or_written_by_a_person():
    """A new rule of the library's is added to MADE_BY (with the type that makes the value) or
    to WRITTEN; a rule that is gone is taken out of them."""
    assert set(CHECKED) == set(MADE_BY) | WRITTEN
    assert not set(MADE_BY) & WRITTEN


def _output(state: dict[str, Any], rid: str, field: str) -> Any:
    value: Any = {"id": rid, **state}
    for part in field.split("."):
        value = value[part]
    return value


@pytest.mark.parametrize(
    "what,type_,inputs,field",
    [
        pytest.param(what, *made, id=f"{what}: {made[0].rsplit(':', 1)[-1]} {made[2]}")
        for what, makers in MADE_BY.items()
        for made in makers
    ],
)
def test_the_fake_cloud_mints_what_the_library_checks(what, type_, inputs, field):
    cloud = FakeAlibabaCloud(preview=False)
    rid, state = cloud.new_resource(
        mocks.MockResourceArgs(type_, "made", dict(inputs), custom=True)
    )
    value = _output(state, str(rid), field)
    try:
        CHECKED[what].check(value)
    except Refused as refused:
        pytest.fail(f"{type_} '{field}' = {value!r}: {refused}")


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_cen_the_program_creates_is_taken_by_a_cluster(gate, preview):
    """The reviewer's program (o12): a CEN instance, its transit router and route table made in
    the same program and handed to the cluster (its IDs are checked when known)."""

    def program() -> None:
        cen = alicloud.cen.Instance("net", cen_instance_name="net")
        router = alicloud.cen.TransitRouter("hz", cen_id=cen.id)
        table = alicloud.cen.TransitRouterRouteTable(
            "hz", transit_router_id=router.transit_router_id
        )
        given = args(network={"zones": ZONES[:2]}, node_pools={"general": AUTOSCALED_POOL})
        given["network"]["cen"] = {
            "instance_id": cen.id,
            "transit_router_id": router.transit_router_id,
            "route_table_id": table.transit_router_route_table_id,
        }
        ManagedCluster("demo", given)
        pulumi.export("cen", cen.id)

    result = run(program, preview=preview)
    attachment = result.one("alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment")
    if not preview:
        assert attachment.inputs["cenId"].startswith("cen-")
        assert attachment.inputs["transitRouterId"].startswith("tr-")
    assert [v for v in gate(result) if v.enforcement == "mandatory"] == []
