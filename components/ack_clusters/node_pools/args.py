"""Arguments of ACK node pools: ESS scaling groups of ECS workers that ACK manages."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from .. import facts
from ..validation import (
    NAME_HELP,
    NAME_PATTERN,
    Deferred,
    InstanceType,
    KeyPairNameInput,
    KmsKeyIdInput,
    LabelKey,
    LabelValue,
    NodeLabelKey,
    PasswordInput,
    Refused,
    ResourceGroupIdInput,
    StrictModel,
    UserDataInput,
    ZoneId,
    distinct,
    revealed,
)


def _image_type(value: str) -> str:
    if value not in facts.NODE_IMAGE_TYPES:
        raise ValueError(
            f"{value!r} is not an ACK node image type; one of: {', '.join(facts.NODE_IMAGE_TYPES)}"
        )
    return value


def _base64(script: str) -> str:
    return base64.b64encode(script.encode()).decode()


def _disk_size(disk: Disk, low: int, high: int, role: str) -> Disk:
    if not low <= disk.size <= high:
        raise ValueError(f"{role} takes {low}-{high} GiB, not {disk.size}")
    return disk


class Disk(StrictModel):
    """A node disk (encrypted unless told otherwise)."""

    category: Literal["cloud_essd", "cloud_auto", "cloud_ssd", "cloud_efficiency"] = Field(
        default="cloud_essd", description="Disk category."
    )
    size: int = Field(default=120, ge=20, le=32768, description="GiB.")
    performance_level: Literal["PL0", "PL1", "PL2", "PL3"] | None = Field(
        default=None, description="ESSD performance level."
    )
    encrypted: bool = Field(default=True, description="Encrypt the disk (default on).")
    kms_key_id: KmsKeyIdInput | None = Field(
        default=None, description="KMS key (may be an output); default: the ECS key."
    )

    @model_validator(mode="after")
    def _performance(self) -> Disk:
        level = self.performance_level
        if level is None:
            return self
        if self.category != "cloud_essd":
            raise ValueError(
                f"performance_level {level} is for cloud_essd disks; a {self.category} disk has "
                "no performance levels: remove it, or use cloud_essd"
            )
        least = facts.ESSD_MIN_GIB[level]
        if self.size < least:
            raise ValueError(
                f"an ESSD at {level} needs at least {least} GiB, not {self.size}: grow the disk "
                "or choose a lower level"
            )
        return self


class Taint(StrictModel):
    """A Kubernetes taint on every node of a pool."""

    key: LabelKey = Field(description="Taint key (a Kubernetes label key).")
    value: LabelValue = Field(default="", description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        default="NoSchedule", description="Scheduling effect."
    )


class Autoscaling(StrictModel):
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


Months = Literal[1, 2, 3, 6, 12]


class Prepaid(StrictModel):
    """Subscription (PrePaid) billing of a pool's nodes."""

    period: Months = Field(default=1, description="Months paid in advance (1, 2, 3, 6 or 12).")
    auto_renew: bool = Field(default=True, description="Renew each node's subscription.")
    auto_renew_period: Months = Field(default=1, description="Months of each renewal.")


class SpotMix(StrictModel):
    """How a spot pool mixes in pay-as-you-go nodes (ESS's cost-optimized policy)."""

    on_demand_base_capacity: int = Field(
        default=0, ge=0, le=1000, description="Pay-as-you-go nodes kept before any spot node."
    )
    on_demand_percentage_above_base_capacity: int = Field(
        default=0, ge=0, le=100, description="Share of pay-as-you-go nodes above the base."
    )
    compensate_with_on_demand: bool = Field(
        default=True, description="Create pay-as-you-go nodes when spot ones cannot be had."
    )
    spot_instance_pools: int | None = Field(
        default=None, ge=1, le=10, description="Cheapest instance types to spread spot over."
    )


class NodePoolArgs(StrictModel):
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
    labels: dict[NodeLabelKey, LabelValue] = Field(
        default_factory=dict, description="Kubernetes node labels."
    )
    taints: list[Taint] = Field(default_factory=list, description="Kubernetes node taints.")
    system_disk: Disk = Field(default_factory=Disk, description="System disk of each node.")
    data_disks: list[Disk] = Field(
        default_factory=list, max_length=16, description="Data disks of each node."
    )
    image_type: Annotated[str, AfterValidator(_image_type)] = Field(
        default="AliyunLinux3", description="ACK OS image type."
    )
    key_name: KeyPairNameInput | None = Field(
        default=None, description="ECS key pair for node login (may be an output)."
    )
    password: PasswordInput | None = Field(
        default=None,
        description="Node login password (kept secret; may be a secret output). Prefer key_name.",
    )
    auto_repair: bool = Field(default=True, description="Repair failed nodes (managed pool).")
    auto_upgrade: bool = Field(default=True, description="Upgrade nodes (managed pool).")
    max_unavailable: int = Field(default=1, ge=1, le=1000, description="Nodes updated at once.")
    repair_restarts_nodes: bool | None = Field(
        default=None, description="Auto-repair may restart nodes; default: ACK's."
    )
    upgrade_kubelet: bool | None = Field(
        default=None,
        description="Auto-upgrade moves the kubelet to the control plane's version; default: "
        "ACK's.",
    )
    fix_vulnerabilities: bool = Field(
        default=False, description="Patch OS CVEs automatically (managed pool)."
    )
    vulnerability_levels: list[Literal["asap", "later", "nntf"]] | None = Field(
        default=None, description="CVE priorities to patch; default: ACK's."
    )
    fix_restarts_nodes: bool | None = Field(
        default=None, description="CVE patching may restart nodes; default: ACK's."
    )
    # Not refused on a new pool: the provider sends rolling_policy only with an upgrade or a
    # kubelet change (resourceAliCloudAckNodepoolUpdate), never on create, so a value given at
    # creation applies to the pool's first upgrade; alone, a change of it is never sent.
    upgrade_max_parallelism: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Nodes upgraded at once in a pool upgrade (sent with each upgrade, never "
        "on its own).",
    )
    runtime: Literal["containerd", "Sandboxed-Container.runv"] | None = Field(
        default=None, description="Container runtime; default: the cluster's."
    )
    runtime_version: str | None = Field(
        default=None, pattern=r"^[0-9][0-9A-Za-z.+-]*$", description="Runtime version."
    )
    zones: list[ZoneId] | None = Field(
        default=None,
        min_length=1,
        description="Zones of the pool (of network.zones); default: all.",
    )
    prepaid: Prepaid | None = Field(
        default=None, description="Subscription billing; default: pay-as-you-go."
    )
    spot_price_limits: dict[InstanceType, float] | None = Field(
        default=None,
        description="With spot: highest hourly price per instance type (SpotWithPriceLimit).",
    )
    spot_mix: SpotMix | None = Field(
        default=None, description="With spot: pay-as-you-go base and share (cost-optimized)."
    )
    scaling_policy: Literal["release", "recycle"] | None = Field(
        default=None,
        description="Scale in by releasing nodes, or by stopping them to restart faster "
        "(recycle); default: ACK's (release).",
    )
    resource_group_id: ResourceGroupIdInput | None = Field(
        default=None, description="Resource group of the nodes (may be an output)."
    )
    user_data: UserDataInput | None = Field(
        default=None,
        description="A script run when each node starts, as written (the component encodes it "
        "in Base64 once; at most 16 KB; kept secret; may be a secret output).",
    )

    @field_validator("system_disk")
    @classmethod
    def _system_disk(cls, disk: Disk) -> Disk:
        return _disk_size(disk, *facts.SYSTEM_DISK_GIB, "a system disk")

    @field_validator("data_disks")
    @classmethod
    def _data_disks(cls, disks: list[Disk]) -> list[Disk]:
        for i, disk in enumerate(disks):
            _disk_size(disk, *facts.DATA_DISK_GIB, f"data disk ({i}):")
        return disks

    @field_validator("taints")
    @classmethod
    def _unique_taints(cls, taints: list[Taint]) -> list[Taint]:
        seen: set[tuple[str, str]] = set()
        for t in taints:
            if (t.key, t.effect) in seen:
                raise ValueError(
                    f"two taints with key {t.key!r} and effect {t.effect}: Kubernetes keeps "
                    "taints unique by key and effect"
                )
            seen.add((t.key, t.effect))
        return taints

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
        if self.password is not None and self.managed:
            if self.image_type in facts.WINDOWS_IMAGE_TYPES:
                raise ValueError(
                    f"image_type {self.image_type}: Windows nodes log in with a password, and "
                    "managed node pools (auto_repair, auto_upgrade or fix_vulnerabilities) accept "
                    "key_name only: set auto_repair, auto_upgrade and fix_vulnerabilities to false"
                )
            raise ValueError(
                "managed node pools (auto_repair, auto_upgrade or fix_vulnerabilities) accept "
                "key_name only, not password: use a key pair, or turn all three off"
            )
        return self

    @property
    def managed(self) -> bool:
        """Whether ACK manages the pool's nodes (a managed node pool)."""
        return self.auto_repair or self.auto_upgrade or self.fix_vulnerabilities

    @model_validator(mode="after")
    def _options(self) -> NodePoolArgs:
        problems = []
        needs = {
            "repair_restarts_nodes": ("auto_repair", self.auto_repair),
            "upgrade_kubelet": ("auto_upgrade", self.auto_upgrade),
            "vulnerability_levels": ("fix_vulnerabilities", self.fix_vulnerabilities),
            "fix_restarts_nodes": ("fix_vulnerabilities", self.fix_vulnerabilities),
        }
        for field, (feature, on) in needs.items():
            if getattr(self, field) is not None and not on:
                problems.append(f"{field} is a setting of {feature}, which is off")
        if self.vulnerability_levels is not None:
            distinct(list(self.vulnerability_levels), "vulnerability_levels")
        if self.runtime_version is not None and self.runtime is None:
            problems.append("runtime_version needs runtime (the runtime it is a version of)")
        if self.zones is not None:
            distinct(list(self.zones), "zones")
        if self.prepaid is not None:
            if self.spot:
                problems.append("prepaid and spot exclude each other: spot is pay-as-you-go")
            if self.autoscaling is not None:
                problems.append(
                    "prepaid pools cannot autoscale: scaling in would release nodes paid in "
                    "advance; use a pay-as-you-go pool for autoscaling"
                )
        if not self.spot and (self.spot_price_limits or self.spot_mix):
            problems.append("spot_price_limits and spot_mix are spot settings: set spot: true")
        if self.spot_price_limits is not None:
            missing = sorted(set(self.instance_types) - set(self.spot_price_limits))
            extra = sorted(set(self.spot_price_limits) - set(self.instance_types))
            if missing:
                problems.append(f"spot_price_limits: no price cap for {', '.join(missing)}")
            if extra:
                problems.append(f"spot_price_limits: {', '.join(extra)} not in instance_types")
            if any(p <= 0 for p in self.spot_price_limits.values()):
                problems.append("spot_price_limits: prices are positive (per hour)")
        if self.scaling_policy is not None and self.autoscaling is None:
            # terraform-provider-alicloud, csNodepoolScalingPolicyDiffSuppressFunc: the field's
            # diff is suppressed unless scaling_config is set, which only autoscaling sets.
            problems.append(
                "scaling_policy applies to scaling in, which only an autoscaled pool does: the "
                "provider drops it without autoscaling (csNodepoolScalingPolicyDiffSuppressFunc)"
                "; set autoscaling, or remove scaling_policy"
            )
        problems += self._windows()
        problems += self._architecture()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _windows(self) -> list[str]:
        if self.image_type not in facts.WINDOWS_IMAGE_TYPES:
            return []
        problems = []
        if self.key_name is not None:
            managed = (
                ", with auto_repair, auto_upgrade and fix_vulnerabilities false (managed node "
                "pools take key pairs only)"
                if self.managed
                else ""
            )
            problems.append(
                f"image_type {self.image_type}: ECS refuses key pairs on Windows instances "
                f"(ECS documentation, 'SSH key pairs': Linux only); log in with password{managed}"
            )
        rule = (
            f"image_type {self.image_type}: a Windows password cannot start with '/' (ECS "
            "API reference, RunInstances, Password)"
        )
        if isinstance(self.password, SecretStr) and self.password.get_secret_value()[:1] == "/":
            problems.append(rule)
        elif isinstance(self.password, Deferred):
            # An output (a secret from config): the same rule when its value is known, never
            # quoting it; the password's other rules follow (ack_clusters.later).
            def no_leading_slash(value: Any) -> Any:
                if isinstance(value, str) and value[:1] == "/":
                    raise Refused(None, f"password: {rule}")
                return value

            object.__setattr__(self, "password", self.password.apply(no_leading_slash))
        if self.system_disk.size < facts.WINDOWS_IMAGE_GIB:
            problems.append(
                f"image_type {self.image_type}: a system disk takes at least the image's size, "
                f"and ECS's Windows Server images are {facts.WINDOWS_IMAGE_GIB} GiB, not "
                f"{self.system_disk.size}: grow system_disk.size"
            )
        return problems

    def _architecture(self) -> list[str]:
        arm = sorted(t for t in self.instance_types if t.split(".")[1] in facts.ARM_FAMILIES)
        if arm and self.image_type not in facts.ARM_IMAGE_TYPES:
            return [
                f"{', '.join(arm)} are ARM instance types; image_type {self.image_type} is "
                f"built for x86: use one of {', '.join(facts.ARM_IMAGE_TYPES)}"
            ]
        if arm and len(arm) != len(self.instance_types):
            return ["instance_types mixes ARM and x86 types: one image cannot boot both"]
        return []

    @property
    def notices(self) -> list[str]:
        """Valid, but maybe not meant."""
        arm = any(t.split(".")[1] in facts.ARM_FAMILIES for t in self.instance_types)
        if self.image_type in facts.ARM_IMAGE_TYPES and not arm:
            return [
                f"image_type {self.image_type} is built for ARM, and none of "
                f"{', '.join(self.instance_types)} is an ARM family this library knows "
                f"({', '.join(sorted(facts.ARM_FAMILIES))}): check that the types are ARM"
            ]
        return []

    @property
    def encoded_user_data(self) -> Any:
        """user_data as the provider takes it: Base64 (an output of it where the script is an
        output). The provider sends text that decodes as Base64 as it is, and encodes any other
        (terraform-provider-alicloud resource_alicloud_cs_kubernetes_node_pool.go, create and
        update of `user_data`), so encoding here once is what reaches ECS."""
        if self.user_data is None:
            return None
        script = revealed(self.user_data)
        if isinstance(script, str):
            return _base64(script)
        return script.apply(_base64)

    @property
    def password_input(self) -> Any:
        """The password as a resource input (its text, or its output), or None."""
        return None if self.password is None else revealed(self.password)


#: A duration as ACK's autoscaler takes it: a whole number of seconds, minutes or hours.
DURATION = r"^[1-9][0-9]{0,4}[smh]$"


class Autoscaler(StrictModel):
    """Settings of ACK's cluster autoscaler (``cs.AutoscalingConfig``) for the cluster's
    autoscaled pools. Defaults are ACK's; booleans left unset are ACK's defaults too (the
    provider never sends ``false`` for them, so only what differs from ACK is declared)."""

    scan_interval: str = Field(
        default="30s", pattern=DURATION, description="How often the autoscaler re-evaluates."
    )
    scale_down_enabled: bool = Field(default=True, description="Remove unneeded nodes.")
    cool_down_duration: str = Field(
        default="10m",
        pattern=DURATION,
        description="ACK's cool_down_duration: how long a scale-in need must last before a "
        "node is removed.",
    )
    unneeded_duration: str = Field(
        default="10m",
        pattern=DURATION,
        description="ACK's unneeded_duration: after a scale-out, how long before new nodes "
        "may be removed.",
    )
    utilization_threshold: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Scale in a node whose requested share of CPU and memory is below this.",
    )
    gpu_utilization_threshold: float = Field(
        default=0.5, gt=0, le=1, description="The same, for GPU nodes."
    )
    expander: Literal["least-waste", "random", "priority"] = Field(
        default="least-waste", description="How the pool to scale out is chosen."
    )
    priorities: dict[Annotated[str, Field(pattern=NAME_PATTERN)], int] = Field(
        default_factory=dict,
        description="With expander 'priority': pool name -> priority (higher goes first).",
    )
    scaler_type: Literal["cluster-autoscaler", "goatscaler"] | None = Field(
        default=None, description="Which autoscaler ACK runs; default: ACK's."
    )
    skip_nodes_with_system_pods: bool = Field(
        default=True, description="Never remove nodes running kube-system pods (ACK: true)."
    )
    skip_nodes_with_local_storage: bool = Field(
        default=False, description="Never remove nodes whose pods use local storage."
    )
    daemonset_eviction_for_nodes: bool = Field(
        default=False, description="Evict DaemonSet pods from nodes being removed."
    )
    recycle_node_deletion_enabled: bool = Field(
        default=False, description="Delete the Node object when a recycled node is scaled in."
    )
    scale_up_from_zero: bool = Field(
        default=True, description="Scale out when no node is ready (ACK: true)."
    )
    max_graceful_termination_sec: int | None = Field(
        default=None, ge=1, le=14400, description="Longest pod termination wait on scale-in."
    )
    min_replica_count: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Fewest replicas a workload must keep for "
        "its pods to be evicted on scale-in; default: ACK's (0).",
    )

    @field_validator("priorities")
    @classmethod
    def _positive(cls, priorities: dict[str, int]) -> dict[str, int]:
        bad = sorted(k for k, v in priorities.items() if v < 1)
        if bad:
            raise ValueError(f"priorities are whole numbers from 1 up; not for {', '.join(bad)}")
        return priorities

    @model_validator(mode="after")
    def _consistent(self) -> Autoscaler:
        problems = []
        for field in ("skip_nodes_with_system_pods", "scale_up_from_zero"):
            if getattr(self, field) is False:
                problems.append(
                    f"{field}: false is never sent (terraform-provider-alicloud reads it with "
                    "GetOk, which skips false), so ACK's default, true, would apply"
                )
        if self.priorities and self.expander != "priority":
            problems.append("priorities only apply with expander 'priority'")
        if self.expander == "priority" and not self.priorities:
            problems.append("expander 'priority' needs priorities (pool name -> priority)")
        if self.scaler_type == "goatscaler":
            if self.expander != "least-waste":
                problems.append("goatscaler supports only the least-waste expander")
            if self.priorities:
                problems.append("priorities are for cluster-autoscaler, not goatscaler")
        if problems:
            raise ValueError("; ".join(problems))
        return self


NodePools = Annotated[
    dict[Annotated[str, Field(pattern=NAME_PATTERN)], NodePoolArgs],
    Field(default_factory=dict, description=f"Pool name ({NAME_HELP}) -> pool."),
]
