"""What a change does to the graph: which inputs differ, and which of them the cloud takes only
at creation. Changing such an input either replaces the resource (ForceNew in the provider) or
is silently not applied (the provider's Update never sends it), so code and cloud disagree from
then on. The facts come from the provider's source (see ack_offline.provider and
ack_offline.changes, which predicts every resource's fate).

Use it in tests of your own stacks: build the graph before and after a change with
``run_program`` and assert ``create_only_changes(before, after) == []``.
"""

from __future__ import annotations

from . import provider
from .changes import Node, predict
from .recorder import ProgramRun


def _create_only() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for type_ in provider.known_types():
        facts = provider.resource_facts(type_) or {}
        for name, f in facts["inputs"].items():
            if f.get("removed") or not (f.get("optional") or f.get("required")):
                continue
            if f.get("force_new"):
                table.setdefault(type_, {})[name] = "replaces"
            elif f.get("updatable") is False:
                table.setdefault(type_, {})[name] = "never applied"
    return table


#: Inputs the cloud takes only at creation, from the provider's facts (ack_offline.provider):
#: "replaces" (ForceNew: a change replaces the resource) or "never applied" (the provider's
#: Update never sends it: a change shows in the diff and the cloud keeps the old value).
CREATE_ONLY: dict[str, dict[str, str]] = _create_only()


def changed_inputs(before: ProgramRun, after: ProgramRun) -> dict[str, set[str]]:
    """Inputs that differ, per URN present in both graphs."""
    old = {r.urn: r for r in before.resources}
    out: dict[str, set[str]] = {}
    for r in after.resources:
        if r.urn in old:
            a, b = old[r.urn].inputs, r.inputs
            diff = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
            if diff:
                out[r.urn] = diff
    return out


def create_only_changes(before: ProgramRun, after: ProgramRun) -> list[tuple[str, str]]:
    """(URN, input) pairs where a change replaces the resource or is never applied."""
    found = predict(Node.of_run(before), Node.of_run(after))
    return sorted(
        (c.urn, i.path.split("[")[0].split(".")[0])
        for c in found
        for i in c.inputs
        if i.effect in {"replaces", "never applied"}
    )
