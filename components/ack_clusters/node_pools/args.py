"""Arguments of ACK node pools: ESS scaling groups of ECS workers that ACK manages."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator

from ..validation import NAME_HELP, NAME_PATTERN, InstanceType, StrictModel


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
    kms_key_id: str | None = Field(default=None, description="KMS key; default: the ECS key.")


class Taint(StrictModel):
    """A Kubernetes taint on every node of a pool."""

    key: str = Field(min_length=1, max_length=253, description="Taint key.")
    value: str = Field(default="", description="Taint value.")
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


NodePools = Annotated[
    dict[Annotated[str, Field(pattern=NAME_PATTERN)], NodePoolArgs],
    Field(default_factory=dict, description=f"Pool name ({NAME_HELP}) -> pool."),
]
