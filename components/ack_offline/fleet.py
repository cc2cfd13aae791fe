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
import functools
import json
import os
import re
import sys
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

from . import integrity
from .project import Project, ProjectError, _load_yaml, find_project, load_stack_config
from .recorder import unsecure

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


def changed_stacks(project: Project, since: str) -> list[str]:
    """Stacks whose file changed since the git revision `since`; every stack when anything
    else changed (the program, the library, the pack) or git cannot tell."""
    import subprocess

    done = subprocess.run(
        ["git", "diff", "--name-only", since, "--", "."],
        cwd=project.root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise ProjectError(f"--since {since}: {done.stderr.strip() or 'git diff failed'}")
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=project.root, capture_output=True, text=True
    ).stdout.strip()
    files = [Path(top) / line for line in done.stdout.splitlines() if line]
    stack_files = {project.stack_file(s).resolve(): s for s in project.stacks()}
    if any(f.resolve() not in stack_files for f in files):
        return project.stacks()
    return sorted(stack_files[f.resolve()] for f in files if f.resolve() in stack_files)


def _existed(project: Project, stack: str, revision: str) -> bool:
    import subprocess

    path = project.stack_file(stack).resolve()
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=project.root, capture_output=True, text=True
    ).stdout.strip()
    relative = path.relative_to(Path(top).resolve()) if top else path
    done = subprocess.run(
        ["git", "cat-file", "-e", f"{revision}:{relative.as_posix()}"],
        cwd=project.root,
        capture_output=True,
    )
    return done.returncode == 0


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
    for pack in packs:
        argv += ["--policy-pack", str(pack)]
    if since is not None and _existed(project, stack, since):
        argv += ["--diff", since]  # a new stack has nothing to diff against
    start = time.perf_counter()
    code, out, err = run_ack_preview(argv, timeout)
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


def run_ack_preview(argv: list[str], timeout: float) -> tuple[int, str, str]:
    """``ack-preview ARGV`` in a process of its own, as the console script runs it: (exit
    code, stdout, stderr). The process is forked from a server that imported what every
    ack-preview imports, once per ack-fleet run, instead of being a new interpreter that imports
    it all again (0.3-0.5 s a stack); it then starts its program's process and its packs as
    ever. Past `timeout` it gets SIGTERM, on which ack-preview stops its program and packs:
    no verdict."""
    context = _fork_server()
    if context is None:
        return _ack_preview_interpreter(argv, timeout)
    import tempfile

    from .isolation import await_exit

    with tempfile.TemporaryDirectory(prefix="ack-fleet-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        process = context.Process(target=_ack_preview_forked, args=(argv, str(out), str(err)))
        process.start()
        if not await_exit(process, timeout):
            process.terminate()
            if not await_exit(process, 30):
                process.kill()
                await_exit(process, 30)
            return 2, "", f"no verdict within {timeout:g} s"
        return process.exitcode, out.read_text(), err.read_text()


def _ack_preview_forked(argv: list[str], out: str, err: str) -> None:
    """In the forked process: stdout and stderr to the files, then the console script."""
    for fd, path in ((1, out), (2, err)):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    from .cli import main

    main(argv)


def _ack_preview_interpreter(argv: list[str], timeout: float) -> tuple[int, str, str]:
    """The console script in a new interpreter, SIGTERM past `timeout` as above."""
    import subprocess

    command = [sys.executable, "-m", "ack_offline.cli", *argv]
    pipe = subprocess.PIPE
    with subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
            return 2, "", f"no verdict within {timeout:g} s"
    return process.returncode, out, err


def gate(ns: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    project = find_project((ns.program or Path.cwd()).resolve())
    stacks = changed_stacks(project, ns.since) if ns.since else project.stacks()
    packs = [p.resolve() for p in ns.policy_pack]
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
    modes = ["preview", "update"] if ns.mode == "both" else [ns.mode]
    runs = [(stack, mode) for stack in stacks for mode in modes]
    with ThreadPoolExecutor(max_workers=max(1, ns.workers)) as pool:
        rows = list(
            pool.map(
                lambda r: gate_one(project, r[0], packs, ns.since, ns.timeout, extra, r[1]), runs
            )
        )
    worst = next((c for c in WORST_FIRST if any(r["exit"] == c for r in rows)), 0)
    lines = [
        "| Stack | Mode | Exit | Resources | Mandatory | Advisory | Replacements | Seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        cells = [r["resources"], r["mandatory"], r["advisory"], r["replacements"]]
        shown = ["-" if c is None else str(c) for c in cells]
        lines.append(
            f"| {r['stack']} | {r['mode']} | {r['exit']} | {' | '.join(shown)} "
            f"| {r['seconds']:.2f} |"
        )
    print("\n".join(lines))
    for r in rows:
        where = f"{r['stack']} ({r['mode']})"
        if "error" in r:
            print(f"ack-fleet: {where}: {r['error']}", file=sys.stderr)
        for v in r.get("violations", []):
            print(f"ack-fleet: {where}: [{v['policy']}] {v['urn']}", file=sys.stderr)
    if ns.json:
        ns.json.write_text(
            json.dumps({"stacks": rows, "exit": worst, "since": ns.since}, indent=2) + "\n"
        )
    print(f"ack-fleet: {len(rows)} stacks gated, exit {worst}")
    return worst


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
        print(f"ack-fleet: {unsecure(str(exc))}", file=sys.stderr)
        return EXIT_BROKEN


if __name__ == "__main__":
    sys.exit(main())
