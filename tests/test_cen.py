"""CEN as an owned option: the cluster's VPC on a transit router, as a child of the component,
so the gate passes it and keeps blocking attachments made outside."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import InvalidArguments

from .conftest import CLASSES, ZONES, form_args, found, run

ATTACHMENT = "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment"
ASSOCIATION = "alicloud:cen/transitRouterRouteTableAssociation:TransitRouterRouteTableAssociation"
PROPAGATION = "alicloud:cen/transitRouterRouteTablePropagation:TransitRouterRouteTablePropagation"
CEN = {"instance_id": "cen-abc123", "transit_router_id": "tr-xyz789"}


def network(**cen: Any) -> dict[str, Any]:
    return {"zones": ZONES[:2], "cen": {**CEN, **cen}}


@pytest.mark.parametrize("kind", sorted(CLASSES))
@pytest.mark.parametrize("preview", [True, False])
def test_the_vpc_is_attached_through_the_cluster_vswitches_as_an_owned_child(kind, preview):
    zones = ZONES if kind == "dedicated" else ZONES[:2]
    args = form_args(kind, network={**network(), "zones": zones})
    result = run(lambda: CLASSES[kind]("demo", args), preview=preview)
    attachment = result.one(ATTACHMENT)
    net = result.one("ack:index:ClusterNetwork")
    assert attachment.parent == net.urn and attachment.name == "demo-cen"
    vpc = result.one("alicloud:vpc/network:Network")
    assert attachment.property_dependencies["vpcId"] == [vpc.urn]
    mappings = attachment.inputs["zoneMappings"]
    assert [m["zoneId"] for m in mappings] == zones
    switches = {
        s.urn for s in result.by_type("alicloud:vpc/switch:Switch") if "-pod-" not in s.name
    }
    assert set(attachment.property_dependencies["zoneMappings"]) == switches
    assert attachment.inputs["cenId"] == "cen-abc123"
    assert attachment.inputs["autoPublishRouteEnabled"] is True
    assert not result.by_type(ASSOCIATION) and not result.by_type(PROPAGATION)


def test_a_route_table_gets_the_attachment_associated_and_propagated():
    args = form_args("managed", network=network(route_table_id="vtb-rt1", publish_routes=False))
    result = run(lambda: CLASSES["managed"]("demo", args))
    attachment = result.one(ATTACHMENT)
    assert attachment.inputs["autoPublishRouteEnabled"] is False
    for typ in (ASSOCIATION, PROPAGATION):
        r = result.one(typ)
        assert r.inputs["transitRouterRouteTableId"] == "vtb-rt1"
        assert r.property_dependencies["transitRouterAttachmentId"] == [attachment.urn]
        assert (
            r.inputs["transitRouterAttachmentId"] == attachment.state["transitRouterAttachmentId"]
        )


@pytest.mark.parametrize("routed", [False, True], ids=["attachment", "with its route table"])
@pytest.mark.parametrize("preview", [True, False])
def test_the_gate_passes_the_owned_attachment_and_blocks_a_loose_one(gate, preview, routed):
    """The component's own attachment (and, with a route table, its association and
    propagation, which the drift rule blocks when declared outside) pass."""
    cen = network(route_table_id="vtb-rt1") if routed else network()

    def program() -> None:
        c = CLASSES["managed"]("demo", form_args("managed", network=cen))
        alicloud.cen.TransitRouterVpcAttachment(
            "loose",
            cen_id="cen-other",
            transit_router_id="tr-other",
            vpc_id=c.vpc_id,
            zone_mappings=[
                alicloud.cen.TransitRouterVpcAttachmentZoneMappingArgs(
                    zone_id=ZONES[0], vswitch_id=c.vswitch_ids.apply(lambda v: v[0])
                )
            ],
        )

    drift = {
        name
        for policy, name in found(gate(run(program, preview=preview)), "mandatory")
        if policy == "ack-no-loose-attachments-to-cluster-resources"
    }
    assert drift == {"loose"}


@pytest.mark.parametrize(
    ("net", "field", "text"),
    [
        (network(instance_id="cen_1"), "network.cen.instance_id", "is not a CEN instance ID"),
        (network(transit_router_id="vtb-1"), "network.cen.transit_router_id", "transit router"),
        (network(route_table_id="rt-1"), "network.cen.route_table_id", "route table"),
        (
            {
                "zones": ZONES[:1],
                "cen": CEN,
                "existing_vpc": {
                    "id": "vpc-1",
                    "cidr": "10.0.0.0/16",
                    "node_vswitches": {ZONES[0]: {"id": "vsw-1", "cidr": "10.0.0.0/20"}},
                    "pod_vswitches": {ZONES[0]: {"id": "vsw-2", "cidr": "10.0.64.0/19"}},
                },
            },
            "network",
            "the stack that owns the VPC attaches it",
        ),
    ],
)
def test_bad_cen_settings_name_the_field(net, field, text):
    with pytest.raises(InvalidArguments) as err:
        run(lambda: CLASSES["managed"]("demo", form_args("managed", network=net)))
    assert [p for p, _ in err.value.problems] == [field] and text in str(err.value)


def test_the_cen_ids_may_come_from_another_stack():
    def program() -> None:
        args = form_args("managed")
        args["network"] = {
            "zones": ZONES[:2],
            "cen": {
                "instance_id": pulumi.Output.from_input("cen-shared1"),
                "transit_router_id": pulumi.Output.from_input("tr-shared1"),
            },
        }
        CLASSES["managed"]("demo", args)

    attachment = run(program).one(ATTACHMENT)
    assert attachment.inputs["cenId"] == "cen-shared1"
    assert attachment.inputs["transitRouterId"] == "tr-shared1"
