"""Identity guard rails: no administrator access through RAM; a role trusted by a cluster's
OIDC provider (RRSA) is assumable by one service account only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity
from pulumi_policy.proxy import UnknownValueError

from ._common import as_list, is_map, resource_rule, type_chain

ADMIN_POLICIES = frozenset({"AdministratorAccess", "AliyunRAMFullAccess"})
#: Actions that amount to administrator rights, as the two system policies above grant them:
#: every action, or every RAM action (which can grant itself the rest).
ADMIN_ACTIONS = {"*": "every action", "ram:*": "every RAM action"}
#: Resources that name every resource: the wildcard, and the wildcard ARN.
EVERY_RESOURCE = frozenset({"*", "acs:*:*:*:*"})


def _grants_everything(document: Any) -> str | None:
    """What an Allow statement of `document` grants on every resource that amounts to
    administrator rights, or None."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not is_map(document):
        return None
    for st in as_list(document.get("Statement")):
        if not is_map(st) or st.get("Effect") != "Allow":
            continue
        if not EVERY_RESOURCE & {str(r) for r in as_list(st.get("Resource", "*"))}:
            continue
        for action in as_list(st.get("Action")):
            if str(action) in ADMIN_ACTIONS:
                return ADMIN_ACTIONS[str(action)]
    return None


def _admin(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    if args.resource_type.endswith("PolicyAttachment"):
        if p.get("policyName") in ADMIN_POLICIES and p.get("policyType", "System") == "System":
            yield f"{args.name} attaches {p.get('policyName')}, which grants administrator rights"
    elif granted := _grants_everything(p.get("policyDocument") or p.get("document")):
        yield f"{args.name} allows {granted} on every resource"


ram_no_administrator_access = resource_rule(
    "ram-no-administrator-access",
    description="RAM policies and attachments do not grant administrator access.",
    types=[
        "alicloud:ram/policy:Policy",
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        "alicloud:ram/userPolicyAttachment:UserPolicyAttachment",
        "alicloud:ram/groupPolicyAttachment:GroupPolicyAttachment",
    ],
    check=_admin,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Grant the actions the role needs on the resources it needs; the node role "
    "the cluster components create is an example.",
    tags=["security", "identity"],
)


#: The component that builds a service account's trust itself (it is unknown at preview, until
#: the cluster's OIDC issuer exists).
SERVICE_ACCOUNT_ROLE_TYPE = "ack:index:ServiceAccountRole"
_ONE_SERVICE_ACCOUNT = re.compile(r"^system:serviceaccount:[^:*?]+:[^:*?]+$")


def _oidc_statements(document: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return
    if not is_map(document):
        return
    for st in as_list(document.get("Statement")):
        if not is_map(st) or st.get("Effect") != "Allow" or not is_map(st.get("Principal")):
            continue
        federated = as_list(st["Principal"].get("Federated"))
        if any("oidc-provider/" in str(p) for p in federated):
            yield st


def _loose_trust(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    key = "assumeRolePolicyDocument" if "assumeRolePolicyDocument" in list(p) else "document"
    if SERVICE_ACCOUNT_ROLE_TYPE in type_chain(args.urn)[:-1] and key in list(p):
        try:
            p.get(key)
        except UnknownValueError:
            return  # the component writes the one-service-account trust itself
    for st in _oidc_statements(p.get(key)):
        found = st.get("Condition")
        condition: Mapping[str, Any] = found if is_map(found) else {}
        found = condition.get("StringEquals")
        equals: Mapping[str, Any] = found if is_map(found) else {}
        subjects = as_list(equals.get("oidc:sub"))
        like = [
            op
            for op, terms in condition.items()
            if op != "StringEquals" and is_map(terms) and "oidc:sub" in list(terms)
        ]
        if not subjects or like or not all(_ONE_SERVICE_ACCOUNT.match(str(s)) for s in subjects):
            yield (
                f"{args.name} trusts a cluster's OIDC provider without naming the service "
                "account: any pod of that cluster could assume it (it needs StringEquals "
                "oidc:sub 'system:serviceaccount:<namespace>:<name>', no wildcards)"
            )


ram_oidc_trust_names_a_service_account = resource_rule(
    "ram-oidc-trust-names-a-service-account",
    description="A RAM role trusted through RRSA names the one service account that may assume it.",
    types=["alicloud:ram/role:Role"],
    check=_loose_trust,
    severity=Severity.HIGH,
    mandatory=True,
    remediation="Build the role with ServiceAccountRole, or give its trust StringEquals on "
    "oidc:sub for one namespace and service account (and on oidc:iss and oidc:aud).",
    tags=["security", "identity"],
)
