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
  (pulumi/pulumi#4644), so the pack's virtualenv and bytecode stay out of the published pack.
"""

from __future__ import annotations

import argparse
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


def write_pack(target: Path, *, replace: bool = False) -> list[Path]:
    """Write the pack into `target` (created if missing). A file of the pack that exists with
    other contents is refused, unless `replace`; with `replace`, rule modules this release does
    not ship are removed too (an older release's), so the folder holds exactly this pack."""
    files = pack_files()
    target.mkdir(parents=True, exist_ok=True)
    clashes = [
        target / name
        for name, text in files.items()
        if (target / name).exists() and (target / name).read_bytes() != text.encode()
    ]
    rules = target / RULES
    stale = sorted(
        p
        for p in (rules.iterdir() if rules.is_dir() else [])
        if p.is_file() and f"{RULES}/{p.name}" not in files
    )
    if (clashes or stale) and not replace:
        first = (clashes or stale)[0]
        raise FileExistsError(
            f"{first} exists and is not this release's; choose an empty folder, or pass "
            "--replace to overwrite the pack's files"
        )
    for path in stale:
        path.unlink()
    written = []
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ack-policy-pack", description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="folder to write the pack into")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="overwrite a pack written by another release (its rule modules included)",
    )
    ns = parser.parse_args(argv)
    try:
        write_pack(ns.dir, replace=ns.replace)
    except (OSError, RuntimeError) as exc:
        print(f"ack-policy-pack: {exc}", file=sys.stderr)
        return 2
    print(f"wrote the ack-guardrails policy pack to {ns.dir}")
    print(f"use it with: pulumi preview --policy-pack {ns.dir}")
    print(f"or publish it to your organization: pulumi policy publish {ns.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
