"""Arguments of the three cluster forms, named by what they mean:

- :class:`BaseClusterArgs`: what every form shares (network, firewall, Service range, API server
  exposure, deletion protection, addons, ingress, tags, access, adoption);
- :class:`ManagedControlPlaneArgs`: what a control plane run by ACK adds (managed and serverless:
  logs, audit, KMS, RRSA, maintenance, auto-upgrade);
- :class:`WorkerNodesArgs`: what ECS worker nodes add (managed and dedicated: pod network, pools);
- the forms: :class:`ManagedClusterArgs`, :class:`ServerlessClusterArgs`,
  :class:`DedicatedClusterArgs`.

Each concept's own arguments live beside it (network, security, node_pools, ingress).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from .. import facts
from ..around.args import (
    AccessArgs,
    AppSubnets,
    PrivateZones,
    auto_repair_problems,
    region_problems,
)
from ..facts import MANAGED_MAX_ZONES, MASTER_DISK_GIB
from ..ingress.args import Ingress
from ..network.args import NetworkArgs
from ..node_pools.args import Autoscaler, NodePoolArgs, NodePools
from ..security.args import SecurityArgs
from ..validation import (
    InstanceType,
    KeyPairNameInput,
    KmsKeyIdInput,
    KubernetesVersion,
    PasswordInput,
    SlsProjectInput,
    StrictModel,
    Tags,
    distinct,
    json_object,
    kubernetes_version_notice,
    parse_network,
    require_prefix,
    require_private,
    rfc3339,
    zone_notice,
    zone_region,
)

#: ACK control plane specifications accepted by ``cs.ManagedKubernetes.cluster_spec``.
#: The cluster forms, by the name a stack config's `kind` gives them.
Kind = Literal["managed", "serverless", "dedicated"]
#: What runs a cluster's pods: ECS worker nodes (in node pools) or ECI instances.
Workers = Literal["ecs", "eci"]

ClusterSpec = Literal[
    "ack.standard", "ack.pro.small", "ack.pro.xlarge", "ack.pro.2xlarge", "ack.pro.4xlarge"
]
#: Addons that select the pod network; chosen through ``network_plugin``, not ``addons``.
NETWORK_ADDONS = frozenset({"terway-eniip", "terway-eni", "terway-controlplane", "flannel"})
PRO_SPECS: frozenset[str] = frozenset(
    {"ack.pro.small", "ack.pro.xlarge", "ack.pro.2xlarge", "ack.pro.4xlarge"}
)
#: ACK addon names: lowercase words joined by hyphens (they key the addon's logical name).
ADDON_NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
_DAY = "(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_WEEKDAYS = rf"^{_DAY}(,{_DAY})*$"
LogComponent = Literal["apiserver", "kcm", "scheduler", "ccm", "controlplane-events"]


def _default_log_components() -> list[LogComponent]:
    return ["apiserver", "kcm", "scheduler", "ccm"]


def _version(value: str | None) -> tuple[int, int, int]:
    """A validated ACK version as numbers; no version (ACK's latest) counts as new enough."""
    m = re.fullmatch(facts.KUBERNETES_VERSION, value or "")
    return (1, int(m[1]), int(m[2])) if m else (1, 1000, 0)


class ControlPlaneLogs(StrictModel):
    """Control plane components whose logs ACK ships to SLS."""

    components: list[LogComponent] = Field(
        default_factory=_default_log_components, min_length=1, description="Components to log."
    )
    ttl_days: int = Field(default=30, ge=1, le=3650, description="Days to keep the logs.")
    project: SlsProjectInput | None = Field(
        default=None, description="SLS project (may be an output); ACK creates one if unset."
    )


class AuditLog(StrictModel):
    """The Kubernetes audit log, kept in SLS."""

    enabled: bool = Field(default=True, description="Keep the audit log.")
    project: SlsProjectInput | None = Field(
        default=None, description="SLS project for audit logs (may be an output)."
    )


class MaintenanceWindow(StrictModel):
    """When ACK may run maintenance and auto-upgrades."""

    weekly_period: str = Field(
        default="Thursday", pattern=_WEEKDAYS, description="Days, e.g. 'Tuesday,Thursday'."
    )
    maintenance_time: Annotated[str, AfterValidator(rfc3339)] = Field(
        default="2025-01-02T03:00:00.000+08:00", description="RFC 3339 start time."
    )
    duration_hours: int = Field(default=3, ge=1, le=24, description="Length of the window.")


class Addon(StrictModel):
    """An ACK addon. An installed one is a ``cs.KubernetesAddon`` child of the component: its
    version and config are updated in place, and removing it uninstalls it (ACK's required
    addons excepted: the provider leaves those installed). A disabled one tells ACK not to
    install one of its default addons when the cluster is created (create-only)."""

    name: str = Field(
        pattern=ADDON_NAME, description="Addon name, e.g. 'ack-node-problem-detector'."
    )
    config: Annotated[str, AfterValidator(json_object)] | None = Field(
        default=None, description="JSON configuration (updated in place)."
    )
    version: str | None = Field(
        default=None,
        min_length=1,
        description="Addon version as ACK's catalogue numbers it, e.g. 'v1.9.3' (upgraded in "
        "place); default: ACK's.",
    )
    disabled: bool = Field(
        default=False, description="Do not install this default addon (at creation only)."
    )

    @field_validator("version")
    @classmethod
    def _numbered(cls, version: str | None) -> str | None:
        if version is not None and not any(c.isdigit() for c in version):
            raise ValueError(
                f"{version!r} is not an addon version: ACK installs the versions its catalogue "
                "numbers (e.g. 'v1.9.3'), never a channel such as 'latest'; leave version out "
                "for ACK's default"
            )
        return version

    @property
    def notice(self) -> str | None:
        """A warning for a name ACK's catalogue did not list when the list was made."""
        if self.name in facts.ADDONS:
            return None
        fix = facts.ADDON_SPELLINGS.get(self.name)
        hint = f"; ACK's name for it is {fix!r}" if fix else ""
        return (
            f"addon {self.name!r} is not in ACK's add-on catalogue as known on "
            f"{facts.CHECKED}{hint} (a new add-on may be missing from ack_clusters/facts.py)"
        )

    @model_validator(mode="after")
    def _disabled_takes_nothing(self) -> Addon:
        if self.disabled and (self.version is not None or self.config is not None):
            raise ValueError(
                f"addon {self.name!r} is disabled: a version or config would never be applied; "
                "remove them, or enable the addon"
            )
        return self


class Adoption(StrictModel):
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


class BaseClusterArgs(StrictModel):
    """What every cluster form shares, dedicated included."""

    kubernetes_version: KubernetesVersion | None = Field(
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
    addons: list[Addon] = Field(
        default_factory=list,
        description="ACK addons: installed ones are updated in place (version, config); "
        "disabled ones keep a default addon from being installed at creation.",
    )
    ingress: Ingress | None = Field(
        default=None, description="An ingress load balancer the component owns."
    )
    tags: Tags = Field(
        default_factory=dict, description="Tags for every taggable resource (up to 18)."
    )
    kubeconfig_minutes: int = Field(
        default=240, ge=15, le=4320, description="Lifetime of admin_kubeconfig (fetched each run)."
    )
    adopt: Adoption | None = Field(
        default=None, description="Existing resources to import instead of creating."
    )

    # --- What teams build around the cluster (issue 30; ack_clusters.around) --------------------
    access: AccessArgs = Field(
        default_factory=AccessArgs,
        description="Access grants: RAM users and roles mapped to ACK's RBAC roles on this "
        "cluster.",
    )
    app_subnets: AppSubnets = Field(
        default_factory=dict,
        description="Name -> a vSwitch for databases or apps in the cluster's VPC, planned "
        "from the VPC's end (IDs: app_subnet_ids).",
    )
    private_zones: PrivateZones = Field(
        default_factory=dict,
        description="Name -> a private DNS zone bound to the cluster's VPC (IDs: "
        "private_zone_ids).",
    )

    @model_validator(mode="after")
    def _around(self) -> BaseClusterArgs:
        problems = region_problems(zone_region(self.network.zones[0]), self.app_subnets)
        problems += auto_repair_problems(
            {x.name for x in self.addons if x.disabled},
            [n for n, p in self.worker_pools.items() if p.auto_repair],
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- end of what teams build around the cluster ----------------------------------------------

    @field_validator("service_cidr")
    @classmethod
    def _service_cidr(cls, v: str) -> str:
        net = parse_network(v, what="service CIDR")
        require_private(net, what="service CIDR")
        require_prefix(net, 16, 24, what="Service CIDR")
        return str(net)

    @field_validator("addons")
    @classmethod
    def _addons(cls, addons: list[Addon]) -> list[Addon]:
        distinct([a.name for a in addons], "addon names")
        return addons

    #: What runs the pods: ECS workers in node pools, or ECI. Each form's model says which;
    #: planning and the build path read it instead of asking which form they serve.
    workers: ClassVar[Workers]

    @property
    def worker_pools(self) -> Mapping[str, NodePoolArgs]:
        """The node pools to create: none where pods run on ECI."""
        return {}

    @property
    def pools_autoscaler(self) -> Autoscaler | None:
        """The cluster autoscaler's settings for the node pools: none where pods run on ECI."""
        return None

    @property
    def wants_pod_vswitches(self) -> bool:
        """Whether each zone gets a pod vSwitch (Terway)."""
        return False

    @property
    def effective_pod_cidr(self) -> str | None:
        """The pod range outside the VPC (Flannel), if there is one."""
        return None

    @property
    def notices(self) -> list[str]:
        """Warnings about values that are valid but may not be what ACK offers today."""
        pools = [
            f"node_pools.{name}: {n}" for name, p in self.worker_pools.items() for n in p.notices
        ]
        found = [
            kubernetes_version_notice(self.kubernetes_version),
            *(zone_notice(z) for z in self.network.zones),
            *(a.notice for a in self.addons),
        ]
        return [n for n in found if n] + pools

    @property
    def adopted_cluster_id(self) -> str | None:
        """Import ID of the cluster resource, when adopting an existing cluster."""
        return self.adopt.cluster_id if self.adopt else None

    @model_validator(mode="after")
    def _adoption(self) -> BaseClusterArgs:
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


class ManagedControlPlaneArgs(BaseClusterArgs):
    """What clusters with an ACK-managed control plane (managed and serverless) add."""

    control_plane_logs: ControlPlaneLogs | None = Field(
        default_factory=ControlPlaneLogs, description="Control plane logs; null turns them off."
    )
    audit_log: AuditLog = Field(default_factory=AuditLog, description="Kubernetes audit log.")
    secrets_encryption_kms_key_id: KmsKeyIdInput | None = Field(
        default=None,
        description="KMS key ID for Secret encryption at rest (Pro specs only; may be an output).",
    )
    rrsa: bool = Field(default=True, description="RAM Roles for Service Accounts (irreversible).")
    maintenance_window: MaintenanceWindow | None = Field(
        default=None, description="Maintenance window (needed for auto-upgrade)."
    )
    auto_upgrade_channel: Literal["patch", "stable", "rapid"] | None = Field(
        default=None, description="Cluster auto-upgrade channel (needs maintenance_window)."
    )

    @field_validator("network")
    @classmethod
    def _zone_limit(cls, network: NetworkArgs) -> NetworkArgs:
        if len(network.zones) > MANAGED_MAX_ZONES:
            raise ValueError(
                f"zones: an ACK-managed control plane takes at most {MANAGED_MAX_ZONES} "
                f"vSwitches (one per zone), not {len(network.zones)}: list at most "
                f"{MANAGED_MAX_ZONES} zones"
            )
        return network

    @model_validator(mode="after")
    def _upgrades(self) -> ManagedControlPlaneArgs:
        problems = []
        if self.rrsa and _version(self.kubernetes_version) < facts.RRSA_MIN_VERSION:
            least = ".".join(map(str, facts.RRSA_MIN_VERSION))
            problems.append(
                f"rrsa needs Kubernetes {least} or later (terraform-provider-alicloud, "
                "KubernetesClusterRRSASupportedVersion), not "
                f"{self.kubernetes_version}: upgrade first, or set rrsa: false"
            )
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


class WorkerNodesArgs(BaseClusterArgs):
    """What clusters with ECS worker nodes (managed and dedicated) add."""

    workers: ClassVar[Workers] = "ecs"

    network_plugin: Literal["terway", "flannel"] = Field(
        default="terway", description="Terway (pods in VPC vSwitches) or Flannel (pod_cidr)."
    )
    pod_cidr: str | None = Field(
        default=None, description="Flannel pod range (default 172.20.0.0/16)."
    )
    node_cidr_mask: int = Field(default=26, ge=24, le=28, description="Flannel per-node mask.")
    node_pools: NodePools
    autoscaler: Autoscaler | None = Field(
        default=None,
        description="Cluster autoscaler settings for the autoscaled pools; default: ACK's.",
    )

    @field_validator("pod_cidr")
    @classmethod
    def _pod_cidr(cls, v: str | None) -> str | None:
        if v is None:
            return None
        net = parse_network(v, what="pod CIDR")
        require_private(net, what="pod CIDR")
        require_prefix(net, 8, 20, what="Flannel pod CIDR")
        return str(net)

    @model_validator(mode="after")
    def _node_rules(self) -> WorkerNodesArgs:
        problems: list[str] = []
        if self.network_plugin == "flannel":
            if self.network.pod_vswitch_cidrs or (
                self.network.existing_vpc and self.network.existing_vpc.pod_vswitches
            ):
                problems.append("pod vSwitches are for Terway; Flannel uses pod_cidr")
            problems += self._flannel_capacity()
        else:
            if self.pod_cidr is not None:
                problems.append("pod_cidr is for Flannel; Terway puts pods in pod vSwitches")
            if "node_cidr_mask" in self.model_fields_set:
                problems.append(
                    "node_cidr_mask sizes Flannel's per-node pod range; Terway gives pods "
                    "addresses from pod vSwitches and ACK ignores it: remove node_cidr_mask"
                )
        chosen = sorted({a.name for a in self.addons} & NETWORK_ADDONS)
        if chosen:
            problems.append(
                f"addons {', '.join(chosen)} select the pod network: use network_plugin instead"
            )
        problems += self._autoscaler_pools()
        for name, pool in self.node_pools.items():
            outside = sorted(set(pool.zones or ()) - set(self.network.zones))
            if outside:
                problems.append(
                    f"node_pools.{name}.zones: {', '.join(outside)} not in network.zones (a pool "
                    "uses the cluster's node vSwitches)"
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

    def _autoscaler_pools(self) -> list[str]:
        if self.autoscaler is None:
            return []
        version = _version(self.kubernetes_version)
        if self.autoscaler.scaler_type == "goatscaler" and version[1] < facts.GOATSCALER_MIN_MINOR:
            return [
                f"autoscaler.scaler_type goatscaler needs Kubernetes 1."
                f"{facts.GOATSCALER_MIN_MINOR} or later, not {self.kubernetes_version} (the "
                "provider's cs_autoscaling_config documentation: 1.22 and below take only "
                "cluster-autoscaler)"
            ]
        scaled = {n for n, p in self.node_pools.items() if p.autoscaling is not None}
        if not scaled:
            return [
                "autoscaler: no pool in node_pools has autoscaling, so there is nothing for the "
                "cluster autoscaler to size: set autoscaling on a pool, or drop autoscaler"
            ]
        fixed = sorted(set(self.autoscaler.priorities) - scaled)
        if fixed:
            return [
                f"autoscaler.priorities names pools that are not autoscaled: {', '.join(fixed)}"
            ]
        return []

    @property
    def worker_pools(self) -> Mapping[str, NodePoolArgs]:
        return self.node_pools

    @property
    def pools_autoscaler(self) -> Autoscaler | None:
        return self.autoscaler

    @property
    def nodes_outside_pools(self) -> int:
        """Nodes that take a Flannel pod range besides the pools' (a dedicated cluster's
        masters)."""
        return 0

    def _flannel_capacity(self) -> list[str]:
        """Flannel gives every node a /node_cidr_mask range out of pod_cidr: the range must hold
        as many as the pools may grow to."""
        pod_cidr = self.effective_pod_cidr
        if pod_cidr is None:
            return []
        prefix = int(pod_cidr.rpartition("/")[2])
        capacity = 1 << (self.node_cidr_mask - prefix) if self.node_cidr_mask >= prefix else 0
        most = self.nodes_outside_pools + sum(
            p.autoscaling.max_size if p.autoscaling else (p.desired_size or 0)
            for p in self.node_pools.values()
        )
        if most <= capacity:
            return []
        return [
            f"pod_cidr {pod_cidr} with node_cidr_mask {self.node_cidr_mask} has pod ranges for "
            f"{capacity} nodes, but the cluster may grow to {most} (pool sizes, autoscaling "
            "max_size and masters): use a larger pod_cidr or a longer node_cidr_mask"
        ]

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


class ManagedClusterArgs(ManagedControlPlaneArgs, WorkerNodesArgs):
    """Arguments of :class:`ack_clusters.ManagedCluster`."""

    cluster_spec: ClusterSpec = Field(default="ack.pro.small", description="ACK edition.")
    upgrade_control_plane_only: bool | None = Field(
        default=None,
        description="When kubernetes_version changes, upgrade only the control plane and leave "
        "the node pools to their own upgrades; default: ACK's (the nodes are upgraded too).",
    )
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


class MasterDisk(StrictModel):
    """System disk of each master."""

    category: Literal["cloud_essd", "cloud_ssd", "cloud_efficiency"] = Field(
        default="cloud_essd", description="Disk category."
    )
    size: int = Field(default=120, ge=MASTER_DISK_GIB[0], le=MASTER_DISK_GIB[1], description="GiB.")
    performance_level: Literal["PL0", "PL1", "PL2", "PL3"] | None = Field(
        default=None, description="ESSD performance level."
    )

    @model_validator(mode="after")
    def _performance(self) -> MasterDisk:
        level = self.performance_level
        if level is None:
            return self
        if self.category != "cloud_essd":
            # terraform-provider-alicloud, masterDiskPerformanceLevelDiffSuppressFunc: the
            # level's diff is suppressed for any other category, so it is never sent.
            raise ValueError(
                f"performance_level {level} is for cloud_essd disks; the provider drops it on a "
                f"{self.category} disk (masterDiskPerformanceLevelDiffSuppressFunc): remove it, "
                "or use cloud_essd"
            )
        least = facts.ESSD_MIN_GIB[level]
        if self.size < least:
            fix = (
                "grow the disk or choose a lower level"
                if least <= MASTER_DISK_GIB[1]
                else f"masters take at most {MASTER_DISK_GIB[1]} GiB: choose a lower level"
            )
            raise ValueError(
                f"an ESSD at {level} needs at least {least} GiB, not {self.size} (ECS "
                f"documentation, 'ESSDs'): {fix}"
            )
        return self


class Masters(StrictModel):
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


class DedicatedClusterArgs(WorkerNodesArgs):
    """Arguments of :class:`ack_clusters.DedicatedCluster`."""

    masters: Masters = Field(default_factory=Masters, description="The dedicated control plane.")
    key_name: KeyPairNameInput | None = Field(
        default=None, description="ECS key pair for master login (may be an output)."
    )
    password: PasswordInput | None = Field(
        default=None, description="Master login password (kept secret; may be a secret output)."
    )

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
    def nodes_outside_pools(self) -> int:
        return self.masters.count

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
NODE_ONLY_ARGUMENTS = ("node_pools", "network_plugin", "pod_cidr", "node_cidr_mask", "autoscaler")


class ServerlessClusterArgs(ManagedControlPlaneArgs):
    """Arguments of :class:`ack_clusters.ServerlessCluster`."""

    workers: ClassVar[Workers] = "eci"

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
