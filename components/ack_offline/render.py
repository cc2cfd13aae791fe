"""What ack-preview prints: the resource tree as `pulumi preview` shows it, the policy
violations, and the machine-readable graph (`--json`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from . import picture
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


def render_violations(violations: Sequence[Violation], names: Iterable[str] = ()) -> str:
    """The violations as text, each message split at its own line breaks only: a name a
    program chose (the violating resource's, from its URN, and those of `names`) that holds a
    line break or another control character is shown escaped wherever the message quotes it,
    so it cannot start a line of its own (a forged "0 mandatory" summary)."""
    if not violations:
        return "Policy packs: no violations."
    risky = {n for n in names if n != one_line(n)}
    lines = ["Policy violations:"]
    order = {"mandatory": 0, "advisory": 1}
    for v in sorted(violations, key=lambda v: (order.get(v.enforcement, 2), v.policy, v.urn)):
        lines.append(f"    [{v.enforcement}] {one_line(v.pack)}/{one_line(v.policy)}")
        lines.append(f"        {one_line(v.urn) if v.urn else '(stack)'}")
        message = v.message
        own = v.urn.rsplit("::", 1)[-1] if v.urn else ""
        for name in sorted(risky | ({own} if own != one_line(own) else set()), key=len)[::-1]:
            message = message.replace(name, one_line(name))
        lines += [f"        {line}" for line in message_lines(message)]
    mandatory = sum(v.enforcement == "mandatory" for v in violations)
    lines.append(f"{mandatory} mandatory, {len(violations) - mandatory} other.")
    return "\n".join(lines)


def render_mermaid(
    run: ProgramRun,
    *,
    project: str,
    stack: str,
    changes: Sequence[Change] | None = None,
    violations: Sequence[Violation] = (),
) -> str:
    """The pull-request picture (:mod:`ack_offline.picture`): changes and blocks first, with
    their reasons, the rest collapsed with counts, a legend. `project` and `stack` are named
    by the heading the picture is posted under."""
    del project, stack
    return picture.render(run, changes=changes, violations=violations)
