"""DriftGuard: an account's shared guard against console drift on what the clusters own.

Registers exactly what :func:`plan.plan_guard` decided, each resource a child of the guard and
named by what the user chose (group, role, folder), never by a list position:

- a RAM policy denying the owned resources' mutating actions, attached to the given groups
  and roles (never to ACK's service roles, node roles or the deploy identity: refused);
- optionally the same Deny as a Resource Directory control policy on folders or accounts;
- optionally an ActionTrail trail and an EventBridge rule alerting a DingTalk robot or webhook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_alicloud as alicloud
from pydantic import SecretStr

from ..errors import InvalidArguments, validated
from ..naming import PACKAGE
from ..validation import Refused, revealed
from . import plan
from .args import DriftGuardArgs

DRIFT_GUARD_TYPE = f"{PACKAGE}:index:DriftGuard"

#: One paragraph for the package schema; a line break where the docstring breaks.
SUMMARY = (
    "An account's shared guard against console drift: a RAM policy (and optionally a Resource\n"
    "Directory control policy) denying changes to resources the clusters own, and an alert."
)
#: The outputs (name, type in the package as Python source, description).
OUTPUTS: tuple[tuple[str, str, str], ...] = (
    ("policy_name", "str", "The RAM policy's name."),
    ("deny_document", "str", "The Deny policy document attached to the groups and roles."),
)


class DriftGuard(pulumi.ComponentResource):
    """Deny and alert on changes to cluster-owned resources by anyone but the deploy identity
    and ACK's service roles (docs/CONSOLE-DRIFT.md)."""

    if TYPE_CHECKING:
        policy_name: pulumi.Output[str]
        deny_document: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: DriftGuardArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        subject = f"DriftGuard {name!r}"
        a, problems = validated(DriftGuardArgs, subject, args)
        if a is not None:
            problems += plan.problems(a)
        if problems or a is None:
            raise InvalidArguments(subject, problems)
        p = plan.plan_guard(a)
        # Everything above is pure; nothing has been registered yet.
        super().__init__(DRIFT_GUARD_TYPE, name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)

        # ram/resource_alicloud_ram_policy.go: policy_name is ForceNew; policy_document is
        # validated as JSON and diff-suppressed when equivalent.
        policy = alicloud.ram.Policy(
            f"{name}-deny",
            policy_name=a.policy_name,
            policy_document=p.deny_document,
            description="Denies changes to resources owned by pulumi-ack-clusters clusters",
            opts=child,
        )
        for group in a.attach_to_groups:
            # resource_alicloud_ram_group_policy_attachment.go: policy_type "System"|"Custom".
            alicloud.ram.GroupPolicyAttachment(
                f"{name}-group-{group}",
                group_name=group,
                policy_name=policy.policy_name,
                policy_type="Custom",
                opts=child,
            )
        for role in a.attach_to_roles:
            alicloud.ram.RolePolicyAttachment(
                f"{name}-role-{role}",
                role_name=role,
                policy_name=policy.policy_name,
                policy_type="Custom",
                opts=child,
            )
        if a.control_policy is not None and p.control_document is not None:
            # resource_alicloud_resource_manager_control_policy.go: effect_scope is Required and
            # ForceNew; "RAM" applies it to RAM users and roles only (the provider's docs), so
            # the account's root identity keeps a way in.
            control = alicloud.resourcemanager.ControlPolicy(
                f"{name}-control",
                control_policy_name=a.control_policy.policy_name,
                effect_scope="RAM",
                policy_document=p.control_document,
                description="Denies changes to resources owned by pulumi-ack-clusters clusters",
                opts=child,
            )
            for target in a.control_policy.target_ids:
                # ..._control_policy_attachment.go: policy_id and target_id, both ForceNew.
                alicloud.resourcemanager.ControlPolicyAttachment(
                    f"{name}-control-{target}",
                    policy_id=control.id,
                    target_id=target,
                    opts=child,
                )
        if a.alert is not None and p.event_pattern is not None:
            alert = a.alert
            # resource_alicloud_actiontrail_trail.go: trail_name (ExactlyOneOf with the
            # deprecated name, ForceNew), event_rw in Write|Read|All; EventBridge receives
            # only write events anyway (SRC_ACTIONTRAIL_EVENTS).
            trail_args: dict[str, Any] = {
                "trail_name": alert.trail_name,
                "event_rw": "Write",
                "trail_region": "All",
                "status": "Enable",
            }
            if alert.sls_project_arn is not None:
                trail_args["sls_project_arn"] = alert.sls_project_arn
                trail_args["sls_write_role_arn"] = alert.sls_write_role_arn
            if alert.oss_bucket_name is not None:
                trail_args["oss_bucket_name"] = alert.oss_bucket_name
            alicloud.actiontrail.Trail(f"{name}-trail", **trail_args, opts=child)
            url = pulumi.Output.secret(_alert_url(alert.kind, alert.url))
            body_value, body_template = plan.alert_body()
            params: list[alicloud.eventbridge.RuleTargetParamListArgs]
            if alert.kind == "dingtalk":
                # DingTalk target: URL and SecretKey CONSTANT, Body TEMPLATE (SRC_TARGET_PARAMS).
                params = [
                    alicloud.eventbridge.RuleTargetParamListArgs(
                        resource_key="URL", form="CONSTANT", value=url
                    ),
                    alicloud.eventbridge.RuleTargetParamListArgs(
                        resource_key="Body",
                        form="TEMPLATE",
                        value=body_value,
                        template=body_template,
                    ),
                ]
                if alert.secret_key is not None:
                    params.append(
                        alicloud.eventbridge.RuleTargetParamListArgs(
                            resource_key="SecretKey",
                            form="CONSTANT",
                            value=pulumi.Output.secret(_as_input(revealed(alert.secret_key))),
                        )
                    )
                target_type = "acs.dingtalk"
            else:
                # HTTP(S) target: url, Body, Network as the provider's own test sets them
                # (resource_alicloud_event_bridge_rule_test.go).
                params = [
                    alicloud.eventbridge.RuleTargetParamListArgs(
                        resource_key="url", form="CONSTANT", value=url
                    ),
                    alicloud.eventbridge.RuleTargetParamListArgs(
                        resource_key="Body",
                        form="TEMPLATE",
                        value=body_value,
                        template=body_template,
                    ),
                    alicloud.eventbridge.RuleTargetParamListArgs(
                        resource_key="Network", form="CONSTANT", value="PublicNetwork"
                    ),
                ]
                target_type = "https"
            # resource_alicloud_event_bridge_rule.go: event_bus_name and rule_name Required and
            # ForceNew; targets[].type from a fixed list (acs.dingtalk, https, ...).
            alicloud.eventbridge.Rule(
                f"{name}-alert",
                event_bus_name=plan.DEFAULT_BUS,
                rule_name=f"{name}-console-drift",
                description="Console drift on resources owned by pulumi-ack-clusters clusters",
                filter_pattern=p.event_pattern,
                targets=[
                    alicloud.eventbridge.RuleTargetArgs(
                        target_id=f"{name}-{alert.kind}",
                        type=target_type,
                        endpoint=url,
                        param_lists=params,
                    )
                ],
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["targets"]),
            )
        self.policy_name = policy.policy_name
        self.deny_document = pulumi.Output.from_input(p.deny_document)
        self.register_outputs(
            {"policy_name": self.policy_name, "deny_document": self.deny_document}
        )


def _alert_url(kind: str, url: Any) -> Any:
    """The alert's URL as an input: a string is checked with the arguments (plan); an output
    (a secret from config) when known, refused without quoting it."""
    if isinstance(url, SecretStr):
        return url.get_secret_value()

    def check(value: Any) -> Any:
        problem = plan.alert_url_problem(kind, value) if isinstance(value, str) else None
        if problem is not None:
            raise Refused(None, f"alert.url: {problem}")
        return value

    return pulumi.Output.from_input(url).apply(check)


def _as_input(value: Any) -> Any:
    """A string or an output, as a resource input (typed for the checker)."""
    return value
