"""``ack-policy-pack DIR``: write the policy pack where `pulumi --policy-pack` can use it.

A pip-installed library has no `policies/` folder to point `pulumi preview --policy-pack` at;
this writes one: the pack's PulumiPolicy.yaml and entry point (the same files as `policies/` in
the repository), and a requirements.txt that installs this exact version of the package, with
its rules (`ack_policies`) and pulumi-policy, into the pack's own virtualenv.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata, resources
from pathlib import Path

DISTRIBUTION = "pulumi-ack-clusters"
FILES = ("PulumiPolicy.yaml", "__main__.py")


def requirements() -> str:
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return f"{DISTRIBUTION}[policy]\n"
    return f"{DISTRIBUTION}[policy]=={version}\n"


def write_pack(target: Path) -> list[Path]:
    """Write the pack into `target` (created if missing); refuse to overwrite other files."""
    target.mkdir(parents=True, exist_ok=True)
    source = resources.files(__package__).joinpath("pack")
    contents = {name: source.joinpath(name).read_text() for name in FILES}
    contents["requirements.txt"] = requirements()
    written = []
    for name, text in contents.items():
        path = target / name
        if path.exists() and path.read_text() != text:
            raise FileExistsError(f"{path} exists and differs; choose an empty folder")
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ack-policy-pack", description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="folder to write the pack into")
    ns = parser.parse_args(argv)
    try:
        write_pack(ns.dir)
    except (OSError, FileExistsError) as exc:
        print(f"ack-policy-pack: {exc}", file=sys.stderr)
        return 2
    print(f"wrote the ack-guardrails policy pack to {ns.dir}")
    print(f"use it with: pulumi preview --policy-pack {ns.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
