"""The library's layout keeps its promises, read from the import statements themselves:

- planning and arguments are pure: no module they import, however indirectly, touches Pulumi;
- each cloud concept stands on its own: only `cluster` (which puts them together) and the entry
  points above it may import a concept's registering code, and no concept imports `cluster`;
- the library users import never imports the offline engine, except through its `testing`
  front.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from .conftest import ROOT

SOURCE = ROOT / "components"
LIBRARY = SOURCE / "ack_clusters"
CONCEPTS = ("network", "security", "identity", "node_pools", "ingress", "access")
PULUMI = ("pulumi", "pulumi_alicloud", "pulumi_kubernetes")


def module_name(file: Path) -> str:
    parts = file.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports_of(module: str) -> frozenset[str]:
    """Absolute names of the modules `module` imports (relative imports resolved)."""
    file = SOURCE / Path(*module.split("."))
    file = file / "__init__.py" if file.is_dir() else file.with_suffix(".py")
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from package import module` imports that module too.
            found |= {f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")}
    return frozenset(found)


def _is_module(name: str) -> bool:
    path = SOURCE / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def reachable(module: str) -> set[str]:
    """Every module `module` imports, following the project's own modules (and the packages
    whose `__init__` runs on the way) transitively; not the top-level packages' `__init__`,
    which are the public API and import everything."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in imports_of(current):
            chain = name.split(".")
            for i in range(1, len(chain) + 1):
                part = ".".join(chain[:i])
                if part in seen:
                    continue
                seen.add(part)
                ours = part.startswith(("ack_clusters.", "ack_offline."))
                if ours and _is_module(part):
                    todo.append(part)
    return seen


def pure_modules() -> list[str]:
    files = [LIBRARY / "validation.py", LIBRARY / "errors.py", LIBRARY / "naming.py"]
    files += sorted(LIBRARY.glob("*/args.py")) + sorted(LIBRARY.glob("*/plan.py"))
    return [module_name(f) for f in files]


def test_every_concept_has_a_room():
    for concept in CONCEPTS:
        assert (LIBRARY / concept / "component.py").is_file(), concept
    assert {m.split(".")[1] for m in pure_modules() if m.count(".") == 2} >= {
        "network",
        "security",
        "identity",
        "node_pools",
        "ingress",
        "cluster",
    }


@pytest.mark.parametrize("module", pure_modules())
def test_planning_and_arguments_never_touch_pulumi(module):
    touched = {m for m in reachable(module) if m.split(".")[0] in PULUMI}
    assert touched == set(), f"{module} reaches {sorted(touched)}"


@pytest.mark.parametrize("concept", CONCEPTS)
def test_concepts_never_reach_up_into_the_cluster(concept):
    for file in sorted((LIBRARY / concept).glob("*.py")):
        names = imports_of(module_name(file))
        assert not any(n.startswith("ack_clusters.cluster") for n in names), file


def test_concept_packages_are_light():
    for concept in (*CONCEPTS, "cluster"):
        assert imports_of(f"ack_clusters.{concept}") == frozenset(), concept


def test_the_library_reaches_the_engine_only_through_testing():
    for file in sorted(LIBRARY.rglob("*.py")):
        module = module_name(file)
        if module.startswith("ack_clusters.testing"):
            continue
        assert not any(n.startswith("ack_offline") for n in imports_of(module)), module


FORM_NAMES = {
    "ManagedCluster",
    "ServerlessCluster",
    "DedicatedCluster",
    "ManagedClusterArgs",
    "ServerlessClusterArgs",
    "DedicatedClusterArgs",
    "ManagedControlPlaneArgs",
    "WorkerNodesArgs",
}


def test_nothing_asks_which_form_it_serves():
    """Forms differ by data (ClusterForm, and what their arguments say), never by a type test."""
    for file in sorted(LIBRARY.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "isinstance",
                "issubclass",
            ):
                named = {
                    n.id for arg in node.args[1:] for n in ast.walk(arg) if isinstance(n, ast.Name)
                }
                assert not named & FORM_NAMES, f"{file}:{node.lineno}: {ast.unparse(node)}"
