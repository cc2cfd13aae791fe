"""``ack-policy-pack DIR``: write a self-contained policy pack that installs anywhere.

A pip-installed library has no `policies/` folder to point `pulumi preview --policy-pack` at;
this writes one, ready for `pulumi preview --policy-pack DIR` and `pulumi policy publish`:

- the pack's PulumiPolicy.yaml and entry point (the same files as `policies/` in the
  repository);
- the rules themselves, `ack_policies/`, copied from this installation (every module of the
  package but this command): the Pulumi CLI runs a pack with ``python -m pulumi.policy ADDRESS
  DIR``, and the SDK runs DIR with ``runpy.run_path`` (pulumi/policy/__main__.py), which puts DIR
  first on ``sys.path``, so the pack imports its own copy;
- a requirements.txt naming only public packages (pulumi-policy, pulumi, PyYAML, within the
  bounds this release is tested at), so the virtualenv the CLI makes from it (locally, or on
  every machine that runs a published pack) installs from any index, with no copy of this
  project on it;
- a .gitignore: `pulumi policy publish` archives the folder but for what .gitignore names
  (pulumi/pulumi#4644), so the pack's virtualenv and bytecode stay out of the published pack
  (a user's .gitignore is merged: the lines it lacks are added).

`ack_policies/` is this command's folder: it holds exactly the rules this release ships
(anything else is refused, or with ``--replace`` removed); other files in DIR are the user's.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib import metadata, resources
from pathlib import Path

from packaging.requirements import Requirement

DISTRIBUTION = "pulumi-ack-clusters"
#: The pack's own files, from `pack/` (the repository's `policies/` holds the same).
FILES = ("PulumiPolicy.yaml", "__main__.py")
#: The folder the rules are copied to, inside the pack (the import name `__main__.py` uses).
RULES = "ack_policies"
#: What the rules import beyond the standard library: pulumi-policy's server (and through it
#: pulumi, grpc and protobuf) and PyYAML (drift.py reads YAML texts). The versions are the
#: distribution's own bounds, read from its metadata, so the pack is held to what was tested.
RUNTIME = ("pulumi-policy", "pulumi", "pyyaml")
GITIGNORE = "venv/\n.venv/\n__pycache__/\n*.pyc\n"


def one_line(text: object) -> str:
    """`text` on one line: control characters shown as escapes (as ack_offline/text.py does;
    this package does not import the engine)."""
    return "".join(
        c.encode("unicode_escape").decode("ascii") if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c
        for c in str(text)
    )


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def requirements() -> str:
    """requirements.txt of a written pack: each runtime requirement with the bounds this
    installed release declares (the `policy` extra's pulumi-policy pin among them)."""
    try:
        version = metadata.version(DISTRIBUTION)
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        raise RuntimeError(
            f"{DISTRIBUTION} is not installed (pip install '{DISTRIBUTION}[policy]'): its "
            "metadata names the versions the pack's requirements.txt pins"
        ) from None
    found: dict[str, str] = {}
    for text in declared:
        req = Requirement(text)
        name = _canonical(req.name)
        if name in RUNTIME and name not in found:
            found[name] = f"{req.name}{req.specifier}"
    missing = [name for name in RUNTIME if name not in found]
    if missing:
        raise RuntimeError(f"{DISTRIBUTION} {version} declares no requirement on {missing}")
    lines = [
        f"# Written by ack-policy-pack ({DISTRIBUTION} {version}). The rules are in ack_policies/",
        "# next to this file: these are public packages only, installable from any index.",
        *(found[name] for name in RUNTIME),
    ]
    return "\n".join(lines) + "\n"


def rule_files() -> dict[str, str]:
    """The rule modules, by their path inside the pack: every module of this package but the
    command that writes the pack."""
    package = resources.files(__package__)
    found = {
        f"{RULES}/{entry.name}": entry.read_text(encoding="utf-8")
        for entry in package.iterdir()
        if entry.name.endswith(".py") and entry.name != "install.py"
    }
    assert f"{RULES}/__init__.py" in found, "the rules' package has no __init__.py"
    return dict(sorted(found.items()))


def pack_files() -> dict[str, str]:
    """Every file of the pack, by its path inside the pack folder."""
    source = resources.files(__package__).joinpath("pack")
    files = {name: source.joinpath(name).read_text(encoding="utf-8") for name in FILES}
    files["requirements.txt"] = requirements()
    files[".gitignore"] = GITIGNORE
    files.update(rule_files())
    return files


def merged_gitignore(existing: str) -> str:
    """`existing` (a user's .gitignore) with each line of :data:`GITIGNORE` it lacks added at
    its end: the user's lines stay as they are."""
    have = {line.strip() for line in existing.splitlines()}
    missing = [line for line in GITIGNORE.splitlines() if line not in have]
    if not missing:
        return existing
    sep = "" if not existing or existing.endswith("\n") else "\n"
    return existing + sep + "\n".join(missing) + "\n"


def _remove(path: Path) -> None:
    """Remove `path`, a link as a link (never what it points to), a folder with all it holds."""
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


def write_pack(target: Path, *, replace: bool = False) -> tuple[list[Path], list[Path]]:
    """Write the pack into `target` (created if missing); (written, removed).

    The rules folder, ``ack_policies/``, is this command's: it must hold exactly the modules
    this release ships, since anything else in it can change what the pack imports (a
    ``drift/`` package or a ``drift.*.so`` is imported before ``drift.py``, a ``drift.pyc``
    without its source is imported too: importlib's FileFinder). So anything else in it (an
    older release's module, a subpackage, a stray file, a link) is refused, and with `replace`
    removed. Its ``__pycache__`` (bytecode Python writes when the pack runs) is always removed.
    A file of the pack that exists with other contents (or as a link) is refused, unless
    `replace`. A user's .gitignore is merged (the pack's lines added), never overwritten; any
    other file of the folder is the user's and left alone."""
    files = pack_files()
    gitignore = files.pop(".gitignore")
    target.mkdir(parents=True, exist_ok=True)
    ignore = target / ".gitignore"
    if ignore.is_symlink() or (ignore.exists() and not ignore.is_file()):
        raise FileExistsError(
            f"{ignore} is not a plain file; the pack's lines ({', '.join(GITIGNORE.split())}) "
            "are added to a .gitignore, so make it one"
        )
    for name in files:
        path = target / name
        if path.exists() and not path.is_symlink() and path.is_dir():
            raise FileExistsError(f"{path} is a folder; the pack writes a file there")
    clashes = [
        target / name
        for name, text in files.items()
        if (target / name).is_symlink()
        or ((target / name).exists() and (target / name).read_bytes() != text.encode())
    ]
    rules = target / RULES
    if rules.is_symlink() or (rules.exists() and not rules.is_dir()):
        clashes.insert(0, rules)
        rules_held: list[Path] = []
    else:
        rules_held = sorted(rules.iterdir()) if rules.is_dir() else []
    shipped = {name.split("/", 1)[1] for name in files if name.startswith(f"{RULES}/")}
    bytecode = [p for p in rules_held if p.name == "__pycache__"]
    stale = [p for p in rules_held if p.name not in shipped and p.name != "__pycache__"]
    if (clashes or stale) and not replace:
        first = (clashes or stale)[0]
        what = (
            f"{first} is not one of the rules this release ships ({RULES}/ is this command's "
            "folder: anything else in it can shadow a rule)"
            if first in stale
            else f"{first} exists and is not this release's"
        )
        raise FileExistsError(
            f"{what}; choose an empty folder, or pass --replace to overwrite the pack's files "
            f"and remove everything else in {RULES}/"
        )
    removed = []
    for path in [*(p for p in clashes if p.is_symlink() or p == rules), *stale, *bytecode]:
        _remove(path)
        if path.name != "__pycache__":
            removed.append(path)
    written = []
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
        written.append(path)
    existing = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
    merged = merged_gitignore(existing) if existing else gitignore
    if merged != existing:
        ignore.write_text(merged, encoding="utf-8")
        written.append(ignore)
    return written, removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ack-policy-pack", description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="folder to write the pack into")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="overwrite a pack written by another release: its files are rewritten and "
        f"everything in {RULES}/ this release does not ship is removed",
    )
    ns = parser.parse_args(argv)
    try:
        _, removed = write_pack(ns.dir, replace=ns.replace)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"ack-policy-pack: {one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # whatever else fails, say so in one line, never a traceback
        print(f"ack-policy-pack: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return 2
    for path in removed:
        print(f"removed {one_line(path)} (not part of this release's pack)")
    print(f"wrote the ack-guardrails policy pack to {ns.dir}")
    print(f"use it with: pulumi preview --policy-pack {ns.dir}")
    print(f"or publish it to your organization: pulumi policy publish ORG --cwd {ns.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
