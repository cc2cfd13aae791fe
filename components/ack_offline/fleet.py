"""``ack-fleet``: one address plan across every stack of a project.

    ack-fleet check [--fleet FILE] [--markdown FILE]   # exit 1 when two stacks overlap
    ack-fleet allocate STACK --region R --zones Z1,Z2 [--kind managed] [--flannel] [--write]

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
import ipaddress
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ack_clusters.cluster.args import BaseClusterArgs
from ack_clusters.cluster.forms import CLUSTERS
from ack_clusters.errors import InvalidArguments
from ack_clusters.fleet.plan import UsedRange, allocate, domains_of, overlaps, ranges_of
from ack_clusters.validation import NAME_PATTERN, zone_region

from .project import Project, ProjectError, _load_yaml, find_project, load_stack_config

EXIT_OK, EXIT_OVERLAPS, EXIT_BROKEN = 0, 1, 2


def stack_cluster(project: Project, stack: str) -> BaseClusterArgs:
    """A stack's cluster arguments, validated as the stack program validates them."""
    config, _ = load_stack_config(project, stack)
    key = f"{project.name}:cluster"
    if key not in config:
        raise ProjectError(f"{project.stack_file(stack)}: {key} is not set")
    raw: Any = json.loads(config[key])
    if not isinstance(raw, dict) or raw.get("kind") not in CLUSTERS:
        raise ProjectError(
            f"{project.stack_file(stack)}: {key}.kind must be one of {sorted(CLUSTERS)}"
        )
    body = {k: v for k, v in raw.items() if k not in ("kind", "name")}
    model = CLUSTERS[raw["kind"]]._form.args_model
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidArguments.from_validation_error(
            f"stack config ({project.stack_file(stack).name})", exc, prefix=key
        ) from None


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
    import re

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


def main(argv: Sequence[str] | None = None) -> int:
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
    ns = parser.parse_args(argv)
    try:
        return check(ns) if ns.command == "check" else allocate_stack(ns)
    except (ProjectError, InvalidArguments, ValueError) as exc:
        print(f"ack-fleet: {exc}", file=sys.stderr)
        return EXIT_BROKEN


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ipaddress", "main"]
