"""The pull-request picture: what a stack's change does, as a Mermaid flowchart small enough to
read in a comment.

Planned first (:func:`plan_picture`, pure: which resources are drawn one by one, which are
counted in a collapsed box, which edges join them), written second (:func:`write_mermaid`).

- Drawn one by one, first: what the gate blocks or warns about (with the reason), what changes
  (with the inputs that change it), what a blocked resource takes from a component (so a loose
  rule is drawn attached to the security group it opens, not hanging off the stack), and a
  stateful resource that is replaced or deleted.
- Collapsed with a count: a component whose whole subtree has one fate and nothing flagged
  ("ClusterNetwork dev, 8 unchanged"), and, inside a component that is drawn open, its plain
  resources of one fate ("12 unchanged: 4 SecurityGroupRule, ..."); a run of more than
  :data:`MAX_EACH` changes of one kind in one component is collapsed too.
- Without ``--diff`` every resource is created: the top-level components are still drawn open
  one level, so a new stack shows its parts.
- Components are Mermaid subgraphs (a box holds its children: no parent edges); a dashed edge,
  labelled with the input, runs from a blocked resource to each resource of a component it
  takes through an input; a legend names the colours and marks used.

Everything a program chose (names, types, messages, input names) is written through
:func:`label`: Mermaid's numeric entities for quotes, angle brackets, backticks, ``#``, ``&``
and every control or bidirectional character, so no name can end a label, a line, the diagram
or the Markdown code fence around it. The only markup is the picture's own ``<br>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .changes import STATEFUL, Change
from .gate import Violation
from .recorder import ProgramRun
from .text import one_line

#: More changes of one kind than this in one component are drawn as one counted box.
MAX_EACH = 5
#: A reason is cut to this many characters (the whole text is in the gate's text report).
REASON_CHARS = 200

MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": ""}
_WORDS = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
    "same": "unchanged",
}
#: Mermaid class per fate and flag, and its legend text.
STYLES: dict[str, tuple[str, str]] = {
    "violation": ("stroke:#b91c1c,stroke-width:4px", "blocked by a mandatory policy"),
    "advisory": ("stroke:#d97706,stroke-width:3px,stroke-dasharray:6 3", "advisory policy"),
    "replace": ("fill:#fee2e2,stroke:#b91c1c,stroke-width:2px", "+- replaced"),
    "delete": ("fill:#f3f4f6,stroke:#6b7280,stroke-dasharray:4 3", "- deleted"),
    "update": ("fill:#fef9c3,stroke:#a16207", "~ updated"),
    "create": ("fill:#dcfce7,stroke:#15803d", "+ created"),
    "same": ("fill:#ffffff,stroke:#9ca3af,color:#4b5563", "unchanged"),
}


@dataclass(frozen=True)
class Item:
    """One resource of the stack (or one the change deletes)."""

    urn: str
    type: str
    name: str
    parent: str
    action: str
    #: input name -> URNs it takes (the engine's property dependencies; plain `depends_on`
    #: under "dependsOn").
    takes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stateful: bool = False
    #: The inputs that change it, and how ("serviceCidr: replaces").
    inputs: tuple[str, ...] = ()


@dataclass
class Box:
    """What the picture draws: a resource, a component drawn open (children inside), or a
    collapsed count of resources."""

    key: str
    kind: str  # "resource", "component", "count"
    action: str
    title: str
    lines: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # "violation", "advisory"
    children: list[Box] = field(default_factory=list)


@dataclass
class Picture:
    top: list[Box]
    #: (from key, to key, input name): a blocked resource and what it takes.
    edges: list[tuple[str, str, str]]
    #: Legend entries used, in :data:`STYLES` order.
    used: list[str]
    edge_used: bool


def short_type(type_: str) -> str:
    if type_.startswith("pulumi:providers:"):
        return f"provider {type_.split(':')[-1]}"
    return type_.split(":")[-1]


def reason(message: str) -> str:
    """The part of a policy message that names the resource: a message is the policy's
    description, a line break, then what this resource does (a one-line message is all
    reason). Cut to :data:`REASON_CHARS`."""
    parts = [p.strip() for p in message.split("\n") if p.strip()]
    text = " ".join(parts[1:] if len(parts) > 1 else parts)
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1].rstrip() + "…"


def _parent_of_deleted(urn: str, by_qualified_type: Mapping[str, list[str]], stack: str) -> str:
    """A deleted resource's parent, where the URN tells it: the one resource of the run whose
    type chain is the deleted one's minus its last type (a URN holds its parents' types, not
    their names). Otherwise the stack."""
    qualified = urn.split("::")[2] if urn.count("::") >= 3 else ""
    chain, sep, _ = qualified.rpartition("$")
    found = by_qualified_type.get(chain, []) if sep else []
    return found[0] if len(found) == 1 else stack


def items_of(run: ProgramRun, changes: Sequence[Change] | None) -> tuple[str, list[Item]]:
    """The stack's URN and every resource with its fate (``create`` without ``--diff``)."""
    action = {c.urn: c for c in changes or ()}
    urns = {r.urn for r in run.resources}
    stack = next((r.parent for r in run.resources if r.parent not in urns), "")
    out: list[Item] = []
    for r in run.resources:
        change = action.get(r.urn)
        takes = {k: tuple(v) for k, v in sorted(r.property_dependencies.items()) if v}
        named = {u for v in takes.values() for u in v}
        rest = tuple(u for u in r.dependencies if u not in named)
        if rest:
            takes["dependsOn"] = rest
        out.append(
            Item(
                r.urn,
                r.type,
                r.name,
                r.parent,
                change.action if change else ("same" if changes is not None else "create"),
                takes,
                r.type in STATEFUL,
                tuple(f"{i.path}: {i.effect}" for i in change.inputs) if change else (),
            )
        )
    by_type: dict[str, list[str]] = {}
    for r in run.resources:
        by_type.setdefault(r.urn.split("::")[2] if r.urn.count("::") >= 3 else "", []).append(r.urn)
    for c in changes or ():
        if c.action == "delete":
            parent = _parent_of_deleted(c.urn, by_type, stack)
            out.append(Item(c.urn, c.type, c.name, parent, "delete", {}, c.stateful))
    return stack, out


def plan_picture(
    run: ProgramRun,
    *,
    changes: Sequence[Change] | None = None,
    violations: Sequence[Violation] = (),
) -> Picture:
    """Which boxes the picture draws, inside which, and which edges: see the module's text.
    Walked without recursion (a program may nest components as deep as it likes)."""
    stack, items = items_of(run, changes)
    by_urn = {i.urn: i for i in items}
    diff = changes is not None
    baseline = "same" if diff else "create"
    children: dict[str, list[Item]] = {}
    for i in items:
        children.setdefault(i.parent if i.parent in by_urn else stack, []).append(i)

    mandatory: dict[str, list[Violation]] = {}
    advisory: dict[str, list[Violation]] = {}
    for v in violations:
        into = mandatory if v.enforcement == "mandatory" else advisory
        into.setdefault(v.urn if v.urn in by_urn else "", []).append(v)

    def ancestors(urn: str) -> list[str]:
        seen: list[str] = []
        while urn in by_urn and urn not in seen:
            seen.append(urn)
            urn = by_urn[urn].parent
        return seen

    # What a blocked resource takes from a component: a resource whose parent is not the stack.
    edges: list[tuple[str, str, str]] = []
    for urn in sorted(u for u in mandatory if u):
        own = set(ancestors(urn))
        for prop, taken in by_urn[urn].takes.items():
            for t in taken:
                if t in by_urn and t not in own and by_urn[t].parent in by_urn:
                    edges.append((urn, t, prop))
    targets = {t for _, t, _ in edges}

    def flagged(i: Item) -> bool:
        return (
            i.urn in mandatory
            or i.urn in advisory
            or i.urn in targets
            or (i.stateful and i.action in ("replace", "delete"))
        )

    # Post-order without recursion: a component's subtree size, fates, and whether anything in
    # it is flagged.
    size: dict[str, int] = {}
    fates: dict[str, set[str]] = {}
    hot: dict[str, bool] = {}
    order: list[Item] = []
    todo = list(children.get(stack, []))
    while todo:
        i = todo.pop()
        order.append(i)
        todo += children.get(i.urn, [])
    for i in reversed(order):
        kids = children.get(i.urn, [])
        size[i.urn] = sum(1 + size[k.urn] for k in kids)
        fates[i.urn] = {i.action}.union(*(fates[k.urn] for k in kids))
        hot[i.urn] = flagged(i) or any(hot[k.urn] for k in kids)
    # More than one fate in a subtree: it is drawn open, and so are the components around it.

    def opened(i: Item, depth: int) -> bool:
        if not children.get(i.urn):
            return False
        return hot[i.urn] or len(fates[i.urn]) > 1 or (not diff and depth == 0)

    def resource_box(i: Item) -> Box:
        box = Box(i.urn, "resource", i.action, f"{MARKS[i.action]} {short_type(i.type)} {i.name}")
        if i.stateful and i.action in ("replace", "delete"):
            box.lines.append(f"stateful: {i.action}d")
        box.lines += list(i.inputs[:3])
        if len(i.inputs) > 3:
            box.lines.append(f"and {len(i.inputs) - 3} more inputs")
        for v in sorted(mandatory.get(i.urn, []), key=lambda v: v.policy):
            box.flags.append("violation")
            box.lines += [f"BLOCKED: {v.policy}", reason(v.message)]
        for v in sorted(advisory.get(i.urn, []), key=lambda v: v.policy):
            box.flags.append("advisory")
            box.lines += [f"advisory: {v.policy}", reason(v.message)]
        return box

    def count_box(key: str, action: str, group: list[Item]) -> Box:
        kinds = Counter(short_type(i.type) for i in group)
        # (a no-break space: a count stays with its type when the line wraps)
        listed = ", ".join(f"{n}\u00a0{t}" if n > 1 else t for t, n in sorted(kinds.items()))
        return Box(key, "count", action, f"{MARKS[action]} {len(group)} {_WORDS[action]}", [listed])

    def rank(i: Item) -> tuple[int, str, str, str]:
        first = 0 if i.urn in mandatory else 1 if i.urn in advisory else 2
        fate = ("replace", "delete", "update", "create", "same").index(i.action)
        return (first * 10 + fate, i.type, i.name, i.urn)

    def fill(box: Box, parent: str, depth: int) -> list[tuple[Box, str, int]]:
        """Put `parent`'s children into `box`: flagged and changed resources first, then the
        components drawn open (to fill next, returned), then the collapsed ones and counts."""
        each: list[Box] = []
        later: list[tuple[Box, str, int]] = []
        collapsed: list[Box] = []
        plain: dict[str, list[Item]] = {}
        for i in sorted(children.get(parent, []), key=rank):
            if opened(i, depth):
                sub = resource_box(i)
                sub.kind = "component"
                later.append((sub, i.urn, depth + 1))
            elif children.get(i.urn):
                # A whole subtree of one fate, nothing flagged below it: one box, counted.
                sub = resource_box(i)
                sub.lines.insert(0, f"{size[i.urn]} {_WORDS[i.action]} in it")
                (each if flagged(i) else collapsed).append(sub)
            elif flagged(i):
                each.append(resource_box(i))
            else:
                plain.setdefault(i.action, []).append(i)
        for action, group in plain.items():
            if len(group) == 1 or (action != baseline and len(group) <= MAX_EACH):
                (each if action != baseline else collapsed).extend(resource_box(i) for i in group)
            else:
                collapsed.append(count_box(f"{parent}\0{action}", action, group))
        later.sort(key=lambda t: not hot[t[1]])
        box.children += each + [b for b, _, _ in later] + collapsed
        return later

    root = Box(stack, "component", baseline, "")
    todo2 = fill(root, stack, 0)
    stray = mandatory.get("", []) + advisory.get("", [])
    for v in sorted(stray, key=lambda v: (v.enforcement, v.policy, v.urn)):
        flag = "violation" if v.enforcement == "mandatory" else "advisory"
        what = "BLOCKED" if flag == "violation" else "advisory"
        where = "the stack" if not v.urn else v.urn.rpartition("::")[2]
        root.children.insert(
            0,
            Box(f"\0{v.policy}\0{v.urn}", "resource", "", f"{where}", [f"{what}: {v.policy}"]),
        )
        root.children[0].flags.append(flag)
        root.children[0].lines.append(reason(v.message))
    while todo2:
        box, parent, depth = todo2.pop()
        todo2 += fill(box, parent, depth)

    used: set[str] = set()
    walk = list(root.children)
    while walk:
        b = walk.pop()
        used.update(b.flags)
        if b.action and b.kind != "component":
            used.add(b.action)
        walk += b.children
    return Picture(root.children, edges, [k for k in STYLES if k in used], bool(edges))


def label(text: str) -> str:
    """Text safe inside a Mermaid label in double quotes, inside a Markdown code fence, and
    shown as a reviewer can read it: every control, bidirectional or invisible character as its
    visible escape (:func:`ack_offline.text.one_line`: a line break cannot end the line, a
    right-to-left override cannot reorder what is read), then quotes, angle brackets, backticks,
    ``#``, ``&``, ``:`` and ``%`` as Mermaid's numeric entities. So a name cannot end the label,
    the diagram or the fence, open HTML, start a directive (``%%{...}%%`` is read anywhere in
    the text) or meet the ``style ...:#...;`` pattern Mermaid rewrites before parsing."""
    return "".join(f"#{ord(c)};" if c in _LABEL_ESCAPED else c for c in one_line(text))


_LABEL_ESCAPED = frozenset('"<>`#&:%')


def label_lines(lines: Iterable[str]) -> str:
    """Lines of a label, each shown on one line (:func:`one_line`), escaped (:func:`label`)
    and joined by the picture's only markup, ``<br>``. (Mermaid wraps a long line itself, at
    200 pixels: a second wrap here made ragged lines.)"""
    return "<br>".join(label(line) for line in lines)


def write_mermaid(picture: Picture) -> list[str]:
    """The flowchart's lines (without the code fence)."""
    lines = ["flowchart LR"]
    ids: dict[str, str] = {}
    classes: dict[str, list[str]] = {}

    def ident(box: Box) -> str:
        prefix = "g" if box.kind == "component" else "n"
        ids.setdefault(box.key, f"{prefix}{len(ids) + 1}")
        return ids[box.key]

    # Pre-order without recursion; a component's `end` follows its last child.
    todo: list[tuple[Box | None, int]] = [(b, 1) for b in reversed(picture.top)]
    while todo:
        box, depth = todo.pop()
        pad = "  " * depth
        if box is None:
            lines.append(pad + "end")
            continue
        text = label_lines([box.title.strip(), *box.lines])
        key = ident(box)
        if box.kind == "component":
            lines.append(f'{pad}subgraph {key}["{text}"]')
            todo.append((None, depth))
            todo += [(c, depth + 1) for c in reversed(box.children)]
        else:
            lines.append(f'{pad}{key}["{text}"]')
            if box.action:
                classes.setdefault(box.action, []).append(key)
        for flag in box.flags[:1] if "violation" not in box.flags else ["violation"]:
            classes.setdefault(flag, []).append(key)
    for a, b, prop in picture.edges:
        if a not in ids or b not in ids:
            continue  # (never: a blocked resource and what it takes are always drawn)
        lines.append(f'  {ids[a]} -.->|"{label(prop)}"| {ids[b]}')
    if picture.used or picture.edge_used:
        lines.append('  subgraph legend["Legend"]')
        lines.append("    direction TB")  # (in an LR chart: the entries in one row)
        for i, name in enumerate(picture.used, start=1):
            lines.append(f'    legend{i}["{label(STYLES[name][1])}"]')
            classes.setdefault(name, []).append(f"legend{i}")
        if picture.edge_used:
            lines.append('    legendA["blocked"] -.->|"takes, through input"| legendB["owned"]')
            classes.setdefault("violation", []).append("legendA")
        lines.append("  end")
    # Fates first, flags last: a later classDef wins where both set the stroke.
    for name in sorted(STYLES, key=lambda n: n in ("advisory", "violation")):
        style = STYLES[name][0]
        if name in classes:
            lines.append(f"  classDef {name} {style}")
            lines.append(f"  class {','.join(dict.fromkeys(classes[name]))} {name}")
    return lines


def render(
    run: ProgramRun,
    *,
    changes: Sequence[Change] | None = None,
    violations: Sequence[Violation] = (),
) -> str:
    """The picture in a Markdown code fence."""
    body = write_mermaid(plan_picture(run, changes=changes, violations=violations))
    return "\n".join(["```mermaid", *body, "```"])
