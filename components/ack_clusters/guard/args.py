"""Arguments of DriftGuard: who the account-wide guard denies, who it never touches, and where
it alerts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..identity.args import RAM_NAME
from ..validation import AlertUrlInput, SigningSecretInput, StrictModel

#: Resource Directory folder (fd-...) or member account ID (digits) a control policy attaches to.
RD_TARGET = r"^(fd-[A-Za-z0-9]{1,64}|r-[A-Za-z0-9]{1,64}|[0-9]{1,32})$"


class DeployIdentity(StrictModel):
    """The identity `pulumi up` runs as: never denied, never alerted on."""

    kind: Literal["role", "user"] = Field(description="A RAM role (CI assumes it) or a RAM user.")
    name: str = Field(pattern=RAM_NAME, description="Its RAM name.")
    principal_id: str = Field(
        pattern=r"^[0-9]{1,32}$",
        description="Its RAM ID (the role's RoleId or the user's UserId): ActionTrail records "
        "calls by it as principalId '<id>' (user) or '<id>:<session>' (role).",
    )


class DriftControlPolicy(StrictModel):
    """The same Deny as a Resource Directory control policy on folders or member accounts."""

    target_ids: list[str] = Field(
        min_length=1,
        description="Folder IDs (fd-...), the root folder (r-...) or member account IDs.",
    )
    policy_name: str = Field(
        default="ack-drift-guard",
        pattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$",
        description="Control policy name (1-128 letters, digits, hyphens; starts with a letter).",
    )


class DriftAlert(StrictModel):
    """Where the ActionTrail alert goes. ``url`` (and ``secret_key``) stay secret in state."""

    kind: Literal["dingtalk", "webhook"] = Field(description="A DingTalk robot or an HTTPS URL.")
    url: AlertUrlInput = Field(
        description="The robot's or webhook's URL (holds its token: secret; may be a secret "
        "output)."
    )
    secret_key: SigningSecretInput | None = Field(
        default=None, description="The DingTalk robot's signing secret (SEC...), if it signs."
    )
    trail_name: str = Field(
        default="ack-drift-guard",
        pattern=r"^[a-z][a-z0-9_-]{5,35}$",
        description="ActionTrail trail name.",
    )
    sls_project_arn: str | None = Field(
        default=None, description="Also deliver the trail to this SLS project (acs:log:...)."
    )
    sls_write_role_arn: str | None = Field(
        default=None, description="The role ActionTrail writes to SLS with."
    )
    oss_bucket_name: str | None = Field(default=None, description="Also deliver to this bucket.")


class DriftGuardArgs(StrictModel):
    """An account's shared guard against console drift on what the clusters own."""

    deploy_identity: DeployIdentity = Field(description="The identity pulumi up runs as.")
    attach_to_groups: list[str] = Field(
        default_factory=list, description="RAM groups people and other automation belong to."
    )
    attach_to_roles: list[str] = Field(
        default_factory=list, description="RAM roles other automation assumes."
    )
    clusters: list[str] = Field(
        default_factory=list,
        description="Guard only these clusters (their names); default: every cluster this "
        "library owns in the account.",
    )
    node_role_names: list[str] | None = Field(
        default=None,
        description="Node roles whose policies are guarded by name; default: "
        "'<cluster>-node-role' for each of `clusters`.",
    )
    policy_name: str = Field(
        default="ack-drift-guard", pattern=RAM_NAME, description="The RAM policy's name."
    )
    control_policy: DriftControlPolicy | None = Field(
        default=None, description="Also enforce it as a Resource Directory control policy."
    )
    alert: DriftAlert | None = Field(
        default=None, description="An ActionTrail trail and an EventBridge alert rule."
    )


__all__ = [
    "RD_TARGET",
    "DeployIdentity",
    "DriftAlert",
    "DriftControlPolicy",
    "DriftGuardArgs",
]
