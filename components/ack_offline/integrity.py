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
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The environment variable `ack-fleet` hands each `ack-preview` the digests in (a JSON object,
#: pack folder -> digest).
ENVIRONMENT = "ACK_OFFLINE_PACK_DIGESTS"
#: The packages a pack of this project loads its rules and server from, and the runtime they
#: stand on (a rewritten `pulumi` or `grpc` serves whatever verdict it likes).
RULE_PACKAGES = ("ack_policies", "pulumi_policy", "pulumi", "grpc", "google.protobuf")
#: What an interpreter runs before any pack code: site hooks.
_SITE_HOOKS = ("sitecustomize", "usercustomize")
#: Folders a pack's own folder holds that are not the pack (its virtualenv is digested as the
#: interpreter's packages). Compiled bytecode is digested: an interpreter prefers a matching
#: `.pyc` in `__pycache__` to the source.
_SKIPPED = frozenset({"venv", ".venv", ".git", "node_modules"})

#: Asks an interpreter where its packages and site hooks are, without importing them.
_WHERE = """
import importlib.util, json, site, sys
found = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        found[name] = sorted(spec.submodule_search_locations)
    elif spec is not None and spec.origin:
        found[name] = [spec.origin]
dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
user = site.getusersitepackages() if site.ENABLE_USER_SITE else None
print(json.dumps({"packages": found, "site": dirs + ([user] if user else [])}))
"""


class PackChanged(Exception):
    """A file the gate's packs load changed while the gate ran."""


def _files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not _SKIPPED & set(path.relative_to(folder).parts):
            yield path


_WHERE_CACHE: dict[tuple[str, Path], dict[str, Any]] = {}


def _where(python: str, pack: Path) -> dict[str, Any]:
    """Where `python`, started as the gate starts a pack (in its folder, with this
    environment), finds the packages a pack loads, and its site folders."""
    key = (python, pack)
    if key not in _WHERE_CACHE and Path(python).resolve() == Path(sys.executable).resolve():
        _WHERE_CACHE[key] = _where_here(pack)
    if key not in _WHERE_CACHE:
        names = [*RULE_PACKAGES, *_SITE_HOOKS]
        done = subprocess.run(
            [python, "-c", _WHERE, *names],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=pack,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        if done.returncode != 0:
            raise PackChanged(f"the interpreter {python} a pack runs with does not start")
        _WHERE_CACHE[key] = json.loads(done.stdout)
    return _WHERE_CACHE[key]


def _where_here(pack: Path) -> dict[str, Any]:
    """What `_where` asks another interpreter, answered by this one: the same interpreter in
    the same environment, whose first path entry is its script's folder where the pack's
    is the pack's own."""
    import importlib.machinery
    import site

    search = [str(pack), *sys.path[1:]]
    found: dict[str, list[str]] = {}
    for name in [*RULE_PACKAGES, *_SITE_HOOKS]:
        parent, _, _ = name.rpartition(".")
        path = search
        if parent:
            above = importlib.machinery.PathFinder.find_spec(parent, search)
            if above is None or not above.submodule_search_locations:
                continue
            path = list(above.submodule_search_locations)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.submodule_search_locations:
            found[name] = sorted(spec.submodule_search_locations)
        elif spec is not None and spec.origin:
            found[name] = [spec.origin]
    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    user = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    return {"packages": found, "site": dirs + ([user] if user else [])}


#: Each file's hash, by what its status says of it: the inode, size, modification time and
#: change time (which no process can set back), so that a check hashes only what changed.
_HASHES: dict[Path, tuple[tuple[int, ...], bytes]] = {}


def _hash(path: Path) -> bytes:
    st = path.stat()
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    cached = _HASHES.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = hashlib.sha256(path.read_bytes()).digest()
    _HASHES[path] = (key, found)
    return found


def digest(pack: Path) -> str:
    """A digest of a pack's folder, of the interpreter it runs with (the pack's virtualenv,
    once it exists), of the packages its rules and server come from, bytecode included, and of
    that interpreter's site hooks (`.pth` files, `sitecustomize`)."""
    from .gate import pack_python

    pack = pack.resolve()
    python = pack_python(pack)
    where = _where(python, pack)
    h = hashlib.sha256(f"interpreter\0{python}\0".encode())
    folders = [("pack", pack)]
    for name, locations in sorted(where["packages"].items()):
        for location in locations:
            path = Path(location)
            folders.append((name, path))
    for label, folder in folders:
        files = [folder] if folder.is_file() else list(_files(folder))
        for path in files:
            relative = path.name if folder.is_file() else path.relative_to(folder).as_posix()
            h.update(f"{label}/{relative}\0".encode())
            h.update(_hash(path))
    for site_dir in sorted(where["site"]):
        for path in sorted(Path(site_dir).glob("*.pth")) if Path(site_dir).is_dir() else []:
            h.update(f"site/{path}\0".encode())
            h.update(_hash(path))
    return h.hexdigest()


def write_no_bytecode() -> None:
    """This process, and every process it starts (programs, packs, the fork server), writes no
    bytecode: a program importing this library would otherwise compile the rules it shares with
    the pack (`ack_policies`) into their `__pycache__`, which the digest holds."""
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"


def digests(packs: Sequence[Path | str]) -> dict[str, str]:
    """Each pack's digest, or the ones taken before any program of this run ran (`ack-fleet`,
    or the CI step that set up the judge, hands them over in :data:`ENVIRONMENT`)."""
    given = os.environ.get(ENVIRONMENT)
    known: Mapping[str, str] = json.loads(given) if given else {}
    folders = [str(Path(p).resolve()) for p in packs]
    return {folder: known.get(folder) or digest(Path(folder)) for folder in folders}


#: The environment variable `ack-fleet` hands each `ack-preview` what each pack loaded when it
#: started before any program ran (a JSON object, pack folder -> {"files": [...], "digest": ...}).
LOADED_ENVIRONMENT = "ACK_OFFLINE_PACK_LOADED"


def loaded_digest(files: Sequence[str]) -> str:
    """A digest of the files a pack's process had loaded once its rules were in (every module
    the rules, the server and the runtime import: `yaml` and the standard library among them,
    which the fixed list of packages above does not name)."""
    h = hashlib.sha256()
    for name in sorted(files):
        path = Path(name)
        h.update(f"{name}\0".encode())
        try:
            h.update(_hash(path) if path.is_file() else b"(none)")
        except OSError:
            h.update(b"(unreadable)")
    return h.hexdigest()


def trusted_loads(packs: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """What each started pack loaded, as known before any program of this run ran: handed over
    by `ack-fleet` (:data:`LOADED_ENVIRONMENT`), else what the pack says now (`ack-preview`'s
    packs load before its program runs). Checked at once: a pack that loaded a file the trusted
    list does not hold (a module shadowing another), or a listed file that changed since, was
    rewritten by a program run before (another stack's, under ack-fleet)."""
    given = os.environ.get(LOADED_ENVIRONMENT)
    known: Mapping[str, Any] = json.loads(given) if given else {}
    found: dict[str, dict[str, Any]] = {}
    for pack in packs:
        folder = str(Path(pack.pack_dir).resolve())
        reported = list(pack.loaded.get("files", []))
        if not reported:
            raise PackChanged(f"the policy pack {folder} did not say what it loaded; no verdict")
        trusted = known.get(folder)
        if not isinstance(trusted, Mapping):
            trusted = {"files": reported, "digest": loaded_digest(reported)}
        extra = sorted(set(reported) - set(trusted["files"]))
        if extra or loaded_digest(trusted["files"]) != trusted["digest"]:
            what = f" (it loaded {extra[0]}, which it did not before)" if extra else ""
            raise PackChanged(
                f"the policy pack {folder}, or what it loads, changed before it started{what}: "
                "a program may not rewrite its judge; no verdict"
            )
        found[folder] = dict(trusted)
    return found


def check_loaded(expected: Mapping[str, Mapping[str, Any]], when: str) -> None:
    """The files each pack loaded are as they were (:func:`trusted_loads`)."""
    for folder, trusted in expected.items():
        if loaded_digest(trusted["files"]) != trusted["digest"]:
            raise PackChanged(
                f"the policy pack {folder}, or what it loads, changed {when}: a program may not "
                "rewrite its judge; no verdict"
            )


def check(expected: Mapping[str, str], when: str) -> None:
    for folder, before in expected.items():
        if digest(Path(folder)) != before:
            raise PackChanged(
                f"the policy pack {folder}, or the rules it loads, changed {when}: a program "
                "may not rewrite its judge; no verdict"
            )
