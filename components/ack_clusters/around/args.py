"""Arguments of what teams build around a cluster, as typed homes the cluster owns: access
grants (RAM users and roles mapped to ACK's RBAC roles), app subnets (vSwitches for databases
and apps in the cluster's VPC) and private DNS zones bound to the cluster's VPC.

See docs/AROUND-A-CLUSTER.md for why each is shaped as it is.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PlainValidator, field_validator, model_validator

from ..network.args import vswitch_cidr
from ..validation import (
    K8S_NAME,
    NAME_HELP,
    NAME_PATTERN,
    Deferred,
    Later,
    Refused,
    StrictModel,
    ZoneId,
    distinct,
    is_deferred,
    zone_region,
)

#: ACK's predefined RBAC roles (the provider's `permissions.role_name`: "Valid values `admin`,
#: `ops`, `dev`, `restricted` and the custom cluster roles", pulumi_alicloud
#: cs.KubernetesPermissionPermissionArgs, from resource_alicloud_cs_kubernetes_permissions.go).
PredefinedRole = Literal["admin", "ops", "dev", "restricted"]


def ram_principal_id(value: str) -> str:
    """A RAM user's or role's ID: digits, never a name or an ARN. A ``ram.User``'s ``id`` is
    its user ID (``d.SetId(response.User.UserId)``, resource_alicloud_ram_user.go), but a
    ``ram.Role``'s ``id`` is its name (``d.SetId(...RoleName)``, resource_alicloud_ram_role.go):
    its ID is ``role_id``. A name given where the ID belongs is refused when known, here."""
    if not re.fullmatch(r"[0-9]{1,32}", value):
        raise Refused(
            value,
            "is not a RAM user or role ID: give the numeric ID RAM assigned (a ram.User's id, "
            "a ram.Role's role_id), not its name or ARN",
        )
    return value


_PRINCIPAL = Later(ram_principal_id, "a RAM user or role ID")
#: A RAM user's or role's ID; may be an output (`ram.User(...).id`).
RamPrincipalIdInput = Annotated[str | Deferred, PlainValidator(_PRINCIPAL.validate), _PRINCIPAL]


def _logical_name(value: str) -> str:
    if not re.match(NAME_PATTERN, value):
        raise ValueError(f"{value!r} is not a valid name: {NAME_HELP} (it names resources)")
    return value


LogicalName = Annotated[str, AfterValidator(_logical_name)]


class RoleGrant(StrictModel):
    """One ACK RBAC role on this cluster: cluster-wide, or in one namespace."""

    role: str = Field(
        min_length=1,
        description="'admin', 'ops', 'dev', 'restricted', or the name of a custom ClusterRole "
        "(with custom: true).",
    )
    namespace: str | None = Field(
        default=None,
        description="Grant the role in this namespace only; default: cluster-wide.",
    )
    custom: bool = Field(
        default=False,
        description="`role` names a ClusterRole of the cluster's own, not one of ACK's "
        "predefined roles.",
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(K8S_NAME, v):
            raise ValueError(
                f"{v!r} is not a Kubernetes namespace name (lowercase letters, digits and "
                "hyphens, at most 63)"
            )
        return v

    @model_validator(mode="after")
    def _role(self) -> RoleGrant:
        predefined = self.role in ("admin", "ops", "dev", "restricted")
        if self.custom and predefined:
            raise ValueError(
                f"role {self.role!r} is one of ACK's predefined roles: drop custom, or name "
                "a ClusterRole of your own"
            )
        if not self.custom and not predefined:
            raise ValueError(
                f"role {self.role!r} is not one of ACK's predefined roles (admin, ops, dev, "
                "restricted): set custom: true for a ClusterRole of your own (the provider's "
                "is_custom, resource_alicloud_cs_kubernetes_permissions.go)"
            )
        return self

    @property
    def role_type(self) -> Literal["cluster", "namespace"]:
        return "namespace" if self.namespace is not None else "cluster"


class AccessGrant(StrictModel):
    """What one RAM user or RAM role may do in this cluster (ACK's RBAC authorization)."""

    ram_user_id: RamPrincipalIdInput | None = Field(
        default=None, description="The RAM user's ID (may be an output)."
    )
    ram_role_id: RamPrincipalIdInput | None = Field(
        default=None, description="The RAM role's ID (may be an output), e.g. a CI role."
    )
    roles: list[RoleGrant] = Field(min_length=1, description="The RBAC roles it gets here.")

    @model_validator(mode="after")
    def _one_principal(self) -> AccessGrant:
        if (self.ram_user_id is None) == (self.ram_role_id is None):
            raise ValueError("set exactly one of ram_user_id and ram_role_id")
        keys = [f"{r.role_type}:{r.namespace or ''}:{r.role}" for r in self.roles]
        distinct(keys, "roles (role and namespace)")
        return self

    @property
    def principal(self) -> str | Deferred:
        found = self.ram_user_id if self.ram_user_id is not None else self.ram_role_id
        assert found is not None
        return found

    @property
    def is_ram_role(self) -> bool:
        return self.ram_role_id is not None


class AccessArgs(StrictModel):
    """Who may do what in the cluster, by RAM identity."""

    grants: dict[LogicalName, AccessGrant] = Field(
        default_factory=dict,
        description="Name -> one RAM user's or role's RBAC roles on this cluster (one grant "
        "per principal).",
    )

    @field_validator("grants")
    @classmethod
    def _one_grant_per_principal(cls, grants: dict[str, AccessGrant]) -> dict[str, AccessGrant]:
        seen: dict[str, str] = {}
        for name, grant in grants.items():
            principal = grant.principal
            if is_deferred(principal):
                continue  # an output: known only at deployment (see docs/AROUND-A-CLUSTER.md)
            assert isinstance(principal, str)
            if principal in seen:
                raise ValueError(
                    f"grants {seen[principal]!r} and {name!r} are for the same principal "
                    f"{principal}: give it one grant listing all its roles (two would revoke "
                    "each other's roles when one is removed)"
                )
            seen[principal] = name
        return grants


class AppSubnet(StrictModel):
    """A vSwitch for databases or apps in the cluster's VPC (RDS, Redis, NAS...)."""

    zone: ZoneId = Field(description="Zone ID, in the cluster's region.")
    cidr: Annotated[str, AfterValidator(vswitch_cidr)] | None = Field(
        default=None,
        description="Its CIDR; default: planned from the end of the VPC (a planned VPC only).",
    )
    prefix: int = Field(
        default=24, ge=16, le=29, description="Prefix length of a planned CIDR (16-29)."
    )

    @model_validator(mode="after")
    def _one_way(self) -> AppSubnet:
        if self.cidr is not None and "prefix" in self.model_fields_set:
            raise ValueError("give cidr or prefix, not both (prefix sizes a planned CIDR)")
        return self


#: A private zone's name: a domain of labels (letters, digits, hyphens), e.g. 'db.internal'.
_ZONE_NAME = (
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
)


class PrivateZone(StrictModel):
    """A PrivateZone (internal DNS) the cluster owns, bound to the cluster's VPC only."""

    zone_name: str = Field(description="The zone's domain, e.g. 'db.internal' (ForceNew).")
    remark: str | None = Field(default=None, description="A remark.")
    proxy_pattern: Literal["ZONE", "RECORD"] = Field(
        default="ZONE",
        description="Recursive resolution: ZONE (off) or RECORD (names missing from the zone "
        "are resolved on the internet).",
    )

    @field_validator("zone_name")
    @classmethod
    def _zone_name(cls, v: str) -> str:
        name = v.lower().rstrip(".")
        if not re.fullmatch(_ZONE_NAME, name) or "." not in name:
            raise ValueError(
                f"{v!r} is not a private zone name: a domain of at least two labels "
                "(letters, digits, hyphens), e.g. 'db.internal'"
            )
        return name


def _distinct_zone_names(zones: dict[str, PrivateZone]) -> dict[str, PrivateZone]:
    distinct([z.zone_name for z in zones.values()], "private zone names (zone_name)")
    return zones


#: Name -> app subnet; the name keys the vSwitch's logical and cloud name.
AppSubnets = dict[LogicalName, AppSubnet]
#: Name -> private zone; one zone name once.
PrivateZones = Annotated[dict[LogicalName, PrivateZone], AfterValidator(_distinct_zone_names)]


def region_problems(cluster_region: str | None, subnets: AppSubnets) -> list[str]:
    """App subnets live in the cluster's VPC, hence in its region."""
    return [
        f"app_subnets.{name}.zone: {s.zone} is not in the cluster's region {cluster_region} "
        "(a vSwitch lives in its VPC's region)"
        for name, s in subnets.items()
        if cluster_region is not None and zone_region(s.zone) != cluster_region
    ]


#: ACK's node problem detector addon. Node auto-repair depends on it: "ACK uses the
#: ack-node-problem-detector (NPD) add-on to check for node exceptions" (ACK documentation,
#: "Enable node auto repair", alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/
#: user-guide/auto-repair, updated 2025-12-12; its 2025-02-17 version lists the addon as a
#: prerequisite).
NODE_PROBLEM_DETECTOR = "ack-node-problem-detector"


def auto_repair_problems(disabled_addons: set[str], repaired_pools: list[str]) -> list[str]:
    """Auto-repair on a pool needs the node problem detector, which `addons` may disable."""
    if NODE_PROBLEM_DETECTOR not in disabled_addons or not repaired_pools:
        return []
    return [
        f"node_pools {', '.join(repaired_pools)} have auto_repair on, which needs "
        f"{NODE_PROBLEM_DETECTOR} to detect failed nodes (ACK's auto-repair documentation), "
        f"but addons disables it: install it (drop disabled), or set auto_repair: false"
    ]
