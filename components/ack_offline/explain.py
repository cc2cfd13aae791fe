"""``ack-drift-explain``: what the nightly refresh found, per cluster, and how to put it back.

Reads the JSON document ``pulumi preview --refresh --json`` prints (the CLI's preview digest,
pulumi/pulumi pkg/backend/display/json.go ``ShowPreviewDigest``: ``{"steps": [{"op", "urn",
"provider", "oldState", "newState", "diffReasons", "replaceReasons", "detailedDiff"}],
"changeSummary", "diagnostics", ...}``, each state an ``apitype.ResourceV3``: ``urn``, ``type``,
``inputs``, ``outputs``, ``parent``, ...). With ``--refresh`` the old state of an update step is
what the cloud holds now and the new state is what the code declares, so on the deployed
branch every difference is a change made outside code.

Each changed field of an owned resource is explained with the provider's facts
(ack_offline/provider_facts.json, as ``ack-preview --diff`` uses them): ``pulumi up`` puts it
back, replaces the resource (a ForceNew input), or cannot put it back (its Update never sends
the input: fix it in the console). A field the cloud changed that the code does not manage
(a refresh step without an update) is reported as kept.

Exit 0: no change outside code. 1: changes found (the report says what). 2: no verdict: the
input is not a complete preview digest this command understands (no steps, no change summary, a
preview that reported an error, a value of the wrong shape, JSON nested too deeply), or anything
else failed (fail closed: never "no drift" for what it could not read). The report is Markdown
for a job summary: every text it quotes from the preview (names, types, paths, values, cluster
names; the old state is what a console user set) is a code span nothing in it can close, so no
link, image, HTML or @mention in them is rendered.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

from ack_clusters.naming import (
    CLUSTER_TAG,
    DEDICATED_CLUSTER_TYPE,
    MANAGED_CLUSTER_TYPE,
    NETWORK_TYPE,
    NODE_ROLE_TYPE,
    SECURITY_GROUP_TYPE,
    SERVERLESS_CLUSTER_TYPE,
)
from ack_clusters.redaction import HIDDEN

from . import changes, files
from .text import markdown_code, one_line

#: deploy.StepOp values (pulumi/pulumi pkg/resource/deploy/step.go). Steps with these ops change
#: nothing in the cloud.
QUIET_OPS = frozenset({"same", "read", "read-discard", "discard-replaced"})
CHANGE_OPS = frozenset(
    {
        "create",
        "update",
        "delete",
        "replace",
        "create-replacement",
        "delete-replaced",
        "read-replacement",
        "refresh",
        "remove-pending-replace",
        "import",
        "import-replacement",
    }
)
NOT_OWNED = "(not owned by a cluster)"
UNNAMED = "(a cluster the preview does not name: run it with --show-sames)"
MAX_VALUE = 80


#: The most a preview's JSON may hold (a preview of thousands of resources is tens of MB).
INPUT_LIMIT = 256 << 20


class Unreadable(ValueError):
    """The input is not a preview digest this command understands."""


@dataclass
class FieldDrift:
    path: str
    cloud: str  # the value the cloud holds now (old state), as text
    code: str  # the value the code declares (new state), as text
    fix: str


@dataclass
class Drift:
    urn: str
    type: str
    name: str
    op: str
    summary: str
    fields: list[FieldDrift] = field(default_factory=list)


@dataclass
class Report:
    by_cluster: dict[str, list[Drift]]

    @property
    def drifted(self) -> bool:
        return any(self.by_cluster.values())


def _urn_parts(urn: str) -> tuple[str, str]:
    """(type, name) of a URN: urn:pulumi:<stack>::<project>::<qualified type>::<name>."""
    parts = urn.split("::")
    if len(parts) < 4 or not urn.startswith("urn:pulumi:"):
        raise Unreadable(f"not a Pulumi URN: {one_line(urn)[:200]}")
    qualified, name = parts[2], "::".join(parts[3:])
    return qualified.split("$")[-1], name


def _state(step: dict[str, Any], key: str) -> dict[str, Any]:
    """A step's old or new state (apitype.ResourceV3), its shape checked: an object whose
    inputs and outputs are objects and whose parent is a URN's text."""
    s = step.get(key)
    if s is None:
        return {}
    where = f"{key} of {one_line(step.get('urn'))[:200]}"
    if not isinstance(s, dict):
        raise Unreadable(f"{where} is not an object")
    for part in ("inputs", "outputs"):
        if s.get(part) is not None and not isinstance(s[part], dict):
            raise Unreadable(f"{where}: {part} is not an object")
    if s.get("parent") is not None and not isinstance(s["parent"], str):
        raise Unreadable(f"{where}: parent is not a URN")
    return s


def _strings(step: dict[str, Any], key: str) -> list[str]:
    """A step's list of property names (diffReasons, replaceReasons), its shape checked."""
    value = step.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unreadable(f"{key} of {one_line(step.get('urn'))[:200]} is not a list of names")
    return value


#: A secret in a serialized property value carries Pulumi's signature (sig.go: Key, Secret;
#: the SDK's _special_sig_key, _special_secret_sig). The CLI's digest shows each secret as
#: "[secret]" (pkg/backend/display/json.go, massagePropertyValue); should one arrive wrapped
#: anyway, its value is not shown.


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_special_sig_key) == _special_secret_sig:
            return HIDDEN
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    value = _masked(value)
    shown = value if isinstance(value, str) and value else json.dumps(value, sort_keys=True)
    shown = one_line(shown)
    return shown if len(shown) <= MAX_VALUE else shown[: MAX_VALUE - 1] + "…"


def _top(path: str) -> str:
    for i, c in enumerate(path):
        if c in ".[":
            return path[:i]
    return path


def _lookup(values: dict[str, Any], path: str) -> Any:
    """The value at `path` (a detailedDiff path: "tags.ack.pulumi.io/cluster", a key holding
    dots, is one key under "tags"), else its top-level input."""
    top = _top(path)
    value = values.get(top)
    rest = path[len(top) + 1 :] if path[len(top) : len(top) + 1] == "." else ""
    if rest and isinstance(value, dict):
        return value.get(rest)
    return value


def _paths(step: dict[str, Any], detailed: dict[str, Any]) -> list[str]:
    """The changed paths: detailedDiff's, and each diffReason no detailed path lies under."""
    tops = {_top(p) for p in detailed}
    reasons = _strings(step, "diffReasons")
    return sorted(set(detailed) | {r for r in reasons if r not in tops})


#: The cluster components (the engine never imports the policy pack's rules).
CLUSTER_COMPONENT_TYPES = frozenset(
    {MANAGED_CLUSTER_TYPE, SERVERLESS_CLUSTER_TYPE, DEDICATED_CLUSTER_TYPE}
)
#: Components a cluster registers under its own name (ack_clusters/cluster/component.py:
#: ClusterNetwork(plan.name, ...), ClusterSecurityGroup(plan.name, ...), NodeRole(plan.name)).
NAMED_BY_CLUSTER = frozenset({NETWORK_TYPE, SECURITY_GROUP_TYPE, NODE_ROLE_TYPE})


def _cluster_of(urn: str, parents: dict[str, str], tags: dict[str, str]) -> str:
    """The cluster that owns `urn`: the nearest cluster component among its ancestors (the
    parents the states name; `pulumi preview --show-sames` lists every one), else a component
    the cluster names after itself, else the ownership tag the resource carries."""
    seen: set[str] = set()
    at: str | None = urn
    while at and at not in seen:
        seen.add(at)
        type_, name = _urn_parts(at)
        if type_ in CLUSTER_COMPONENT_TYPES:
            return name
        qualified = at.split("::")[2].split("$")
        if type_ in NAMED_BY_CLUSTER and any(t in CLUSTER_COMPONENT_TYPES for t in qualified):
            return name
        at = parents.get(at)
    if tags.get(urn):
        return tags[urn]
    under = urn.split("::")[2].split("$")[:-1]
    return UNNAMED if any(t in CLUSTER_COMPONENT_TYPES for t in under) else NOT_OWNED


def _fix(type_: str, path: str, old: Any, new: Any, op: str) -> str:
    found = changes.input_changes(type_, _top(path), old, new)
    if not found:
        # The provider found a difference the values shown do not: the CLI shows each secret
        # as "[secret]" on both sides (json.go, massagePropertyValue), or the difference is in
        # an output. Still drift, never "no change".
        return (
            "the preview does not show what differs (a secret, or a value it does not list): "
            "review it in `pulumi preview --refresh --diff`"
        )
    kept = [c for c in found if c.effect == "kept"]
    change = next((c for c in found if c.effect != "kept"), None)
    also = (
        f"; it keeps the cloud's {', '.join(c.path for c in kept)} ({changes.KEPT_RULE})"
        if kept and change is not None
        else ""
    )
    if change is None:
        return f"`pulumi up` keeps the cloud's value ({changes.KEPT_RULE}, {kept[0].source})"
    where = f" ({change.source})" if change.source else ""
    why = f" ({change.reason})" if change.reason else ""
    if op in ("replace", "create-replacement", "delete-replaced") or change.effect == "replaces":
        return (
            f"`pulumi up` replaces the resource: the provider cannot change it in place{where}"
            f"{also}"
        )
    if change.effect == "never applied":
        return (
            "`pulumi up` cannot put it back: the provider's Update never sends it"
            f"{why}{where}; set it back in the console (or replace the resource){also}"
        )
    if change.effect == "fails":
        return (
            f"`pulumi up` cannot put it back: it fails ({change.reason}){where}; set it back in "
            f"the console{also}"
        )
    if change.effect == "not modelled":
        return "`pulumi up` puts it back (the provider's facts do not cover this input)"
    return f"`pulumi up` puts it back{where}{also}"


def _complete(digest: Any) -> list[Any]:
    """The steps of a digest the CLI wrote for a preview that finished (json.go,
    ShowPreviewDigest): it always lists the root stack's step (`|| isRootStack(m)`), sets
    changeSummary from the summary event at the end (pkg/display PreviewDigest,
    `json:"changeSummary,omitempty"`; never empty once the stack's step is counted, sames
    included: the CLI's "N unchanged" is changes[deploy.OpSame]), and records each error the preview
    reported as a diagnostic of severity "error" (sdk/go/common/diag: Error = "error"). A digest
    without them is no evidence of "no drift"."""
    if not isinstance(digest, dict):
        raise Unreadable("not a `pulumi preview --json` document (not an object)")
    steps = digest.get("steps")
    if not isinstance(steps, list) or not steps:
        raise Unreadable(
            "not a `pulumi preview --json` document (no list of steps; a finished preview "
            "lists at least the stack)"
        )
    if not isinstance(digest.get("changeSummary"), dict):
        raise Unreadable("the preview did not finish (no changeSummary)")
    diagnostics = digest.get("diagnostics")
    if diagnostics is None:
        diagnostics = []
    if not isinstance(diagnostics, list) or not all(isinstance(d, dict) for d in diagnostics):
        raise Unreadable("diagnostics is not a list of objects")
    for d in diagnostics:
        if d.get("severity") == "error":
            raise Unreadable(
                "the preview reported an error, so it did not complete: "
                f"{one_line(d.get('message'))[:200]}"
            )
    if digest.get("maybeCorrupt"):
        raise Unreadable("the preview says the state may be corrupt (maybeCorrupt)")
    return steps


def explain(digest: Any) -> Report:
    steps = _complete(digest)
    parents: dict[str, str] = {}
    tags: dict[str, str] = {}
    for step in steps:
        if not isinstance(step, dict) or not isinstance(step.get("urn"), str):
            raise Unreadable("a step without a URN")
        op = step.get("op")
        if op not in QUIET_OPS and op not in CHANGE_OPS:
            raise Unreadable(f"a step with an operation this command does not know: {one_line(op)}")
        _strings(step, "diffReasons")
        _strings(step, "replaceReasons")
        if step.get("detailedDiff") is not None and not isinstance(step["detailedDiff"], dict):
            raise Unreadable(f"detailedDiff of {one_line(step['urn'])[:200]} is not an object")
        for key in ("oldState", "newState"):
            s = _state(step, key)
            if s.get("parent"):
                parents[step["urn"]] = s["parent"]
            for part in ("inputs", "outputs"):
                t = (s.get(part) or {}).get("tags")
                if isinstance(t, dict) and isinstance(t.get(CLUSTER_TAG), str):
                    tags[step["urn"]] = t[CLUSTER_TAG]
    updated = {s["urn"] for s in steps if s.get("op") not in QUIET_OPS | {"refresh"}}
    by_cluster: dict[str, list[Drift]] = {}
    for step in steps:
        op, urn = step["op"], step["urn"]
        if op in QUIET_OPS:
            continue
        type_, name = _urn_parts(urn)
        if type_ == "pulumi:pulumi:Stack" or type_.startswith("pulumi:providers:"):
            # A provider's configuration is not a cloud resource: the Kubernetes provider's
            # changes on every run (a fresh, expiring credential), which is not drift.
            continue
        old, new = _state(step, "oldState"), _state(step, "newState")
        old_in = old.get("inputs") or {}
        new_in = new.get("inputs") or {}
        detailed = step.get("detailedDiff") or {}
        paths = _paths(step, detailed)
        if op == "refresh":
            if urn in updated or not paths:
                continue  # the update step of the same resource says what pulumi up does
            summary = (
                "changed in the cloud; the code does not manage these fields, so "
                "`pulumi up` keeps the cloud's value"
            )
            fields = [
                FieldDrift(p, _text(_lookup(new.get("outputs") or {}, p)), "(not managed)", "kept")
                for p in paths
            ]
        elif op == "update":
            summary = "changed outside code"
            fields = [
                FieldDrift(
                    p,
                    _text(_lookup(old_in, p)),
                    _text(_lookup(new_in, p)),
                    _fix(type_, p, _lookup(old_in, p), _lookup(new_in, p), op),
                )
                for p in paths
            ]
        elif op in (
            "replace",
            "create-replacement",
            "delete-replaced",
            "import-replacement",
            "read-replacement",
        ):
            if op == "delete-replaced":
                continue  # the replace step of the same URN reports it
            reasons = _strings(step, "replaceReasons") or paths
            summary = (
                "changed outside code in a way only a replacement undoes: `pulumi up` replaces it"
            )
            fields = [
                FieldDrift(
                    p,
                    _text(_lookup(old_in, p)),
                    _text(_lookup(new_in, p)),
                    _fix(type_, p, _lookup(old_in, p), _lookup(new_in, p), "replace"),
                )
                for p in sorted(set(reasons) | set(paths))
            ]
        elif op == "create":
            summary = (
                "missing in the cloud (deleted outside code), or new in code: "
                "`pulumi up` creates it"
            )
            fields = []
        elif op == "delete":
            summary = "in the state but no longer in the code: `pulumi up` deletes it"
            fields = []
        else:
            summary = f"operation {op}: review it in `pulumi preview --refresh --diff`"
            fields = []
        cluster = _cluster_of(urn, parents, tags)
        by_cluster.setdefault(cluster, []).append(Drift(urn, type_, name, op, summary, fields))
    return Report(by_cluster)


def render(report: Report, *, stack: str = "") -> str:
    """The report as Markdown: each text from the preview a code span (markdown_code)."""
    title = f"Drift of stack {markdown_code(stack)}" if stack else "Drift"
    if not report.drifted:
        return f"## {title}\n\nNo change outside code: the cloud matches the code.\n"
    lines = [f"## {title}", ""]
    for cluster in sorted(report.by_cluster, key=lambda c: (c in (UNNAMED, NOT_OWNED), c)):
        found = report.by_cluster[cluster]
        plain = cluster in (UNNAMED, NOT_OWNED)
        label = cluster if plain else f"cluster {markdown_code(cluster)}"
        lines += [f"### {label}", ""]
        for d in found:
            lines.append(f"- **{markdown_code(d.name)}** ({markdown_code(d.type)}): {d.summary}")
            for f in d.fields:
                lines.append(
                    f"  - {markdown_code(f.path)}: cloud {markdown_code(f.cloud)}, "
                    f"code {markdown_code(f.code)}: {f.fix}"
                )
        lines.append("")
    lines.append(
        "Stop it at the source: docs/CONSOLE-DRIFT.md (DriftGuard denies and alerts on changes "
        "to owned resources by anyone but the deploy identity)."
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ack-drift-explain",
        description="Explain `pulumi preview --refresh --json` per cluster: what changed "
        "outside code and how to put it back.",
    )
    parser.add_argument("file", help="the preview's JSON ('-' for standard input)")
    parser.add_argument("--stack", default="", help="the stack's name, for the title")
    ns = parser.parse_args(argv)
    source = one_line(ns.file)
    try:
        if ns.file == "-":
            data = sys.stdin.buffer.read(INPUT_LIMIT + 1)
            if len(data) > INPUT_LIMIT:
                raise Unreadable(f"it is larger than {INPUT_LIMIT:,} bytes")
            text = data.decode("utf-8")
        else:
            # A regular file only, bounded (a device or a FIFO would be read without end).
            text = files.read_text(Path(ns.file), INPUT_LIMIT)
        report = explain(json.loads(text))
        out = render(report, stack=ns.stack)
    except (
        OSError,
        UnicodeDecodeError,
        json.JSONDecodeError,
        Unreadable,
        files.UnreadableFile,
    ) as exc:
        _say(f"cannot read {source}: {exc}")
        return 2
    except RecursionError:
        _say(f"cannot read {source}: its JSON is nested too deeply; no verdict")
        return 2
    except Exception as exc:  # whatever else fails, the answer is "no verdict", never exit 0 or 1
        _say(f"no verdict on {source}: {type(exc).__name__}: {exc}")
        return 2
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except (OSError, ValueError) as exc:
        _say(f"cannot write the report: {exc}")
        return 2
    return 1 if report.drifted else 0


def _say(message: str) -> None:
    """One line of ack-drift-explain's own on standard error, control characters escaped (and
    cut at 500 characters); nothing when standard error itself cannot be written."""
    with contextlib.suppress(OSError, ValueError):
        print(f"ack-drift-explain: {one_line(message)[:500]}", file=sys.stderr)


def console() -> None:
    sys.exit(main())
