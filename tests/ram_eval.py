"""A small evaluator of the RAM policy semantics the guard relies on, for tests.

RAM's rules (https://www.alibabacloud.com/help/en/ram/user-guide/policy-evaluation-logic and
the tag pages cited in ack_clusters/guard/facts.py): an explicit Deny wins over any Allow; with
no Allow the request is denied implicitly. A statement applies when its Action and Resource
match (``*`` and ``?`` wildcards, actions case-insensitively) and every condition holds:
condition operators AND together, keys within one operator AND together, the values listed for
one key OR together. A key absent from the request makes StringEquals/StringLike false and
StringNotEquals/StringNotLike true, which is why a tag condition on an action that does not
support tags never applies.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    action: str  # "ecs:AuthorizeSecurityGroup"
    resource: str = "*"  # the resource's ARN
    #: Condition keys the request carries: "acs:ResourceTag/<k>" for each tag of the resource
    #: (only when the action supports tag authorization), "acs:PrincipalARN", ...
    context: dict[str, str] = field(default_factory=dict)


def _match(pattern: str, value: str, *, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _as_list(x: Any) -> list[str]:
    return x if isinstance(x, list) else [x]


def _condition(op: str, key: str, values: list[str], context: dict[str, str]) -> bool:
    present = key in context
    got = context.get(key, "")
    if op == "StringEquals":
        return present and got in values
    if op == "StringNotEquals":
        return not present or got not in values
    if op == "StringLike":
        return present and any(_match(v, got) for v in values)
    if op == "StringNotLike":
        return not present or not any(_match(v, got) for v in values)
    raise ValueError(f"operator {op} is not modelled")  # fail closed: no silent pass


def applies(statement: dict[str, Any], req: Request) -> bool:
    if not any(_match(a, req.action, case=False) for a in _as_list(statement["Action"])):
        return False
    if not any(_match(r, req.resource) for r in _as_list(statement.get("Resource", "*"))):
        return False
    for op, keys in statement.get("Condition", {}).items():
        for key, values in keys.items():
            if not _condition(op, key, _as_list(values), req.context):
                return False
    return True


def decide(policies: list[str], req: Request) -> str:
    """ "Deny" (explicit), "Allow" or "ImplicitDeny" for a request under these documents."""
    allowed = False
    for text in policies:
        doc = json.loads(text)
        for s in doc["Statement"]:
            if applies(s, req):
                if s["Effect"] == "Deny":
                    return "Deny"
                allowed = True
    return "Allow" if allowed else "ImplicitDeny"


#: A broad grant people and automation typically hold, to test that the guard takes away only
#: what it means to.
ADMIN = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
