"""``ack-preview``: run a Pulumi Python program under the fake Alibaba Cloud and show what
``pulumi preview`` would create, on a machine with no Pulumi CLI and no cloud account.

    ack-preview STACK [--program DIR] [--json] [--mode preview|update] [--policy-pack DIR ...]
                      [--diff BASE [--allow-replace] [--allow-delete]]

``--diff BASE`` also predicts, from the provider's facts, what `pulumi up` would do to each
resource going from BASE to the stack as it is: BASE is another stack file, a git revision
(the project's program, Pulumi.yaml and stack file as they were), or a graph saved with
``--json``.

Exit codes (ack_offline.exits, worst first when several apply): 2 the program, its Pulumi.yaml,
the stack config or a policy pack is broken (no verdict); 1 a mandatory policy violation; 3 a
guarded change: ``--diff`` predicts that a stateful resource (cluster, VPC, vSwitch, NAT
gateway, EIP, node pool, private zone, ingress load balancer) is replaced without
``--allow-replace`` or deleted without ``--allow-delete``, or a change ``pulumi up`` would fail
on; 0 a pass.

``--diff REV`` (a git revision) runs the program as it was at REV: the revision's files are
checked out into a temporary folder (removed however the command ends), and its Pulumi.yaml,
program and stack file run from there, with the library and packages installed where
ack-preview runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime.rpc import UNKNOWN

from ack_clusters.errors import InvalidArguments
from ack_clusters.versions import refuse_version_changes

from . import changes, exits, files, integrity, revisions
from .args import seconds
from .changes import Node
from .exits import EXIT_BROKEN, EXIT_GUARDED, EXIT_OK, EXIT_VIOLATIONS
from .gate import GateError, GateResult, StackContext, StartedPacks, analyze_with
from .isolation import DEFAULT_TIMEOUT, IsolatedProgram, ProgramBroken, ProgramFailed
from .project import Project, ProjectError, find_project, load_stack_config
from .reaper import descendants, end_descendants
from .recorder import UNKNOWN_TEXT, unsecure
from .render import render_mermaid, render_overrides, render_tree, render_violations, to_json
from .text import terminal


@dataclass
class Base:
    """What --diff compares against: a saved graph, a stack config to run with the program as
    it is, or (a git revision) the program and its stack config as they were, checked out in a
    folder of their own; or nothing at all (the stack did not exist: everything is a create)."""

    label: str
    graph: list[Node] | None = None
    config: tuple[dict[str, str], list[str]] | None = None
    #: The project as it was at a git revision (None: the project as it is).
    project: Project | None = None


def _resolve_base(project: Project, stack: str, base: str, scratch: Path) -> Base:
    """The BASE of ``--diff BASE``. A git revision is checked out under `scratch` (a temporary
    folder the caller removes, however the command ends) and its program runs from there.

    A revision is a revision: BASE is asked of git first, and read as a file only when git
    names no commit by it and it is spelled as one of the files BASE may be (a name ending in
    .json, a saved graph, or .yaml/.yml, a stack file; ``./NAME`` is never a revision). A file
    named ``HEAD``, ``origin/main`` or a commit's SHA (one a pull request adds) never replaces
    the revision."""
    path = Path(base)
    sha = None
    with contextlib.suppress(ProjectError):  # not a repository, or not a commit of it
        sha = revisions.resolve(revisions.toplevel(project.root), base, "--diff")
    if sha is None and path.suffix not in (".json", ".yaml", ".yml"):
        if path.is_file():
            raise ProjectError(
                f"--diff {base}: names no git commit, and a file is taken only when its name "
                "ends in .json (a saved graph), .yaml or .yml (a stack file)"
            )
    elif sha is None and path.is_file():
        if path.suffix == ".json":
            try:
                doc = json.loads(path.read_text())
                return Base(str(path), graph=Node.of_json(doc))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ProjectError(f"--diff {base}: not a saved --json graph ({exc})") from None
        return Base(str(path), config=load_stack_config(project, stack, path))
    stack_file = project.stack_file(stack).resolve()
    try:
        top = revisions.toplevel(project.root)
    except ProjectError:
        raise ProjectError(
            f"--diff {base}: neither a file nor a git revision holding {stack_file.name}"
        ) from None
    sha = sha or revisions.resolve(top, base, "--diff")
    # The program as it was needs every file it runs from to be in the repository: what lies
    # outside has no older version git could give, so the comparison is not proven (exit 2).
    for what, where in (
        ("program", project.main),
        ("stack config folder", project.stack_config_dir),
    ):
        if not revisions.inside(top, where):
            raise ProjectError(
                f"--diff {base}: the {what} {where} is outside the git repository at {top}, "
                "so git has no version of it at that revision; compare against a graph saved "
                "with --json instead"
            )
    rel_root = project.root.resolve().relative_to(top)
    rel_stack = stack_file.relative_to(top).as_posix()
    label = f"{rel_stack}@{base} with its program"
    revisions.check_out(top, sha, scratch)
    root = (scratch / rel_root).resolve()
    from .project import project_file_in

    if project_file_in(root) is None:
        return Base(f"{label} (no Pulumi.yaml at that revision: everything is new)", graph=[])
    then = find_project(root)
    for what, where in (("main", then.main), ("stackConfigDir", then.stack_config_dir)):
        if not revisions.inside(scratch.resolve(), where):
            raise ProjectError(
                f"--diff {base}: at that revision, Pulumi.yaml's {what} ({where}) lies outside "
                "the repository, so the program as it was cannot be told; compare against a "
                "graph saved with --json instead"
            )
    if not then.stack_file(stack).is_file():
        return Base(f"{label} (the stack did not exist: everything is new)", graph=[])
    return Base(label, config=load_stack_config(then, stack), project=then)


class _Stopped(Exception):
    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@contextlib.contextmanager
def _signals_end_the_run() -> Iterator[None]:
    """SIGTERM and SIGINT end the run through the same exits as any failure, so the program's
    process and every policy pack are stopped on the way out (never left running)."""

    def stop(signum: int, _frame: object) -> None:
        raise _Stopped(signal.Signals(signum).name)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _load_pack_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(files.read_text(path), object_pairs_hook=files.unique_keys)
    except (files.UnreadableFile, ValueError) as exc:
        raise ProjectError(f"policy config {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ProjectError(f"policy config {path} must be a JSON object")
    return data


#: The most a --stack-reference file may hold (a whole `pulumi stack export` may be large).
STACK_REFERENCE_LIMIT = 64 << 20


def _stack_references(values: Sequence[str]) -> dict[str, dict[str, Any]]:
    """NAME=FILE pairs -> the outputs each referenced stack exports."""
    found: dict[str, dict[str, Any]] = {}
    for item in values:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise ProjectError(f"--stack-reference {item!r} must look like ORG/PROJECT/STACK=FILE")
        try:
            doc = json.loads(files.read_text(Path(file), STACK_REFERENCE_LIMIT))
        except (files.UnreadableFile, ValueError) as exc:
            raise ProjectError(f"--stack-reference {item}: {exc}") from None
        outputs = doc.get("outputs", doc) if isinstance(doc, dict) and "resources" in doc else doc
        if not isinstance(outputs, dict):
            raise ProjectError(f"--stack-reference {item}: {file} holds no outputs object")
        if any(v in ("[secret]", "[unknown]") for v in outputs.values()):
            masked = sorted(k for k, v in outputs.items() if v in ("[secret]", "[unknown]"))
            raise ProjectError(
                f"--stack-reference {item}: outputs {', '.join(masked)} are masked or unknown "
                "in that file (save it with --mode update; give secrets as a JSON object)"
            )
        found[name] = outputs
    return found


def _stack_tags(values: Sequence[str]) -> dict[str, str]:
    tags = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ProjectError(f"--stack-tag {item!r} must look like KEY=VALUE")
        tags[key] = value
    return tags


def main(argv: Sequence[str] | None = None) -> int:
    integrity.write_no_bytecode()  # before any program runs: see ack_offline.integrity
    parser = argparse.ArgumentParser(
        prog="ack-preview",
        description="Show what `pulumi preview` would do for a stack, offline, under a fake "
        "Alibaba Cloud.",
    )
    parser.add_argument("stack", help="stack name (its config is Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--program",
        type=Path,
        default=None,
        help="project folder (default: the project containing the current folder)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output")
    output.add_argument(
        "--mermaid",
        action="store_true",
        help="the resource tree as a Mermaid flowchart (for a pull-request comment), marked with "
        "--diff's actions and the gate's mandatory violations",
    )
    parser.add_argument(
        "--mode",
        choices=("preview", "update"),
        default="preview",
        help="preview: IDs and computed values unknown; update: the fake cloud fills them",
    )
    parser.add_argument(
        "--policy-pack",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="run this policy pack over the stack, as `pulumi preview --policy-pack` does "
        "(repeatable)",
    )
    parser.add_argument(
        "--policy-pack-config",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="JSON policy config for the policy pack at the same position (repeatable)",
    )
    parser.add_argument(
        "--stack-tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack tag the policy packs see (repeatable), e.g. environment=prod",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit of the program (default {DEFAULT_TIMEOUT:g}); past it, exit 2",
    )
    parser.add_argument(
        "--stack-reference",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="outputs of the stack a StackReference NAME reads: a graph saved with --json, or "
        "a JSON object of outputs (repeatable)",
    )
    parser.add_argument(
        "--program-python",
        metavar="PYTHON",
        default=None,
        help="run the program with this interpreter (another virtualenv's, say the change's) "
        "while the gate, its packs and its rules stay this installation's",
    )
    parser.add_argument(
        "--program-path",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder put first on the program's import path (repeatable): the change's "
        "library source, say, without installing it",
    )
    parser.add_argument(
        "--diff",
        metavar="BASE",
        help="predict what `pulumi up` does going from BASE (a stack file, a git revision: the "
        "program and stack file as they were, or a saved --json graph) to the stack as it is",
    )
    parser.add_argument(
        "--allow-replace",
        action="store_true",
        help="with --diff: a replaced stateful resource (cluster, VPC, vSwitch, NAT gateway, EIP, "
        "node pool, private zone, ingress load balancer) is expected (without it, exit 3)",
    )
    parser.add_argument(
        "--allow-delete",
        action="store_true",
        help="with --diff: a deleted stateful resource (a renamed pool, NAT gateways no longer "
        "per zone, an app subnet or private zone removed) is expected (without it, exit 3)",
    )
    ns = parser.parse_args(argv)
    with _warnings_on_stderr():
        try:
            return _preview(ns)
        except RecursionError:
            _say(
                "an input is nested too deeply to read (a stack file, a saved graph, a policy "
                "config or a program's values); no verdict"
            )
        except Exception as exc:  # whatever else fails, the answer is "no verdict", never exit 1
            _say(f"no verdict: {type(exc).__name__}: {exc}")
        return EXIT_BROKEN


def _say(message: str) -> None:
    """One line of ack-preview's own on standard error, control characters escaped; nothing
    when standard error itself cannot be written."""
    with contextlib.suppress(OSError, ValueError):
        print(f"ack-preview: {terminal(unsecure(message))}", file=sys.stderr)


class _Escaped(logging.Formatter):
    """A program's log line as ack-preview prints it: control characters escaped (text.py)."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal(super().format(record))


@contextlib.contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """Program warnings (pulumi.log.warn) reach the mock engine's logger: show them as the CLI
    would, on stderr with their level, for this call only. A caller running ack-preview in its
    own process (a test, a script) gets its logging back as it was: its handlers are neither
    closed nor left behind a handler bound to a stream that may be closed later."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Escaped("%(levelname)s: %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _preview(ns: argparse.Namespace) -> int:
    preview = ns.mode == "preview"
    try:
        if len(ns.policy_pack_config) > len(ns.policy_pack):
            raise ProjectError("more --policy-pack-config files than --policy-pack folders")
        pack_configs = [_load_pack_config(p) for p in ns.policy_pack_config]
        tags = _stack_tags(ns.stack_tag)
        project = find_project((ns.program or Path.cwd()).resolve())
        config, secret_keys = load_stack_config(project, ns.stack)
        folder = project.main if project.main.is_dir() else project.main.parent
        context = StackContext(
            project.name, ns.stack, preview, config, tags, program_dir=str(folder.resolve())
        )
        references = _stack_references(ns.stack_reference)
        if (ns.allow_replace or ns.allow_delete) and not ns.diff:
            flag = "--allow-replace" if ns.allow_replace else "--allow-delete"
            raise ProjectError(f"{flag} only means something with --diff")
        # The judge's files, as they are before any program runs.
        judge = integrity.digests(ns.policy_pack)
        # The program's children are forked first, while this process holds no threads; they
        # wait. The packs start and load their rules, as the engine starts analyzers when a
        # deployment begins, and only then do the programs run, in processes of their own,
        # talking to a monitor served here: nothing they do can touch the verdict.
        with contextlib.ExitStack() as stack:
            stack.enter_context(_signals_end_the_run())
            base: Base | None = None
            if ns.diff:
                # A revision's files are checked out here, and removed whatever ends the run
                # (an error, SIGTERM or Ctrl-C: _signals_end_the_run turns those into errors).
                scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ack-base-")))
                base = _resolve_base(project, ns.stack, ns.diff, scratch)
            base_program = None
            if base is not None and base.config is not None:
                base_program = stack.enter_context(
                    IsolatedProgram(
                        base.project or project,
                        ns.stack,
                        *base.config,
                        preview=preview,
                        timeout=ns.timeout,
                        stack_references=references,
                        python=ns.program_python,
                        pythonpath=ns.program_path,
                    )
                )
            program = stack.enter_context(
                IsolatedProgram(
                    project,
                    ns.stack,
                    config,
                    secret_keys,
                    preview=preview,
                    timeout=ns.timeout,
                    stack_references=references,
                    python=ns.program_python,
                    pythonpath=ns.program_path,
                )
            )
            packs = stack.enter_context(StartedPacks(ns.policy_pack, context))
            started = packs.wait()
            integrity.check(judge, "before its rules were loaded")
            loads = integrity.trusted_loads(started)
            children = [c for c in (base_program, program) if c is not None]
            # What runs below this process now is the gate's own (the packs; a caller's, when
            # this runs in-process): whatever appears from here on is a program's.
            ours = set(descendants()) - {c.pid for c in children}
            for child in children:
                child.start()
            before = None
            if base_program is not None and base is not None:
                try:
                    before = base_program.result()
                except (ProgramBroken, ProgramFailed) as exc:
                    # Said as the base's, or a user would look for the fault in their change.
                    raise type(exc)(f"--diff {ns.diff}: the base ({base.label}): {exc}") from None
            run = program.result()
            # Nothing a program started may run while the packs are configured and asked: a
            # process it left behind could call a pack, rewrite the pack's files or take the
            # port of a pack it killed. The programs end, with everything they left running
            # (adopted by this process, a subreaper, when it runs as the console script).
            for child in children:
                child.close()
            end_descendants(spare=ours)
            predicted: list[changes.Change] | None = None
            if before is not None:
                predicted = changes.predict(Node.of_run(before), Node.of_run(run))
            elif base is not None and base.graph is not None:
                # A saved graph holds secrets masked: compare like with like.
                predicted = changes.predict(base.graph, Node.of_run(run, secrets=False))
            if predicted is not None:  # ACK's version rules (ack_clusters.versions)
                was = Node.of_run(before) if before else (base.graph or [] if base else [])
                refuse_version_changes(was, Node.of_run(run), unknown=(UNKNOWN, UNKNOWN_TEXT))
            result = GateResult([], [])
            if ns.policy_pack:
                result = analyze_with(started, run, context, pack_configs)
            integrity.check(judge, "while the gate ran")
            integrity.check_loaded(loads, "while the gate ran")
            violations = result.violations
    except (
        ProjectError,
        InvalidArguments,
        GateError,
        ProgramBroken,
        ProgramFailed,
        integrity.PackChanged,
    ) as exc:
        _say(str(exc))
        return EXIT_BROKEN
    except _Stopped as stop:
        _say(f"stopped by {stop.signal_name}; no verdict")
        return EXIT_BROKEN
    verdict = EXIT_VIOLATIONS if any(v.enforcement == "mandatory" for v in violations) else EXIT_OK
    guarded = (
        changes.guarded(predicted, allow_replace=ns.allow_replace, allow_delete=ns.allow_delete)
        if predicted is not None
        else []
    )
    # A mandatory violation outranks a guarded change (exits.WORST_FIRST): no flag allows that.
    verdict = exits.worst([verdict, EXIT_GUARDED if guarded else EXIT_OK])
    for why in guarded:
        _say(f"guarded change: {why}")
    if ns.json:
        doc = to_json(
            run, stack=ns.stack, mode=ns.mode, violations=violations, overrides=result.overrides
        )
        if predicted is not None and base is not None:
            doc["changes"] = {
                "base": base.label,
                "resources": [c.to_json() for c in predicted if changes.shown(c)],
                "guarded": guarded,
                "summary": changes.summary(predicted),
            }
        text = json.dumps(doc, indent=2, sort_keys=True)
    elif ns.mermaid:
        text = render_mermaid(
            run, project=project.name, stack=ns.stack, changes=predicted, violations=violations
        )
        if ns.policy_pack:
            mandatory = sum(v.enforcement == "mandatory" for v in violations)
            text += f"\n\nPolicy gate: {mandatory} mandatory, {len(violations) - mandatory} other."
            if result.overrides:
                text += "\n\n" + render_overrides(result.overrides)
        if predicted is not None:
            summary = changes.summary(predicted)
            text += (
                f"\nChanges: {summary['create']} to create, {summary['update']} to update, "
                f"{summary['replace']} to replace ({summary['stateful_replacements']} stateful), "
                f"{summary['delete']} to delete ({summary['stateful_deletions']} stateful)"
                + (f", {summary['fails']} failing." if summary["fails"] else ".")
            )
    else:
        text = render_tree(run, project=project.name, stack=ns.stack, mode=ns.mode)
        if ns.policy_pack:
            if result.overrides:
                text += "\n\n" + render_overrides(result.overrides)
            text += "\n\n" + render_violations(violations, (r.name for r in run.resources))
        if predicted is not None and base is not None:
            text += "\n\n" + changes.render(
                predicted,
                base=base.label,
                allow_replace=ns.allow_replace,
                allow_delete=ns.allow_delete,
            )
    try:
        # The `secure:` placeholder, as [secret]: values are shown so already (recorder.sanitize),
        # and so are names, URNs and paths made from them. (The program's messages and log
        # lines are redacted as they leave it: ack_offline.isolation.)
        print(terminal(unsecure(text)))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader left (`ack-preview ... | head`): the report was not delivered, so no verdict
        # (as ack-fleet says), and Python must not fail again flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _say("the report could not be written: its reader closed the pipe")
        return EXIT_BROKEN
    except OSError as exc:
        # The report could not be written (a full disk, a closed descriptor): whoever reads
        # the exit code must not take a verdict nobody could read for one.
        _say(f"the report could not be written to standard output: {exc}")
        return EXIT_BROKEN
    return verdict


if __name__ == "__main__":
    sys.exit(main())
