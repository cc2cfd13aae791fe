"""Which provider SDK packages the type checker may skip: those no type-checked file uses.

pulumi-alicloud and pulumi-kubernetes import every service package for type checkers
(``if TYPE_CHECKING:`` in their ``__init__``), so a cold ``mypy`` spent most of its time on
about 170 packages this project never touches. pyproject.toml's ``[[tool.mypy.overrides]]``
skips exactly the unused ones (``follow_imports = "skip"``); every package a type-checked file
uses is still checked in full. tests/test_project.py holds the list to this computation:

    python -m tests.mypy_skips    # prints the module list pyproject.toml should hold
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: SDK -> the name programs here import it as.
SDKS = {"pulumi_alicloud": "alicloud", "pulumi_kubernetes": "k8s"}


def service_packages(sdk: str) -> set[str]:
    spec = importlib.util.find_spec(sdk)
    assert spec is not None and spec.origin is not None
    text = Path(spec.origin).read_text()
    return set(re.findall(rf"import {sdk}\.(\w+) as", text))


def _pyproject() -> str:
    return (ROOT / "pyproject.toml").read_text()


def checked_files() -> list[Path]:
    # Read with a pattern, not a TOML parser: tomllib is Python 3.11+, the project 3.10+.
    m = re.search(r"^\[tool\.mypy\]\n(?:.*\n)*?files = (\[.*\])", _pyproject(), re.M)
    assert m is not None, "pyproject.toml: no files = [...] under [tool.mypy]"
    files: list[Path] = []
    for entry in ast.literal_eval(m[1]):
        path = ROOT / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def used(sdk: str) -> set[str]:
    alias = SDKS[sdk]
    pattern = re.compile(
        rf"\b(?:{alias}|{sdk})\.(\w+)\b|from {sdk} import ([\w, ]+)|import {sdk}\.(\w+)"
    )
    found: set[str] = set()
    for file in checked_files():
        for m in pattern.finditer(file.read_text()):
            if m[2]:
                found |= {n.strip() for n in m[2].split(",")}
            else:
                found.add(m[1] or m[3])
    return found


def skippable() -> list[str]:
    """The module patterns pyproject.toml's skip override must list, sorted."""
    out = []
    for sdk in SDKS:
        for package in sorted(service_packages(sdk) - used(sdk)):
            out += [f"{sdk}.{package}", f"{sdk}.{package}.*"]
    return out


def configured() -> list[str]:
    """The modules of pyproject.toml's skip override (the one with follow_imports = "skip")."""
    m = re.search(
        r"^\[\[tool\.mypy\.overrides\]\]\n(?:#.*\n)*"
        r"module = (\[[^\]]*\])\nfollow_imports = \"skip\"",
        _pyproject(),
        re.M,
    )
    return list(ast.literal_eval(m[1])) if m else []


if __name__ == "__main__":
    print("module = [")
    for name in skippable():
        print(f'    "{name}",')
    print("]")
