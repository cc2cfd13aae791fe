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

from .project import ProjectError


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=False)
    except OSError as exc:
        raise ProjectError(f"git cannot be run: {exc}") from None


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
    diff = _git(top, "diff", "--name-only", "--no-renames", "-z", sha, "--")
    if diff.returncode != 0:
        raise ProjectError(f"git diff against {sha[:12]} failed: {diff.stderr.decode().strip()}")
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z")
    if untracked.returncode != 0:
        raise ProjectError(f"git ls-files failed: {untracked.stderr.decode().strip()}")
    names = [*diff.stdout.split(b"\0"), *untracked.stdout.split(b"\0")]
    return sorted(
        {(top / name.decode(errors="surrogateescape")).resolve() for name in names if name}
    )


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


def ignored_sources(top: Path) -> list[Path]:
    """Files git ignores in the work tree, which a program or pack may still read (a local
    settings module, a pack kept out of the repository), so that their changes since any
    revision cannot be told: every one but caches, bytecode, package metadata
    (``*.egg-info``) and what lies in a virtualenv (a folder holding ``pyvenv.cfg``)."""
    done = _git(top, "ls-files", "--others", "--ignored", "--exclude-standard", "-z")
    if done.returncode != 0:
        raise ProjectError(f"git ls-files failed: {done.stderr.decode().strip()}")
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

    found = []
    for name in done.stdout.split(b"\0"):
        if not name:
            continue
        relative = Path(name.decode(errors="surrogateescape"))
        if set(relative.parts) & set(_NOT_READ) or relative.suffix in (".pyc", ".pyo"):
            continue
        if any(part.endswith(".egg-info") for part in relative.parts):
            continue
        path = top / relative
        if in_virtualenv(path):
            continue
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
