"""Arguments of ACK node pools: ESS scaling groups of ECS workers that ACK manages."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from .. import facts
from ..validation import (
    NAME_HELP,
    NAME_PATTERN,
    InstanceType,
    KeyPairName,
    KmsKeyId,
    LabelKey,
    LabelValue,
    NodeLabelKey,
    StrictModel,
    ecs_password,
)


def _image_type(value: str) -> str:
    if value not in facts.NODE_IMAGE_TYPES:
        raise ValueError(
            f"{value!r} is not an ACK node image type; one of: {', '.join(facts.NODE_IMAGE_TYPES)}"
        )
    return value


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
    kms_key_id: KmsKeyId | None = Field(default=None, description="KMS key; default: the ECS key.")

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
    key_name: KeyPairName | None = Field(default=None, description="ECS key pair for node login.")
    password: SecretStr | None = Field(
        default=None, description="Node login password (kept secret). Prefer key_name."
    )
    auto_repair: bool = Field(default=True, description="Repair failed nodes (managed pool).")
    auto_upgrade: bool = Field(default=True, description="Upgrade nodes (managed pool).")
    max_unavailable: int = Field(default=1, ge=1, le=1000, description="Nodes updated at once.")

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
        if self.password is not None and (self.auto_repair or self.auto_upgrade):
            raise ValueError(
                "managed node pools (auto_repair or auto_upgrade) accept key_name only, not "
                "password: use a key pair, or turn both off"
            )
        if self.password is not None:
            ecs_password(self.password.get_secret_value())
        return self


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
