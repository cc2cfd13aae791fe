"""What ack-preview prints: the resource tree as `pulumi preview` shows it, the policy
violations, and the machine-readable graph (`--json`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .changes import Change
from .gate import Override, Violation
from .recorder import ProgramRun
from .text import lines as message_lines
from .text import one_line


def to_json(
    run: ProgramRun,
    *,
    stack: str,
    mode: str,
    violations: Sequence[Violation] = (),
    overrides: Sequence[Override] = (),
) -> dict[str, Any]:
    return {
        "stack": stack,
        "mode": mode,
        # Registration order depends on thread timing; URN order is stable across runs.
        "resources": [r.to_json() for r in sorted(run.resources, key=lambda r: r.urn)],
        "outputs": run.stack_outputs,
        "violations": [v.to_json() for v in violations],
        "overrides": [o.to_json() for o in overrides],
        "summary": {
            "resources": len(run.resources),
            "by_type": dict(sorted(Counter(r.type for r in run.resources).items())),
            "invokes": len(run.invokes),
            "mandatory": sum(v.enforcement == "mandatory" for v in violations),
            "advisory": sum(v.enforcement == "advisory" for v in violations),
        },
    }


def render_tree(run: ProgramRun, *, project: str, stack: str, mode: str) -> str:
    """The tree as `pulumi preview` shows it; every name the program chose on one line, its
    control characters escaped (:mod:`ack_offline.text`). Walked without recursion: a program
    may nest components as deep as it likes."""
    children: dict[str, list[Any]] = {}
    for r in run.resources:
        children.setdefault(r.parent, []).append(r)
    stack_urn = next(iter(children.keys() - {r.urn for r in run.resources}), "")
    verb = "would create" if mode == "preview" else "created (simulated update)"
    title = one_line(f"{project}-{stack}")
    lines = [f"Stack {title}: {len(run.resources)} resources {verb}, offline", ""]
    lines.append(f"+ pulumi:pulumi:Stack  {title}")

    def kids(parent: str) -> list[Any]:
        return sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name))

    top = kids(stack_urn)
    todo: list[tuple[Any, str, bool]] = [(r, "", i == len(top) - 1) for i, r in enumerate(top)]
    todo.reverse()  # a stack: the first child is taken first
    while todo:
        r, indent, last = todo.pop()
        flags = " [protect]" if r.protect else ""
        flags += f" [import {one_line(r.import_id)}]" if r.import_id else ""
        if r.ignore_changes:
            flags += f" [ignore: {', '.join(one_line(f) for f in r.ignore_changes)}]"
        branch = "└─ " if last else "├─ "
        lines.append(f"+ {indent}{branch}{one_line(r.type)}  {one_line(r.name)}{flags}")
        below = kids(r.urn)
        deeper = indent + ("   " if last else "│  ")
        todo += [(c, deeper, i == len(below) - 1) for i, c in enumerate(below)][::-1]
    if run.stack_outputs:
        lines += ["", "Outputs:"]
        for key, value in sorted(run.stack_outputs.items()):
            shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            lines.append(f"    {one_line(key)}: {one_line(shown)}")
    counts = Counter(r.type for r in run.resources)
    lines += ["", "Resources by type:"]
    lines += [f"    {n:>3} {one_line(t)}" for t, n in sorted(counts.items())]
    return "\n".join(lines)


def render_overrides(overrides: Sequence[Override]) -> str:
    """What the policy config changed, shown with every gate run so a reviewer sees it."""
    if not overrides:
        return ""
    lines = ["Policy config overrides (levels lowered or raised, exceptions allowed):"]
    lines += [f"    {one_line(o.describe())}" for o in overrides]
    return "\n".join(lines)


def render_violations(violations: Sequence[Violation]) -> str:
    if not violations:
        return "Policy packs: no violations."
    lines = ["Policy violations:"]
    order = {"mandatory": 0, "advisory": 1}
    for v in sorted(violations, key=lambda v: (order.get(v.enforcement, 2), v.policy, v.urn)):
        lines.append(f"    [{v.enforcement}] {one_line(v.pack)}/{one_line(v.policy)}")
        lines.append(f"        {one_line(v.urn) if v.urn else '(stack)'}")
        lines += [f"        {line}" for line in message_lines(v.message)]
    mandatory = sum(v.enforcement == "mandatory" for v in violations)
    lines.append(f"{mandatory} mandatory, {len(violations) - mandatory} other.")
    return "\n".join(lines)


_CLASSES = {
    "create": "fill:#dcfce7,stroke:#15803d",
    "update": "fill:#fef9c3,stroke:#a16207",
    "replace": "fill:#fee2e2,stroke:#b91c1c,stroke-width:2px",
    "delete": "fill:#f3f4f6,stroke:#6b7280,stroke-dasharray:4 3",
    "violation": "stroke:#b91c1c,stroke-width:4px",
}
_MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def _label(text: str) -> str:
    """Text safe inside a Mermaid node label in double quotes, inside a Markdown code fence:
    quotes, angle brackets, backticks, ``#`` and every control or bidirectional character as
    Mermaid's numeric entity codes (a line break and a fence in a name cannot end the block)."""
    return "".join(f"#{ord(c)};" if c in _LABEL_ESCAPED or one_line(c) != c else c for c in text)


_LABEL_ESCAPED = frozenset('"<>`#&')


def render_mermaid(
    run: ProgramRun,
    *,
    project: str,
    stack: str,
    changes: Sequence[Change] | None = None,
    violations: Sequence[Violation] = (),
) -> str:
    """The resource tree as a Mermaid flowchart (GitHub renders it in comments): each resource
    marked with what `pulumi up` would do to it (with --diff) and where the gate found a
    mandatory violation. Deleted resources hang off the stack."""
    action = {c.urn: c.action for c in changes or ()}
    blocked: dict[str, list[str]] = {}
    for v in violations:
        if v.enforcement == "mandatory":
            blocked.setdefault(v.urn, []).append(v.policy)
    ids: dict[str, str] = {}
    lines = ["```mermaid", "flowchart LR"]
    root = "n0"
    lines.append(f'  {root}["{_label(f"{project}-{stack}")}"]')
    nodes = sorted(run.resources, key=lambda r: r.urn)
    gone = [c for c in changes or () if c.action == "delete"]
    for i, r in enumerate(nodes, start=1):
        ids[r.urn] = f"n{i}"
    for i, c in enumerate(gone, start=len(nodes) + 1):
        ids[c.urn] = f"n{i}"
    classes: dict[str, list[str]] = {}

    def node(urn: str, type_: str, name: str) -> None:
        act = action.get(urn, "same" if changes is not None else "create")
        mark = _MARKS.get(act, "")
        text = f"{mark} {type_.split(':')[-1]} {name}".strip()
        if urn in blocked:
            text += " [blocked: " + ", ".join(sorted(blocked[urn])) + "]"
        lines.append(f'  {ids[urn]}["{_label(text)}"]')
        if act in _CLASSES:
            classes.setdefault(act, []).append(ids[urn])
        if urn in blocked:
            classes.setdefault("violation", []).append(ids[urn])

    for r in nodes:
        node(r.urn, r.type, r.name)
    for c in gone:
        node(c.urn, c.type, c.name)
    for r in nodes:
        lines.append(f"  {ids.get(r.parent, root)} --> {ids[r.urn]}")
    for c in gone:
        lines.append(f"  {root} -.-> {ids[c.urn]}")
    for name, style in _CLASSES.items():
        if name in classes:
            lines.append(f"  classDef {name} {style}")
            lines.append(f"  class {','.join(classes[name])} {name}")
    lines.append("```")
    return "\n".join(lines)
