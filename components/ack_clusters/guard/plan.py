"""The guard's documents, decided from the ownership facts the gate uses (the tags in
naming.py, the node role's name): the RAM Deny, the control policy, the EventBridge pattern and
the alert's message. Pure: nothing here imports Pulumi."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from ack_policies import service_roles

from ..identity.args import RAM_NAME
from ..validation import NAME_PATTERN
from . import facts
from .args import RD_TARGET, DriftGuardArgs

#: Resource Directory caps a control policy document at 4,096 characters (provider docs,
#: website/docs/r/resource_manager_control_policy.html.markdown, `policy_document`).
CONTROL_POLICY_MAX = 4096
#: ActionTrail events on EventBridge's default bus (SRC_ACTIONTRAIL_EVENTS): the source of every
#: Alibaba Cloud service event, and the types of an API call and a console operation (an
#: operation Alibaba Cloud itself performs, AliyunServiceEvent, is left out on purpose).
EVENT_SOURCE = "acs.actiontrail"
EVENT_TYPES = ("actiontrail:ActionTrail:ApiCall", "actiontrail:ActionTrail:ConsoleOperation")
DEFAULT_BUS = "default"
WHY_SERVICE_ROLE = (
    "is one of ACK's service roles: ACK uses it to keep managing the cluster (nodes, scaling, "
    "load balancers), and a Deny on it breaks the cluster"
)


@dataclass(frozen=True)
class GuardPlan:
    deny_document: str
    control_document: str | None
    event_pattern: str | None
    node_roles: tuple[str, ...]


def compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), sort_keys=False)


def node_roles_of(a: DriftGuardArgs) -> tuple[str, ...]:
    if a.node_role_names is not None:
        return tuple(a.node_role_names)
    return tuple(f"{c}{facts.NODE_ROLE_SUFFIX}" for c in a.clusters)


def problems(a: DriftGuardArgs) -> list[tuple[str, str]]:
    """Every reason these arguments cannot make a guard (field path, message)."""
    found: list[tuple[str, str]] = []
    node_roles = {r.lower() for r in node_roles_of(a)}
    deploy = a.deploy_identity
    if not a.attach_to_groups and not a.attach_to_roles and a.control_policy is None:
        found.append(
            (
                "attach_to_groups",
                "the guard denies nobody: give attach_to_groups, attach_to_roles or control_policy",
            )
        )
    for field, names in (
        ("attach_to_groups", a.attach_to_groups),
        ("attach_to_roles", a.attach_to_roles),
    ):
        seen: set[str] = set()
        for i, n in enumerate(names):
            path = f"{field}.{i}"
            if not re.match(RAM_NAME, n):
                found.append((path, f"{n!r} is not a RAM name (1-64 letters, digits, . and -)"))
                continue
            if n in seen:
                found.append((path, f"{n!r} is listed twice"))
            seen.add(n)
            if field != "attach_to_roles":
                continue
            if facts.is_ack_service_role(n):
                found.append((path, f"{n!r} {WHY_SERVICE_ROLE} (docs/CONSOLE-DRIFT.md)"))
            elif n.lower() in node_roles or n.lower().endswith(facts.NODE_ROLE_SUFFIX):
                found.append(
                    (
                        path,
                        f"{n!r} is a cluster's node role: the nodes' own components (the cloud "
                        "controller manager, CSI, Terway) change owned resources through it "
                        "(docs/CONSOLE-DRIFT.md)",
                    )
                )
            elif deploy.kind == "role" and n == deploy.name:
                found.append(
                    (
                        path,
                        f"{n!r} is the deploy identity: pulumi up must keep changing what the "
                        "clusters own (docs/CONSOLE-DRIFT.md)",
                    )
                )
    for i, n in enumerate(a.clusters):
        if not re.match(NAME_PATTERN, n):
            found.append((f"clusters.{i}", f"{n!r} is not a cluster name of this library"))
    for i, n in enumerate(node_roles_of(a) if a.node_role_names is not None else ()):
        if not re.match(RAM_NAME, n):
            found.append((f"node_role_names.{i}", f"{n!r} is not a RAM role name"))
    if facts.is_ack_service_role(deploy.name):
        found.append(("deploy_identity.name", f"{deploy.name!r} {WHY_SERVICE_ROLE}"))
    if a.control_policy is not None:
        for i, t in enumerate(a.control_policy.target_ids):
            if not re.match(RD_TARGET, t):
                found.append(
                    (
                        f"control_policy.target_ids.{i}",
                        f"{t!r} is not a folder (fd-...), root folder (r-...) or account ID",
                    )
                )
    if a.alert is not None:
        if isinstance(a.alert.url, SecretStr):  # an output is checked when known (component)
            problem = alert_url_problem(a.alert.kind, a.alert.url.get_secret_value())
            if problem is not None:
                found.append(("alert.url", problem))
        if a.alert.kind == "webhook" and a.alert.secret_key is not None:
            found.append(("alert.secret_key", "only a DingTalk robot signs with a secret key"))
        if a.alert.sls_project_arn is None and a.alert.oss_bucket_name is None:
            found.append(
                (
                    "alert.oss_bucket_name",
                    "a trail delivers to an OSS bucket or an SLS project: give oss_bucket_name "
                    f"or sls_project_arn ({facts.SRC_CREATE_TRAIL})",
                )
            )
        if (a.alert.sls_project_arn is None) != (a.alert.sls_write_role_arn is None):
            found.append(
                ("alert.sls_write_role_arn", "give sls_project_arn and sls_write_role_arn together")
            )
    if not found:
        doc = control_policy_document(a)
        if a.control_policy is not None and len(doc) > CONTROL_POLICY_MAX:
            found.append(
                (
                    "control_policy",
                    f"the control policy would be {len(doc)} characters; Resource Directory "
                    f"allows {CONTROL_POLICY_MAX}: guard fewer clusters or node roles",
                )
            )
    return found


def _tag_condition(a: DriftGuardArgs) -> dict[str, list[str]]:
    cond = {f"{facts.RESOURCE_TAG}{facts.OWNED_TAG_KEY}": [facts.OWNED_TAG_VALUE]}
    if a.clusters:
        cond[f"{facts.RESOURCE_TAG}{facts.CLUSTER_TAG_KEY}"] = sorted(a.clusters)
    return cond


def deny_statements(a: DriftGuardArgs) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "Effect": "Deny",
            "Action": facts.denied_action_names(),
            "Resource": "*",
            "Condition": {"StringEquals": _tag_condition(a)},
        }
    ]
    roles = node_roles_of(a)
    if roles:
        out.append(
            {
                "Effect": "Deny",
                "Action": [f"ram:{x}" for x in facts.NODE_ROLE_ACTIONS],
                "Resource": [f"acs:ram:*:*:role/{r}" for r in sorted(roles)],
            }
        )
    return out


def deny_policy_document(a: DriftGuardArgs) -> str:
    """The RAM policy attached to the groups and roles: Deny, nothing else (it grants nothing)."""
    return compact({"Version": "1", "Statement": deny_statements(a)})


def exempt_principals(a: DriftGuardArgs) -> list[str]:
    """Principal ARNs a control policy must not touch: the deploy identity, ACK's service roles
    and the guarded clusters' node roles (the nodes' own components, the cloud controller
    manager, CSI and Terway, change owned resources through them). Without `clusters` or
    `node_role_names` the guard covers every cluster of the library, so every node role
    (`*-node-role`) is exempt. RAM role ARNs spell the name in lower case
    (acs:ram::<uid>:role/<name>, as Alibaba Cloud's control-policy examples write them): each
    is listed so, once (the document's limit is 4,096 characters). The policy pack refuses a
    control policy that names what a cluster owns without these exemptions
    (ack_policies.references.missing_exemptions)."""
    d = a.deploy_identity
    names = [d.name] if d.kind == "role" else []
    node_roles = list(node_roles_of(a)) or [f"*{facts.NODE_ROLE_SUFFIX}"]
    roles = [
        *names,
        *facts.ACK_SERVICE_ROLES,
        *(f"{p}*" for p in facts.ACK_SERVICE_ROLE_PREFIXES),
        *node_roles,
    ]
    arns = {service_roles.role_arn(r) for r in roles}
    if d.kind == "user":
        arns.add(f"acs:ram:*:*:user/{d.name}")
    return sorted(arns)


def control_policy_document(a: DriftGuardArgs) -> str:
    """The same Deny for every RAM identity of the target folders or accounts, except the
    deploy identity, ACK's service roles and the node roles (a control policy applies to all
    of them)."""
    statements = deny_statements(a)
    for s in statements:
        s.setdefault("Condition", {})["StringNotLike"] = {"acs:PrincipalARN": exempt_principals(a)}
    return compact({"Version": "1", "Statement": statements})


def event_pattern(a: DriftGuardArgs) -> str:
    """EventBridge's filter: a write call, made through the API or the console, on a service
    whose owned resources the guard watches, naming one of the watched APIs, by a caller that
    is neither one of Alibaba Cloud's service roles (names start with "Aliyun": ACK's all do)
    nor the deploy identity. Patterns AND their keys and OR the values of one key
    (SRC_EVENT_PATTERNS); "anything-but" with a prefix excludes one prefix per key, hence two
    keys for the two exclusions."""
    watched = facts.watched_events()
    d = a.deploy_identity
    own = {"prefix": f"{d.principal_id}:"} if d.kind == "role" else [d.principal_id]
    return compact(
        {
            "source": [EVENT_SOURCE],
            "type": list(EVENT_TYPES),
            "data": {
                "serviceName": list(watched),
                "eventName": sorted({n for names in watched.values() for n in names}),
                "userIdentity": {
                    "userName": [{"anything-but": {"prefix": facts.SERVICE_ROLE_PREFIX}}],
                    "principalId": [{"anything-but": own}],
                },
            },
        }
    )


#: What the alert says: the caller, the action, the service and the resources it named.
ALERT_FIELDS = {
    "caller": "$.data.userIdentity.userName",
    "action": "$.data.eventName",
    "service": "$.data.serviceName",
    "resources": "$.data.referencedResources",
    "region": "$.data.acsRegion",
    "time": "$.data.eventTime",
}
ALERT_TEXT = (
    "Console drift on a cluster-owned resource: ${caller} called ${service} ${action} "
    "on ${resources} in ${region} at ${time}. Put it back with pulumi up "
    "(docs/CONSOLE-DRIFT.md)."
)


def alert_body() -> tuple[str, str]:
    """(value, template) of the target's TEMPLATE body (SRC_TARGET_PARAMS)."""
    template = compact({"msgtype": "text", "text": {"content": ALERT_TEXT}})
    return compact(ALERT_FIELDS), template


def plan_guard(a: DriftGuardArgs) -> GuardPlan:
    return GuardPlan(
        deny_document=deny_policy_document(a),
        control_document=control_policy_document(a) if a.control_policy else None,
        event_pattern=event_pattern(a) if a.alert else None,
        node_roles=node_roles_of(a),
    )


def alert_url_problem(kind: str, url: str) -> str | None:
    """What is wrong with an alert's URL, in words that never quote it (it holds a token)."""
    if kind == "dingtalk" and not url.startswith("https://oapi.dingtalk.com/robot/send?"):
        return (
            "a DingTalk robot's URL starts with https://oapi.dingtalk.com/robot/send? "
            f"({facts.SRC_TARGET_PARAMS})"
        )
    if kind == "webhook" and not url.startswith("https://"):
        return "a webhook must be an https:// URL (it carries a token)"
    return None
