"""Policy config can only narrow what the pack enforces.

A team may raise a rule's level, turn an advisory rule off, and name exceptions; it may not
lower a rule the pack makes mandatory (the ownership and security rules), and an exception must
name the resources it excuses and say why. The pack refuses any other config when the engine
configures it (:func:`install`), so the refusal holds under the Pulumi CLI as well as offline;
``ack-preview`` refuses the same config first, with a message naming the rule.

An exception (`allow`) names URNs: each ``{"urn": ..., "reason": ...}``, where the URN is a
resource's full URN, and only its stack and project parts may be ``*`` (one exception for the
same resource in every stack of a project). A pattern that could match resources nobody named
(``*``, ``urn:pulumi:*::*::*::*``, a type or name with a wildcard in it) is refused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: A named URN: `urn:pulumi:STACK::PROJECT::TYPE-CHAIN::NAME`, with `*` allowed only as the
#: whole stack or project.
NAMED_URN = re.compile(
    r"^urn:pulumi:(?:\*|[^:*?\[\]]+)::(?:\*|[^:*?\[\]]+)::[^*?\[\]:]+(?::[^*?\[\]:]+)*::[^*?\[\]]+$"
)
#: The shortest reason an exception may give.
SHORTEST_REASON = 10

#: The `allow` property every rule takes, as its config schema declares it (the Pulumi CLI
#: checks a policy config against it too).
ALLOW_PROPERTY: dict[str, Any] = {
    "type": "array",
    "description": "Resources this rule accepts as exceptions, each named by its URN (only its "
    "stack and project may be '*') with the reason the team accepts it.",
    "items": {
        "type": "object",
        "properties": {
            "urn": {"type": "string", "pattern": NAMED_URN.pattern},
            "reason": {"type": "string", "minLength": SHORTEST_REASON},
        },
        "required": ["urn", "reason"],
        "additionalProperties": False,
    },
}

#: Levels, from the strongest: what a rule's default may be raised to, never lowered below.
_STRENGTH = {"remediate": 3, "mandatory": 2, "advisory": 1, "disabled": 0}


def problems(
    defaults: Mapping[str, str], levels: Mapping[str, str], properties: Mapping[str, Any]
) -> list[str]:
    """What in a resolved config weakens the pack: `defaults` and `levels` map each policy to
    its default and configured level, `properties` to its configured properties."""
    found = []
    for name, default in sorted(defaults.items()):
        level = levels.get(name, default)
        if default in ("mandatory", "remediate") and _STRENGTH[level] < _STRENGTH["mandatory"]:
            found.append(
                f"{name} is mandatory and cannot be made {level}: name the resources it "
                "should accept in its `allow` list, each with a reason"
            )
        found += [f"{name}.allow: {p}" for p in allow_problems(properties.get(name, {}))]
    return found


def allow_problems(props: Mapping[str, Any]) -> list[str]:
    entries = props.get("allow")
    if entries is None:
        return []
    if not isinstance(entries, list):
        return ["must be a list of {urn, reason} objects"]
    found = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            found.append(
                f'[{i}] {entry!r} must be an object {{"urn": ..., "reason": ...}}: an '
                "exception names a resource and says why it is accepted"
            )
            continue
        urn, reason = entry.get("urn"), entry.get("reason")
        if not isinstance(urn, str) or not NAMED_URN.match(urn):
            found.append(
                f"[{i}] urn {urn!r} does not name a resource: give its full URN (only the stack "
                "and project may be '*')"
            )
        if not isinstance(reason, str) or len(reason.strip()) < SHORTEST_REASON:
            found.append(f"[{i}] says no reason (at least {SHORTEST_REASON} characters)")
        extra = sorted(set(entry) - {"urn", "reason"})
        if extra:
            found.append(f"[{i}] has unknown keys {extra}")
    return found


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def schema_problems(where: str, value: Any, schema: Mapping[str, Any]) -> list[str]:
    """What in `value` its schema refuses, each naming its path: the JSON-schema keywords the
    pack's config schemas use (type, items, minimum, maximum, pattern, minLength, properties,
    required, additionalProperties). A whole float is an integer: the engine sends numbers as
    protobuf doubles. (The offline gate checks any pack's config the same way, as the Pulumi
    CLI does, in code of its own: it never imports a pack's rules.)"""
    kind = schema.get("type")
    wanted = _JSON_TYPES.get(str(kind))
    is_bool = isinstance(value, bool)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        value = int(value)
    if wanted is not None and (
        not isinstance(value, wanted) or (is_bool and kind in ("integer", "number"))
    ):
        article = "an" if str(kind)[0] in "aeiou" else "a"
        return [f"{where} must be {article} {kind}, not {value!r}"]
    if "minimum" in schema and value < schema["minimum"]:
        return [f"{where} must be at least {schema['minimum']:g}"]
    if "maximum" in schema and value > schema["maximum"]:
        return [f"{where} must be at most {schema['maximum']:g}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where} must be one of {schema['enum']}, not {value!r}"]
    pattern = schema.get("pattern")
    if pattern is not None and isinstance(value, str) and re.search(str(pattern), value) is None:
        return [f"{where} {value!r} does not match {pattern}"]
    if "minLength" in schema and isinstance(value, str) and len(value) < schema["minLength"]:
        return [f"{where} must be at least {schema['minLength']:g} characters"]
    found: list[str] = []
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            found += schema_problems(f"{where}[{i}]", item, schema["items"])
    if kind == "object" and isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if key not in value:
                found.append(f"{where} needs {key!r}")
        for key, item in value.items():
            if key in properties:
                found += schema_problems(f"{where}.{key}", item, properties[key])
            elif schema.get("additionalProperties") is False:
                known = ", ".join(sorted(properties))
                found.append(f"{where} has no {key!r} (it takes: {known})")
    return found


def properties_problems(
    name: str, schema: Mapping[str, Any], given: Mapping[str, Any]
) -> list[str]:
    """What a policy's configured properties break of its config schema's `properties`."""
    found = []
    for key, value in given.items():
        if key not in schema:
            known = ", ".join(sorted(schema)) or "none"
            found.append(f"{name!r} has no property {key!r} (it takes: {known})")
            continue
        found += schema_problems(f"{name}.{key}", value, schema[key])
    return found


def excused(entries: Iterable[Any], urn: str) -> bool:
    """Whether an exception names `urn` (its stack and project may be '*')."""
    stack, project, rest = _parts(urn)
    for entry in entries:
        named = entry.get("urn") if isinstance(entry, Mapping) else None
        if not isinstance(named, str) or not NAMED_URN.match(named):
            continue  # refused when configured; never an exception here
        s, p, r = _parts(named)
        if r == rest and s in ("*", stack) and p in ("*", project):
            return True
    return False


def _parts(urn: str) -> tuple[str, str, str]:
    head, _, rest = urn.partition("::")
    project, _, rest = rest.partition("::")
    return head.removeprefix("urn:pulumi:"), project, rest


def install() -> None:
    """Refuse, when the engine configures the pack, a config that weakens it."""
    import grpc
    from google.protobuf import json_format
    from pulumi_policy import EnforcementLevel
    from pulumi_policy import policy as server

    servicer = server._PolicyAnalyzerServicer
    configure: Callable[..., Any] = servicer.Configure
    if getattr(configure, "ack_narrows", False):
        return
    names = {
        EnforcementLevel.ADVISORY: "advisory",
        EnforcementLevel.MANDATORY: "mandatory",
        EnforcementLevel.DISABLED: "disabled",
        EnforcementLevel.REMEDIATE: "remediate",
    }

    @functools.wraps(configure)
    def narrowed(self: Any, request: Any, context: Any) -> Any:
        policies = self._PolicyAnalyzerServicer__policies
        pack_level = self._PolicyAnalyzerServicer__policy_pack_enforcement_level
        defaults = {p.name: names[p.enforcement_level or pack_level] for p in policies}
        levels, properties = {}, {}
        for name, given in request.policyConfig.items():
            level = self._convert_enforcement_level(given.enforcementLevel)
            if level is not None:
                levels[name] = names[level]
            properties[name] = json_format.MessageToDict(given.properties)
        found = problems(defaults, levels, properties)
        # What the Pulumi CLI checks against each rule's schema before it configures a pack;
        # checked here too, for a Configure that did not come through the CLI.
        by_name = {p.name: p for p in policies}
        for name, given in sorted(properties.items()):
            policy = by_name.get(name)
            schema = getattr(getattr(policy, "config_schema", None), "properties", None) or {}
            found += properties_problems(name, schema, given)
        if found:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "policy config may only narrow the ACK pack: " + "; ".join(found),
            )
        return configure(self, request, context)

    narrowed.ack_narrows = True  # type: ignore[attr-defined]
    setattr(servicer, "Configure", narrowed)  # noqa: B010 - a method of pulumi-policy's server
