"""What every rule shares: ownership from URNs and parents, the allow-list, rule metadata.

The pack is self-contained (the engine runs it in its own virtualenv), so the few facts it shares
with the component library are restated here; tests/test_policies.py checks they agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeGuard

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from .narrow import ALLOW_PROPERTY, excused

#: The attribute of a policy made by :func:`resource_rule` that names the only resource types
#: its validate looks at (None: all): for any other type it returns at once, reporting nothing,
#: so the pack's server does not call it (speed.py).
RESOURCE_TYPES = "ack_resource_types"

#: Component types of the cluster forms (package "ack").
CLUSTER_COMPONENT_TYPES = frozenset(
    {"ack:index:ManagedCluster", "ack:index:DedicatedCluster", "ack:index:ServerlessCluster"}
)
#: Ownership tag the components put on every taggable resource.
CLUSTER_TAG = "ack.pulumi.io/cluster"
#: Provider types of the cluster resource itself.
CLUSTER_TYPES = frozenset(
    {
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "alicloud:cs/kubernetes:Kubernetes",
        "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
    }
)

ALLOW_SCHEMA = PolicyConfigSchema(properties={"allow": ALLOW_PROPERTY})


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKeyError(f"the key {key!r} is given twice")
        found[key] = value
    return found


def load_document(text: str) -> Any:
    """A JSON policy document, refusing one that names a key twice in any object: Python keeps
    the last of two, and which of them the cloud reads is not documented (RAM's policy grammar,
    https://www.alibabacloud.com/help/en/ram/policy-structure-and-syntax, defines no
    duplicate), so a rule cannot decide what it grants. Raises ValueError (DuplicateKeyError
    for a duplicate) when it cannot be read."""
    return json.loads(text, object_pairs_hook=_no_duplicates)


def every_text(value: Any) -> str:
    """A document's text in lower case as JSON reads it (escapes such as \\u006f decoded),
    every value of a key named twice kept: what a rule looks for cannot hide in a spelling."""
    if isinstance(value, str):
        try:
            value = json.loads(value, object_pairs_hook=lambda pairs: [list(p) for p in pairs])
        except ValueError:
            return value.lower()
    return json.dumps(value).lower()


def type_chain(urn: str) -> list[str]:
    """The types of a resource's ancestors and itself, read from its URN.

    A URN is urn:pulumi:STACK::PROJECT::PARENT-TYPE$...$TYPE::NAME, so even a single-resource
    Analyze call knows whether the resource lives inside a cluster component."""
    parts = urn.split("::")
    return parts[2].split("$") if len(parts) >= 4 else []


def in_cluster(urn: str) -> bool:
    return any(t in CLUSTER_COMPONENT_TYPES for t in type_chain(urn)[:-1])


def stack_of(urn: str) -> str:
    return urn.split("::")[0].removeprefix("urn:pulumi:")


def owning_cluster(resource: PolicyResource) -> PolicyResource | None:
    """The nearest cluster component among a resource's parents, if any."""
    parent = resource.parent
    while parent is not None:
        if parent.resource_type in CLUSTER_COMPONENT_TYPES:
            return parent
        parent = parent.parent
    return None


def allowed(config: Mapping[str, Any], urn: str) -> bool:
    """Whether the rule's config names `urn` as an exception (ack_policies.narrow)."""
    return excused(config.get("allow") or [], urn)


def is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """Props arrive wrapped in pulumi_policy's unknown-checking proxies: Mappings, not dicts."""
    return isinstance(value, Mapping)


def as_list(value: Any) -> list[Any]:
    """A list value (proxied as a Sequence) as a list; a single value as a list of one."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def known(props: Mapping[str, Any], key: str) -> Any:
    """`props[key]`, or None when it is absent or unknown at preview (an output such as a
    resource's ID, which the engine hands a stack rule, is unknown until the update)."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def truthy(value: Any) -> bool:
    """Provider booleans arrive as bools, some as the strings 'true'/'false'."""
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def undecided(name: str, error: UnknownValueError) -> str:
    """The finding of a rule that cannot decide because a value is unknown here. It is
    reported at the rule's own level: a mandatory rule that cannot prove a resource compliant
    blocks, so a preview never passes what the update would block (pulumi-policy on its own
    would downgrade it to an advisory note). At preview the value is computed during the update
    (or found by a lookup ack-preview cannot answer offline); in an update, where every output
    is known, only a lookup the fake Alibaba Cloud could not answer leaves it unknown, and an
    update would not tell more."""
    from .lookups import dry_run

    where = f".{'.'.join(error.props)}"
    if dry_run():
        return (
            f"{name} cannot be proven compliant until its value at {where} is known: it is "
            "computed during the update (or found by a lookup ack-preview cannot answer "
            "offline). Give it a value known at preview, or run the gate on an update"
        )
    return (
        f"{name} cannot be proven compliant until its value at {where} is known: it is unknown "
        "offline (found by an invoke the fake Alibaba Cloud could not answer, which only "
        "Alibaba Cloud can). Give it a value the program declares (a literal name, say)"
    )


ResourceCheck = Callable[[ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[StackValidationArgs], Iterable[tuple[str, str]]]


def _schema(extra: Mapping[str, dict[str, Any]] | None) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={**ALLOW_SCHEMA.properties, **(extra or {})})


def _metadata(
    name: str,
    description: str,
    severity: Severity,
    remediation: str,
    mandatory: bool,
    tags: Iterable[str],
    config: Mapping[str, dict[str, Any]] | None,
) -> dict[str, Any]:
    """What every rule declares: level (mandatory or advisory by default; policy config can
    change it), severity, remediation, tags and a config schema with the `allow` list."""
    return {
        "name": name,
        "description": description,
        "enforcement_level": (
            EnforcementLevel.MANDATORY if mandatory else EnforcementLevel.ADVISORY
        ),
        "severity": severity,
        "remediation_steps": remediation,
        "tags": sorted(tags),
        "config_schema": _schema(config),
    }


def resource_rule(
    name: str,
    *,
    description: str,
    types: Iterable[str] | None,
    check: ResourceCheck,
    severity: Severity,
    remediation: str,
    mandatory: bool = False,
    tags: Iterable[str] = (),
) -> ResourceValidationPolicy:
    """A resource rule for some provider types (None: every type); `check` yields one message
    per problem. Resources matching the rule's `allow` patterns are skipped."""
    wanted = None if types is None else frozenset(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if wanted is not None and args.resource_type not in wanted:
            return
        if allowed(args.get_config(), args.urn):
            return
        try:
            for message in check(args):
                report(message, args.urn)
        except UnknownValueError as error:
            report(undecided(args.name, error), args.urn)

    policy = ResourceValidationPolicy(
        validate=validate,
        **_metadata(name, description, severity, remediation, mandatory, tags, None),
    )
    # The pack's server skips the call for other types, which `validate` ignores (speed.py).
    setattr(policy, RESOURCE_TYPES, wanted)
    return policy


def stack_rule(
    name: str,
    *,
    description: str,
    check: StackCheck,
    severity: Severity,
    remediation: str,
    mandatory: bool = False,
    tags: Iterable[str] = (),
    config: Mapping[str, dict[str, Any]] | None = None,
) -> StackValidationPolicy:
    """A stack rule; `check` yields (urn, message) pairs."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        config = args.get_config()
        try:
            for urn, message in check(args):
                if not allowed(config, urn):
                    report(message, urn)
        except UnknownValueError as error:
            # Checks that can name the resource catch this themselves; this is the stack's.
            report(undecided("the stack", error), "")

    return StackValidationPolicy(
        validate=validate,
        **_metadata(name, description, severity, remediation, mandatory, tags, config),
    )
