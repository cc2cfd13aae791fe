"""``ack-preview``: run a Pulumi Python program under the fake Alibaba Cloud and show what
``pulumi preview`` would create, on a machine with no Pulumi CLI and no cloud account.

    ack-preview STACK [--program DIR] [--json] [--mode preview|update]

Exit codes: 0 the program ran; 2 the program, its Pulumi.yaml or the stack config is broken.
(1 is kept for policy violations once a policy pack is attached.)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import runpy
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ack_clusters.errors import InvalidArguments

from .fake_cloud import FakeAlibabaCloud
from .gate import GateError, StackContext, StartedPacks, Violation, analyze_with
from .recorder import ProgramRun, run_program

#: Stands in for `secure:` config values, which only the Pulumi CLI can decrypt. It satisfies
#: Alibaba's password rules so programs validate as they would with the real value.
SECURE_PLACEHOLDER = "Offline-Secret-0"

EXIT_OK, EXIT_VIOLATIONS, EXIT_BROKEN = 0, 1, 2


class PreviewError(Exception):
    """The program, its project file or its stack config cannot be run."""


@dataclass(frozen=True)
class Project:
    name: str
    root: Path
    main: Path
    stack_config_dir: Path

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        return sorted(
            p.name[len("Pulumi.") : -len(".yaml")]
            for p in self.stack_config_dir.glob("Pulumi.*.yaml")
        )


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses duplicate keys: plain YAML keeps the last, so a second node pool with
    the same name would silently replace the first."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _load_yaml(file: Path) -> Any:
    try:
        with file.open() as stream:  # a stream, so errors name the file
            return yaml.load(stream, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PreviewError(f"{file} is not valid YAML: {exc}") from None


def find_project(start: Path) -> Project:
    for folder in [start, *start.parents]:
        file = folder / "Pulumi.yaml"
        if file.is_file():
            break
    else:
        raise PreviewError(f"no Pulumi.yaml in {start} or any folder above it")
    meta = _load_yaml(file) or {}
    if not isinstance(meta, dict) or not meta.get("name"):
        raise PreviewError(f"{file} has no project name")
    runtime = meta.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise PreviewError(f"{file}: runtime is {runtime_name!r}; ack-preview runs Python programs")
    return Project(
        name=str(meta["name"]),
        root=folder,
        main=(folder / str(meta.get("main", "."))).resolve(),
        stack_config_dir=(folder / str(meta.get("stackConfigDir", "."))).resolve(),
    )


def load_stack_config(project: Project, stack: str) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as the engine hands it to a program: namespaced keys, string
    values (objects as JSON), plus the keys that hold secrets."""
    file = project.stack_file(stack)
    if not file.is_file():
        known = ", ".join(project.stacks()) or "none"
        raise PreviewError(f"no stack config {file} (stacks found: {known})")
    doc = _load_yaml(file) or {}
    raw = doc.get("config", {}) if isinstance(doc, dict) else None
    if not isinstance(raw, dict):
        raise PreviewError(f"{file}: 'config' must be a mapping")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full = key if ":" in key else f"{project.name}:{key}"
        plain, secret = _desecure(value)
        if secret:
            secret_keys.append(full)
        config[full] = plain if isinstance(plain, str) else json.dumps(plain)
    return config, secret_keys


def _desecure(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ...}` values (encrypted by the CLI) with a placeholder."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECURE_PLACEHOLDER, True
        out, any_secret = {}, False
        for k, v in value.items():
            out[k], s = _desecure(v)
            any_secret |= s
        return out, any_secret
    if isinstance(value, list):
        pairs = [_desecure(v) for v in value]
        return [p for p, _ in pairs], any(s for _, s in pairs)
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    return value, False


def run_stack(project: Project, stack: str, *, preview: bool) -> ProgramRun:
    config, secret_keys = load_stack_config(project, stack)
    return _run_program(project, stack, config, secret_keys, preview=preview)


def _run_program(
    project: Project, stack: str, config: dict[str, str], secret_keys: list[str], *, preview: bool
) -> ProgramRun:
    entry = project.main / "__main__.py" if project.main.is_dir() else project.main
    if not entry.is_file():
        raise PreviewError(f"program {entry} does not exist (see 'main' in Pulumi.yaml)")
    program_dir = str(entry.parent)

    def program() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    sys.path.insert(0, program_dir)
    cwd = os.getcwd()
    os.chdir(program_dir)  # the language host runs programs from their own folder
    try:
        return run_program(
            program,
            mock=FakeAlibabaCloud(preview=preview),
            project=project.name,
            stack=stack,
            preview=preview,
            config=config,
            secret_keys=secret_keys,
        )
    finally:
        os.chdir(cwd)
        sys.path.remove(program_dir)


def to_json(
    run: ProgramRun, *, stack: str, mode: str, violations: Sequence[Violation] = ()
) -> dict[str, Any]:
    return {
        "stack": stack,
        "mode": mode,
        # Registration order depends on thread timing; URN order is stable across runs.
        "resources": [r.to_json() for r in sorted(run.resources, key=lambda r: r.urn)],
        "outputs": run.stack_outputs,
        "violations": [v.to_json() for v in violations],
        "summary": {
            "resources": len(run.resources),
            "by_type": dict(sorted(Counter(r.type for r in run.resources).items())),
            "invokes": len(run.invokes),
            "mandatory": sum(v.enforcement == "mandatory" for v in violations),
            "advisory": sum(v.enforcement == "advisory" for v in violations),
        },
    }


def render_tree(run: ProgramRun, *, project: str, stack: str, mode: str) -> str:
    children: dict[str, list[Any]] = {}
    for r in run.resources:
        children.setdefault(r.parent, []).append(r)
    stack_urn = next(iter(children.keys() - {r.urn for r in run.resources}), "")
    verb = "would create" if mode == "preview" else "created (simulated update)"
    lines = [f"Stack {project}-{stack}: {len(run.resources)} resources {verb}, offline", ""]
    lines.append(f"+ pulumi:pulumi:Stack  {project}-{stack}")

    def walk(parent: str, indent: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name))
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            flags = " [protect]" if r.protect else ""
            flags += f" [import {r.import_id}]" if r.import_id else ""
            flags += f" [ignore: {', '.join(r.ignore_changes)}]" if r.ignore_changes else ""
            lines.append(f"+ {indent}{'└─ ' if last else '├─ '}{r.type}  {r.name}{flags}")
            walk(r.urn, indent + ("   " if last else "│  "))

    walk(stack_urn, "")
    if run.stack_outputs:
        lines += ["", "Outputs:"]
        for key, value in sorted(run.stack_outputs.items()):
            shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            lines.append(f"    {key}: {shown}")
    counts = Counter(r.type for r in run.resources)
    lines += ["", "Resources by type:"]
    lines += [f"    {n:>3} {t}" for t, n in sorted(counts.items())]
    return "\n".join(lines)


def render_violations(violations: Sequence[Violation]) -> str:
    if not violations:
        return "Policy packs: no violations."
    lines = ["Policy violations:"]
    order = {"mandatory": 0, "advisory": 1}
    for v in sorted(violations, key=lambda v: (order.get(v.enforcement, 2), v.policy, v.urn)):
        lines.append(f"    [{v.enforcement}] {v.pack}/{v.policy}")
        lines.append(f"        {v.urn or '(stack)'}")
        lines += [f"        {line}" for line in v.message.splitlines()]
    mandatory = sum(v.enforcement == "mandatory" for v in violations)
    lines.append(f"{mandatory} mandatory, {len(violations) - mandatory} other.")
    return "\n".join(lines)


def _load_pack_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PreviewError(f"policy config {path}: {exc}") from None
    if not isinstance(data, dict):
        raise PreviewError(f"policy config {path} must be a JSON object")
    return data


def _stack_tags(values: Sequence[str]) -> dict[str, str]:
    tags = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PreviewError(f"--stack-tag {item!r} must look like KEY=VALUE")
        tags[key] = value
    return tags


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ack-preview",
        description="Show what `pulumi preview` would do for a stack, offline, under a fake "
        "Alibaba Cloud.",
    )
    parser.add_argument("stack", help="stack name (its config is Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--program",
        type=Path,
        default=None,
        help="project folder (default: the project containing the current folder)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--mode",
        choices=("preview", "update"),
        default="preview",
        help="preview: IDs and computed values unknown; update: the fake cloud fills them",
    )
    parser.add_argument(
        "--policy-pack",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="run this policy pack over the stack, as `pulumi preview --policy-pack` does "
        "(repeatable)",
    )
    parser.add_argument(
        "--policy-pack-config",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="JSON policy config for the policy pack at the same position (repeatable)",
    )
    parser.add_argument(
        "--stack-tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack tag the policy packs see (repeatable), e.g. environment=prod",
    )
    ns = parser.parse_args(argv)
    preview = ns.mode == "preview"
    # Program warnings (pulumi.log.warn) reach the mock engine's logger; show them as the CLI
    # would, on stderr with their level.
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING, force=True)
    try:
        if len(ns.policy_pack_config) > len(ns.policy_pack):
            raise PreviewError("more --policy-pack-config files than --policy-pack folders")
        pack_configs = [_load_pack_config(p) for p in ns.policy_pack_config]
        tags = _stack_tags(ns.stack_tag)
        project = find_project((ns.program or Path.cwd()).resolve())
        config, secret_keys = load_stack_config(project, ns.stack)
        context = StackContext(project.name, ns.stack, preview, config, tags)
        # Packs start while the program runs, as the engine starts them with the deployment.
        with StartedPacks(ns.policy_pack, context) as packs:
            run = _run_program(project, ns.stack, config, secret_keys, preview=preview)
            violations: list[Violation] = []
            if ns.policy_pack:
                violations = analyze_with(packs.wait(), run, context, pack_configs)
    except (PreviewError, InvalidArguments, GateError) as exc:
        print(f"ack-preview: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    except Exception as exc:  # any failure of the user's program is reported, not raised
        print(f"ack-preview: the program failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    if ns.json:
        doc = to_json(run, stack=ns.stack, mode=ns.mode, violations=violations)
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        print(render_tree(run, project=project.name, stack=ns.stack, mode=ns.mode))
        if ns.policy_pack:
            print()
            print(render_violations(violations))
    if any(v.enforcement == "mandatory" for v in violations):
        return EXIT_VIOLATIONS
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
