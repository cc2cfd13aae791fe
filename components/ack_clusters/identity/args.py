"""Arguments of a service account's RAM role (RRSA, the IRSA of ACK)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from ..validation import (
    K8S_NAME,
    OidcIssuerInput,
    OidcProviderArnInput,
    StrictModel,
    Tags,
    distinct,
    json_object,
)

#: RAM role and policy names: letters, digits, periods and hyphens (RAM's rule).
RAM_NAME = r"^[A-Za-z0-9.-]{1,64}$"
#: A Kubernetes object name (DNS-1123 subdomain), which service account names are.
K8S_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class PolicyAttachment(StrictModel):
    """An existing RAM policy to attach to the role."""

    name: str = Field(pattern=RAM_NAME, description="Policy name, e.g. 'AliyunOSSReadOnlyAccess'.")
    type: Literal["System", "Custom"] = Field(
        default="System", description="System (Alibaba Cloud's) or Custom (the account's)."
    )


class ServiceAccountRoleArgs(StrictModel):
    """The RAM role one Kubernetes service account assumes through RRSA."""

    #: Optional in Python (``for_cluster`` and keywords fill them), required in the package.
    PACKAGE_REQUIRED: ClassVar[frozenset[str]] = frozenset({"oidc_issuer_url", "oidc_provider_arn"})

    oidc_issuer_url: OidcIssuerInput | None = Field(
        default=None,
        description="The cluster's RRSA OIDC issuer URL (its rrsa_oidc_issuer_url output).",
    )
    oidc_provider_arn: OidcProviderArnInput | None = Field(
        default=None,
        description="The cluster's RRSA OIDC provider ARN (its rrsa_oidc_provider_arn output).",
    )
    namespace: str = Field(pattern=K8S_NAME, description="Namespace of the service account.")
    service_account: str = Field(
        pattern=K8S_SUBDOMAIN, max_length=253, description="Service account name."
    )
    role_name: str | None = Field(
        default=None, pattern=RAM_NAME, description="RAM role name; default: the resource name."
    )
    description: str | None = Field(default=None, max_length=1024, description="Role description.")
    policies: list[PolicyAttachment] = Field(
        default_factory=list, description="Existing RAM policies to attach."
    )
    policy_document: Annotated[str, AfterValidator(json_object)] | None = Field(
        default=None,
        description="A policy document (JSON) for a Custom policy the component creates and "
        "attaches: the least the workload needs.",
    )
    max_session_hours: int = Field(
        default=1, ge=1, le=12, description="Longest STS session the role grants (1-12 hours)."
    )
    tags: Tags = Field(default_factory=dict, description="Tags for the role and its policy.")

    @field_validator("policies")
    @classmethod
    def _distinct(cls, policies: list[PolicyAttachment]) -> list[PolicyAttachment]:
        distinct([f"{p.type}:{p.name}" for p in policies], "policies")
        return policies

    @model_validator(mode="after")
    def _grants_something(self) -> ServiceAccountRoleArgs:
        if not self.policies and self.policy_document is None:
            raise ValueError("the role grants nothing: attach policies, or give a policy_document")
        return self
