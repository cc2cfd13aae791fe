"""``ack-fleet``: one address plan across every stack of a project.

    ack-fleet check [--fleet FILE] [--markdown FILE]   # exit 1 when two stacks overlap
    ack-fleet allocate STACK --region R --zones Z1,Z2 [--kind managed] [--flannel] [--write]
    ack-fleet gate --policy-pack DIR [--since REV] [--workers N] [--json FILE] [--mode both]

Each stack's cluster is read from its stack file and validated exactly as the stack program
validates it, then its ranges are planned (no program runs, nothing is registered). A fleet
file names the routing domains (the stacks CEN, peering or VPN joins)::

    routing_domains:
      prod: [managed-prod, dedicated-dev]

Without one, every stack is taken to be in one domain. ``allocate`` picks ranges that overlap
no stack of the domain and writes ``Pulumi.STACK.yaml`` (``--write``) or prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ack_clusters.cluster.args import BaseClusterArgs
from ack_clusters.cluster.forms import CLUSTERS
from ack_clusters.errors import InvalidArguments
from ack_clusters.fleet.plan import UsedRange, allocate, domains_of, overlaps, ranges_of
from ack_clusters.program import parse_cluster
from ack_clusters.validation import NAME_PATTERN, zone_region

from . import integrity, reaper, revisions
from .project import Project, ProjectError, _load_yaml, find_project, load_stack_config
from .text import markdown_cell, one_line

EXIT_OK, EXIT_OVERLAPS, EXIT_BROKEN = 0, 1, 2


def stack_cluster(project: Project, stack: str) -> BaseClusterArgs:
    """A stack's cluster arguments, validated as the stack program validates them."""
    config, _ = load_stack_config(project, stack)
    key = f"{project.name}:cluster"
    if key not in config:
        raise ProjectError(f"{project.stack_file(stack)}: {key} is not set")
    raw: Any = json.loads(config[key])
    subject = f"stack config ({project.stack_file(stack).name})"
    if not isinstance(raw, dict):
        raise InvalidArguments(subject, [(key, "must be an object with kind, name and arguments")])
    head, args, problems = parse_cluster(raw, subject, key)
    if problems or head is None or args is None:
        raise InvalidArguments(subject, problems)
    return args


def load_fleet(file: Path | None) -> dict[str, list[str]] | None:
    if file is None:
        return None
    doc = _load_yaml(file) or {}
    domains = doc.get("routing_domains") if isinstance(doc, dict) else None
    if not isinstance(domains, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(s, str) for s in v)
        for k, v in domains.items()
    ):
        raise ProjectError(f"{file}: routing_domains must map a name to a list of stack names")
    return {k: list(v) for k, v in domains.items()}


def fleet_ranges(project: Project) -> dict[str, list[UsedRange]]:
    return {stack: ranges_of(stack, stack_cluster(project, stack)) for stack in project.stacks()}


def report(
    ranges: dict[str, list[UsedRange]], domains: dict[str, list[str]], problems: Sequence[Any]
) -> str:
    """The address plan as Markdown: one table per routing domain, then what overlaps."""
    out = ["# Address plan", ""]
    for domain, stacks in domains.items():
        out += [f"## Routing domain `{domain}`", "", "| Stack | Range | CIDR | From |"]
        out.append("| --- | --- | --- | --- |")
        rows = sorted(
            (r for s in stacks for r in ranges[s]), key=lambda r: (int(r.cidr.network_address), r)
        )
        out += [f"| {r.stack} | {r.kind} | `{r.cidr}` | {r.source} |" for r in rows]
        out.append("")
    out += ["## Overlaps", ""]
    out += [f"- {p}" for p in problems] or ["None: every range of a domain is its own."]
    return "\n".join(out) + "\n"


def check(ns: argparse.Namespace) -> int:
    project = find_project((ns.program or Path.cwd()).resolve())
    ranges = fleet_ranges(project)
    domains = domains_of(ranges, load_fleet(ns.fleet))
    problems = [
        o
        for name, stacks in domains.items()
        for o in overlaps([r for s in stacks for r in ranges[s]], name)
    ]
    if ns.markdown:
        ns.markdown.write_text(report(ranges, domains, problems))
    for p in problems:
        print(f"ack-fleet: {p}", file=sys.stderr)
    count = sum(len(v) for v in ranges.values())
    print(
        f"ack-fleet: {len(ranges)} stacks, {count} ranges, {len(domains)} routing domain(s), "
        f"{len(problems)} overlap(s)"
    )
    return EXIT_OVERLAPS if problems else EXIT_OK


def allocate_stack(ns: argparse.Namespace) -> int:
    project = find_project((ns.program or Path.cwd()).resolve())
    if not re.match(NAME_PATTERN, ns.stack):
        raise ProjectError(f"stack name {ns.stack!r}: lowercase letters, digits and hyphens")
    if project.stack_file(ns.stack).exists():
        raise ProjectError(f"{project.stack_file(ns.stack)} exists already")
    zones = [z for z in ns.zones.split(",") if z]
    for z in zones:
        if zone_region(z) != ns.region:
            raise ProjectError(f"--zones: {z} is not a zone of region {ns.region}")
    ranges = fleet_ranges(project)
    domains = domains_of(ranges, load_fleet(ns.fleet))
    if ns.domain is not None and ns.domain not in domains:
        raise ProjectError(f"--domain {ns.domain!r} is not in the fleet file")
    peers = domains[ns.domain] if ns.domain else list(ranges)
    used = [r.cidr for s in peers for r in ranges[s]]
    got = allocate(used, pod_prefix=16 if ns.flannel else None)
    cluster: dict[str, Any] = {
        "kind": ns.kind,
        "name": ns.name or ns.stack,
        "network": {"zones": zones, "vpc_cidr": str(got.vpc_cidr)},
        "service_cidr": str(got.service_cidr),
    }
    if ns.flannel:
        cluster["network_plugin"] = "flannel"
        cluster["pod_cidr"] = str(got.pod_cidr)
    text = yaml.safe_dump(
        {"config": {"alicloud:region": ns.region, f"{project.name}:cluster": cluster}},
        sort_keys=False,
    )
    # What is written must be what the stack program accepts.
    model = CLUSTERS[ns.kind]._form.args_model
    model.model_validate({k: v for k, v in cluster.items() if k not in ("kind", "name")})
    if ns.write:
        project.stack_file(ns.stack).write_text(text)
        print(f"ack-fleet: wrote {project.stack_file(ns.stack)}")
    else:
        print(text, end="")
    return EXIT_OK


#: ack-preview's exit codes, worst first: no verdict, a mandatory violation, a refused
#: replacement, a pass. The fleet gate exits with the worst any stack had.
WORST_FIRST = (2, 1, 3, 0)


def changed_stacks(
    project: Project, since: str, depends_on: Sequence[Path] = ()
) -> tuple[list[str], str]:
    """The stacks to gate since commit `since` (a full SHA, :func:`revisions.resolve`), and
    why: only the stacks whose own file changed when nothing else in the repository did; every
    stack when any other file changed (the program, a shared module, the pack, the project or
    dependency files, a stack file that is gone) or when something the stacks depend on lies
    outside the repository, where git cannot tell whether it changed (`depends_on`: the
    packs, their configs, the program's other paths, the program itself)."""
    top = revisions.toplevel(project.root)
    everything = project.stacks()
    for path in [project.main, *depends_on]:
        if not revisions.inside(top, path):
            return everything, f"every stack: {path} is outside the repository at {top}"
    stack_files = {project.stack_file(s).resolve(): s for s in everything}
    files = revisions.changed_files(top, since)
    others = [f for f in files if f not in stack_files]
    if others:
        shown = others[0].relative_to(top).as_posix()
        more = f" and {len(others) - 1} more" if len(others) > 1 else ""
        return everything, f"every stack: {shown}{more} changed"
    chosen = sorted(stack_files[f] for f in files)
    return chosen, f"{len(chosen)} stack file(s) changed, nothing else"


def _existed(project: Project, stack: str, revision: str) -> bool:
    top = revisions.toplevel(project.root)
    return revisions.file_at(top, revision, project.stack_file(stack)) is not None


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
    row: dict[str, Any] = {
        "stack": stack,
        "mode": mode,
        "exit": code,
        "seconds": round(seconds, 3),
    }
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or code not in WORST_FIRST:
        # No report, or an exit ack-preview never gives (a signal, a crash): no verdict,
        # whatever was printed. Not proven safe.
        row.update(exit=2, resources=None, mandatory=None, advisory=None, replacements=None)
        said = (err.strip().splitlines() or ["no report"])[-1]
        if code in WORST_FIRST and out.strip() and doc is None:
            said = f"its report is not JSON ({out.strip()[:80]!r}...); {said}"
        row["error"] = said if code in WORST_FIRST else f"exit code {code}: {said}"
        return row
    summary = doc.get("summary", {})
    changes = doc.get("changes", {}).get("summary", {})
    row.update(
        resources=summary.get("resources"),
        mandatory=summary.get("mandatory"),
        advisory=summary.get("advisory"),
        replacements=changes.get("replace") if changes else None,
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
        return process.exitcode, _report(out), _tail(err)


def _start_ack_preview(argv: list[str], out: Path, err: Path) -> Any:
    """The stack's process, forked from the fork server, or a new interpreter where there is
    none or it cannot fork any more (a program may have killed it)."""
    context = _fork_server()
    if context is not None:
        process = context.Process(target=_ack_preview_forked, args=(argv, str(out), str(err)))
        try:
            process.start()
            return process
        except (OSError, EOFError, ValueError):
            pass  # the server is gone: a new interpreter instead
    return _Interpreter(argv, out, err)


class _Interpreter:
    """``python -m ack_offline.cli ARGV`` with its output to files, used as a forked stack's
    process is (`pid`, `exitcode`, `terminate`)."""

    def __init__(self, argv: list[str], out: Path, err: Path) -> None:
        import subprocess

        with out.open("wb") as stdout, err.open("wb") as stderr:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ack_offline.cli", *argv],
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
    """In the forked process: stdout and stderr to the files, then the console script."""
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
    stacks = project.stacks()
    since = None
    if ns.since is not None:
        since = revisions.resolve(project.root, ns.since, "--since")
        depends_on = [
            *packs,
            *ns.policy_pack_config,
            *(Path(p) for p in ns.program_path),
            *(Path(r.partition("=")[2]) for r in ns.stack_reference),
        ]
        stacks, why = changed_stacks(project, since, depends_on)
        print(f"ack-fleet: since {since[:12]}: {why}", file=sys.stderr)
    # The judge's files as they are before any stack's program runs: each stack's ack-preview
    # checks them against these (ack_offline.integrity).
    from .integrity import ENVIRONMENT, digests

    os.environ[ENVIRONMENT] = json.dumps(digests(packs))
    extra: list[str] = []
    for config in ns.policy_pack_config:
        extra += ["--policy-pack-config", str(config.resolve())]
    for reference in ns.stack_reference:
        extra += ["--stack-reference", reference]
    if ns.program_python:
        extra += ["--program-python", ns.program_python]
    for path in ns.program_path:
        extra += ["--program-path", str(Path(path).resolve())]
    _GATING.set()
    modes = ["preview", "update"] if ns.mode == "both" else [ns.mode]
    runs = [(stack, mode) for stack in stacks for mode in modes]
    with ThreadPoolExecutor(max_workers=max(1, ns.workers)) as pool:
        rows = list(
            pool.map(lambda r: gate_one(project, r[0], packs, since, ns.timeout, extra, r[1]), runs)
        )
    worst = next((c for c in WORST_FIRST if any(r["exit"] == c for r in rows)), 0)
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
    print(f"ack-fleet: {len(rows)} stacks gated, exit {worst}")
    return worst


class _Stopped(Exception):
    pass


def console() -> None:
    """The ``ack-fleet`` console script: :func:`main`, and nothing it started left running
    (:mod:`ack_offline.reaper`). SIGTERM or SIGINT during a gate stops every stack's ack-preview
    (each stops its program and packs), marks the stacks not yet started as not judged, and
    still writes the report: exit 2. A second signal kills what is left at once."""
    reaper.become_subreaper()

    def stop(signum: int, _frame: object) -> None:
        if _STOPPING.is_set():
            for process in list(_LIVE):
                reaper.kill_tree(process.pid)
            return
        _STOPPING.set()
        for process in list(_LIVE):
            process.terminate()
        if not _GATING.is_set():
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
    a = sub.add_parser("allocate", help="free ranges for a new stack, as its stack file")
    a.add_argument("stack")
    a.add_argument("--region", required=True)
    a.add_argument("--zones", required=True, help="comma-separated zone IDs")
    a.add_argument("--kind", choices=sorted(CLUSTERS), default="managed")
    a.add_argument("--name", default=None, help="cluster name (default: the stack's)")
    a.add_argument("--domain", default=None, help="routing domain (default: every stack)")
    a.add_argument("--flannel", action="store_true", help="plan a Flannel pod range too")
    a.add_argument("--write", action="store_true", help="write Pulumi.STACK.yaml")
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
    g.add_argument("--timeout", type=float, default=600.0, help="per stack, seconds")
    g.add_argument(
        "--mode",
        choices=("preview", "update", "both"),
        default="both",
        help="judge each stack as a preview of a new stack (IDs unknown), as an update of a "
        "deployed one (IDs known: an ID typed in by hand, a resource an apply registers), or "
        "both (default)",
    )
    ns = parser.parse_args(argv)
    commands = {"check": check, "allocate": allocate_stack, "gate": gate}
    try:
        return commands[ns.command](ns)
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
        print(f"ack-fleet: {one_line(message)}", file=sys.stderr)


if __name__ == "__main__":
    console()
