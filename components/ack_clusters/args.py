"""Typed arguments for the cluster components (pydantic v2).

Everything here is pure: models validate and explain, they never touch Pulumi. Values that shape
the resource graph (zones, CIDRs, pool names, NAT strategy) are plain values, not ``Input``s, so
the graph is known at preview time and every check runs before the first resource registers.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

#: Logical names users choose (node pools, clusters): they become part of URNs and cloud names,
#: so they follow the strictest rule among the resources they name (DNS-label style).
NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$"
_NAME_HELP = "1-40 characters: lowercase letters, digits and hyphens, starting with a letter"

#: ACK control plane specifications accepted by ``cs.ManagedKubernetes.cluster_spec``.
ClusterSpec = Literal[
    "ack.standard", "ack.pro.small", "ack.pro.xlarge", "ack.pro.2xlarge", "ack.pro.4xlarge"
]
#: Addons that select the pod network; chosen through ``network_plugin``, not ``addons``.
NETWORK_ADDONS = frozenset({"terway-eniip", "terway-eni", "terway-controlplane", "flannel"})
PRO_SPECS: frozenset[str] = frozenset(
    {"ack.pro.small", "ack.pro.xlarge", "ack.pro.2xlarge", "ack.pro.4xlarge"}
)

#: The RFC 1918 ranges. ACK accepts other custom VPC ranges, but a public range in a VPC breaks
#: reachability of that range from the cluster, so the library only plans private ones.
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
#: ACK uses this range for its control plane and cloud services; it must stay free.
CONTROL_PLANE_RANGE = ipaddress.IPv4Network("100.64.0.0/10")

_K8S_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_ZONE_PATTERN = re.compile(r"^[a-z]{2}-[a-z0-9-]+-[a-z0-9]+$")
#: Alibaba allows 20 tags per resource; the library adds OWNERSHIP_TAG_COUNT of its own.
TAG_LIMIT = 20
OWNERSHIP_TAG_COUNT = 2
_DAY = "(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_WEEKDAYS = rf"^{_DAY}(,{_DAY})*$"


class _Model(BaseModel):
    """Strict base: unknown keys are errors (a typo in config must not be silently ignored)."""

    # defer_build: a model builds its validator on first use, so importing the library does not
    # pay for the forms (and nested models) a program never uses.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )


def _network(value: str, *, what: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a valid {what} in CIDR notation with host bits clear "
            f"(for example '10.0.0.0/16'): {exc}"
        ) from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"{value!r}: only IPv4 ranges are supported for the {what}")
    return net


def _private(net: ipaddress.IPv4Network, *, what: str) -> None:
    if not any(net.subnet_of(r) for r in PRIVATE_RANGES):
        raise ValueError(
            f"{net} is not a private range: the {what} must lie inside 10.0.0.0/8, "
            "172.16.0.0/12 or 192.168.0.0/16"
        )


def _prefix_between(net: ipaddress.IPv4Network, low: int, high: int, *, what: str) -> None:
    if not low <= net.prefixlen <= high:
        raise ValueError(
            f"{net} has a /{net.prefixlen} mask; Alibaba Cloud accepts /{low} to /{high} "
            f"for a {what}"
        )


def vpc_cidr(value: str) -> str:
    net = _network(value, what="VPC CIDR")
    _private(net, what="VPC CIDR")
    _prefix_between(net, 8, 24, what="VPC")
    return str(net)


def vswitch_cidr(value: str) -> str:
    net = _network(value, what="vSwitch CIDR")
    _prefix_between(net, 16, 29, what="vSwitch")
    return str(net)


def _zone(value: str) -> str:
    if not _ZONE_PATTERN.match(value):
        raise ValueError(f"{value!r} is not an Alibaba Cloud zone ID (for example 'cn-hangzhou-i')")
    return value


def _distinct(keys: list[str], what: str) -> None:
    """Refuse repeated keys, naming them all."""
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"{what} must be distinct; repeated: {', '.join(repeated)}")


def _tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > TAG_LIMIT - OWNERSHIP_TAG_COUNT:
        raise ValueError(
            f"{len(tags)} tags given; at most {TAG_LIMIT - OWNERSHIP_TAG_COUNT} fit beside the "
            f"{OWNERSHIP_TAG_COUNT} ownership tags (Alibaba allows {TAG_LIMIT} per resource)"
        )
    for key, val in tags.items():
        if not 1 <= len(key) <= 128:
            raise ValueError(f"tag key {key!r} must be 1-128 characters")
        if len(val) > 128:
            raise ValueError(f"tag {key!r}: value must be at most 128 characters")
        for text in (key, val):
            low = text.lower()
            if low.startswith(("aliyun", "acs:")) or "http://" in low or "https://" in low:
                raise ValueError(
                    f"tag {key!r}: keys and values cannot start with 'aliyun' or 'acs:' "
                    "nor contain 'http://' or 'https://'"
                )
    return tags


Tags = Annotated[dict[str, str], Field(default_factory=dict)]


def _instance_type(value: str) -> str:
    if not re.fullmatch(r"ecs\.[a-z0-9-]+\.[a-z0-9-]+", value):
        raise ValueError(f"{value!r} is not an ECS instance type such as 'ecs.g7.xlarge'")
    return value


InstanceType = Annotated[str, AfterValidator(_instance_type)]
#: Validated one by one, so an error names the zone or position it is about.
VSwitchCidr = Annotated[str, AfterValidator(vswitch_cidr)]
ZoneId = Annotated[str, AfterValidator(_zone)]


# --------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------


class ExistingVSwitch(_Model):
    """A vSwitch that already exists. Its CIDR is needed to plan firewall rules and checks."""

    id: str = Field(pattern=r"^vsw-[a-z0-9]+$", description="The vSwitch ID (vsw-...).")
    cidr: str = Field(description="The vSwitch's IPv4 CIDR block.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return vswitch_cidr(v)


class ExistingVpc(_Model):
    """Bring-your-own network: the cluster uses these instead of creating a VPC."""

    id: str = Field(pattern=r"^vpc-[a-z0-9]+$", description="The VPC ID (vpc-...).")
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


NatStrategy = Literal["none", "single", "per_zone"]


class NetworkArgs(_Model):
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

    @field_validator("zones")
    @classmethod
    def _zones(cls, zones: list[str]) -> list[str]:
        _distinct(zones, "zones")
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
        return self

    @property
    def effective_vpc_cidr(self) -> str:
        if self.existing_vpc is not None:
            return self.existing_vpc.cidr
        return self.vpc_cidr or "10.0.0.0/16"


# --------------------------------------------------------------------------------------------
# Security
# --------------------------------------------------------------------------------------------

#: Ports that must never be open to the whole internet.
MANAGEMENT_PORTS = {22: "SSH", 3389: "RDP"}


class IngressRule(_Model):
    """An extra inbound rule on the cluster security group."""

    description: str = Field(min_length=1, max_length=512, description="What the rule is for.")
    protocol: Literal["tcp", "udp", "icmp", "all"] = Field(description="IP protocol.")
    port_range: str = Field(
        default="-1/-1", description="'from/to' for tcp and udp (e.g. '443/443'), else -1/-1."
    )
    cidr: str = Field(description="Source IPv4 range.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return str(_network(v, what="source range"))

    @model_validator(mode="after")
    def _ports(self) -> IngressRule:
        m = re.fullmatch(r"(-?\d+)/(-?\d+)", self.port_range)
        if m is None:
            raise ValueError(f"port_range {self.port_range!r} must look like '443/443'")
        lo, hi = int(m[1]), int(m[2])
        if self.protocol in ("tcp", "udp"):
            if not (1 <= lo <= hi <= 65535):
                raise ValueError(
                    f"port_range {self.port_range!r}: tcp/udp need 1 <= from <= to <= 65535"
                )
        elif (lo, hi) != (-1, -1):
            raise ValueError(f"port_range must be '-1/-1' for protocol {self.protocol}")
        if self.cidr == "0.0.0.0/0":
            if self.protocol == "all" or (lo, hi) == (1, 65535):
                raise ValueError("opening all ports to 0.0.0.0/0 is refused; name a source range")
            for port, name in MANAGEMENT_PORTS.items():
                if self.protocol == "tcp" and lo <= port <= hi:
                    raise ValueError(
                        f"opening {name} (port {port}) to 0.0.0.0/0 is refused; use a bastion "
                        "or your office range as the source"
                    )
        return self

    @property
    def key(self) -> str:
        """Stable identity of the rule (its logical name never depends on list position)."""
        ports = self.port_range.replace("/", "-").replace("-1--1", "any")
        return f"{self.protocol}-{ports}-{self.cidr.replace('/', '-')}"


class SecurityArgs(_Model):
    """Rules on the cluster security group beyond what ACK needs."""

    extra_ingress: list[IngressRule] = Field(
        default_factory=list, description="Extra inbound rules; never world-open management."
    )

    @field_validator("extra_ingress")
    @classmethod
    def _distinct(cls, rules: list[IngressRule]) -> list[IngressRule]:
        _distinct([r.key for r in rules], "ingress rules")
        return rules


# --------------------------------------------------------------------------------------------
# Node pools
# --------------------------------------------------------------------------------------------


class Disk(_Model):
    """A node disk (encrypted unless told otherwise)."""

    category: Literal["cloud_essd", "cloud_auto", "cloud_ssd", "cloud_efficiency"] = Field(
        default="cloud_essd", description="Disk category."
    )
    size: int = Field(default=120, ge=20, le=32768, description="GiB.")
    performance_level: Literal["PL0", "PL1", "PL2", "PL3"] | None = Field(
        default=None, description="ESSD performance level."
    )
    encrypted: bool = Field(default=True, description="Encrypt the disk (default on).")
    kms_key_id: str | None = Field(default=None, description="KMS key; default: the ECS key.")


class Taint(_Model):
    """A Kubernetes taint on every node of a pool."""

    key: str = Field(min_length=1, max_length=253, description="Taint key.")
    value: str = Field(default="", description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        default="NoSchedule", description="Scheduling effect."
    )


class Autoscaling(_Model):
    """Bounds within which the cluster autoscaler sizes a node pool."""

    min_size: int = Field(ge=0, le=1000, description="Fewest nodes.")
    max_size: int = Field(ge=1, le=1000, description="Most nodes.")

    @model_validator(mode="after")
    def _order(self) -> Autoscaling:
        if self.min_size > self.max_size:
            raise ValueError(
                f"min_size ({self.min_size}) must not exceed max_size ({self.max_size})"
            )
        return self


class NodePoolArgs(_Model):
    """One ACK node pool: an ESS scaling group of ECS workers that ACK manages."""

    instance_types: list[InstanceType] = Field(
        min_length=1, max_length=10, description="ECS instance types, in order of preference."
    )
    desired_size: int | None = Field(
        default=None, ge=0, le=1000, description="Node count (initial count if autoscaled)."
    )
    autoscaling: Autoscaling | None = Field(
        default=None, description="Let the cluster autoscaler scale between min and max."
    )
    ignore_scaling_changes: bool = Field(
        default=False,
        description="Ignore desired_size drift caused by the autoscaler (required to set "
        "desired_size on an autoscaled pool).",
    )
    spot: bool = Field(default=False, description="Use spot instances (SpotAsPriceGo).")
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes node labels.")
    taints: list[Taint] = Field(default_factory=list, description="Kubernetes node taints.")
    system_disk: Disk = Field(default_factory=Disk, description="System disk of each node.")
    data_disks: list[Disk] = Field(
        default_factory=list, max_length=16, description="Data disks of each node."
    )
    image_type: str = Field(default="AliyunLinux3", description="ACK OS image type.")
    key_name: str | None = Field(default=None, description="ECS key pair for node login.")
    password: SecretStr | None = Field(
        default=None, description="Node login password (kept secret). Prefer key_name."
    )
    auto_repair: bool = Field(default=True, description="Repair failed nodes (managed pool).")
    auto_upgrade: bool = Field(default=True, description="Upgrade nodes (managed pool).")
    max_unavailable: int = Field(default=1, ge=1, le=1000, description="Nodes updated at once.")

    @model_validator(mode="after")
    def _sizes_and_login(self) -> NodePoolArgs:
        a = self.autoscaling
        if a is None:
            if self.desired_size is None:
                raise ValueError("set desired_size for a fixed-size pool, or set autoscaling")
            if self.ignore_scaling_changes:
                raise ValueError(
                    "ignore_scaling_changes only applies to autoscaled pools: nothing else "
                    "changes desired_size, so hiding its drift would hide console edits"
                )
        elif self.desired_size is not None:
            if not a.min_size <= self.desired_size <= a.max_size:
                raise ValueError(
                    f"desired_size ({self.desired_size}) must lie within autoscaling "
                    f"min_size..max_size ({a.min_size}..{a.max_size})"
                )
            if not self.ignore_scaling_changes:
                raise ValueError(
                    "desired_size on an autoscaled pool drifts as soon as the autoscaler acts: "
                    "set ignore_scaling_changes=true, or drop desired_size"
                )
        if (self.key_name is None) == (self.password is None):
            raise ValueError("set exactly one of key_name and password for node login")
        if self.password is not None and (self.auto_repair or self.auto_upgrade):
            raise ValueError(
                "managed node pools (auto_repair or auto_upgrade) accept key_name only, not "
                "password: use a key pair, or turn both off"
            )
        if self.password is not None:
            pw = self.password.get_secret_value()
            classes = sum(
                bool(re.search(p, pw)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")
            )
            if not 8 <= len(pw) <= 30 or classes < 3:
                raise ValueError(
                    "password must be 8-30 characters with three of: lowercase, uppercase, "
                    "digits, symbols"
                )
        return self


# --------------------------------------------------------------------------------------------
# Cluster
# --------------------------------------------------------------------------------------------


LogComponent = Literal["apiserver", "kcm", "scheduler", "ccm", "controlplane-events"]


def _default_log_components() -> list[LogComponent]:
    return ["apiserver", "kcm", "scheduler", "ccm"]


class ControlPlaneLogs(_Model):
    """Control plane components whose logs ACK ships to SLS."""

    components: list[LogComponent] = Field(
        default_factory=_default_log_components, min_length=1, description="Components to log."
    )
    ttl_days: int = Field(default=30, ge=1, le=3650, description="Days to keep the logs.")
    project: str | None = Field(default=None, description="SLS project; ACK creates one if unset.")


class AuditLog(_Model):
    """The Kubernetes audit log, kept in SLS."""

    enabled: bool = Field(default=True, description="Keep the audit log.")
    project: str | None = Field(default=None, description="SLS project for audit logs.")


class MaintenanceWindow(_Model):
    """When ACK may run maintenance and auto-upgrades."""

    weekly_period: str = Field(
        default="Thursday", pattern=_WEEKDAYS, description="Days, e.g. 'Tuesday,Thursday'."
    )
    maintenance_time: str = Field(
        default="2025-01-02T03:00:00.000+08:00", description="RFC 3339 start time."
    )
    duration_hours: int = Field(default=3, ge=1, le=24, description="Length of the window.")


class Addon(_Model):
    """An ACK addon installed when the cluster is created."""

    name: str = Field(min_length=1, description="Addon name, e.g. 'ack-node-problem-detector'.")
    config: str | None = Field(default=None, description="JSON configuration string.")
    version: str | None = Field(default=None, description="Addon version; default: ACK's.")
    disabled: bool = Field(default=False, description="Do not install this default addon.")


class Ingress(_Model):
    """A load balancer the component owns for Service ingress (the other SLB entry)."""

    public: bool = Field(default=False, description="Internet-facing instead of private.")
    spec: str = Field(
        default="slb.s2.small",
        pattern=r"^slb\.s[1-4]\.[a-z0-9]+$",
        description="SLB specification (slb.s1.small ... slb.s4.large).",
    )
    bind_service: bool = Field(
        default=False,
        description="Also create the Kubernetes Service that binds the ingress controller to "
        "this load balancer by annotation.",
    )
    service_namespace: str = Field(
        default="kube-system", pattern=_K8S_NAME, description="Namespace of the bound Service."
    )
    service_name: str = Field(
        default="nginx-ingress-lb", pattern=_K8S_NAME, description="Name of the bound Service."
    )
    selector: dict[str, str] = Field(
        default_factory=lambda: {"app": "ingress-nginx"},
        description="Pod selector of the ingress controller the Service sends traffic to.",
    )


class Adoption(_Model):
    """Existing resources to bring under the component with Pulumi's `import` option instead of
    creating them. Declared arguments must match what exists: an import whose inputs differ
    fails rather than replacing anything."""

    cluster_id: str | None = Field(
        default=None, pattern=r"^c[0-9a-f]{32}$", description="Existing cluster ID (c...)."
    )
    vpc_id: str | None = Field(
        default=None, pattern=r"^vpc-[a-z0-9]+$", description="Existing VPC ID to own."
    )
    node_vswitch_ids: dict[str, Annotated[str, Field(pattern=r"^vsw-[a-z0-9]+$")]] = Field(
        default_factory=dict, description="Zone ID -> existing node (or ECI) vSwitch."
    )
    pod_vswitch_ids: dict[str, Annotated[str, Field(pattern=r"^vsw-[a-z0-9]+$")]] = Field(
        default_factory=dict, description="Zone ID -> existing Terway pod vSwitch."
    )
    security_group_id: str | None = Field(
        default=None, pattern=r"^sg-[a-z0-9]+$", description="Existing cluster security group."
    )
    node_pool_ids: dict[str, Annotated[str, Field(pattern=r"^np[0-9a-f]{32}$")]] = Field(
        default_factory=dict, description="Pool name -> existing node pool ID (np...)."
    )
    node_role_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="RAM role the existing workers run as (e.g. ACK's KubernetesWorkerRole-...): "
        "node pools keep it and the component creates no node role.",
    )


class CommonClusterArgs(_Model):
    """What every cluster form shares, dedicated included."""

    kubernetes_version: str | None = Field(
        default=None, description="e.g. '1.33.3-aliyun.1'; default: ACK's latest at creation."
    )
    network: NetworkArgs = Field(description="Where the cluster lives: new or existing VPC, zones.")
    security: SecurityArgs = Field(
        default_factory=SecurityArgs, description="Extra rules on the cluster security group."
    )
    service_cidr: str = Field(default="172.21.0.0/20", description="Kubernetes Service range.")
    public_api_server: bool = Field(
        default=False, description="Give the API server an internet SLB (private by default)."
    )
    deletion_protection: bool = Field(
        default=True,
        description="Cloud deletion protection on cluster, NAT, EIP and ingress SLB, and "
        "Pulumi `protect` on the VPC.",
    )
    addons: list[Addon] = Field(default_factory=list, description="Create-only ACK addons.")
    ingress: Ingress | None = Field(
        default=None, description="An ingress load balancer the component owns."
    )
    tags: Tags = Field(
        default_factory=dict, description="Tags for every taggable resource (up to 18)."
    )
    kubeconfig_minutes: int = Field(
        default=240, ge=15, le=4320, description="Lifetime of the fetched kubeconfig."
    )
    adopt: Adoption | None = Field(
        default=None, description="Existing resources to import instead of creating."
    )

    @field_validator("service_cidr")
    @classmethod
    def _service_cidr(cls, v: str) -> str:
        net = _network(v, what="service CIDR")
        _private(net, what="service CIDR")
        _prefix_between(net, 16, 24, what="Service CIDR")
        return str(net)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return _tags(v)

    @field_validator("addons")
    @classmethod
    def _addons(cls, addons: list[Addon]) -> list[Addon]:
        _distinct([a.name for a in addons], "addon names")
        return addons

    @property
    def adopted_cluster_id(self) -> str | None:
        """Import ID of the cluster resource, when adopting an existing cluster."""
        return self.adopt.cluster_id if self.adopt else None

    @model_validator(mode="after")
    def _adoption(self) -> CommonClusterArgs:
        a = self.adopt
        if a is None:
            return self
        problems = []
        if self.network.existing_vpc is not None and (a.vpc_id or a.node_vswitch_ids):
            problems.append(
                "adopt.vpc_id/adopt.*vswitch_ids import a network the cluster will own; "
                "network.existing_vpc only references one: use one or the other"
            )
        for field in ("node_vswitch_ids", "pod_vswitch_ids"):
            extra = sorted(set(getattr(a, field)) - set(self.network.zones))
            if extra:
                problems.append(f"adopt.{field}: zone(s) {', '.join(extra)} not in network.zones")
        if (a.node_vswitch_ids or a.pod_vswitch_ids) and not a.vpc_id:
            problems.append("adopt vSwitches together with their VPC (adopt.vpc_id)")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ClusterArgs(CommonClusterArgs):
    """What clusters with an ACK-managed control plane (managed and serverless) add."""

    control_plane_logs: ControlPlaneLogs | None = Field(
        default_factory=ControlPlaneLogs, description="Control plane logs; null turns them off."
    )
    audit_log: AuditLog = Field(default_factory=AuditLog, description="Kubernetes audit log.")
    secrets_encryption_kms_key_id: str | None = Field(
        default=None, description="KMS key ID for Secret encryption at rest (Pro specs only)."
    )
    rrsa: bool = Field(default=True, description="RAM Roles for Service Accounts (irreversible).")
    maintenance_window: MaintenanceWindow | None = Field(
        default=None, description="Maintenance window (needed for auto-upgrade)."
    )
    auto_upgrade_channel: Literal["patch", "stable", "rapid"] | None = Field(
        default=None, description="Cluster auto-upgrade channel (needs maintenance_window)."
    )

    @model_validator(mode="after")
    def _upgrades(self) -> ClusterArgs:
        problems = []
        if self.auto_upgrade_channel is not None:
            if self.maintenance_window is None:
                problems.append(
                    "auto_upgrade_channel only works inside a maintenance window: set "
                    "maintenance_window too"
                )
            if self.kubernetes_version is not None:
                problems.append(
                    "kubernetes_version conflicts with auto_upgrade_channel: ACK upgrades the "
                    "cluster itself, and a pinned version would then drift; set only one"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


NodePools = Annotated[
    dict[Annotated[str, Field(pattern=NAME_PATTERN)], NodePoolArgs],
    Field(default_factory=dict, description=f"Pool name ({_NAME_HELP}) -> pool."),
]


class NodeClusterArgs(CommonClusterArgs):
    """What clusters with ECS worker nodes (managed and dedicated) add."""

    network_plugin: Literal["terway", "flannel"] = Field(
        default="terway", description="Terway (pods in VPC vSwitches) or Flannel (pod_cidr)."
    )
    pod_cidr: str | None = Field(
        default=None, description="Flannel pod range (default 172.20.0.0/16)."
    )
    node_cidr_mask: int = Field(default=26, ge=24, le=28, description="Flannel per-node mask.")
    node_pools: NodePools

    @field_validator("pod_cidr")
    @classmethod
    def _pod_cidr(cls, v: str | None) -> str | None:
        if v is None:
            return None
        net = _network(v, what="pod CIDR")
        _private(net, what="pod CIDR")
        _prefix_between(net, 8, 20, what="Flannel pod CIDR")
        return str(net)

    @model_validator(mode="after")
    def _node_rules(self) -> NodeClusterArgs:
        problems: list[str] = []
        if self.network_plugin == "flannel":
            if self.network.pod_vswitch_cidrs or (
                self.network.existing_vpc and self.network.existing_vpc.pod_vswitches
            ):
                problems.append("pod vSwitches are for Terway; Flannel uses pod_cidr")
        elif self.pod_cidr is not None:
            problems.append("pod_cidr is for Flannel; Terway puts pods in pod vSwitches")
        chosen = sorted({a.name for a in self.addons} & NETWORK_ADDONS)
        if chosen:
            problems.append(
                f"addons {', '.join(chosen)} select the pod network: use network_plugin instead"
            )
        if self.adopt is not None:
            if self.adopt.node_pool_ids and not self.adopt.cluster_id:
                problems.append(
                    "adopt.node_pool_ids need adopt.cluster_id (a pool's import ID "
                    "is '<cluster ID>:<pool ID>')"
                )
            unknown = sorted(set(self.adopt.node_pool_ids) - set(self.node_pools))
            if unknown:
                problems.append(
                    f"adopt.node_pool_ids names pools not in node_pools: {', '.join(unknown)}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def effective_pod_cidr(self) -> str | None:
        if self.network_plugin != "flannel":
            return None
        return self.pod_cidr or "172.20.0.0/16"

    @property
    def wants_pod_vswitches(self) -> bool:
        return self.network_plugin == "terway"

    @property
    def network_addon(self) -> str:
        """The ACK addon that provides the chosen pod network."""
        return "flannel" if self.network_plugin == "flannel" else "terway-eniip"


class ManagedClusterArgs(ClusterArgs, NodeClusterArgs):
    """Arguments of :class:`components.ManagedCluster`."""

    cluster_spec: ClusterSpec = Field(default="ack.pro.small", description="ACK edition.")
    migrated_from_dedicated: bool = Field(
        default=False,
        description="This stack managed the cluster as a DedicatedCluster before ACK migrated "
        "it to Pro: keep every shared resource's identity (aliases), import the cluster.",
    )

    @model_validator(mode="after")
    def _managed_rules(self) -> ManagedClusterArgs:
        problems: list[str] = []
        if self.secrets_encryption_kms_key_id and self.cluster_spec not in PRO_SPECS:
            problems.append(
                f"secrets_encryption_kms_key_id needs a Pro cluster_spec (ack.pro.*), "
                f"not {self.cluster_spec}"
            )
        if self.migrated_from_dedicated:
            if self.cluster_spec not in PRO_SPECS:
                problems.append("ACK migrates dedicated clusters to Pro: use an ack.pro.* spec")
            if self.adopt is None or self.adopt.cluster_id is None:
                problems.append(
                    "migrated_from_dedicated needs adopt.cluster_id: the migrated cluster is "
                    "imported as a managed cluster, never created"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class MasterDisk(_Model):
    """System disk of each master."""

    category: Literal["cloud_essd", "cloud_ssd", "cloud_efficiency"] = Field(
        default="cloud_essd", description="Disk category."
    )
    size: int = Field(default=120, ge=20, le=500, description="GiB.")
    performance_level: Literal["PL0", "PL1", "PL2", "PL3"] | None = Field(
        default=None, description="ESSD performance level."
    )


class Masters(_Model):
    """The dedicated control plane: master ECS instances the user can see."""

    count: int = Field(default=3, description="3 or 5 masters (an odd etcd quorum).")
    instance_types: list[InstanceType] = Field(
        default_factory=lambda: ["ecs.g7.xlarge"],
        min_length=1,
        description="One type for every master, or one per master.",
    )
    zones: list[str] | None = Field(
        default=None,
        description="Zone of each master (from network.zones); default: spread round-robin "
        "over network.zones, which then must list at least 3 zones.",
    )
    disk: MasterDisk = Field(default_factory=MasterDisk, description="Master system disk.")

    @field_validator("count")
    @classmethod
    def _count(cls, n: int) -> int:
        if n not in (3, 5):
            raise ValueError(
                f"{n} masters: dedicated clusters run 3 or 5 masters, an odd number so that "
                "etcd keeps a quorum when one fails"
            )
        return n

    @model_validator(mode="after")
    def _shape(self) -> Masters:
        if len(self.instance_types) not in (1, self.count):
            raise ValueError(
                f"instance_types: give one type, or one per master ({self.count}), not "
                f"{len(self.instance_types)}"
            )
        if self.zones is not None and len(self.zones) != self.count:
            raise ValueError(
                f"zones: {self.count} masters need {self.count} master zones (one vSwitch "
                f"each), got {len(self.zones)}"
            )
        return self


class DedicatedClusterArgs(NodeClusterArgs):
    """Arguments of :class:`components.DedicatedCluster`."""

    masters: Masters = Field(default_factory=Masters, description="The dedicated control plane.")
    key_name: str | None = Field(default=None, description="ECS key pair for master login.")
    password: SecretStr | None = Field(default=None, description="Master login password.")

    @model_validator(mode="after")
    def _dedicated_rules(self) -> DedicatedClusterArgs:
        problems = []
        if (self.key_name is None) == (self.password is None):
            problems.append("set exactly one of key_name and password for master login")
        zones = self.network.zones
        if self.masters.zones is None:
            if len(zones) < 3:
                problems.append(
                    f"masters spread over network.zones, which lists {len(zones)}: list at least "
                    "3 zones so the control plane survives a zone outage, or give masters.zones "
                    "explicitly (for example to adopt an existing single-zone cluster)"
                )
        else:
            outside = sorted(set(self.masters.zones) - set(zones))
            if outside:
                problems.append(f"masters.zones {', '.join(outside)} are not in network.zones")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def master_zones(self) -> list[str]:
        zones = self.network.zones
        return self.masters.zones or [zones[i % len(zones)] for i in range(self.masters.count)]

    @property
    def master_instance_types(self) -> list[str]:
        types = self.masters.instance_types
        return types * self.masters.count if len(types) == 1 else list(types)


#: Arguments that only make sense where there are nodes; refused on a serverless cluster with a
#: message that says why, instead of a bare "extra inputs are not permitted".
NODE_ONLY_ARGUMENTS = ("node_pools", "network_plugin", "pod_cidr", "node_cidr_mask")


class ServerlessClusterArgs(ClusterArgs):
    """Arguments of :class:`components.ServerlessCluster`."""

    cluster_spec: Literal["ack.standard", "ack.pro.small"] = Field(
        default="ack.pro.small", description="ACK Serverless edition (Basic or Pro)."
    )
    service_discovery: Literal["managed-coredns", "none"] = Field(
        default="managed-coredns",
        description="DNS service discovery for pods: ACK's managed CoreDNS, or none (pods then "
        "cannot resolve Service names).",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nodes(cls, data: object) -> object:
        if isinstance(data, dict):
            given = [k for k in NODE_ONLY_ARGUMENTS if k in data]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: a ServerlessCluster runs every pod on ECI and has no "
                    "nodes, node pools or node network plugin; remove them, or use "
                    "ManagedCluster for nodes"
                )
        return data

    @model_validator(mode="after")
    def _serverless_rules(self) -> ServerlessClusterArgs:
        problems = []
        if self.secrets_encryption_kms_key_id and self.cluster_spec != "ack.pro.small":
            problems.append(
                "secrets_encryption_kms_key_id needs cluster_spec ack.pro.small (Serverless Pro)"
            )
        if self.network.pod_vswitch_cidrs or (
            self.network.existing_vpc and self.network.existing_vpc.pod_vswitches
        ):
            problems.append(
                "pod vSwitches are for Terway nodes; ECI pods use the cluster vSwitches "
                "(network.zones / node vSwitches)"
            )
        if any(a.name == "managed-coredns" for a in self.addons):
            problems.append("managed-coredns is chosen by service_discovery, not addons")
        if problems:
            raise ValueError("; ".join(problems))
        return self
