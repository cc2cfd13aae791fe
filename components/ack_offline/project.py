"""A Pulumi project as the engine reads it: `Pulumi.yaml`, stack files and their config, and
running the project's program under the fake cloud.

Stack files are read the way the Pulumi CLI reads them, with one difference made on purpose:
duplicate keys are refused instead of silently keeping the last.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .fake_cloud import FakeAlibabaCloud
from .recorder import ProgramRun, run_program

#: Stands in for `secure:` config values, which only the Pulumi CLI can decrypt. It satisfies
#: Alibaba's password rules so programs validate as they would with the real value.
SECURE_PLACEHOLDER = "Offline-Secret-0"


class ProjectError(Exception):
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
        raise ProjectError(f"{file} is not valid YAML: {exc}") from None


def find_project(start: Path) -> Project:
    for folder in [start, *start.parents]:
        file = folder / "Pulumi.yaml"
        if file.is_file():
            break
    else:
        raise ProjectError(f"no Pulumi.yaml in {start} or any folder above it")
    meta = _load_yaml(file) or {}
    if not isinstance(meta, dict) or not meta.get("name"):
        raise ProjectError(f"{file} has no project name")
    runtime = meta.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectError(f"{file}: runtime is {runtime_name!r}; ack-preview runs Python programs")
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
        raise ProjectError(f"no stack config {file} (stacks found: {known})")
    doc = _load_yaml(file) or {}
    raw = doc.get("config", {}) if isinstance(doc, dict) else None
    if not isinstance(raw, dict):
        raise ProjectError(f"{file}: 'config' must be a mapping")
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
    return run_project(project, stack, config, secret_keys, preview=preview)


def run_project(
    project: Project, stack: str, config: dict[str, str], secret_keys: list[str], *, preview: bool
) -> ProgramRun:
    entry = project.main / "__main__.py" if project.main.is_dir() else project.main
    if not entry.is_file():
        raise ProjectError(f"program {entry} does not exist (see 'main' in Pulumi.yaml)")
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
