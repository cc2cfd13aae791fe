"""Identity guard rails: no administrator access through RAM; a role trusted by a cluster's
OIDC provider (RRSA) is assumable by one service account only."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from . import seen as seen_inputs
from ._common import (
    DuplicateKeyError,
    as_list,
    every_text,
    is_map,
    load_document,
    resource_rule,
    stack_rule,
)
from .owners import has_unknown, ownership, plain
from .record import SERVICE_ACCOUNT_ROLE_TYPE as SAR

ADMIN_POLICIES = frozenset({"AdministratorAccess", "AliyunRAMFullAccess"})
#: What amounts to administrator rights, as the two system policies above grant them, each
#: stood for by sample requests a statement must allow all of: every action on every resource,
#: or every RAM action on every RAM resource (which can grant itself the rest). Judging samples
#: by wildcard matching covers each spelling at once: `*`, `*:*`, `acs:*:*:*:*`, `ram:*` on
#: `acs:ram:*:*:*`, and an Allow with NotAction or NotResource that leaves them in.
ADMIN_GRANTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "every action on every resource",
        ("ecs:RunInstances", "ram:CreateUser", "oss:PutObject", "cs:DeleteCluster"),
        (
            "acs:ecs:cn-hangzhou:1234567890123456:instance/i-1",
            "acs:ram::1234567890123456:role/any",
            "acs:oss:*:1234567890123456:bucket/key",
        ),
    ),
    (
        "every RAM action on every RAM resource",
        ("ram:AttachPolicyToRole", "ram:CreatePolicyVersion", "ram:CreateUser", "ram:UpdateRole"),
        (
            "acs:ram::1234567890123456:role/any",
            "acs:ram::1234567890123456:user/any",
            "acs:ram::1234567890123456:policy/any",
        ),
    ),
)


_RAM = "acs:ram::1234567890123456"
#: RAM actions that grant administrator in one step when allowed on every resource of their
#: kind: attach AdministratorAccess to oneself, rewrite a policy one holds, take over a role's
#: trust, or act as (or join) a principal that is an administrator.
ESCALATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ram:AttachPolicyToUser", "attach any policy to any user", (f"{_RAM}:user/any",)),
    ("ram:AttachPolicyToGroup", "attach any policy to any group", (f"{_RAM}:group/any",)),
    ("ram:AttachPolicyToRole", "attach any policy to any role", (f"{_RAM}:role/any",)),
    ("ram:CreatePolicyVersion", "rewrite any policy", (f"{_RAM}:policy/any",)),
    (
        "ram:SetDefaultPolicyVersion",
        "switch any policy to another version",
        (f"{_RAM}:policy/any",),
    ),
    ("ram:UpdateRole", "rewrite any role's trust", (f"{_RAM}:role/any",)),
    ("ram:CreateAccessKey", "create keys for any user", (f"{_RAM}:user/any",)),
    ("ram:CreateLoginProfile", "give any user a console password", (f"{_RAM}:user/any",)),
    ("ram:UpdateLoginProfile", "reset any user's console password", (f"{_RAM}:user/any",)),
    ("ram:AddUserToGroup", "add anyone to any group", (f"{_RAM}:group/any",)),
)


def _allows(statement: Any, key: str, samples: tuple[str, ...]) -> bool:
    """Whether `statement` allows every sample through `key` (Action or Resource), or through
    its negation (NotAction, NotResource: all but what it lists). Matching ignores case."""
    if key in statement:
        listed, negated = statement.get(key), False
    elif f"Not{key}" in statement:
        listed, negated = statement.get(f"Not{key}"), True
    else:
        listed, negated = ("*" if key == "Resource" else []), False
    patterns = [str(x).lower() for x in as_list(listed)]
    return all(
        any(fnmatch.fnmatchcase(sample.lower(), p) for p in patterns) is not negated
        for sample in samples
    )


def _grants_everything(document: Any) -> str | None:
    """What an Allow statement of `document` grants that amounts to administrator rights, or
    None."""
    if isinstance(document, str):
        try:
            document = load_document(document)
        except DuplicateKeyError as e:
            # Which of the two the cloud reads is not documented: not proven to grant less.
            return f"a document in which {e}: what RAM grants from it cannot be decided"
        except ValueError:
            return None
    if not is_map(document):
        return None
    for st in as_list(document.get("Statement")):
        if not is_map(st) or st.get("Effect") != "Allow":
            continue
        for what, actions, resources in ADMIN_GRANTS:
            if _allows(st, "Action", actions) and _allows(st, "Resource", resources):
                return what
        for action, what, resources in ESCALATIONS:
            if _allows(st, "Action", (action,)) and _allows(st, "Resource", resources):
                return (
                    f"{action} on everything it acts on (it can {what}: administrator in one step)"
                )
    return None


def _admin(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    if args.resource_type.endswith("PolicyAttachment"):
        if p.get("policyName") in ADMIN_POLICIES and p.get("policyType", "System") == "System":
            yield f"{args.name} attaches {p.get('policyName')}, which grants administrator rights"
    elif granted := _grants_everything(p.get("policyDocument") or p.get("document")):
        yield f"{args.name} allows {granted}"


ram_no_administrator_access = resource_rule(
    "ram-no-administrator-access",
    description="RAM policies and attachments do not grant administrator access.",
    types=[
        "alicloud:ram/policy:Policy",
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        "alicloud:ram/userPolicyAttachment:UserPolicyAttachment",
        "alicloud:ram/groupPolicyAttachment:GroupPolicyAttachment",
        # Resource Manager's spellings: the same RAM policies, attached at account or resource
        # group scope, and a new version of a policy's document.
        "alicloud:resourcemanager/policy:Policy",
        "alicloud:resourcemanager/policyVersion:PolicyVersion",
        "alicloud:resourcemanager/policyAttachment:PolicyAttachment",
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
#: How ACK names a cluster's RRSA OIDC provider (``ack-rrsa-<cluster ID>``) and its issuer
#: (``https://oidc-ack-<region>.oss-<region>.aliyuncs.com/<cluster ID>``).
_ACK_PROVIDER = "oidc-provider/ack-rrsa-"
_ACK_ISSUER = "oidc-ack-"
ROLE = "alicloud:ram/role:Role"


def _document(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return load_document(value)
        except ValueError:
            return None
    return value


def _duplicate_key(value: Any) -> str | None:
    """The duplicate key of a trust document that names one twice, if it does."""
    if isinstance(value, str):
        try:
            load_document(value)
        except DuplicateKeyError as e:
            return str(e)
        except ValueError:
            return None
    return None


def _rrsa_statements(document: Any, providers: set[str]) -> Iterator[Mapping[str, Any]]:
    """The Allow statements of a trust that a cluster's RRSA OIDC provider may use: a federated
    principal that is a cluster's provider (ACK's name for it, or a provider this stack's
    clusters have), or a condition on a cluster's issuer. Another OIDC provider's trust (a CI
    system's, GitHub Actions' say) is not RRSA's."""
    document = _document(document)
    if not is_map(document):
        return
    for st in as_list(document.get("Statement")):
        if not is_map(st) or st.get("Effect") != "Allow" or not is_map(st.get("Principal")):
            continue
        federated = [str(p) for p in as_list(st["Principal"].get("Federated"))]
        if not federated:
            continue
        issuers = [
            str(v)
            for terms in (st.get("Condition") or {}).values()
            if is_map(terms)
            for k, v in terms.items()
            if k == "oidc:iss"
            for v in as_list(v)
        ]
        if any(_ACK_PROVIDER in p or p.lower() in providers for p in federated) or any(
            _ACK_ISSUER in i or i.lower() in providers for i in issuers
        ):
            yield st


def _names_one_service_account(st: Mapping[str, Any]) -> bool:
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
    return bool(subjects) and not like and all(_ONE_SERVICE_ACCOUNT.match(str(s)) for s in subjects)


def _loose_trusts(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    own = ownership(args.resources)
    # The RRSA OIDC providers and issuers of this stack's clusters, as far as they are known.
    providers = {
        identity.value.lower()
        for found in own.identities.values()
        for identity in found
        if identity.field == "rrsaMetadata"
    }
    for res in args.resources:
        if res.resource_type != ROLE:
            continue
        found = seen_inputs.seen(res.urn)
        props = found.inputs if found is not None else plain(res.props)
        key = "assumeRolePolicyDocument" if "assumeRolePolicyDocument" in props else "document"
        trust = props.get(key)
        owned = own.owner_of(res)
        if has_unknown(trust):
            if owned is not None and owned.owner.component.resource_type == SAR:
                continue  # the component writes the one-service-account trust itself
            # Unknown: RRSA's unless it comes only from resources that are not a cluster's (an
            # OIDC provider of the program's own, say).
            reached = list(own.reached_by(res, key, trust))
            clusters = [
                r.owned.owner.name
                for r in reached
                if r.owned is not None and r.owned.owner.kind == "cluster"
            ]
            if clusters or any(r.unproven for r in reached):
                source = f"comes from cluster '{clusters[0]}'" if clusters else "has no source"
                yield (
                    res.urn,
                    f"{res.name}'s trust {source} and is unknown at preview: it cannot be proven "
                    "to name one service account. Build the role with ServiceAccountRole, which "
                    "writes that trust, or run the gate on an update.",
                )
            continue
        twice = _duplicate_key(trust)
        if twice is not None and "oidc" in every_text(trust):
            # An OIDC trust that names a key twice: which of the two RAM reads is not
            # documented, so the service account it names cannot be decided.
            yield (
                res.urn,
                f"{res.name}'s trust is an OIDC trust in which {twice}: which of the two RAM "
                "reads is not documented, so it cannot be proven to name one service account. "
                "Give each key once.",
            )
            continue
        for st in _rrsa_statements(trust, providers):
            if not _names_one_service_account(st):
                yield (
                    res.urn,
                    f"{res.name} trusts a cluster's OIDC provider without naming the service "
                    "account: any pod of that cluster could assume it (it needs StringEquals "
                    "oidc:sub 'system:serviceaccount:<namespace>:<name>', no wildcards)",
                )
                break


ram_oidc_trust_names_a_service_account = stack_rule(
    "ram-oidc-trust-names-a-service-account",
    description="A RAM role trusted through a cluster's RRSA OIDC provider names the one "
    "service account that may assume it.",
    check=_loose_trusts,
    severity=Severity.HIGH,
    mandatory=True,
    remediation="Build the role with ServiceAccountRole, or give its trust StringEquals on "
    "oidc:sub for one namespace and service account (and on oidc:iss and oidc:aud). Trusts of "
    "other OIDC providers (a CI system's) are not judged here.",
    tags=["security", "identity"],
)
