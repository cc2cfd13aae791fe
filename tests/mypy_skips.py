"""Which parts of the provider SDKs the type checker may skip: what no type-checked file uses.

pulumi-alicloud and pulumi-kubernetes import every service package for type checkers
(``if TYPE_CHECKING:`` in their ``__init__``), and each pulumi-alicloud package imports every
module it has, so a cold ``mypy`` spent most of its time on code this project never touches.
pyproject.toml's ``[[tool.mypy.overrides]]`` skip (``follow_imports = "skip"``) the unused
service packages whole and, of each pulumi-alicloud package the code uses, every module but
those it needs, which a second override names (``follow_imports = "normal"``; an exact name
wins over a pattern): the package itself, its nested input and output types, and each module
defining a name a checked file uses. A type the code uses is checked in full.
tests/test_project.py holds both lists to this computation:

    python -m tests.mypy_skips    # prints the two module lists pyproject.toml should hold
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tokenize
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


#: The SDK whose used packages are checked module by module. pulumi-kubernetes is checked by
#: package: the code uses two of its packages, whose input and output types are most of them.
BY_MODULE = "pulumi_alicloud"


def names_used(sdk: str = BY_MODULE) -> dict[str, set[str]]:
    """Per service package, the names checked files use from it (``alicloud.ecs.Instance``).

    Read from the code's tokens (not its strings or comments). Only that spelling can be
    followed to a module, so any other use of a package (``from pulumi_alicloud import ecs``,
    ``ecs = alicloud.ecs``) is refused rather than silently not counted."""
    alias = SDKS[sdk]
    packages = service_packages(sdk)
    found: dict[str, set[str]] = {}
    for file in checked_files():
        with file.open("rb") as f:
            tokens = [
                t for t in tokenize.tokenize(f.readline) if t.type in (tokenize.NAME, tokenize.OP)
            ]
        code = [t.string for t in tokens]
        for i, token in enumerate(code):
            if token == sdk and i and code[i - 1] in ("import", "from"):
                other = code[i + 1] != "as"  # `import pulumi_alicloud as alicloud` is the way
            elif token in (alias, sdk) and code[i + 1 : i + 2] == ["."]:
                if code[i + 2] not in packages:
                    continue  # a name of the top level, such as the Provider class
                other = code[i + 3 : i + 4] != ["."]
                if not other:
                    found.setdefault(code[i + 2], set()).add(code[i + 4])
            else:
                continue
            if other:
                where = f"{file.relative_to(ROOT)}:{tokens[i].start[0]}"
                raise ValueError(
                    f"{where}: {tokens[i].line.strip()!r}: use the SDK as {alias}.<package>."
                    "<Name>, the spelling tests/mypy_skips.py follows to the module to check"
                )
    return found


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(f"{BY_MODULE}.{package}")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def _defining_modules(package: str) -> dict[str, str]:
    """Name -> the module of ``package`` that gives the package that name: a module its
    ``__init__`` star-imports, in that order (a later one wins), whose ``__all__`` has it."""
    init = _package_dir(package) / "__init__.py"
    where: dict[str, str] = {}
    for stem in re.findall(r"^from \.(\w+) import \*$", init.read_text(), re.M):
        m = re.search(
            r"^__all__ = (\[.*?\])", (init.parent / f"{stem}.py").read_text(), re.M | re.S
        )
        for name in ast.literal_eval(m[1]) if m else []:
            where[name] = stem
    return where


def installed(module: str) -> bool:
    """Whether the installed BY_MODULE has ``module`` (a service package or a module of one)."""
    sdk, package, *rest = [*module.split("."), ""]
    if sdk != BY_MODULE or package not in service_packages(sdk):
        return False
    return not rest[0] or (_package_dir(package) / f"{rest[0]}.py").is_file()


def followed() -> list[str]:
    """The modules pyproject.toml's follow override must list, sorted: of each used package of
    BY_MODULE, the package, its ``_inputs`` and ``outputs`` and each module defining a name a
    checked file uses."""
    out = []
    names = names_used()
    for package in sorted(used(BY_MODULE) & service_packages(BY_MODULE)):
        where = _defining_modules(package)
        unknown = names.get(package, set()) - where.keys()
        if unknown:
            raise LookupError(f"{BY_MODULE}.{package} has no module exporting {sorted(unknown)}")
        modules = {"_inputs", "outputs"} & {p.stem for p in _package_dir(package).glob("*.py")}
        modules |= {where[name] for name in names.get(package, set())}
        out += [f"{BY_MODULE}.{package}"] + [f"{BY_MODULE}.{package}.{m}" for m in sorted(modules)]
    return out


def skippable() -> list[str]:
    """The module patterns pyproject.toml's skip override must list, sorted: each unused
    service package whole, and the modules of each used package of BY_MODULE."""
    out = []
    for sdk in SDKS:
        in_use = used(sdk)
        for package in sorted(service_packages(sdk)):
            if package not in in_use:
                out += [f"{sdk}.{package}", f"{sdk}.{package}.*"]
            elif sdk == BY_MODULE:
                out.append(f"{sdk}.{package}.*")
    return out


def _override(follow_imports: str) -> list[str]:
    m = re.search(
        r"^\[\[tool\.mypy\.overrides\]\]\n(?:#.*\n)*"
        rf"module = (\[[^\]]*\])\nfollow_imports = \"{follow_imports}\"",
        _pyproject(),
        re.M,
    )
    return list(ast.literal_eval(m[1])) if m else []


def configured() -> list[str]:
    """The modules of pyproject.toml's skip override (the one with follow_imports = "skip")."""
    return _override("skip")


def configured_followed() -> list[str]:
    """The modules of pyproject.toml's follow override (follow_imports = "normal")."""
    return _override("normal")


def _print(names: list[str]) -> None:
    print("module = [")
    for name in names:
        print(f'    "{name}",')
    print("]")


if __name__ == "__main__":
    print('# the skip override (follow_imports = "skip")')
    _print(skippable())
    print('# the follow override (follow_imports = "normal")')
    _print(followed())
