"""The judge's files do not change while it judges.

A program runs as the same user as the gate, so it could rewrite a policy pack's files, or the
rules it imports, before a pack loads them: in one ``ack-preview`` the packs load before any
user code runs, but under ``ack-fleet gate`` another stack's program runs while a later stack's
packs start. So the gate takes a digest of every file a pack's rules come from (the pack's
folder and the source of the packages it loads its rules from) before any program runs, and
checks it again once the packs have loaded and when the analysis ends: a change is "not proven",
exit 2. ``ack-fleet`` takes the digest once, before its first stack, and hands it to every
``ack-preview`` it runs (:data:`ENVIRONMENT`). Pack processes write no bytecode, so a digest
that holds stays the gate's own doing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

#: The environment variable `ack-fleet` hands each `ack-preview` the digests in (a JSON object,
#: pack folder -> digest).
ENVIRONMENT = "ACK_OFFLINE_PACK_DIGESTS"
#: The packages a pack of this project loads its rules and server from.
RULE_PACKAGES = ("ack_policies", "pulumi_policy")
_SKIPPED = frozenset({"venv", ".venv", "__pycache__", ".git", "node_modules"})


class PackChanged(Exception):
    """A file the gate's packs load changed while the gate ran."""


def _files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not _SKIPPED & set(path.relative_to(folder).parts):
            yield path


def _package_folder(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def digest(pack: Path) -> str:
    """A digest of a pack's folder and of the packages its rules come from."""
    h = hashlib.sha256()
    folders = [("pack", pack.resolve())]
    folders += [(name, f) for name in RULE_PACKAGES if (f := _package_folder(name)) is not None]
    for label, folder in folders:
        for path in _files(folder):
            h.update(f"{label}/{path.relative_to(folder).as_posix()}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def digests(packs: Sequence[Path | str]) -> dict[str, str]:
    """Each pack's digest, or the ones taken before any program of this run ran (`ack-fleet`,
    or the CI step that set up the judge, hands them over in :data:`ENVIRONMENT`)."""
    given = os.environ.get(ENVIRONMENT)
    known: Mapping[str, str] = json.loads(given) if given else {}
    folders = [str(Path(p).resolve()) for p in packs]
    return {folder: known.get(folder) or digest(Path(folder)) for folder in folders}


def check(expected: Mapping[str, str], when: str) -> None:
    for folder, before in expected.items():
        if digest(Path(folder)) != before:
            raise PackChanged(
                f"the policy pack {folder}, or the rules it loads, changed {when}: a program "
                "may not rewrite its judge; no verdict"
            )
