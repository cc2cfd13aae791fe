"""A Pulumi project as the engine reads it: `Pulumi.yaml`, stack files and their config, and
running the project's program under the fake cloud.

Stack files are read the way the Pulumi CLI reads them, with one difference made on purpose:
duplicate keys are refused instead of silently keeping the last.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import re
import runpy
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from . import files
from .fake_cloud import FakeAlibabaCloud

# The placeholder of `secure:` values is the recorder's, which shows it as [secret].
from .recorder import SECURE_PLACEHOLDER as SECURE_PLACEHOLDER
from .recorder import ProgramRun, run_program


class ProjectError(Exception):
    """The program, its project file or its stack config cannot be run."""


#: The project file's extensions in the order the Pulumi CLI looks for them in a folder
#: (sdk/go/common/encoding/marshal.go `Exts`, workspace/paths.go `findProjectInDir`); a stack
#: file has its project file's (paths.go `ProjectStackPath`: ``Pulumi.<stack><ext>``).
PROJECT_EXTS = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class Project:
    name: str
    root: Path
    main: Path
    stack_config_dir: Path
    #: The project file's extension, which its stack files share.
    ext: str = ".yaml"

    @property
    def project_file(self) -> Path:
        return self.root / f"Pulumi{self.ext}"

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}{self.ext}"

    def stacks(self) -> list[str]:
        return sorted(
            p.name[len("Pulumi.") : -len(self.ext)]
            for p in self.stack_config_dir.glob(f"Pulumi.*{self.ext}")
        )


#: A project or stack file larger than this is refused (the largest real one is a few KiB).
MAX_FILE_BYTES = files.MAX_FILE_BYTES
#: Nodes a YAML document may hold once its aliases are expanded: a few hundred bytes of nested
#: aliases ("billion laughs") expand to billions of nodes and exhaust memory.
MAX_EXPANDED_NODES = 100_000


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys (plain YAML keeps the last, so a second node pool
    with the same name would silently replace the first) and keeps YAML merge keys (`<<`),
    whose merged entries a mapping's own keys may override, as YAML defines."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:
                continue  # an unhashable key: the base constructor explains that
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


# Booleans as the Pulumi CLI reads them (Go's YAML 1.2 parser): true and false only. PyYAML's
# YAML 1.1 also takes yes/no/on/off (a key named `on`, a value `no`) for booleans, which the
# engine would hand the program as the text it is.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _expanded_size(node: yaml.Node, counted: dict[int, int], path: set[int]) -> int:
    """How many nodes `node` stands for once aliases are expanded (each shared node is counted
    once per use, computed once)."""
    if id(node) in counted:
        return counted[id(node)]
    if id(node) in path:
        raise ProjectError("a YAML alias refers to a node that contains it (a recursive alias)")
    path.add(id(node))
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    size = 1
    for child in children:
        size += _expanded_size(child, counted, path)
        if size > MAX_EXPANDED_NODES:
            break
    path.discard(id(node))
    counted[id(node)] = size
    return size


def _load_yaml(file: Path) -> Any:
    """One YAML document, parsed safely; every error names the file."""
    try:
        text = files.read_text(file, MAX_FILE_BYTES)
    except files.UnreadableFile as exc:
        raise ProjectError(f"{file} cannot be read: {exc}") from None
    loader = _StrictLoader(text)
    loader.name = str(file)  # so that parse errors name the file
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            size = _expanded_size(node, {}, set())
        except RecursionError:
            raise ProjectError(f"{file} is nested too deeply") from None
        except ProjectError as exc:
            raise ProjectError(f"{file}: {exc}") from None
        if size > MAX_EXPANDED_NODES:
            raise ProjectError(
                f"{file} expands to more than {MAX_EXPANDED_NODES:,} values through its YAML "
                "aliases; write the values out, or use fewer nested aliases"
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ProjectError(f"{file} is not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def _load_document(file: Path) -> Any:
    """A project or stack file as the Pulumi CLI reads it by its extension
    (sdk/go/common/encoding: ``.json`` with a JSON parser, ``.yaml``/``.yml`` with YAML), with
    this engine's strictness (size, nesting, duplicate keys refused)."""
    if file.suffix != ".json":
        return _load_yaml(file)
    try:
        return json.loads(
            files.read_text(file, MAX_FILE_BYTES), object_pairs_hook=files.unique_keys
        )
    except files.UnreadableFile as exc:
        raise ProjectError(f"{file} cannot be read: {exc}") from None
    except files.DuplicateKey as exc:
        raise ProjectError(f"{file}: duplicate key {exc.key!r}") from None
    except RecursionError:
        raise ProjectError(f"{file} is nested too deeply") from None
    except ValueError as exc:
        raise ProjectError(f"{file} is not valid JSON: {exc}") from None


def project_file_in(folder: Path) -> Path | None:
    """The project file of `folder` as the Pulumi CLI picks it (:data:`PROJECT_EXTS`)."""
    for ext in PROJECT_EXTS:
        if (folder / f"Pulumi{ext}").is_file():
            return folder / f"Pulumi{ext}"
    return None


def find_project(start: Path) -> Project:
    for folder in [start, *start.parents]:
        found = project_file_in(folder)
        if found is not None:
            file = found
            break
    else:
        raise ProjectError(
            f"no Pulumi.yaml (nor Pulumi.yml, Pulumi.json) in {start} or any folder above it"
        )
    meta = _load_document(file) or {}
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
        ext=file.suffix,
    )


def load_stack_config(
    project: Project, stack: str, file: Path | None = None
) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as the engine hands it to a program: namespaced keys, string
    values (objects as JSON), plus the keys that hold secrets. `file` reads another copy of
    the stack file (an older revision, say) instead of the project's."""
    file = file or project.stack_file(stack)
    if not file.is_file():
        known = ", ".join(project.stacks()) or "none"
        raise ProjectError(f"no stack config {file} (stacks found: {known})")
    doc = _load_document(file) or {}
    raw = doc.get("config", {}) if isinstance(doc, dict) else None
    if not isinstance(raw, dict):
        raise ProjectError(f"{file}: 'config' must be a mapping")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        if not isinstance(key, str):
            raise ProjectError(f"{file}: config key {key!r} must be a string")
        full = key if ":" in key else f"{project.name}:{key}"
        namespace, _, name = full.partition(":")
        accepted = provider_config_keys(namespace)
        if accepted and name not in accepted:
            close = difflib.get_close_matches(name, sorted(accepted), n=1)
            hint = f"; did you mean {namespace}:{close[0]}?" if close else ""
            raise ProjectError(
                f"{file}: {full} is not a configuration key of the {namespace} provider, which "
                f"refuses unknown keys{hint}"
            )
        plain, secret = _desecure(value)
        if secret:
            secret_keys.append(full)
        config[full] = plain if isinstance(plain, str) else json.dumps(plain)
    return config, secret_keys


@cache
def provider_config_keys(namespace: str) -> frozenset[str] | None:
    """The configuration keys a provider accepts, read from its installed Python SDK (its
    generated `config/vars.py`; read as text, so no provider module is executed), or None when
    the namespace is not an installed provider's."""
    spec = importlib.util.find_spec(f"pulumi_{namespace.replace('-', '_')}")
    if spec is None or not spec.submodule_search_locations:
        return None
    vars_file = Path(next(iter(spec.submodule_search_locations))) / "config" / "vars.py"
    if not vars_file.is_file():
        return None
    return frozenset(re.findall(r"__config__\.get\w*\('(\w+)'\)", vars_file.read_text()))


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
    # A boolean stays one: inside an object the engine hands the program JSON with its types
    # (`{"on": true}`), and a top-level one becomes the text "true" through json.dumps below, as
    # every top-level value reaches a program as a string.
    return value, False


def run_stack(project: Project, stack: str, *, preview: bool) -> ProgramRun:
    config, secret_keys = load_stack_config(project, stack)
    return run_project(project, stack, config, secret_keys, preview=preview)


def run_project(
    project: Project,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    *,
    preview: bool,
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
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
            mock=FakeAlibabaCloud(preview=preview, stack_references=stack_references),
            project=project.name,
            stack=stack,
            preview=preview,
            config=config,
            secret_keys=secret_keys,
        )
    finally:
        os.chdir(cwd)
        sys.path.remove(program_dir)


def run_project_served(
    project: Project,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    *,
    preview: bool,
    monitor: Any,
    engine: Any,
) -> None:
    """Run the project's program as the Python language host runs it, its Pulumi SDK calling
    `monitor` and `engine` (which the gate's process serves: ack_offline.served)."""
    import asyncio

    from pulumi.runtime import settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_in_stack

    from .recorder import InProcessCallbacks
    from .speed import no_stack_traces, outputs_awaited_together

    entry = project.main / "__main__.py" if project.main.is_dir() else project.main
    if not entry.is_file():
        raise ProjectError(f"program {entry} does not exist (see 'main' in Pulumi.yaml)")
    loop = asyncio.get_event_loop()
    settings.configure(
        settings.Settings(
            project=project.name,
            stack=stack,
            monitor=monitor,
            engine=engine,
            parallel=os.cpu_count() or 1,
            dry_run=preview,
            organization="organization",
            root_directory=str(project.root),
        )
    )
    # The gate calls the program's transforms in this process, over the same pipe.
    settings.SETTINGS.callbacks = InProcessCallbacks(monitor, loop)
    set_all_config(dict(config), list(secret_keys))
    sys.path.insert(0, str(entry.parent))
    os.chdir(entry.parent)  # the language host runs programs from their own folder

    def program() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    from .fake_cloud import plain_invokes_explained

    with no_stack_traces(), outputs_awaited_together(), plain_invokes_explained():
        loop.run_until_complete(run_in_stack(program))
