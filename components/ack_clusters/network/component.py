"""ClusterNetwork: the VPC, its vSwitches and the NAT egress of one cluster."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

import pulumi
import pulumi_alicloud as alicloud

from ..later import given
from ..naming import NETWORK_TYPE
from .args import Cen
from .plan import NatGatewayPlan, NetworkPlan


class ClusterNetwork(pulumi.ComponentResource):
    """Registers what a :class:`NetworkPlan` decided: nothing more, nothing conditional on
    values only known after creation."""

    vpc_id: pulumi.Output[str]
    node_vswitch_ids: dict[str, pulumi.Output[str]]
    pod_vswitch_ids: dict[str, pulumi.Output[str]]
    nat_gateway_ids: dict[str, pulumi.Output[str]]
    #: The resources that must exist before a node can reach the internet (EIP associations,
    #: SNAT entries, routes). Node pools depend on them.
    egress: list[pulumi.Resource]
    #: The NAT gateways' EIP addresses, what the cluster's traffic leaves from.
    egress_addresses: list[pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        plan: NetworkPlan,
        *,
        tags: Mapping[str, pulumi.Input[str]],
        eip_bandwidth: int,
        deletion_protection: bool,
        vswitch_label: str = "node",
        import_vpc_id: str | None = None,
        import_node_vswitch_ids: Mapping[str, str] | None = None,
        import_pod_vswitch_ids: Mapping[str, str] | None = None,
        cen: Cen | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(NETWORK_TYPE, name, None, opts)
        self._label = vswitch_label
        self._name = name
        self._tags = tags
        self._deletion_protection = deletion_protection
        self._eip_bandwidth = eip_bandwidth

        if plan.existing_vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(given(plan.existing_vpc_id))
            self.node_vswitch_ids = {
                z.zone: pulumi.Output.from_input(given(z.node_vswitch_id or "")) for z in plan.zones
            }
            self.pod_vswitch_ids = {
                z.zone: pulumi.Output.from_input(given(z.pod_vswitch_id))
                for z in plan.zones
                if z.pod_vswitch_id is not None
            }
        else:
            vpc = alicloud.vpc.Network(
                f"{name}-vpc",
                vpc_name=f"{name}-vpc",
                cidr_block=str(plan.vpc_cidr),
                description=f"VPC of ACK cluster {name}",
                tags=tags,
                # The VPC outlives every cluster change; deleting it is never an accident
                # worth allowing while deletion protection is on.
                opts=pulumi.ResourceOptions(
                    parent=self, protect=deletion_protection, import_=import_vpc_id
                ),
            )
            self.vpc_id = vpc.id
            self.node_vswitch_ids = {}
            self.pod_vswitch_ids = {}
            for z in plan.zones:
                self.node_vswitch_ids[z.zone] = self._vswitch(
                    vpc, self._label, z.zone, z.node_cidr, import_node_vswitch_ids or {}
                )
                if z.pod_cidr is not None:
                    self.pod_vswitch_ids[z.zone] = self._vswitch(
                        vpc, "pod", z.zone, z.pod_cidr, import_pod_vswitch_ids or {}
                    )

        self.nat_gateway_ids = {}
        self.egress = []
        self.egress_addresses = []
        for nat in plan.nat_gateways:
            self._egress(nat, plan)
        if cen is not None:
            self._attach_to_cen(cen, plan)

        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "node_vswitch_ids": self.node_vswitch_ids,
                "pod_vswitch_ids": self.pod_vswitch_ids,
                "nat_gateway_ids": self.nat_gateway_ids,
            }
        )

    def _attach_to_cen(self, cen: Cen, plan: NetworkPlan) -> None:
        """The VPC on a CEN transit router, through the cluster vSwitches (one per zone)."""
        child = pulumi.ResourceOptions(parent=self)
        attachment = alicloud.cen.TransitRouterVpcAttachment(
            f"{self._name}-cen",
            cen_id=given(cen.instance_id),
            transit_router_id=given(cen.transit_router_id),
            vpc_id=self.vpc_id,
            zone_mappings=[
                alicloud.cen.TransitRouterVpcAttachmentZoneMappingArgs(
                    zone_id=z.zone, vswitch_id=self.node_vswitch_ids[z.zone]
                )
                for z in plan.zones
            ],
            auto_publish_route_enabled=cen.publish_routes,
            transit_router_vpc_attachment_name=f"{self._name}-vpc",
            transit_router_attachment_description=f"VPC of ACK cluster {self._name}",
            tags=self._tags,
            opts=child,
        )
        if cen.route_table_id is not None:
            for what, resource in (
                ("association", alicloud.cen.TransitRouterRouteTableAssociation),
                ("propagation", alicloud.cen.TransitRouterRouteTablePropagation),
            ):
                resource(
                    f"{self._name}-cen-{what}",
                    transit_router_route_table_id=given(cen.route_table_id),
                    transit_router_attachment_id=attachment.transit_router_attachment_id,
                    opts=child,
                )

    def _vswitch(
        self,
        vpc: alicloud.vpc.Network,
        role: str,
        zone: str,
        cidr: ipaddress.IPv4Network,
        existing: Mapping[str, str],
    ) -> pulumi.Output[str]:
        what = {"node": "Nodes", "eci": "ECI pods", "pod": "Terway pods"}[role]
        return alicloud.vpc.Switch(
            f"{self._name}-{role}-{zone}",
            vswitch_name=f"{self._name}-{role}-{zone}",
            vpc_id=vpc.id,
            zone_id=zone,
            cidr_block=str(cidr),
            description=f"{what} of ACK cluster {self._name} in {zone}",
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, import_=existing.get(zone)),
        ).id

    def _egress(self, nat: NatGatewayPlan, plan: NetworkPlan) -> None:
        name, key, child = self._name, nat.key, pulumi.ResourceOptions(parent=self)
        gateway = alicloud.vpc.NatGateway(
            f"{name}-nat-{key}",
            nat_gateway_name=f"{name}-nat-{key}",
            vpc_id=self.vpc_id,
            vswitch_id=self.node_vswitch_ids[nat.host_zone],
            nat_type="Enhanced",
            network_type="internet",
            payment_type="PayAsYouGo",
            internet_charge_type="PayByLcu",
            deletion_protection=self._deletion_protection,
            description=f"Egress of ACK cluster {name} ({key})",
            tags=self._tags,
            opts=child,
        )
        eip = alicloud.ecs.EipAddress(
            f"{name}-eip-{key}",
            address_name=f"{name}-nat-{key}",
            bandwidth=str(self._eip_bandwidth),  # the provider types it as a string
            internet_charge_type="PayByTraffic",
            payment_type="PayAsYouGo",
            isp="BGP",
            deletion_protection=self._deletion_protection,
            description=f"NAT egress address of ACK cluster {name} ({key})",
            tags=self._tags,
            opts=child,
        )
        association = alicloud.ecs.EipAssociation(
            f"{name}-eip-assoc-{key}",
            allocation_id=eip.id,
            instance_id=gateway.id,
            instance_type="Nat",
            opts=child,
        )
        self.nat_gateway_ids[key] = gateway.id
        self.egress_addresses.append(eip.ip_address)
        self.egress.append(association)

        sources: list[tuple[str, pulumi.Output[str]]] = []
        for zone in nat.zones:
            sources.append((f"{self._label}-{zone}", self.node_vswitch_ids[zone]))
            if zone in self.pod_vswitch_ids:
                sources.append((f"pod-{zone}", self.pod_vswitch_ids[zone]))

        for source_key, vswitch_id in sources:
            self.egress.append(
                alicloud.vpc.SnatEntry(
                    f"{name}-snat-{source_key}",
                    snat_entry_name=f"{name}-{source_key}",
                    snat_table_id=gateway.snat_table_ids,
                    source_vswitch_id=vswitch_id,
                    snat_ip=eip.ip_address,
                    # SNAT through an address the gateway does not hold yet fails.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[association]),
                )
            )

        if plan.zone_route_tables:
            # One route table per zone: the system route table can point 0.0.0.0/0 at only
            # one gateway, so each zone's vSwitches get their own default route.
            table = alicloud.vpc.RouteTable(
                f"{name}-rt-{key}",
                route_table_name=f"{name}-{key}",
                vpc_id=self.vpc_id,
                associate_type="VSwitch",
                description=f"Egress routes of ACK cluster {name} in {key}",
                tags=self._tags,
                opts=child,
            )
            self.egress.append(
                alicloud.vpc.RouteEntry(
                    f"{name}-route-{key}",
                    route_table_id=table.id,
                    destination_cidrblock="0.0.0.0/0",
                    nexthop_type="NatGateway",
                    nexthop_id=gateway.id,
                    opts=child,
                )
            )
            for source_key, vswitch_id in sources:
                self.egress.append(
                    alicloud.vpc.RouteTableAttachment(
                        f"{name}-rt-{source_key}",
                        route_table_id=table.id,
                        vswitch_id=vswitch_id,
                        opts=child,
                    )
                )
