"""Identity guard rails: no administrator access through RAM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from ._common import as_list, is_map, resource_rule

ADMIN_POLICIES = frozenset({"AdministratorAccess", "AliyunRAMFullAccess"})


def _grants_everything(document: Any) -> bool:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return False
    if not is_map(document):
        return False
    for st in as_list(document.get("Statement")):
        if not is_map(st) or st.get("Effect") != "Allow":
            continue
        if "*" in as_list(st.get("Action")) and "*" in as_list(st.get("Resource", "*")):
            return True
    return False


def _admin(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    if args.resource_type.endswith("PolicyAttachment"):
        if p.get("policyName") in ADMIN_POLICIES and p.get("policyType", "System") == "System":
            yield f"{args.name} attaches {p.get('policyName')}, which grants administrator rights"
    elif _grants_everything(p.get("policyDocument") or p.get("document")):
        yield f"{args.name} allows every action on every resource"


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
