"""Arguments of the cluster network: a new VPC planned from `vpc_cidr`, or an existing one."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from ..validation import (
    CenIdInput,
    StrictModel,
    TransitRouterIdInput,
    TransitRouterRouteTableIdInput,
    VpcIdInput,
    VSwitchIdInput,
    ZoneId,
    distinct,
    parse_network,
    require_prefix,
    require_private,
    zone_region,
)


def vpc_cidr(value: str) -> str:
    net = parse_network(value, what="VPC CIDR")
    require_private(net, what="VPC CIDR")
    require_prefix(net, 8, 24, what="VPC")
    return str(net)


def vswitch_cidr(value: str) -> str:
    net = parse_network(value, what="vSwitch CIDR")
    require_prefix(net, 16, 29, what="vSwitch")
    return str(net)


#: Validated one by one, so an error names the zone or position it is about.
VSwitchCidr = Annotated[str, AfterValidator(vswitch_cidr)]


class ExistingVSwitch(StrictModel):
    """A vSwitch that already exists. Its CIDR is needed to plan firewall rules and checks."""

    id: VSwitchIdInput = Field(description="The vSwitch ID (vsw-...); may be an output.")
    cidr: str = Field(description="The vSwitch's IPv4 CIDR block.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return vswitch_cidr(v)


class ExistingVpc(StrictModel):
    """Bring-your-own network: the cluster uses these instead of creating a VPC."""

    id: VpcIdInput = Field(description="The VPC ID (vpc-...); may be an output.")
    cidr: str = Field(description="The VPC's primary IPv4 CIDR block.")
    node_vswitches: dict[str, ExistingVSwitch] = Field(
        description="Zone ID -> node vSwitch, one per zone listed in `zones`."
    )
    pod_vswitches: dict[str, ExistingVSwitch] = Field(
        default_factory=dict,
        description="Zone ID -> pod vSwitch for Terway, one per zone listed in `zones`.",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return vpc_cidr(v)


class Cen(StrictModel):
    """Attach the cluster's VPC to an existing CEN transit router (Enterprise edition): the
    attachment is a child of the component, so it is owned, not drift."""

    instance_id: CenIdInput = Field(description="The CEN instance (cen-...); may be an output.")
    transit_router_id: TransitRouterIdInput = Field(
        description="The transit router in the cluster's region (tr-...); may be an output."
    )
    publish_routes: bool = Field(
        default=True, description="Publish the VPC's routes to the transit router."
    )
    route_table_id: TransitRouterRouteTableIdInput | None = Field(
        default=None,
        description="A transit router route table (vtb-...) to associate the attachment with "
        "and propagate its routes to; default: the transit router's own settings.",
    )


NatStrategy = Literal["none", "single", "per_zone"]


class NetworkArgs(StrictModel):
    """Where the cluster lives: a new VPC planned from `vpc_cidr`, or an existing one."""

    zones: list[ZoneId] = Field(
        min_length=1,
        description="Zone IDs, in a fixed order: planned CIDRs are assigned by position, so "
        "append new zones at the end.",
    )
    vpc_cidr: str | None = Field(
        default=None,
        description="CIDR of the new VPC (default 10.0.0.0/16). Conflicts with `existing_vpc`.",
    )
    node_vswitch_prefix: int = Field(
        default=22, ge=16, le=29, description="Mask length of each planned node vSwitch."
    )
    pod_vswitch_prefix: int = Field(
        default=19, ge=16, le=29, description="Mask length of each planned Terway pod vSwitch."
    )
    node_vswitch_cidrs: dict[str, VSwitchCidr] | None = Field(
        default=None, description="Explicit node vSwitch CIDR per zone instead of planning."
    )
    pod_vswitch_cidrs: dict[str, VSwitchCidr] | None = Field(
        default=None, description="Explicit Terway pod vSwitch CIDR per zone instead of planning."
    )
    existing_vpc: ExistingVpc | None = Field(
        default=None, description="Use this VPC and its vSwitches instead of creating them."
    )
    nat: NatStrategy = Field(
        default="single",
        description="Egress: 'none', one NAT gateway for all zones ('single'), or one per zone "
        "('per_zone', each zone routed through its own gateway).",
    )
    nat_eip_bandwidth: int = Field(
        default=100, ge=1, le=200, description="Peak Mbit/s of each pay-by-traffic NAT EIP."
    )
    cen: Cen | None = Field(
        default=None,
        description="Attach the VPC to a CEN transit router (an owned attachment). Not with "
        "existing_vpc: the stack that owns a VPC attaches it.",
    )

    @field_validator("zones")
    @classmethod
    def _zones(cls, zones: list[str]) -> list[str]:
        distinct(zones, "zones")
        regions = sorted({str(zone_region(z)) for z in zones})
        if len(regions) > 1:
            raise ValueError(
                f"zones of one cluster must be in one region, not {', '.join(regions)} "
                "(a finance zone such as cn-hangzhou-finance-b belongs to its own region)"
            )
        return zones

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, v: str | None) -> str | None:
        return None if v is None else vpc_cidr(v)

    @model_validator(mode="after")
    def _consistent(self) -> NetworkArgs:
        if self.existing_vpc is not None:
            clashes = [
                f
                for f in ("vpc_cidr", "node_vswitch_cidrs", "pod_vswitch_cidrs")
                if getattr(self, f) is not None
            ]
            if clashes:
                raise ValueError(
                    f"{' and '.join(clashes)} cannot be combined with existing_vpc: the "
                    "existing VPC's ranges are used; remove one of them"
                )
            if self.cen is not None:
                raise ValueError(
                    "cen cannot be combined with existing_vpc: the stack that owns the VPC "
                    "attaches it to CEN (an attachment from here would be a loose one)"
                )
        return self

    @property
    def effective_vpc_cidr(self) -> str:
        if self.existing_vpc is not None:
            return self.existing_vpc.cidr
        return self.vpc_cidr or "10.0.0.0/16"
