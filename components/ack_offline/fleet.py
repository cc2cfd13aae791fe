"""``ack-fleet``: one address plan across every stack of a project.

    ack-fleet check [--fleet FILE] [--markdown FILE] [--max-pairs N]   # exit 1 on an overlap
    ack-fleet allocate STACK --region R --zones Z1,Z2 [--kind managed] [--flannel] [--domain D]
        [--write [--force]]
    ack-fleet gate --policy-pack DIR [--since REV] [--workers N] [--json FILE] [--mode both]

Each stack's cluster is read from its stack file and validated exactly as the stack program
validates it, then its ranges are planned (no program runs, nothing is registered). A stack
whose file gives no cluster (``PROJECT:cluster``) builds its clusters in code: its program runs
offline, as ``ack-preview --json`` runs it, and the ranges are read from the graph. A fleet
file names the routing domains (the stacks CEN, peering or VPN joins)::

    routing_domains:
      prod: [managed-prod, dedicated-dev]

Without one, every stack is taken to be in one domain. ``allocate`` picks ranges that overlap
no stack of the domain and writes ``Pulumi.STACK.yaml`` and the stack's place in the fleet file
(``--write``, one allocation at a time) or prints it. Every failure of the tool itself is exit 2
with a message; exit 1 means an overlap.
"""

from __future__ import annotations

if __name__ == "__main__":  # `python -m ack_offline.fleet`: see ack_offline.cli.fleet
    from ack_offline.cli import stop_early

    stop_early("ack-fleet")

import argparse
import contextlib
import difflib
import functools
import json
import os
import re
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

import yaml

from ack_clusters import facts
from ack_clusters.cluster.args import BaseClusterArgs
from ack_clusters.cluster.forms import CLUSTERS
from ack_clusters.errors import InvalidArguments
from ack_clusters.fleet.plan import (
    DomainOverlaps,
    UsedRange,
    allocate,
    domains_of,
    overlapping_stacks,
    ranges_of,
    ranges_of_graph,
)
from ack_clusters.program import parse_cluster, region_problems
from ack_clusters.validation import NAME_HELP, NAME_PATTERN, region_problem, zone_region

from . import exits, integrity, reaper, revisions
from .args import seconds
from .exits import EXIT_BROKEN, EXIT_OK
from .project import Project, ProjectError, _load_yaml, find_project, load_stack_config
from .recorder import unsecure
from .text import markdown_cell, markdown_code, one_line

#: `check` finds overlaps: exit 1, the rank of a mandatory violation (ack_offline.exits).
EXIT_OVERLAPS = exits.EXIT_VIOLATIONS

#: A stack name, one rule for allocate, check and gate: Pulumi's (its backends'
#: validateStackName, pkg/backend/diy/backend.go and pkg/backend/httpstate: ``[A-Za-z0-9_.-]``,
#: 1-100 of them), less a leading '-', which Pulumi accepts but a command line (ack-preview's,
#: git's, a workflow's) reads as an option. A stack file whose name is not one is refused, so
#: no name reaches a message, a table, an argument or a workflow raw, and allocate never writes
#: a stack that check or gate would refuse.
STACK_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}")
STACK_NAME_HELP = (
    "1-100 letters, digits, '-', '_' and '.', not starting with '-': Pulumi's rule, less a "
    "leading '-', which a command line reads as an option"
)
#: A routing domain's name in the fleet file (ack-fleet names the domains of stacks the file
#: does not name "STACK (alone)", which no name of this form can be).
DOMAIN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
#: Pairs of overlapping stacks `check` lists by default; how many there are is always said.
MAX_PAIRS = 100
#: How long `allocate --write` waits for another allocation of the project to finish.
LOCK_SECONDS = 60.0


def _checked_stacks(project: Project) -> list[str]:
    stacks = project.stacks()
    for stack in stacks:
        if not STACK_NAME.fullmatch(stack):
            raise ProjectError(
                f"stack file {str(project.stack_file(stack))!r}: {stack!r} is not a stack name "
                f"({STACK_NAME_HELP}); rename the file"
            )
    return stacks


def _some_stacks(project: Project, command: str) -> list[str]:
    """The project's stacks; none is no verdict (exit 2): a gate or check of no stack proves
    nothing (a stackConfigDir misspelt, missing or emptied passed every stack)."""
    stacks = project.stacks()
    if not stacks:
        folder = project.stack_config_dir
        where = f"{folder} does not exist" if not folder.is_dir() else f"none in {folder}"
        raise ProjectError(
            f"{command}: no stack files (Pulumi.STACK{project.ext}): {where}, so there is "
            f"nothing to judge (check stackConfigDir in {project.project_file.name})"
        )
    return stacks


def stack_cluster(project: Project, stack: str, file: Path | None = None) -> BaseClusterArgs:
    """A stack's cluster arguments, region and zones, validated as the stack program validates
    them; `file` reads another copy of the stack file (the one `allocate` is about to write)."""
    shown = file or project.stack_file(stack)
    try:
        config, _ = load_stack_config(project, stack, file)
        key = f"{project.name}:cluster"
        subject = f"stack config ({project.stack_file(stack).name})"
        if key not in config:
            raise ProjectError(f"{shown}: {key} is not set")
        try:
            raw: Any = json.loads(config[key])
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise InvalidArguments(
                subject, [(key, "must be an object with kind, name and arguments")]
            )
        head, args, problems = parse_cluster(raw, subject, key)
        found, warning = region_problems(config.get("alicloud:region"), key, args)
        problems += found
    except RecursionError:
        raise ProjectError(f"{shown} is nested too deeply") from None
    if problems or head is None or args is None:
        raise InvalidArguments(subject, problems)
    if warning is not None:
        print(f"ack-fleet: warning: {project.stack_file(stack).name}: {warning}", file=sys.stderr)
    return args


def load_fleet(file: Path | None) -> dict[str, list[str]] | None:
    """The fleet file's routing domains, or None without one. Strict, as stack files are: an
    unknown key, a domain that is not a list of stack names, a stack twice in one domain, a
    domain name that is no name are refused, naming the file and the entry."""
    if file is None:
        return None
    if file.exists() and not file.is_file():  # a device or a pipe would be read without end
        raise ProjectError(f"{file} is not a file")
    try:
        doc = _load_yaml(file)
    except RecursionError:
        raise ProjectError(f"{file} is nested too deeply") from None
    if not isinstance(doc, dict):
        raise ProjectError(f"{file}: must be a mapping with routing_domains")
    for key in doc:
        if key != "routing_domains":
            close = difflib.get_close_matches(str(key), ["routing_domains"], n=1)
            hint = "; did you mean routing_domains?" if close else ""
            raise ProjectError(f"{file}: {str(key)!r} is not a key of a fleet file{hint}")
    domains = doc.get("routing_domains")
    if not isinstance(domains, dict):
        raise ProjectError(f"{file}: routing_domains must map a name to a list of stack names")
    for name, members in domains.items():
        if not isinstance(name, str) or not DOMAIN_NAME.fullmatch(name):
            raise ProjectError(
                f"{file}: routing domain {name!r} is not a name (1-100 letters, digits, '-', "
                "'_' and '.')"
            )
        if not isinstance(members, list) or not all(isinstance(s, str) for s in members):
            raise ProjectError(
                f"{file}: routing_domains.{name} must be a list of stack names, such as "
                "[prod-a, prod-b]"
            )
        repeated = sorted({s for s in members if members.count(s) > 1})
        if repeated:
            raise ProjectError(
                f"{file}: routing_domains.{name} names {', '.join(map(repr, repeated))} twice"
            )
    return {k: list(v) for k, v in domains.items()}


def _domains(
    stacks: Sequence[str], routing: dict[str, list[str]] | None, file: Path | None
) -> dict[str, list[str]]:
    try:
        return domains_of(stacks, routing)
    except ValueError as exc:
        raise ProjectError(f"{file}: {exc}") from None


#: How long the program of a stack that builds its clusters in code may run to give its ranges.
PROGRAM_SECONDS = 300.0


def defines_cluster(project: Project, stack: str) -> bool:
    """Whether the stack file gives its cluster as config (``PROJECT:cluster``), as the shipped
    program reads it; if not, the stack's program builds its clusters in code."""
    try:
        config, _ = load_stack_config(project, stack)
    except RecursionError:
        raise ProjectError(f"{project.stack_file(stack)} is nested too deeply") from None
    return f"{project.name}:cluster" in config


def stack_ranges(project: Project, stack: str) -> list[UsedRange]:
    """A stack's ranges: from its stack file when it gives its cluster as config, else from the
    graph its program registers offline (:func:`program_ranges`)."""
    if defines_cluster(project, stack):
        return ranges_of(stack, stack_cluster(project, stack))
    return program_ranges(project, stack)


def program_ranges(project: Project, stack: str) -> list[UsedRange]:
    """The ranges of a stack whose program builds its clusters in code: the program runs
    offline as `ack-preview STACK --json` runs it (a preview: nothing is deployed), and the
    VPCs' and clusters' ranges are read from the graph it registers
    (:func:`ack_clusters.fleet.plan.ranges_of_graph`). A program that fails, or a range the
    graph cannot tell, is exit 2 saying so: the plan is not proven without it."""
    argv = [stack, "--json", "--mode", "preview", "--program", str(project.root)]
    argv += ["--timeout", f"{PROGRAM_SECONDS:g}"]
    code, out, err = run_ack_preview(argv, PROGRAM_SECONDS + GRACE)
    try:
        doc = json.loads(out) if code == 0 else None
    except ValueError:
        doc = None
    file = project.stack_file(stack).name
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
        said = (err.strip().splitlines() or [f"exit {code}, no report"])[-1]
        said = said.removeprefix("ack-preview: ")
        raise ProjectError(
            f"{file} gives no {project.name}:cluster, so its program builds its clusters in "
            f"code, and running it offline to read its ranges failed: {said}"
        )
    ranges, problems = ranges_of_graph(stack, doc["resources"])
    if problems:
        raise ProjectError(
            f"{file}: the address plan of the clusters its program builds cannot be proven: "
            + "; ".join(problems)
        )
    return ranges


def fleet_ranges(project: Project) -> dict[str, list[UsedRange]]:
    return {stack: stack_ranges(project, stack) for stack in _checked_stacks(project)}


def _summary(found: DomainOverlaps, listed: int) -> str | None:
    """One line for the pairs of a domain not listed, or None when all are."""
    if listed == found.pairs:
        return None
    shared = ", ".join(f"{cidr} ({count:,} stacks)" for cidr, count in found.most_shared)
    hint = f"; the ranges the most stacks use: {shared}" if shared else ""
    return (
        f"routing domain {found.domain!r}: {found.pairs:,} pairs of stacks overlap, "
        f"{listed:,} listed (--max-pairs 0 lists all){hint}"
    )


def plan_tables(ranges: dict[str, list[UsedRange]], domains: dict[str, list[str]]) -> str:
    """The address plan as Markdown: one table per routing domain (the overlaps follow)."""
    out = ["# Address plan", ""]
    for domain, stacks in domains.items():
        out += [f"## Routing domain `{domain}`", "", "| Stack | Range | CIDR | From |"]
        out.append("| --- | --- | --- | --- |")
        rows = sorted(
            (r for s in stacks for r in ranges[s]), key=lambda r: (int(r.cidr.network_address), r)
        )
        # (a source read from a program's graph names its resources: one Markdown cell each)
        out += [
            f"| {r.stack} | {r.kind} | `{r.cidr}` | {markdown_cell(markdown_code(r.source))} |"
            for r in rows
        ]
        out.append("")
    return "\n".join([*out, "## Overlaps", ""]) + "\n"


def check(ns: argparse.Namespace) -> int:
    """Every overlap, one line per pair of stacks, on stderr (and in --markdown's plan), at
    most --max-pairs of them and then a line per domain saying how many more: the count is
    exact, the listing bounded, each line made as it is written."""
    project = find_project((ns.program or Path.cwd()).resolve())
    if ns.markdown is not None:
        inputs = [project.project_file, *map(project.stack_file, project.stacks())]
        if ns.markdown.resolve() in {p.resolve() for p in [*inputs, *filter(None, [ns.fleet])]}:
            raise _refuse("--markdown", f"{ns.markdown} is a file check reads; write elsewhere")
    _some_stacks(project, "check")
    ranges = fleet_ranges(project)
    domains = _domains(list(ranges), load_fleet(ns.fleet), ns.fleet)
    limit = ns.max_pairs or None
    with _Markdown.opened(ns.markdown) as markdown:
        markdown.write(plan_tables(ranges, domains))
        pairs = listed = 0
        for name, stacks in domains.items():
            found = overlapping_stacks([r for s in stacks for r in ranges[s]], name)
            pairs += found.pairs
            before = listed
            for pair in found.stack_pairs(None if limit is None else limit - listed):
                listed += 1
                _finding(str(pair), markdown)
            said = _summary(found, listed - before)
            if said is not None:
                _finding(said, markdown)
        if not pairs:
            markdown.write("None: every range of a domain is its own.\n")
    count = sum(len(v) for v in ranges.values())
    _out(
        f"ack-fleet: {len(ranges)} stacks, {count} ranges, {len(domains)} routing domain(s), "
        f"{pairs} overlapping pair(s) of stacks"
    )
    return EXIT_OVERLAPS if pairs else EXIT_OK


def _out(text: str) -> None:
    """A line on standard output, now: one that cannot be written (a full disk, a closed pipe)
    is exit 2 saying so, and standard output is then pointed at the null device, so that
    Python's own flush at exit neither fails nor prints a traceback."""
    try:
        print(text, flush=True)
    except OSError as exc:
        _stdout_broken()
        raise ProjectError(f"cannot write standard output: {exc.strerror}") from None


def _finding(line: str, markdown: _Markdown) -> None:
    # (a range read from a program's graph is named by its resource: one line, whatever name)
    print(f"ack-fleet: {one_line(line)}", file=sys.stderr)
    markdown.write(f"- {markdown_code(line)}\n")  # a name cannot be Markdown or HTML there


class _Markdown:
    """--markdown's file, written as check goes (nothing without one); a failure to write it
    names it."""

    def __init__(self, path: Path | None, file: Any) -> None:
        self.path, self.file = path, file

    @classmethod
    @contextmanager
    def opened(cls, path: Path | None) -> Iterator[_Markdown]:
        if path is None:
            yield cls(None, None)
            return
        try:
            file = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise ProjectError(f"--markdown {path}: cannot write: {exc.strerror}") from None
        try:
            yield cls(path, file)
        finally:
            try:
                file.close()
            except OSError as exc:
                raise ProjectError(f"--markdown {path}: cannot write: {exc.strerror}") from None

    def write(self, text: str) -> None:
        if self.file is None:
            return
        try:
            self.file.write(text)
        except OSError as exc:
            raise ProjectError(f"--markdown {self.path}: cannot write: {exc.strerror}") from None


# -- allocation ------------------------------------------------------------------------------


@contextmanager
def allocation_lock(project: Project, seconds: float = LOCK_SECONDS) -> Iterator[None]:
    """One allocation of the project at a time: an exclusive lock on its stack folder (the
    folder itself, so nothing is left behind; a lock file beside the stack files on Windows),
    held from reading the stacks to writing the new one, so that two allocations never hand out
    the same block. The operating system releases it when the process ends, however it ends."""
    folder = project.stack_config_dir
    if sys.platform == "win32":  # pragma: no cover - no Windows here
        import msvcrt

        fd = os.open(folder / ".ack-fleet.lock", os.O_RDWR | os.O_CREAT, 0o666)

        def take() -> None:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

        def release() -> None:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)

        def take() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

        def release() -> None:
            fcntl.flock(fd, fcntl.LOCK_UN)

    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                take()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ProjectError(
                        f"another ack-fleet allocate has held {folder} for {seconds:g} s; "
                        "try again when it ends"
                    ) from None
                time.sleep(0.02)
        try:
            yield
        finally:
            release()
    finally:
        os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    """`text` to `path` through a new file beside it renamed over it, so a reader (another
    ack-fleet, the CLI) sees the old file or the new one, never part of one; an existing file
    keeps its mode, a symbolic link its target."""
    target = path.resolve()
    partial = target.with_name(f".{target.name}.ack-fleet-{os.getpid()}")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            if target.exists():
                os.chmod(partial, stat.S_IMODE(target.stat().st_mode))
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ProjectError(f"{path}: cannot write: {exc.strerror}") from None


def _yaml_scalar(value: str) -> str:
    """`value` as a YAML scalar that reads back as that string (quoted when YAML would read it
    as something else: yes, 1.10, null)."""
    return value if yaml.safe_load(value) == value else json.dumps(value)


def with_member(text: str, file: Path, domain: str, stack: str) -> str:
    """The fleet file's text with `stack` added to routing domain `domain`, everything else of
    it (comments, order, layout) as it was. Edited in place where the domain's list is: a flow
    list (`[a, b]`) gets `, stack`, a block list gets a `- stack` line like its last; the
    result is read back and must be the same document with the stack added, or the file is
    written anew from its content (its comments lost: said on stderr)."""
    expected = yaml.safe_load(text)
    expected["routing_domains"][domain] = [*expected["routing_domains"][domain], stack]
    scalar = _yaml_scalar(stack)
    edited = None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            raise ValueError("an empty fleet file")
        (domains,) = [v for k, v in root.value if k.value == "routing_domains"]
        (members,) = [v for k, v in domains.value if k.value == domain]
        if isinstance(members, yaml.SequenceNode) and members.flow_style:
            if members.value:
                at = members.value[-1].end_mark.index
                edited = text[:at] + f", {scalar}" + text[at:]
            else:
                at = members.end_mark.index - 1  # the closing bracket
                edited = text[:at] + scalar + text[at:]
        elif isinstance(members, yaml.SequenceNode) and members.value:
            last = members.value[-1]
            line_start = text.rfind("\n", 0, last.start_mark.index) + 1
            prefix = text[line_start : last.start_mark.index]
            end = text.find("\n", last.end_mark.index)
            if prefix.strip() == "-":
                if end == -1:
                    edited = text + f"\n{prefix}{scalar}\n"
                else:
                    edited = text[: end + 1] + f"{prefix}{scalar}\n" + text[end + 1 :]
    except (yaml.YAMLError, ValueError, AttributeError):
        edited = None
    try:
        if edited is not None and yaml.safe_load(edited) == expected:
            return edited
    except yaml.YAMLError:
        pass
    print(
        f"ack-fleet: {file}: written anew from its content (its layout could not be kept)",
        file=sys.stderr,
    )
    return yaml.safe_dump(expected, sort_keys=False)


def _refuse(flag: str, message: str) -> ProjectError:
    return ProjectError(f"{flag}: {message}")


def _requested_zones(ns: argparse.Namespace) -> list[str]:
    """--region and --zones, checked against the project's facts of regions before anything
    is read or written."""
    found = region_problem(ns.region)
    if found is not None and found[0] == "error":
        raise _refuse("--region", found[1])
    if found is not None:
        raise _refuse(
            "--region",
            f"{ns.region!r} is not among the regions known on {facts.CHECKED}; allocate writes "
            "known regions only (if it is new, add it to ack_clusters/facts.py)",
        )
    zones = [z.strip() for z in ns.zones.split(",")]
    if not any(zones) or not all(zones):
        raise _refuse("--zones", f"{ns.zones!r}: comma-separated zone IDs, none empty")
    for z in zones:
        if zone_region(z) != ns.region:
            raise _refuse("--zones", f"{z!r} is not a zone of region {ns.region}")
        if zones.count(z) > 1:
            raise _refuse("--zones", f"{z} is given twice")
    return zones


def allocate_stack(ns: argparse.Namespace) -> int:
    project = find_project((ns.program or Path.cwd()).resolve())
    stack = ns.stack
    if not STACK_NAME.fullmatch(stack):
        raise ProjectError(f"stack name {stack!r}: {STACK_NAME_HELP}")
    name = ns.name if ns.name is not None else stack
    if not re.fullmatch(NAME_PATTERN, name):
        flag = "--name" if ns.name is not None else f"stack name {stack!r} as the cluster's name"
        raise _refuse(flag, f"{name!r} is not a cluster name ({NAME_HELP}); give one with --name")
    zones = _requested_zones(ns)
    if ns.force and not ns.write:
        raise _refuse("--force", "replaces a stack file, so it goes with --write")
    if ns.domain is not None and ns.fleet is None:
        raise _refuse("--domain", "names a routing domain of a fleet file: give it with --fleet")
    with allocation_lock(project) if ns.write else nullcontext():
        return _allocate_locked(project, ns, stack, name, zones)


def _allocate_locked(
    project: Project, ns: argparse.Namespace, stack: str, name: str, zones: list[str]
) -> int:
    """Everything `allocate` reads, picks and writes, under the project's lock."""
    existing = _checked_stacks(project)
    same = [s for s in existing if s.lower() == stack.lower()]
    if same and same != [stack]:
        raise ProjectError(
            f"stack {same[0]!r} exists already, and {stack!r} differs from it only in case "
            "(the same file where file names ignore case)"
        )
    if same and not ns.force:
        raise ProjectError(
            f"{project.stack_file(stack)} exists already: pass --force (with --write) to "
            "allocate that stack anew, its file replaced"
        )
    others = [s for s in existing if s != stack]
    in_code = bool(others) and not any(defines_cluster(project, s) for s in others)
    if in_code and ns.write:
        raise _refuse(
            "--write",
            f"the stacks of this project give no {project.name}:cluster (their program builds "
            "its clusters in code), so a stack file with one would not be read. Run allocate "
            "without --write, give the ranges it prints to the new cluster's arguments in the "
            "program (or its config), create the stack, add it to its routing domain in the "
            "fleet file, and `ack-fleet check` proves the plan",
        )
    fleet_text = None
    if ns.fleet is not None:
        routing = load_fleet(ns.fleet)
        fleet_text = ns.fleet.read_text(encoding="utf-8")
    else:
        routing = None
    # Every other stack's ranges; a stack allocated anew (--force) has none of its own yet.
    ranges = {s: stack_ranges(project, s) for s in existing if s != stack}
    ranges[stack] = []
    domains = _domains(list(ranges), routing, ns.fleet)
    if ns.domain is not None:
        assert routing is not None
        if ns.domain not in routing:
            known = ", ".join(routing) or "none"
            raise _refuse("--domain", f"{ns.domain!r} is not in {ns.fleet} (its domains: {known})")
    if routing:
        joined = [d for d, members in routing.items() if stack in members or d == ns.domain]
        peers = {s for d in joined for s in domains[d]} if joined else set(ranges)
    else:
        peers = set(ranges)
    used = [r.cidr for s in sorted(peers) for r in ranges.get(s, [])]
    try:
        got = allocate(used, pod_prefix=16 if ns.flannel else None)
    except ValueError as exc:
        raise ProjectError(f"no room left in the domain: {exc}") from None
    if in_code:
        ranges_only: dict[str, Any] = {
            "network": {"vpc_cidr": str(got.vpc_cidr)},
            "service_cidr": str(got.service_cidr),
        }
        if got.pod_cidr is not None:
            ranges_only["pod_cidr"] = str(got.pod_cidr)
        _out(yaml.safe_dump(ranges_only, sort_keys=False).rstrip("\n"))
        print(
            f"ack-fleet: free ranges for {stack}, which overlap no stack of its routing "
            "domain: this project builds its clusters in code, so give them to the cluster's "
            "arguments there",
            file=sys.stderr,
        )
        return EXIT_OK
    cluster: dict[str, Any] = {
        "kind": ns.kind,
        "name": name,
        "network": {"zones": zones, "vpc_cidr": str(got.vpc_cidr)},
        "service_cidr": str(got.service_cidr),
    }
    if ns.flannel:
        cluster["network_plugin"] = "flannel"
        cluster["pod_cidr"] = str(got.pod_cidr)
    doc = {"config": {"alicloud:region": ns.region, f"{project.name}:cluster": cluster}}
    # in the project's format: a Pulumi.json project's stack files are JSON (ack_offline.project)
    if project.ext == ".json":
        text = json.dumps(doc, indent=4) + "\n"
    else:
        text = yaml.safe_dump(doc, sort_keys=False)
    _validate_stack_text(project, stack, text)
    record = ns.domain is not None and stack not in (routing or {}).get(ns.domain, [])
    if not ns.write:
        _out(text.rstrip("\n"))
        if record:
            said = f"add {stack} to routing domain {ns.domain} of {ns.fleet} (--write does)"
            print(f"ack-fleet: {said}", file=sys.stderr)
        return EXIT_OK
    new_fleet = None
    if record:
        assert ns.fleet is not None and fleet_text is not None and ns.domain is not None
        new_fleet = with_member(fleet_text, ns.fleet, ns.domain, stack)
    # The fleet file first: killed between the two writes, ack-fleet leaves a fleet file naming
    # a stack that has no file, which check and allocate refuse, never a stack that check
    # silently takes for one in a domain of its own. SIGTERM or SIGINT waits until both are
    # written and said (_signals_held); any failure of the second puts the first back.
    with _signals_held():
        if new_fleet is not None:
            assert ns.fleet is not None and fleet_text is not None
            write_atomically(ns.fleet, new_fleet)
        file = project.stack_file(stack)
        try:
            write_atomically(file, text)
        except BaseException:
            if new_fleet is not None:  # put back as it was: both written, or neither
                assert ns.fleet is not None and fleet_text is not None
                write_atomically(ns.fleet, fleet_text)
            raise
        _out(f"ack-fleet: wrote {file}")
        if new_fleet is not None:
            _out(f"ack-fleet: added {stack} to routing domain {ns.domain} of {ns.fleet}")
        elif routing and not any(stack in members for members in routing.values()):
            said = f"{stack} is in no routing domain of {ns.fleet}, so in one of its own"
            print(f"ack-fleet: {said} (--domain names one)", file=sys.stderr)
    return EXIT_OK


def _validate_stack_text(project: Project, stack: str, text: str) -> None:
    """What allocate would write is read back as `check` and the stack program read a stack
    file, from a copy in a folder of its own; a problem is exit 2 before anything is written."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ack-fleet-") as folder:
        copy = Path(folder) / project.stack_file(stack).name
        copy.write_text(text, encoding="utf-8")
        stack_cluster(project, stack, copy)


#: ack-preview's exit codes, worst first: no verdict, a mandatory violation, a guarded change
#: (a refused replacement or deletion, a change that fails), a pass (ack_offline.exits). The
#: fleet gate exits with the worst any stack had.
WORST_FIRST = exits.WORST_FIRST


def _first_of(paths: Sequence[Path], top: Path) -> str:
    """The first of `paths`, relative to `top`, and how many more there are."""
    more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
    return paths[0].relative_to(top).as_posix() + more


def changed_stacks(
    project: Project,
    since: str,
    depends_on: Sequence[Path] = (),
    *,
    packs: Sequence[Path] = (),
    python: str | None = None,
    pythonpath: Sequence[Path] = (),
) -> tuple[list[str], str]:
    """The stacks to gate since commit `since` (a full SHA, :func:`revisions.resolve`), and
    why: only the stacks whose own file changed when nothing else the stacks may read did;
    every stack when any other file of the repository changed (the program, a shared module,
    the pack, the project or dependency files, a stack file that is gone, a submodule), or
    when git cannot tell: something the stacks depend on lies outside the repository
    (`depends_on`: the packs, their configs, the program's other paths), a tracked symbolic
    link leads out of it, the program's import path reaches outside it (a ``.pth`` file,
    ``PYTHONPATH``, an editable install, in the interpreter `python` with `pythonpath` first,
    as ack-preview runs the program) or a pack's does (in the interpreter it runs with), git
    ignores a file the program or a pack may read, or git is told not to look at a tracked
    file. What a program reaches only as it runs (a folder it adds to ``sys.path``, a file
    outside the repository it opens) cannot be seen: such a program is gated without --since
    (docs/REFERENCE.md)."""
    top = revisions.toplevel(project.root)
    everything = project.stacks()
    stack_files = {project.stack_file(s).resolve(): s for s in everything}
    for path in [project.main, project.stack_config_dir, *stack_files, *depends_on]:
        if not revisions.inside(top, path):
            return everything, f"every stack: {path} is outside the repository at {top}"
    folder = project.main if project.main.is_dir() else project.main.parent
    links = revisions.links_out(top)
    if links:
        shown = _first_of(links, top)
        return (
            everything,
            f"every stack: {shown} is a symbolic link out of the repository at {top}, "
            "where git cannot tell what it reads changed",
        )
    # The program's interpreter, and each pack's (its virtualenv, as the Pulumi CLI picks it):
    # what either imports from outside the repository, or from what git ignores in it, may
    # change unseen.
    from .gate import pack_python

    asked = [(python or sys.executable, list(pythonpath), folder, "the program's")]
    asked += [(pack_python(pack), [], pack, f"the pack {pack.name}'s") for pack in packs]
    outside: list[str] = []
    roots: list[Path] = []
    for interpreter, paths, cwd, whose in asked:
        try:
            found = revisions.import_path(interpreter, paths, cwd)
        except ProjectError as exc:
            return everything, f"every stack: {exc}"
        outside += [
            f"{said} ({whose} interpreter)" for said in revisions.sources_outside(top, found)
        ]
        roots += [r for r in revisions.import_roots(top, found) if r not in roots]
    if outside:
        more = f" (and {len(outside) - 1} more)" if len(outside) > 1 else ""
        return (
            everything,
            f"every stack: {outside[0]}{more}, outside the repository at {top}, where git "
            "cannot tell its changes",
        )
    hidden = revisions.ignored_sources(top, [folder, *packs], roots)
    if hidden:
        shown = _first_of(hidden, top)
        return (
            everything,
            f"every stack: {shown} is ignored by git, which cannot tell its changes",
        )
    unwatched = [f for f in revisions.unwatched_files(top) if f not in stack_files]
    if unwatched:
        shown = _first_of(unwatched, top)
        return (
            everything,
            f"every stack: {shown} is marked assume-unchanged or skip-worktree, so git "
            "does not look at its changes",
        )
    files = revisions.changed_files(top, since) + revisions.unwatched_files(top)
    others = [f for f in files if f not in stack_files]
    if others:
        shown = _first_of(others, top)
        return everything, f"every stack: {shown} changed"
    chosen = sorted({stack_files[f] for f in files})
    return chosen, f"{len(chosen)} stack file(s) changed, nothing else"


def _existed(project: Project, stack: str, revision: str) -> bool:
    top = revisions.toplevel(project.root)
    return revisions.file_at(top, revision, project.stack_file(stack)) is not None


def _no_verdict(stack: str, mode: str, seconds: float, why: str) -> dict[str, Any]:
    """A stack's row in the fleet gate's report when it was not judged: exit 2, and why."""
    return {
        "stack": stack,
        "mode": mode,
        "exit": 2,
        "seconds": round(seconds, 3),
        "resources": None,
        "mandatory": None,
        "advisory": None,
        "replacements": None,
        "error": why,
    }


def gate_one(
    project: Project,
    stack: str,
    packs: Sequence[Path],
    since: str | None,
    timeout: float,
    extra: Sequence[str] = (),
    mode: str = "preview",
) -> dict[str, Any]:
    """`ack-preview STACK --json --mode MODE` with the packs (and `--diff SINCE`), as CI runs
    it for one stack, in a process of its own; `extra` are more of its options (the packs'
    configs, the program's interpreter)."""
    import time

    if not STACK_NAME.fullmatch(stack):
        # A file name is not a verdict's argument: one Pulumi refuses, or that ack-preview
        # would read as an option, is not judged.
        why = f"not judged: {stack!r} is not a stack name ({STACK_NAME_HELP})"
        return _no_verdict(stack, mode, 0.0, why)
    argv = [stack, "--json", "--mode", mode, "--program", str(project.root), *extra]
    argv += ["--timeout", f"{timeout:g}"]  # the program's limit; the stack's is GRACE more
    for pack in packs:
        argv += ["--policy-pack", str(pack)]
    if since is not None and _existed(project, stack, since):
        argv += ["--diff", since]  # a new stack has nothing to diff against
    start = time.perf_counter()
    try:
        code, out, err = run_ack_preview(argv, timeout + GRACE)
    except Exception as exc:  # a stack that could not even be started is not judged
        code, out, err = 2, "", f"not started: {type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or code not in WORST_FIRST:
        # No report, or an exit ack-preview never gives (a signal, a crash): no verdict,
        # whatever was printed. Not proven safe.
        said = (err.strip().splitlines() or ["no report"])[-1]
        if code in WORST_FIRST and out.strip() and doc is None:
            said = f"its report is not JSON ({out.strip()[:80]!r}...); {said}"
        why = said if code in WORST_FIRST else f"exit code {code}: {said}"
        return _no_verdict(stack, mode, seconds, why)
    row: dict[str, Any] = {"stack": stack, "mode": mode, "exit": code, "seconds": round(seconds, 3)}
    summary = doc.get("summary", {})
    changes = doc.get("changes", {}).get("summary", {})
    row.update(
        resources=summary.get("resources"),
        mandatory=summary.get("mandatory"),
        advisory=summary.get("advisory"),
        replacements=changes.get("replace") if changes else None,
        # Why the stack exits 3: stateful replacements and deletions not allowed, changes
        # that fail (ack-preview --diff).
        guarded=doc.get("changes", {}).get("guarded", []),
        violations=[
            {k: v[k] for k in ("policy", "enforcement", "urn", "message")}
            for v in doc.get("violations", [])
            if v.get("enforcement") == "mandatory"
        ],
    )
    return row


#: What every stack's ack-preview imports before it runs a program: Pulumi, gRPC, the library,
#: the offline engine and the provider SDK packages the stacks use.
PRELOAD = (
    "ack_offline.fork_server",  # first: the server dies with ack-fleet (see that module)
    "ack_offline.cli",
    "ack_offline.preview",
    "ack_clusters",
    "pulumi_alicloud.cs",
    "pulumi_alicloud.ecs",
    "pulumi_alicloud.ram",
    "pulumi_alicloud.slb",
    "pulumi_alicloud.vpc",
    "pulumi_kubernetes.core.v1",
)


@functools.cache
def _fork_server() -> Any:
    """A multiprocessing context whose server process imported :data:`PRELOAD` once, or None
    where there is no fork server (Windows). The server runs nothing else."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    # Started now, by the thread that asks first (the main thread: gate and check ask before
    # any stack runs), so that the server's parent-death signal follows a thread that lives as
    # long as ack-fleet (ack_offline.fork_server).
    from multiprocessing import forkserver

    from .fork_server import PARENT

    os.environ[PARENT] = str(os.getpid())
    with contextlib.suppress(OSError, EOFError, ValueError):  # none: new interpreters instead
        forkserver.ensure_running()
    return context


#: Each stack's ack-preview process while it runs: a signal to ack-fleet stops them all.
_LIVE: set[Any] = set()
#: Set once ack-fleet is told to stop: stacks not started yet are not judged.
_STOPPING = threading.Event()
#: How long a stack's ack-preview gets, past its program's time limit, to start its packs,
#: judge and report.
GRACE = 120.0


def run_ack_preview(argv: list[str], timeout: float) -> tuple[int, str, str]:
    """``ack-preview ARGV`` in a process of its own, as the console script runs it: (exit
    code, stdout, stderr). The process is forked from a server that imported what every
    ack-preview imports, once per ack-fleet run, instead of being a new interpreter that imports
    it all again (0.3-0.5 s a stack); it then starts its program's process and its packs as
    ever. Past `timeout` it gets SIGTERM, on which ack-preview stops its program and packs, and
    30 s later SIGKILL with every process below it: no verdict. Its output goes to files, of
    which the report and the end of standard error are read (a program printing gigabytes
    cannot fill this process's memory)."""
    if _STOPPING.is_set():
        return 2, "", "not judged: ack-fleet was stopped"
    import tempfile

    from .isolation import await_exit

    with tempfile.TemporaryDirectory(prefix="ack-fleet-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        process = _start_ack_preview(argv, out, err)
        _LIVE.add(process)
        try:
            if _STOPPING.is_set():
                process.terminate()  # told to stop while this one started
            if not await_exit(process, timeout):
                process.terminate()
                if not await_exit(process, 30):
                    reaper.kill_tree(process.pid)
                    await_exit(process, 30)
                return 2, "", f"no verdict within {timeout:g} s"
        finally:
            _LIVE.discard(process)
        # A process stopped or killed before it opened them left no files (SIGTERM half a
        # second into a gate read as "not started: FileNotFoundError").
        report = _report(out) if out.exists() else ""
        tail = _tail(err) if err.exists() else ""
        if _STOPPING.is_set() and not report.strip():
            return 2, "", f"{tail.rstrip()}\nnot judged: ack-fleet was stopped".lstrip()
        return process.exitcode, report, tail


def _start_ack_preview(argv: list[str], out: Path, err: Path) -> Any:
    """The stack's process, forked from the fork server, or a new interpreter where there is
    none or it cannot fork any more (a program may have killed it)."""
    context = _fork_server()
    if context is not None:
        process = context.Process(target=_ack_preview_forked, args=(argv, str(out), str(err)))
        # A stopped server (a program can SIGSTOP it) never answers, and starting would wait
        # for ever: past FORK_SECONDS it is killed (the stacks forked from it die with it), the
        # start fails, and the stack runs in a new interpreter; a later stack gets a new
        # server. (The start stays in this thread: a server it restarts must not be tied to a
        # thread that ends at once, its parent-death signal follows the thread.)
        watchdog = threading.Timer(FORK_SECONDS, _end_fork_server)
        watchdog.daemon = True
        watchdog.start()
        try:
            process.start()
            return process
        except (OSError, EOFError, ValueError):
            pass  # the server is gone: a new interpreter instead
        finally:
            watchdog.cancel()
    return _Interpreter(argv, out, err)


#: How long the fork server may take to fork a stack before it is taken for stopped.
FORK_SECONDS = 20.0


def _end_fork_server() -> None:
    """SIGKILL the fork server (its children with it)."""
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if isinstance(pid, int):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


#: A stack's ack-preview as a new interpreter: SIGKILL when ack-fleet (the thread that started
#: it) ends, as a forked stack gets when the fork server ends, then the console script.
_LAUNCHER = reaper.DIE_WITH_PARENT_SOURCE + "from ack_offline.cli import main\nmain(sys.argv[2:])\n"


class _Interpreter:
    """``ack-preview ARGV`` in a new interpreter (:data:`_LAUNCHER`) with its output to files,
    used as a forked stack's process is (`pid`, `exitcode`, `terminate`)."""

    def __init__(self, argv: list[str], out: Path, err: Path) -> None:
        import subprocess

        with out.open("wb") as stdout, err.open("wb") as stderr:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *argv],
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        self.pid = self._process.pid

    @property
    def exitcode(self) -> int | None:
        return self._process.poll()

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._process.terminate()


#: The most of a stack's standard error kept (its end: where ack-preview says why it ended).
STDERR_KEPT = 64 << 10
#: The largest report read (1 GiB): past it a report is taken for none, not read into memory.
REPORT_LIMIT = 1 << 30


def _tail(path: Path) -> str:
    """The end of a stack's standard error, however much a program printed there."""
    with path.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - STDERR_KEPT))
        kept = file.read()
    cut = f"[{size - STDERR_KEPT} bytes before this were not kept]\n" if size > STDERR_KEPT else ""
    return cut + kept.decode(errors="replace")


def _report(path: Path) -> str:
    """A stack's report (its standard output), unless it is past :data:`REPORT_LIMIT`: then
    nothing, which the caller takes for no report."""
    if path.stat().st_size > REPORT_LIMIT:
        return ""
    return path.read_bytes().decode(errors="replace")


def _ack_preview_forked(argv: list[str], out: str, err: str) -> None:
    """In the forked process: SIGKILL when the fork server ends (which ends with ack-fleet:
    ack_offline.fork_server), stdout and stderr to the files, then the console script.

    The pipe to ack-fleet's multiprocessing resource tracker, which the fork server hands each
    child, is closed first: the tracker ends when the last holder of that pipe is gone, and a
    daemon the program leaves (which a SIGKILLed ack-fleet cannot end) would hold it, keeping
    the tracker running too."""
    from . import fork_server

    # The server's PID, read in the server before it forked this process (a module it preloads):
    # one read now would be init's if the server ended meanwhile (unpickling this call imports
    # this module, which takes a while). Should the server not have preloaded it, the PID is
    # this process's own, never its parent's: it exits, as it would with the server gone.
    reaper.die_with_parent(fork_server.PID)
    from multiprocessing import resource_tracker

    tracker: Any = resource_tracker._resource_tracker
    if getattr(tracker, "_fd", None) is not None:
        with contextlib.suppress(OSError):
            os.close(tracker._fd)
        tracker._fd = None
    for fd, path in ((1, out), (2, err)):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    from .cli import main

    main(argv)


def gate(ns: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    project = find_project((ns.program or Path.cwd()).resolve())
    packs = [p.resolve() for p in ns.policy_pack]
    if not packs:
        raise ProjectError(
            "gate: no --policy-pack: without a pack nothing is judged (give the pack the "
            "stacks must pass, e.g. --policy-pack policies)"
        )
    if ns.json is not None and (ns.json.is_dir() or not ns.json.parent.is_dir()):
        # Said before any stack runs, rather than after all of them did for nothing.
        raise _refuse("--json", f"{ns.json} cannot be written (a folder, or in no folder)")
    stacks = _some_stacks(project, "gate")
    # The judge's files as they are before any stack's program runs (and before --since asks
    # the program's interpreter for its import path, which runs its site hooks): each stack's
    # ack-preview checks them against these (ack_offline.integrity).
    from .gate import PolicyPackProcess, StackContext
    from .integrity import ENVIRONMENT, LOADED_ENVIRONMENT, digests, loaded_digest

    os.environ[ENVIRONMENT] = json.dumps(digests(packs))
    # And what each pack loads once its rules are in (the modules its rules import, the standard
    # library's among them): started once, here, before any stack's program runs, so that a
    # program cannot rewrite a module a later stack's pack loads (ack_offline.integrity).
    loaded = {}
    for pack in packs:
        probe = PolicyPackProcess(pack, StackContext(project.name, "", True, {}, {}), connect=False)
        probe.close()
        loaded[str(pack)] = {
            "files": probe.loaded["files"],
            "digest": loaded_digest(probe.loaded["files"]),
        }
    os.environ[LOADED_ENVIRONMENT] = json.dumps(loaded)
    since = None
    if ns.since is not None:
        since = revisions.resolve(project.root, ns.since, "--since")
        depends_on = [
            *packs,
            *ns.policy_pack_config,
            *(Path(p) for p in ns.program_path),
            *(Path(r.partition("=")[2]) for r in ns.stack_reference),
        ]
        stacks, why = changed_stacks(
            project,
            since,
            depends_on,
            packs=packs,
            python=ns.program_python,
            pythonpath=[Path(p) for p in ns.program_path],
        )
        print(f"ack-fleet: since {since[:12]}: {one_line(why)}", file=sys.stderr)
    extra: list[str] = []
    for config in ns.policy_pack_config:
        extra += ["--policy-pack-config", str(config.resolve())]
    for reference in ns.stack_reference:
        extra += ["--stack-reference", reference]
    if ns.program_python:
        extra += ["--program-python", ns.program_python]
    for path in ns.program_path:
        extra += ["--program-path", str(Path(path).resolve())]
    _fork_server()  # started by this thread, which lives as long as ack-fleet (fork_server)
    _GATING.set()
    modes = ["preview", "update"] if ns.mode == "both" else [ns.mode]
    runs = [(stack, mode) for stack in stacks for mode in modes]
    with ThreadPoolExecutor(max_workers=max(1, ns.workers)) as pool:
        rows = list(
            pool.map(lambda r: gate_one(project, r[0], packs, since, ns.timeout, extra, r[1]), runs)
        )
    worst = exits.worst(r["exit"] for r in rows)
    lines = [
        "| Stack | Mode | Exit | Resources | Mandatory | Advisory | Replacements | Seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        cells = [r["resources"], r["mandatory"], r["advisory"], r["replacements"]]
        shown = ["-" if c is None else markdown_cell(c) for c in cells]
        lines.append(
            f"| {markdown_cell(r['stack'])} | {r['mode']} | {r['exit']} | {' | '.join(shown)} "
            f"| {r['seconds']:.2f} |"
        )
    if ns.json:
        # Written first: a report that cannot be written is no verdict (exit 2, main).
        ns.json.write_text(
            json.dumps({"stacks": rows, "exit": worst, "since": since}, indent=2) + "\n"
        )
    print("\n".join(lines))
    for r in rows:
        where = f"{one_line(r['stack'])} ({r['mode']})"
        if "error" in r:
            print(f"ack-fleet: {where}: {one_line(r['error'])}", file=sys.stderr)
        for v in r.get("violations", []):
            print(
                f"ack-fleet: {where}: [{one_line(v['policy'])}] {one_line(v['urn'])}",
                file=sys.stderr,
            )
    print(_gate_summary(rows, worst))
    return worst


def _gate_summary(rows: Sequence[dict[str, Any]], worst: int) -> str:
    """The gate's last line: how many stacks (in each mode) were judged, and the ones that were
    not (a stack stopped by a signal, past its time, with no report) named, never counted as
    gated."""
    missed = [f"{one_line(r['stack'])} ({r['mode']})" for r in rows if "error" in r]
    said = f"ack-fleet: {len(rows) - len(missed)} of {len(rows)} stack runs judged, exit {worst}"
    return f"{said}; not judged: {', '.join(missed)}" if missed else said


class _Stopped(BaseException):
    """SIGTERM or SIGINT outside a gate's stacks: the command ends, exit 2, "stopped by ...".
    Not an Exception: no handler of a command's failures (:func:`_guarded`) takes it for a bug
    of ack-fleet's."""


#: Set while a command writes files that go together (allocate's fleet file and stack file): a
#: signal then waits in :data:`_HELD` until both are written, and stops the command after.
_HOLDING = threading.Event()
_HELD: list[str] = []


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGTERM or SIGINT in this block stops the command at its end, not inside it."""
    _HOLDING.set()
    try:
        yield
    finally:
        _HOLDING.clear()
    if _HELD:
        raise _Stopped(_HELD[0])


def console() -> None:
    """The ``ack-fleet`` console script: :func:`main`, and nothing it started left running
    (:mod:`ack_offline.reaper`). SIGTERM or SIGINT during a gate stops every stack's ack-preview
    (each stops its program and packs), marks the stacks not yet started as not judged, and
    still writes the report: exit 2. A second signal kills what is left at once."""
    reaper.become_subreaper()
    reaper.guard_process()
    from .cli import streams_open

    if not streams_open("ack-fleet"):
        os._exit(EXIT_BROKEN)

    def stop(signum: int, _frame: object) -> None:
        if _STOPPING.is_set():
            for process in list(_LIVE):
                reaper.kill_tree(process.pid)
            return
        _STOPPING.set()
        for process in list(_LIVE):
            process.terminate()
        if not _GATING.is_set():
            if _HOLDING.is_set():
                _HELD.append(signal.Signals(signum).name)
                return
            raise _Stopped(signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    code = EXIT_BROKEN
    try:
        code = main()
    except _Stopped as stopped:
        _say(f"stopped by {stopped}")
    finally:
        reaper.end_descendants()
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(code)


#: Set while a gate runs: a signal then stops the stacks instead of ending ack-fleet at once.
_GATING = threading.Event()


def main(argv: Sequence[str] | None = None) -> int:
    integrity.write_no_bytecode()  # before any program runs: see ack_offline.integrity
    parser = argparse.ArgumentParser(prog="ack-fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--program", type=Path, default=None, help="project folder")
    parser.add_argument("--fleet", type=Path, default=None, help="fleet file (routing domains)")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="prove no two stacks of a routing domain overlap")
    c.add_argument("--markdown", type=Path, default=None, help="write the address plan here")
    c.add_argument(
        "--max-pairs",
        type=_count,
        default=MAX_PAIRS,
        metavar="N",
        help=f"list at most N overlapping pairs of stacks, then how many more (default "
        f"{MAX_PAIRS}; 0 lists all)",
    )
    a = sub.add_parser("allocate", help="free ranges for a new stack, as its stack file")
    a.add_argument("stack")
    a.add_argument("--region", required=True)
    a.add_argument("--zones", required=True, help="comma-separated zone IDs")
    a.add_argument("--kind", choices=sorted(CLUSTERS), default="managed")
    a.add_argument("--name", default=None, help="cluster name (default: the stack's)")
    a.add_argument("--domain", default=None, help="routing domain (default: every stack)")
    a.add_argument("--flannel", action="store_true", help="plan a Flannel pod range too")
    a.add_argument(
        "--write",
        action="store_true",
        help="write Pulumi.STACK.yaml and add the stack to --domain in the fleet file",
    )
    a.add_argument(
        "--force",
        action="store_true",
        help="allocate a stack whose file exists anew, replacing its file (with --write; for a "
        "stack not yet deployed: other ranges replace a deployed cluster)",
    )
    g = sub.add_parser("gate", help="ack-preview and the gate over every stack, in parallel")
    g.add_argument("--policy-pack", action="append", type=Path, default=[], metavar="DIR")
    g.add_argument(
        "--policy-pack-config",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="the policy config of the pack at the same position (repeatable)",
    )
    g.add_argument(
        "--stack-reference",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="outputs of a stack the programs reference (see ack-preview; repeatable)",
    )
    g.add_argument(
        "--program-python",
        default=None,
        metavar="PYTHON",
        help="run each stack's program with this interpreter (see ack-preview)",
    )
    g.add_argument(
        "--program-path",
        action="append",
        default=[],
        metavar="DIR",
        help="put this folder first on each program's import path (repeatable)",
    )
    g.add_argument("--since", default=None, help="only stacks changed since this git revision")
    g.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    g.add_argument("--json", type=Path, default=None, help="write the report here")
    g.add_argument("--timeout", type=seconds, default=600.0, help="per stack, seconds")
    g.add_argument(
        "--mode",
        choices=("preview", "update", "both"),
        default="both",
        help="judge each stack as a preview of a new stack (IDs unknown), as an update of a "
        "deployed one (IDs known: an ID typed in by hand, a resource an apply registers), or "
        "both (default)",
    )
    ns = parser.parse_args(argv)
    if ns.command in ("check", "allocate"):
        return _guarded(check if ns.command == "check" else allocate_stack, ns)
    try:
        return gate(ns)
    except (ProjectError, InvalidArguments, ValueError) as exc:
        _say(str(exc))
    except RecursionError:
        _say("an input is nested too deeply to read (a stack file, the fleet file or a report)")
    except OSError as exc:
        _say(f"{exc}")
    except Exception as exc:  # whatever else fails, the answer is "no verdict", never exit 1
        _say(f"no verdict: {type(exc).__name__}: {exc}")
    return EXIT_BROKEN


def _say(message: str) -> None:
    """One line of ack-fleet's own on standard error, control characters escaped."""
    with contextlib.suppress(OSError, ValueError):
        print(f"ack-fleet: {one_line(unsecure(message))}", file=sys.stderr)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a count (0 or more)")
    return value


def _guarded(command: Callable[[argparse.Namespace], int], ns: argparse.Namespace) -> int:
    """`command`, whose every failure is exit 2 with one message naming the problem: never a
    traceback, never exit 1 (an overlap), standard output that cannot be written included."""
    try:
        code = command(ns)
        sys.stdout.flush()
        return code
    except (ProjectError, InvalidArguments, ValueError) as exc:
        message = str(exc)
    except RecursionError:
        message = "an input is nested too deeply"
    except OSError as exc:
        message = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
    except MemoryError:
        message = "out of memory"
    except Exception as exc:  # a bug of ack-fleet's: said as one, still exit 2
        message = f"internal error ({type(exc).__name__}: {exc}); please report it"
    if _stdout_broken():
        message = "cannot write standard output"
    with suppress(OSError):  # standard error cannot be written either: the exit code says it
        print(f"ack-fleet: {one_line(unsecure(message))}", file=sys.stderr)
    return EXIT_BROKEN


def _stdout_broken() -> bool:
    """Whether standard output cannot be written (a full disk, a closed pipe); if so, it is
    pointed at the null device, so that Python's own flush at exit neither fails nor prints."""
    try:
        sys.stdout.flush()
        return False
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return True


if __name__ == "__main__":
    console()
