"""Git, asked only about revisions it resolved itself.

``--since`` (``ack-fleet gate``) and ``--diff`` (``ack-preview``) take a git revision from the
command line, in CI often from a pull request's branch name. A value git would read as an
option (``--output=FILE``) must never reach it as one, and a value that names no commit must
end the command (exit 2), never be taken for "nothing changed". So a revision is refused when
it starts with ``-``, resolved to a commit's full SHA (``rev-parse --verify --end-of-options``),
and only that SHA is handed to git afterwards.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from .project import ProjectError


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=False)
    except OSError as exc:
        raise ProjectError(f"git cannot be run: {exc}") from None


def _ls_files(top: Path, *args: str) -> list[bytes]:
    """The entries `git ls-files -z ARGS` lists in the work tree at `top` (empty ones dropped)."""
    done = _git(top, "ls-files", *args, "-z")
    if done.returncode != 0:
        raise ProjectError(f"git ls-files failed: {done.stderr.decode().strip()}")
    return [entry for entry in done.stdout.split(b"\0") if entry]


def toplevel(folder: Path) -> Path:
    """The work tree `folder` is in."""
    done = _git(folder, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise ProjectError(f"{folder} is not in a git work tree")
    return Path(done.stdout.decode().strip()).resolve()


def resolve(folder: Path, revision: str, option: str) -> str:
    """The full SHA of the commit `revision` names, in the repository of `folder`; a clear
    error naming `option` otherwise."""
    if not revision or revision.startswith("-"):
        raise ProjectError(f"{option} {revision!r}: a git revision, not an option")
    done = _git(
        folder, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
    )
    sha = done.stdout.decode().strip()
    if done.returncode != 0 or len(sha) < 40:
        raise ProjectError(f"{option} {revision!r}: not a commit of the repository at {folder}")
    return sha


def changed_files(top: Path, sha: str) -> list[Path]:
    """Every file that differs between commit `sha` and the work tree (committed, staged or
    not; both sides of a rename; deleted ones), and every untracked file git does not ignore:
    absolute paths."""
    # --ignore-submodules=none: a submodule whose commit moved or whose files changed counts
    # as changed whatever .gitmodules (ignore = all) or the configuration (submodule.*.ignore,
    # diff.ignoreSubmodules) says (git-diff(1), git-config(1)).
    diff = _git(
        top, "diff", "--ignore-submodules=none", "--name-only", "--no-renames", "-z", sha, "--"
    )
    if diff.returncode != 0:
        raise ProjectError(f"git diff against {sha[:12]} failed: {diff.stderr.decode().strip()}")
    untracked = _ls_files(top, "--others", "--exclude-standard")
    names = [*diff.stdout.split(b"\0"), *untracked]
    return sorted(
        {(top / name.decode(errors="surrogateescape")).resolve() for name in names if name}
    )


def unwatched_files(top: Path) -> list[Path]:
    """Tracked files git is told not to look at in the work tree (``update-index
    --assume-unchanged`` or ``--skip-worktree``): their changes never show in a diff, so they
    count as changed. ``git ls-files -v`` tags them with a lowercase letter (assume-unchanged)
    or ``S``/``s`` (skip-worktree) (git-ls-files(1)). Absolute paths."""
    found = []
    for entry in _ls_files(top, "-v"):
        tag, _, name = entry.partition(b" ")
        if name and (tag.islower() or tag == b"S"):
            found.append((top / name.decode(errors="surrogateescape")).resolve())
    return sorted(found)


#: What the program's interpreter says of its import path (:func:`import_path`): each entry,
#: whether it is the standard library's or an installation's (site-packages), and the source
#: folders of editable installs (PEP 610's direct_url.json, which pip writes for every one).
_PROBE = r"""
import json, os, site, sys, sysconfig
from importlib import metadata
from urllib.parse import unquote, urlparse
paths = sysconfig.get_paths()
lib = [os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")]
sites = {os.path.realpath(p) for p in (paths["purelib"], paths["platlib"])}
sites.update(os.path.realpath(p) for p in getattr(site, "getsitepackages", list)())
if site.ENABLE_USER_SITE:
    sites.add(os.path.realpath(site.getusersitepackages()))
def kind(entry):
    real = os.path.realpath(entry)
    if real in sites:
        return "site"
    for folder in lib:
        if real == folder or real.startswith(folder + os.sep):
            return "stdlib"
    if real.endswith(".zip") and os.path.dirname(real) in {os.path.dirname(f) for f in lib}:
        return "stdlib"  # pythonXY.zip beside the standard library
    return "other"
editable = []
for dist in metadata.distributions():
    try:
        doc = json.loads(dist.read_text("direct_url.json") or "null")
    except Exception:
        continue
    if isinstance(doc, dict) and (doc.get("dir_info") or {}).get("editable"):
        url = urlparse(str(doc.get("url", "")))
        where = unquote(url.path) if url.scheme == "file" else str(doc.get("url"))
        editable.append([dist.metadata["Name"] or "?", where])
print(json.dumps({
    "path": [[os.path.realpath(p or os.getcwd()), kind(p or os.getcwd())] for p in sys.path],
    "editable": editable,
}))
"""


def import_path(python: str, pythonpath: list[Path], cwd: Path) -> dict[str, Any]:
    """The import path a program gets from interpreter `python` with `pythonpath` first (as
    ack-preview starts it, from its folder `cwd`), as that interpreter reports it
    (:data:`_PROBE`): its ``.pth`` files, ``PYTHONPATH`` and site hooks applied."""
    import json
    import os

    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(
            [*(str(p.resolve()) for p in pythonpath), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
    try:
        done = subprocess.run(
            [python, "-c", _PROBE],
            capture_output=True,
            check=False,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        doc = json.loads(done.stdout.decode().strip().splitlines()[-1])
        if done.returncode != 0 or not isinstance(doc, dict):
            raise ValueError(done.stderr.decode(errors="replace").strip()[-200:])
        return doc
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as exc:
        raise ProjectError(
            f"the interpreter {python} could not say its import path ({exc})"
        ) from None


def sources_outside(top: Path, found: dict[str, Any]) -> list[str]:
    """What the program may import that git at `top` cannot see: each entry of its import path
    outside the work tree that is neither the standard library nor an installation's
    site-packages (whose packages count as the dependency files pinning them), and each
    editable install whose source lies outside it. Said, one each."""
    said = []
    for entry, kind in found.get("path", []):
        if kind == "other" and not inside(top, Path(entry)):
            said.append(f"{entry} is on the program's import path")
    for name, source in found.get("editable", []):
        if not inside(top, Path(source)):
            said.append(f"{source} is the source of {name}, installed editable")
    return said


def import_roots(top: Path, found: dict[str, Any]) -> list[Path]:
    """The entries of the program's import path inside the work tree at `top`."""
    return [Path(entry) for entry, _ in found.get("path", []) if inside(top, Path(entry))]


def file_at(top: Path, sha: str, path: Path) -> str | None:
    """The text of `path` at commit `sha`, or None when it did not exist (or lies outside the
    work tree at `top`)."""
    if not inside(top, path):
        return None
    relative = path.resolve().relative_to(top).as_posix()
    done = _git(top, "show", f"{sha}:{relative}")
    if done.returncode != 0:
        return None
    return done.stdout.decode()


def links_out(top: Path) -> list[Path]:
    """Tracked symbolic links (mode 120000, git-ls-files(1) ``--stage``) of the work tree at
    `top` that lead out of it, through any chain of links: git tracks the link's text, never
    the file it reads, whose changes it cannot see. Absolute paths of the links."""
    found = []
    for entry in _ls_files(top, "--stage"):
        meta, _, name = entry.partition(b"\t")
        if name and meta.startswith(b"120000 "):
            link = top / name.decode(errors="surrogateescape")
            if link.is_symlink() and not inside(top, link):
                found.append(link)
    return sorted(found)


def inside(top: Path, path: Path) -> bool:
    """Whether `path` lies in the work tree at `top` (so that git sees its changes)."""
    try:
        path.resolve().relative_to(top)
    except ValueError:
        return False
    return True


#: Ignored folders whose changes no program or pack reads as its own: caches of tools and of
#: Python's bytecode, and installed packages (which count as the files pinning them).
_NOT_READ = ("__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis")
#: Folders of installed dependencies other than virtualenvs: npm's (pinned by its lock file).
_INSTALLED = ("node_modules",)
#: Files Python imports as modules from a folder on the import path (importlib's suffixes), a
#: sourceless bytecode file among them (``importlib.machinery.BYTECODE_SUFFIXES``: a ``.pyc``
#: outside ``__pycache__`` is imported when no ``.py`` of its name is beside it, PEP 3147).
_MODULE_SUFFIXES = (".py", ".pyw", ".so", ".pyd", ".pyc")


def _importable(path: Path, roots: list[Path]) -> bool:
    """Whether `path` is a module file a program could import from one of the import path's
    `roots`: every folder between them, and the module's name, are Python names (a folder of
    another name, ``node-gyp``, cannot be a package)."""
    if path.suffix not in _MODULE_SUFFIXES or not path.name.split(".")[0].isidentifier():
        return False
    for root in roots:
        try:
            folders = path.parent.relative_to(root).parts
        except ValueError:
            continue
        if all(part.isidentifier() for part in folders):
            return True
    return False


def ignored_sources(top: Path, readers: list[Path], roots: list[Path]) -> list[Path]:
    """Files git ignores in the work tree that a program or pack may still read, so that their
    changes since any revision cannot be told: any file in the program's folder or a pack's
    (`readers`: a local settings module or file, a pack's own config), a module a program could
    import from an entry of its import path inside the work tree (`roots`), or such an entry
    itself (a zip), a sourceless ``.pyc`` among them; a folder git lists without looking
    into it (a nested repository) in, around or holding any of these. Never caches, bytecode
    in ``__pycache__`` or beside its source, package metadata (``*.egg-info``) nor installed
    dependencies: what lies in a virtualenv (a folder holding ``pyvenv.cfg``) or
    ``node_modules`` (pinned by the dependency files), nor ignored files no program reads
    (a build folder, a test tool's packages, a coverage report)."""
    ignored = _ls_files(top, "--others", "--ignored", "--exclude-standard")
    venv: dict[Path, bool] = {}

    def in_virtualenv(path: Path) -> bool:
        for folder in path.parents:
            if folder == top or top not in folder.parents:
                return False
            if folder not in venv:
                venv[folder] = (folder / "pyvenv.cfg").is_file()
            if venv[folder]:
                return True
        return False

    readers = [r.resolve() for r in readers]
    roots = [r.resolve() for r in roots]
    found = []
    for name in ignored:
        if not name:
            continue
        relative = Path(name.decode(errors="surrogateescape"))
        if set(relative.parts) & set(_NOT_READ + _INSTALLED):
            continue
        if any(part.endswith(".egg-info") for part in relative.parts):
            continue
        path = top / relative
        if in_virtualenv(path):
            continue
        if relative.suffix == ".pyo" or (
            relative.suffix == ".pyc" and path.with_suffix(".py").exists()
        ):
            continue  # never imported: Python 3 reads no .pyo, and a source beside wins
        if name.endswith(b"/") or path.is_symlink():
            # A folder git did not look into (a nested repository), or a link (to a package
            # folder, perhaps out of the repository): whatever it holds counts where a program
            # or pack reads or imports from it, or from a folder inside it.
            near = [*readers, *roots]
            if any(r == path or path in r.parents or r in path.parents for r in near):
                found.append(path)
            continue
        read = any(path == r or r in path.parents for r in readers)
        if read or path in roots or _importable(path, roots):
            found.append(path)
    return sorted(found)


def check_out(top: Path, sha: str, into: Path) -> None:
    """The files of commit `sha` (a full SHA, :func:`resolve`) of the repository at `top`,
    written under `into` as git would check them out (its filters and line endings applied).

    Through an index file of its own (``GIT_INDEX_FILE``) and ``checkout-index --prefix``: the
    repository's index, work tree, worktree list and refs are never touched, so nothing needs
    undoing in the repository whatever ends the command, even SIGKILL (only `into`, a temporary
    folder, is left to remove). Submodules are not checked out (their folders stay empty)."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ack-base-index-") as folder:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(folder) / "index")}
        for args in (
            ["read-tree", sha],
            ["checkout-index", "--all", "--force", f"--prefix={into.resolve()}/"],
        ):
            try:
                done = subprocess.run(
                    ["git", "-C", str(top), *args], capture_output=True, check=False, env=env
                )
            except OSError as exc:
                raise ProjectError(f"git cannot be run: {exc}") from None
            if done.returncode != 0:
                said = done.stderr.decode(errors="replace").strip()
                raise ProjectError(f"git could not check out {sha[:12]}: {said}")
    _refuse_links_out(into, sha)


def _refuse_links_out(into: Path, sha: str) -> None:
    """A symbolic link of the revision that leads out of its checkout would read today's file
    on both sides of the comparison, not the file as it was: no verdict, naming the link."""
    import os

    root = into.resolve()
    for folder, dirs, files in os.walk(into):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                link = path.relative_to(into).as_posix()
                raise ProjectError(
                    f"{link} at {sha[:12]} is a symbolic link out of the repository: the "
                    "revision does not hold what it reads, so its program cannot be run as it was"
                )
