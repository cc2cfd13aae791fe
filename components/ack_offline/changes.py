"""What `pulumi up` would do to each resource when a stack goes from one graph to another:
create, update, replace, delete or nothing, predicted from the provider's facts.

An input the provider marks ForceNew replaces its resource (a nested ForceNew field replaces it
too); any other change is an update, and an update of an input the provider's Update code never
sends is marked "never applied": ``pulumi up`` reports success and the cloud keeps the old
value. A replacement of a stateful resource (a cluster, VPC, NAT gateway, EIP or node pool) is
what ``ack-preview --diff`` refuses without ``--allow-replace``.

Graphs are compared by URN. Inputs are compared as the engine compares them: secret values by
value when both graphs come from runs in this process (they never leave it), and as equal
otherwise; a value unknown at preview on either side makes the outcome uncertain ("may").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi.runtime.rpc import UNKNOWN

from . import provider
from .recorder import UNKNOWN_TEXT, ProgramRun
from .text import one_line

Action = Literal["create", "update", "replace", "delete", "same"]
Effect = Literal["replaces", "updates", "never applied", "not modelled"]

#: Types whose replacement destroys what they hold (workloads, addresses, routes).
STATEFUL: frozenset[str] = frozenset(
    {
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "alicloud:cs/kubernetes:Kubernetes",
        "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
        "alicloud:cs/nodePool:NodePool",
        "alicloud:vpc/network:Network",
        "alicloud:vpc/natGateway:NatGateway",
        "alicloud:ecs/eipAddress:EipAddress",
    }
)

#: Kubernetes objects are replaced when their identity changes (the Kubernetes provider's rule).
_K8S_IDENTITY = frozenset({"metadata.name", "metadata.namespace", "apiVersion", "kind"})


@dataclass(frozen=True)
class InputChange:
    path: str
    effect: Effect
    #: file:line of the provider fact behind the effect ("" when not modelled).
    source: str = ""
    #: A value is unknown at preview, so the change may not happen.
    uncertain: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "effect": self.effect,
            "source": self.source,
            "uncertain": self.uncertain,
        }


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    action: Action
    inputs: tuple[InputChange, ...] = ()
    stateful: bool = False

    @property
    def refused(self) -> bool:
        """A replacement that destroys state: needs --allow-replace."""
        return self.action == "replace" and self.stateful

    @property
    def never_applied(self) -> list[InputChange]:
        return [i for i in self.inputs if i.effect == "never applied"]

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "action": self.action,
            "stateful": self.stateful,
            "inputs": [i.to_json() for i in self.inputs],
        }


@dataclass(frozen=True)
class Node:
    """One resource of a graph, from a run in this process or from a saved ``--json`` graph."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: Mapping[str, Any]
    ignore_changes: tuple[str, ...] = ()
    aliases: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of_run(cls, run: ProgramRun, *, secrets: bool = True) -> list[Node]:
        """The run's resources; with `secrets`, inputs as sent (secrets compared by value,
        never printed), else as a saved ``--json`` graph holds them (secrets masked)."""
        aliases = run.alias_urns()
        return [
            cls(
                r.urn,
                r.type,
                r.name,
                r.custom,
                r.wire_inputs if secrets and r.wire_inputs else r.inputs,
                tuple(r.ignore_changes),
                frozenset(aliases.get(r.urn, ())),
            )
            for r in run.resources
        ]

    @classmethod
    def of_json(cls, doc: Mapping[str, Any]) -> list[Node]:
        return [
            cls(
                str(r["urn"]),
                str(r["type"]),
                str(r["name"]),
                bool(r.get("custom", True)),
                r.get("inputs") or {},
                tuple(r.get("ignore_changes") or ()),
            )
            for r in doc["resources"]
        ]


def _unknown(value: Any) -> bool:
    return value in (UNKNOWN, UNKNOWN_TEXT) if isinstance(value, str) else False


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return _unknown(value)


def _nested_force_new(facts: provider.Facts, old: Any, new: Any, path: str) -> str | None:
    """The path of a nested ForceNew field that differs between old and new, if any."""
    fields = facts.get("fields")
    if not fields:
        return None
    olds = old if isinstance(old, list) else [old]
    news = new if isinstance(new, list) else [new]
    for i in range(max(len(olds), len(news))):
        a = olds[i] if i < len(olds) and isinstance(olds[i], dict) else {}
        b = news[i] if i < len(news) and isinstance(news[i], dict) else {}
        for name, sub in fields.items():
            if a.get(name) != b.get(name):
                at = f"{path}[{i}].{name}"
                if sub.get("force_new"):
                    return at
                deeper = _nested_force_new(sub, a.get(name), b.get(name), at)
                if deeper:
                    return deeper
    return None


def input_change(type_: str, name: str, old: Any, new: Any) -> InputChange:
    """What changing one top-level input from `old` to `new` does."""
    uncertain = _contains_unknown(old) or _contains_unknown(new)
    if type_.startswith("pulumi:providers:"):
        # New provider configuration: the provider is updated, then diffs its resources with it.
        return InputChange(name, "updates", "", uncertain)
    if type_.startswith("kubernetes:"):
        ident = name in {"apiVersion", "kind"} or (
            name == "metadata"
            and any(
                (old or {}).get(k) != (new or {}).get(k)
                for k in ("name", "namespace")
                if isinstance(old, dict) and isinstance(new, dict)
            )
        )
        return InputChange(name, "replaces" if ident else "updates", "", uncertain)
    facts = provider.input_facts(type_, name)
    if facts is None:
        return InputChange(name, "not modelled", "", uncertain)
    source = provider.source_of(type_, facts)
    if facts.get("force_new"):
        return InputChange(name, "replaces", source, uncertain)
    nested = _nested_force_new(facts, old, new, name)
    if nested:
        return InputChange(nested, "replaces", source, uncertain)
    if facts.get("updatable") is False:
        return InputChange(name, "never applied", source, uncertain)
    if facts.get("clear_applied") is False and _empty(new) and not _empty(old):
        return InputChange(name, "never applied", facts["clear_code"][0], uncertain)
    rule = VALUE_RULES.get((type_, name))
    if rule is not None and not uncertain and not rule.applies(old, new):
        return InputChange(name, "never applied", rule.source, uncertain)
    return InputChange(name, "updates", source, uncertain)


def _empty(value: Any) -> bool:
    return value is None or value is False or value in ("", [], {})


@dataclass(frozen=True)
class ValueRule:
    """An update the provider applies only for some values (read from its Update code)."""

    source: str
    applies: Any  # Callable[[old, new], bool]


def _spec_migration(old: Any, new: Any) -> bool:
    return old in (None, "", "ack.standard") and isinstance(new, str) and "pro" in new


def _not_removed(old: Any, new: Any) -> bool:
    # The provider sends the block only when it has items: a removed block stays in the cloud.
    return not (_empty(new) or new == [{}] or new == {})


_CS = "alicloud/resource_alicloud_cs_kubernetes.go"
#: Value-dependent updates, curated from terraform-provider-alicloud v1.289.0 (file:line).
VALUE_RULES: dict[tuple[str, str], ValueRule] = {
    # migrateCluster: only ack.standard (or an empty spec) to a Pro spec is applied.
    ("alicloud:cs/managedKubernetes:ManagedKubernetes", "clusterSpec"): ValueRule(
        f"{_CS}:955", _spec_migration
    ),
    ("alicloud:cs/managedKubernetes:ManagedKubernetes", "maintenanceWindow"): ValueRule(
        f"{_CS}:995", _not_removed
    ),
    ("alicloud:cs/managedKubernetes:ManagedKubernetes", "operationPolicy"): ValueRule(
        f"{_CS}:1004", _not_removed
    ),
    ("alicloud:cs/kubernetes:Kubernetes", "maintenanceWindow"): ValueRule(
        f"{_CS}:995", _not_removed
    ),
}


def _resource_change(old: Node, new: Node) -> Change:
    ignored = set(new.ignore_changes)
    keys = sorted(set(old.inputs) | set(new.inputs))
    changed = [
        input_change(new.type, k, old.inputs.get(k), new.inputs.get(k))
        for k in keys
        if k not in ignored and old.inputs.get(k) != new.inputs.get(k)
    ]
    if not new.custom:
        changed = []  # a component's inputs are not sent to any provider
    action: Action = "same"
    if any(c.effect == "replaces" for c in changed):
        action = "replace"
    elif changed:
        action = "update"
    return Change(new.urn, new.type, new.name, action, tuple(changed), new.type in STATEFUL)


def predict(before: Sequence[Node], after: Sequence[Node]) -> list[Change]:
    """Every resource's fate, in URN order (deletions by their old URN)."""
    old = {n.urn: n for n in before}
    claimed: set[str] = set()
    out: list[Change] = []
    for n in after:
        match = old.get(n.urn) or next((old[a] for a in sorted(n.aliases) if a in old), None)
        if match is None:
            out.append(Change(n.urn, n.type, n.name, "create", (), n.type in STATEFUL))
            continue
        claimed.add(match.urn)
        out.append(_resource_change(match, n))
    for n in before:
        if n.urn not in claimed:
            out.append(Change(n.urn, n.type, n.name, "delete", (), n.type in STATEFUL))
    return sorted(out, key=lambda c: (c.urn, c.action))


def summary(changes: Iterable[Change]) -> dict[str, int]:
    counts = dict.fromkeys(("create", "update", "replace", "delete", "same"), 0)
    refused = never = 0
    for c in changes:
        counts[c.action] += 1
        refused += c.refused
        never += bool(c.never_applied)
    return {**counts, "stateful_replacements": refused, "never_applied": never}


_SIGNS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def render(changes: Sequence[Change], *, base: str, allow_replace: bool) -> str:
    """The text report: one line per resource that changes, its inputs below it."""
    lines = [f"Changes against {base}:"]
    for c in changes:
        if c.action == "same":
            continue
        flag = ""
        if c.refused:
            flag = (
                "  [STATEFUL: allowed by --allow-replace]"
                if allow_replace
                else ("  [STATEFUL: refused without --allow-replace]")
            )
        elif c.action == "delete" and c.stateful:
            flag = "  [STATEFUL]"
        what = f"{one_line(c.type)}  {one_line(c.name)}"
        lines.append(f"  {_SIGNS[c.action]:<2} {c.action:<7} {what}{flag}")
        for i in c.inputs:
            maybe = "may be " if i.uncertain else ""
            what = {
                "replaces": f"{maybe}ForceNew: replaces the resource",
                "updates": f"{maybe}updated in place",
                "never applied": f"{maybe}changed in the diff, NEVER APPLIED by the provider",
                "not modelled": f"{maybe}changed (no provider facts: assumed an update)",
            }[i.effect]
            src = f" ({i.source})" if i.source else ""
            lines.append(f"        {one_line(i.path)}: {what}{src}")
    s = summary(changes)
    lines.append(
        f"{s['create']} to create, {s['update']} to update, {s['replace']} to replace "
        f"({s['stateful_replacements']} stateful), {s['delete']} to delete, {s['same']} unchanged"
    )
    if len(lines) == 2:
        lines.insert(1, "  no changes")
    return "\n".join(lines)
