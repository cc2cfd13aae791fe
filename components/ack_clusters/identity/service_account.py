"""ServiceAccountRole: the RAM role one Kubernetes service account assumes through RRSA (ACK's
RAM Roles for Service Accounts, the IRSA of pulumi-eks), with its policies and the annotation
that binds it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_alicloud as alicloud

from ..errors import InvalidArguments, validated
from ..later import check_when_known, given, given_tags, log_deferred
from ..naming import MANAGED_BY, MANAGED_BY_TAG, SERVICE_ACCOUNT_ROLE_TYPE
from ..ownership import RECORD_OUTPUT, Seals, record_of, sealed
from .args import RAM_NAME, ServiceAccountRoleArgs
from .component import attach_custom_policy
from .plan import INJECTION_LABEL, ROLE_NAME_ANNOTATION, service_account_trust_policy

#: RAM policy names take at most 64 characters; the created policy is named "<role>-policy".
_POLICY_SUFFIX = "-policy"


@dataclass(frozen=True)
class RoleOutput:
    name: str
    #: Its type in the component package, as Python source (``pulumi.Output[...]`` of it).
    schema_type: str
    description: str


#: One paragraph for the package schema; a line break where the docstring breaks.
SUMMARY = (
    "The RAM role one Kubernetes service account of one cluster assumes through RRSA, with its\n"
    "policies; its outputs say what to put on the ServiceAccount and its Namespace."
)

#: The outputs of ServiceAccountRole, declared once: the component sets and registers them and
#: the package class declares them from this table.
OUTPUTS: tuple[RoleOutput, ...] = (
    RoleOutput("role_name", "str", "The RAM role's name."),
    RoleOutput("role_arn", "str", "The RAM role's ARN."),
    RoleOutput(
        "service_account_annotations",
        "dict[str, str]",
        "Annotations for the ServiceAccount (pod-identity.alibabacloud.com/role-name).",
    ),
    RoleOutput(
        "namespace_labels",
        "dict[str, str]",
        "Labels for the service account's Namespace (turn on the webhook's injection).",
    ),
)


class ServiceAccountRole(pulumi.ComponentResource):
    """A RAM role only one service account of one cluster may assume (its trust names the
    cluster's RRSA OIDC provider, issuer, STS audience and ``system:serviceaccount:<ns>:<sa>``),
    the policies it grants, and what to put on the Kubernetes objects:

    - ``service_account_annotations``: on the ServiceAccount, so ACK's pod identity webhook
      (the ``ack-pod-identity-webhook`` addon) injects the role's credentials into its pods;
    - ``namespace_labels``: on its Namespace, which turns the webhook's injection on there.

    Use :meth:`for_cluster` with a ManagedCluster or ServerlessCluster that has ``rrsa`` on, or
    give the issuer URL and provider ARN (arguments or keywords; outputs of another stack, say).

    Output attributes are typed for type checkers only (``TYPE_CHECKING``): Pulumi's schema
    analyzer reads public class annotations as package outputs, and the package class declares
    them itself (:data:`OUTPUTS`)."""

    if TYPE_CHECKING:
        role_name: pulumi.Output[str]
        role_arn: pulumi.Output[str]
        service_account_annotations: pulumi.Output[dict[str, str]]
        namespace_labels: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        args: ServiceAccountRoleArgs | Mapping[str, Any],
        *,
        oidc_issuer_url: pulumi.Input[str | None] | None = None,
        oidc_provider_arn: pulumi.Input[str | None] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        subject = f"ServiceAccountRole {name!r}"
        given_args = args.model_dump() if isinstance(args, ServiceAccountRoleArgs) else dict(args)
        if oidc_issuer_url is not None:
            given_args["oidc_issuer_url"] = oidc_issuer_url
        if oidc_provider_arn is not None:
            given_args["oidc_provider_arn"] = oidc_provider_arn
        a, deferred = check_when_known(_parse(subject, name, given_args), subject)
        role_name = a.role_name or name
        # What the component registers, it seals, before any transform of the program runs.
        seals = Seals()
        # Everything above is pure; nothing has been registered yet.
        super().__init__(
            SERVICE_ACCOUNT_ROLE_TYPE,
            name,
            {"namespace": a.namespace, "serviceAccount": a.service_account},
            sealed(opts, seals),
        )
        log_deferred(deferred, self)
        child = pulumi.ResourceOptions(parent=self)
        tags = given_tags({**a.tags, MANAGED_BY_TAG: MANAGED_BY})
        trust = pulumi.Output.all(given(a.oidc_issuer_url), given(a.oidc_provider_arn)).apply(
            lambda v: service_account_trust_policy(v[0], v[1], a.namespace, a.service_account)
        )
        role = alicloud.ram.Role(
            name,
            role_name=role_name,
            assume_role_policy_document=trust,
            description=a.description
            or f"Assumed by service account {a.namespace}/{a.service_account} through RRSA",
            max_session_duration=a.max_session_hours * 3600,
            tags=tags,
            opts=child,
        )
        if a.policy_document is not None:
            attach_custom_policy(
                f"{name}-policy",
                role,
                policy_name=f"{role_name}{_POLICY_SUFFIX}",
                document=a.policy_document,
                description=f"What service account {a.namespace}/{a.service_account} may do",
                tags=tags,
                opts=child,
            )
        for p in a.policies:
            # Keyed by the policy, never by its position in the list.
            alicloud.ram.RolePolicyAttachment(
                f"{name}-{p.type.lower()}-{p.name}",
                role_name=role.role_name,
                policy_name=p.name,
                policy_type=p.type,
                opts=child,
            )
        values: dict[str, pulumi.Output[Any]] = {
            "role_name": role.role_name,
            "role_arn": role.arn,
            "service_account_annotations": role.role_name.apply(
                lambda n: {ROLE_NAME_ANNOTATION: n}
            ),
            "namespace_labels": pulumi.Output.from_input({INJECTION_LABEL: "on"}),
        }
        for output in OUTPUTS:
            setattr(self, output.name, values[output.name])
        # What it owns, for the policy pack (ack_policies.record).
        self.register_outputs({**values, RECORD_OUTPUT: record_of(self, seals)})

    @classmethod
    def for_cluster(
        cls,
        name: str,
        cluster: pulumi.ComponentResource,
        args: ServiceAccountRoleArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> ServiceAccountRole:
        """The role for a service account of `cluster` (a ManagedCluster or ServerlessCluster
        with ``rrsa`` on): its trust comes from the cluster's RRSA outputs. (Typed loosely: a
        concept never imports the cluster package that puts the concepts together.)"""
        subject = f"ServiceAccountRole {name!r}"
        issuer = getattr(cluster, "rrsa_oidc_issuer_url", None)
        if issuer is None:
            raise InvalidArguments(
                subject,
                [
                    (
                        "cluster",
                        f"{type(cluster).__name__} has no RRSA: service account roles need a "
                        "ManagedCluster or ServerlessCluster (ACK runs their OIDC issuer)",
                    )
                ],
            )
        if not getattr(getattr(cluster, "args", None), "rrsa", False):
            raise InvalidArguments(
                subject,
                [("cluster", "the cluster has rrsa off: set rrsa: true on the cluster first")],
            )
        return cls(
            name,
            args,
            oidc_issuer_url=issuer,
            oidc_provider_arn=getattr(cluster, "rrsa_oidc_provider_arn"),  # noqa: B009
            opts=opts,
        )


def _parse(
    subject: str, name: str, args: ServiceAccountRoleArgs | Mapping[str, Any]
) -> ServiceAccountRoleArgs:
    parsed, problems = validated(ServiceAccountRoleArgs, subject, args)
    if parsed is not None:
        for field in ("oidc_issuer_url", "oidc_provider_arn"):
            if getattr(parsed, field) is None:
                problems.append((field, "required: the cluster's RRSA output (or use for_cluster)"))
        role_name = parsed.role_name or name
        if parsed.role_name is None and not re.match(RAM_NAME, name):
            problems.append(
                (
                    "role_name",
                    f"the resource name {name!r} is not a RAM role name (1-64 letters, digits, "
                    "periods, hyphens): give role_name",
                )
            )
        if parsed.policy_document is not None and len(role_name) + len(_POLICY_SUFFIX) > 64:
            problems.append(
                (
                    "role_name",
                    f"{role_name!r} is too long to name its policy '{role_name}{_POLICY_SUFFIX}' "
                    f"(RAM allows 64 characters): use at most {64 - len(_POLICY_SUFFIX)}",
                )
            )
    if problems or parsed is None:
        raise InvalidArguments(subject, problems)
    return parsed
