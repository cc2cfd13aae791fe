"""The workflows and actions hold under hostile input: nothing a file name, a branch, a pull
request or a step's output holds is ever code, and the comments they post are bounded."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ROOT
from .docs_text import user_docs

GITHUB = ROOT / ".github"
README = user_docs()  # the README and the pages it links to (docs/CI.md)

# -- no expression in a script -----------------------------------------------------------------

#: The only expressions a script may hold. The runner sets each of them, and no stack file name,
#: branch, pull request, event payload or step output can choose one, so writing them into a
#: script cannot change what the script does. Everything else reaches a script through `env:`
#: and a quoted variable. Deliberately not here: `secrets.*` (written into a script, a secret
#: lands in the script file on the runner's disk and a quote in it breaks the script), `vars.*`
#: and `inputs.*` (any of them may carry a stack name), `matrix.*` (the stack matrix comes from
#: file names), `github.*` beyond these (the event payload, head_ref, ref_name are chosen by
#: whoever opens the pull request or pushes the branch), and `steps.*`/`needs.*` outputs.
TRUSTED = frozenset(
    {
        "runner.temp",
        "runner.os",
        "runner.arch",
        "github.workspace",
        "github.action_path",
        "github.run_id",
        "github.run_number",
        "github.run_attempt",
    }
)
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def scripts(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(where, script) for every script anywhere in a workflow or action document: each step's
    `run:` and each actions/github-script `script:`, however deep (jobs, composite steps)."""
    if isinstance(node, dict):
        run = node.get("run")
        if isinstance(run, str):
            yield f"{where}.run", run
        if str(node.get("uses", "")).startswith("actions/github-script"):
            script = (node.get("with") or {}).get("script")
            if isinstance(script, str):
                yield f"{where}.with.script", script
        for key, value in node.items():
            yield from scripts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from scripts(value, f"{where}[{i}]")


def untrusted_expressions(doc: Any) -> list[str]:
    """Each expression in a script that is not one of :data:`TRUSTED` (contexts are
    case-insensitive, as GitHub reads them), and each `${{` that opens none."""
    found = []
    for where, script in scripts(doc):
        for m in _EXPRESSION.finditer(script):
            if m[1].strip().lower() not in TRUSTED:
                found.append(f"{where}: ${{{{{m[1]}}}}}")
        if script.count("${{") != len(_EXPRESSION.findall(script)):
            found.append(f"{where}: an unclosed ${{{{")
    return found


def workflow_files() -> list[Path]:
    files = sorted((GITHUB / "workflows").glob("*.y*ml")) + sorted(GITHUB.glob("actions/*/*.y*ml"))
    assert {f.name for f in files} >= {"deploy.yml", "pull-request.yml", "action.yml"}
    return files


def listing_env(step: dict[str, Any]) -> dict[str, str]:
    """The stack-listing step's env, as this repository's workflows give it: the reusable
    workflow's inputs as deploy.yml passes them (the stack files and the order in stacks/)."""
    given = {"${{ inputs.stacks-dir }}": "stacks", "${{ inputs.deploy-order }}": ORDER}
    return {k: given.get(v, v) for k, v in (step.get("env") or {}).items()}


ORDER = "stacks/deploy-order.txt"


def test_no_script_in_a_workflow_or_action_holds_an_untrusted_expression():
    """Every workflow and every action: a `${{ }}` in a script is text pasted into the script
    before the shell reads it, so a stack file named `x$(curl ...|sh).yaml` would run with the
    deploy credentials. Such values go through `env:` instead."""
    for file in workflow_files():
        doc = yaml.safe_load(file.read_text())
        assert list(scripts(doc)), file
        assert untrusted_expressions(doc) == [], file


@pytest.mark.parametrize(
    "script",
    [
        'pulumi up --stack "${{ matrix.stack }}"',
        "echo ${{matrix.stack}}",  # no spaces
        "echo ${{ MATRIX.STACK }}",  # contexts are case-insensitive
        "git log ${{ github.head_ref }}",
        "echo ${{ github.event.pull_request.title }}",
        "echo ${{ steps.list.outputs.list }}",
        "echo ${{ inputs.marker }}",
        "echo ${{ secrets.TOKEN }}",
        "echo ${{ format('{0}', runner.temp) }}",  # only the bare trusted values
        "echo ${{ runner['temp'] }}",
        "echo ${{\n  matrix.stack\n}}",  # over lines
        "echo ${{ matrix.stack",  # unclosed
        "ok ${{ runner.temp }}; bad ${{ matrix.stack }}",
    ],
)
def test_the_expression_check_catches_every_spelling(script):
    for doc in (
        {"jobs": {"j": {"steps": [{"run": script}]}}},
        {"runs": {"using": "composite", "steps": [{"shell": "bash", "run": script}]}},
        {
            "jobs": {
                "j": {"steps": [{"uses": "actions/github-script@v7", "with": {"script": script}}]}
            }
        },
    ):
        assert untrusted_expressions(doc), (script, doc)


def test_the_expression_check_lets_the_runners_own_values_and_env_through():
    doc = {
        "jobs": {
            "j": {
                "env": {"STACK": "${{ matrix.stack }}"},
                "steps": [
                    {"env": {"B": "${{ github.head_ref }}"}, "run": 'echo "$STACK" "$B"'},
                    {"run": "ls ${{ runner.temp }} ${{RUNNER.TEMP}} ${{ github.workspace }}"},
                    {"with": {"path": "${{ matrix.stack }}"}, "uses": "actions/cache@v4"},
                ],
            }
        }
    }
    assert untrusted_expressions(doc) == []


def test_the_actions_scripts_pass_shellcheck():
    """actionlint runs shellcheck on the workflows' scripts (test_project); the composite
    actions' scripts are checked here the same way (an unquoted variable is SC2086)."""
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is a dev dependency (pip install -e '.[dev]')"
    checked = 0
    for file in sorted(GITHUB.glob("actions/*/action.yml")):
        for where, script in scripts(yaml.safe_load(file.read_text())):
            # As the runner runs a composite step's bash: `bash -e -o pipefail {0}`.
            done = subprocess.run(
                [shellcheck, "--shell=bash", "-"],
                input="set -eo pipefail\n" + script,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, f"{file.parent.name}{where}:\n{done.stdout}"
            checked += 1
    assert checked >= 5


def test_actionlint_runs_shellcheck_on_the_workflows(tmp_path):
    """The workflows' scripts are shellchecked: an unquoted variable fails actionlint."""
    actionlint, shellcheck = shutil.which("actionlint"), shutil.which("shellcheck")
    assert actionlint and shellcheck
    text = (GITHUB / "workflows" / "ack-stacks.yml").read_text()
    assert '--stack "$STACK"' in text
    bad = tmp_path / "ack-stacks.yml"
    bad.write_text(text.replace('--stack "$STACK"', "--stack $STACK"))
    done = subprocess.run([actionlint, "-no-color", str(bad)], capture_output=True, text=True)
    assert done.returncode == 1 and "SC2086" in done.stdout


def test_every_stack_list_refuses_a_file_name_that_is_no_stack_name(tmp_path):
    """The stack matrix of every workflow comes from file names: a name Pulumi refuses as a
    stack name (a `$(...)`, a space, a newline) fails the listing job, so no job gets it."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "stacks" / "Pulumi.x$(touch pwned).yaml").write_text("config: {}\n")
    (tmp_path / "stacks" / "deploy-order.txt").write_text("dev\nx$(touch pwned)\n")
    for name in ("pull-request.yml", "drift-detection.yml", "ack-stacks.yml"):
        doc = yaml.safe_load((GITHUB / "workflows" / name).read_text())
        (step,) = [s for s in doc["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
        out = tmp_path / "output"
        out.write_text("")
        script = step["run"].replace('"$GITHUB_OUTPUT"', str(out))
        env = {**os.environ, **listing_env(step)}
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode != 0, name
        assert "x$(touch pwned)" in done.stderr and not out.read_text().strip(), name
        assert not (tmp_path / "pwned").exists()


def test_a_stack_name_reaches_a_command_as_an_argument_never_as_an_option():
    """A stack named `--policy-pack=x` (a file name) must not be an option: every ack-preview
    of a loop over stack files takes the stack after `--`, every pulumi gets `--stack VALUE`."""
    for file in workflow_files():
        for where, script in scripts(yaml.safe_load(file.read_text())):
            for line in script.splitlines():
                if "ack-preview" in line and '"$stack"' in line:
                    assert line.rstrip(" |&true").endswith('-- "$stack"'), (file, where, line)
                if re.search(r"(^\s*|\$\(|[;&|]\s*)pulumi (up|preview|stack output)\b", line):
                    assert '--stack "$STACK"' in line, (file, where, line)


# -- the pull-request comment ------------------------------------------------------------------

_FAKE_GH = r'''
"""gh, as far as the pr-comment action uses it: the comments of $FAKE_COMMENTS as GitHub pages
them (two pages, printed one after the other), every call and the body it posts logged."""
import json, os, sys
args = sys.argv[1:]
posted = None
for i, a in enumerate(args):
    if a == "--body-file":
        posted = open(args[i + 1]).read()
    if a.startswith("body=@"):
        posted = open(a[len("body=@"):]).read()
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "body": posted}) + "\n")
if args[:2] == ["api", "--paginate"]:
    comments = json.loads(os.environ["FAKE_COMMENTS"])
    half = len(comments) // 2
    print(json.dumps(comments[:half]))
    print(json.dumps(comments[half:]))
'''

#: jq's command line over libjq (the `jq` package), for machines without the jq program; only
#: the options the action uses.
_JQ_SHIM = r"""
import sys, jq
args, variables, slurp, raw = sys.argv[1:], {}, False, False
while args[0].startswith("-"):
    option = args.pop(0)
    if option == "--arg":
        name = args.pop(0)
        variables[name] = args.pop(0)
    elif option == "-s":
        slurp = True
    elif option == "-r":
        raw = True
    else:
        sys.exit(f"jq shim: {option} is not supported")
(program,) = args
for value in jq.compile(program, args=variables).input_text(sys.stdin.read(), slurp=slurp):
    print(value if raw and isinstance(value, str) else json.dumps(value))
""".replace("import sys, jq", "import json, sys, jq")


def _bot(id_: int, body: str, login: str = "github-actions[bot]") -> dict[str, Any]:
    return {"id": id_, "body": body, "user": {"login": login, "type": "Bot"}}


def run_pr_comment(
    tmp_path: Path, comments: list[dict[str, Any]], marker: str, text: str = "### the picture\n"
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """The pr-comment action's script, run as the runner runs it (bash -e -o pipefail, the
    step's env with the expressions evaluated), against a fake gh: (the run, gh's calls)."""
    action = yaml.safe_load((GITHUB / "actions" / "pr-comment" / "action.yml").read_text())
    step = action["runs"]["steps"][0]
    tmp_path.mkdir(parents=True, exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(f"#!{sys.executable}{_FAKE_GH}")
    (bin_dir / "gh").chmod(0o755)
    if not shutil.which("jq"):
        (bin_dir / "jq").write_text(f"#!{sys.executable}\n{_JQ_SHIM}")
        (bin_dir / "jq").chmod(0o755)
    body = tmp_path / "body.md"
    body.write_text(text, encoding="utf-8")
    log = tmp_path / "log"
    log.touch()
    evaluated = {
        "${{ github.token }}": "t",
        "${{ github.event.pull_request.number }}": "7",
        "${{ inputs.marker }}": marker,
        "${{ inputs.body-file }}": str(body),
    }
    env = {k: evaluated.get(v, v) for k, v in step["env"].items()}
    env.update(
        PATH=f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        RUNNER_TEMP=str(tmp_path),
        GITHUB_REPOSITORY="org/repo",
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_RUN_ID="99",
        GITHUB_ACTION_PATH=str(GITHUB / "actions" / "pr-comment"),
        GITHUB_OUTPUT=str(tmp_path / "output"),
        FAKE_LOG=str(log),
        FAKE_COMMENTS=json.dumps(comments),
    )
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
        env=env,
        capture_output=True,
        text=True,
    )
    return done, [json.loads(line) for line in log.read_text().splitlines()]


OTHERS = [
    _bot(11, "<!-- ack-offline-picture -->\n..."),
    _bot(12, "<!-- pulumi-preview-dev-2 -->\n..."),  # begins with the marker's name
    _bot(13, "a quote of <!-- pulumi-preview-dev --> in a comment"),
    # A person's comment that starts with the marker: never edited.
    _bot(14, "<!-- pulumi-preview-dev -->\nplease look", login="mallory"),
    {"id": 15, "body": "<!-- pulumi-preview-dev -->\nno user"},
]


def test_pr_comment_creates_its_comment_and_edits_no_other(tmp_path):
    """Each stack's preview and the offline picture keep one comment each: the comment is found
    by its marker line, written by this workflow's token; never by being the last one, never a
    person's, never one whose marker only begins like this one."""
    done, calls = run_pr_comment(tmp_path, OTHERS, "pulumi-preview-dev")
    assert done.returncode == 0, done.stderr
    listed, create = calls
    assert listed["args"][:2] == ["api", "--paginate"]
    assert create["args"][:4] == ["pr", "comment", "7", "--repo"]
    assert create["body"] == "<!-- pulumi-preview-dev -->\n### the picture\n"


def test_pr_comment_updates_its_own_comment(tmp_path):
    mine = _bot(42, "<!-- pulumi-preview-dev -->\nold")
    # On the second page, after a person's comment with the same marker line.
    done, calls = run_pr_comment(tmp_path, [*OTHERS, mine], "pulumi-preview-dev")
    assert done.returncode == 0, done.stderr
    _, update = calls
    assert update["args"][:4] == ["api", "--method", "PATCH", "repos/org/repo/issues/comments/42"]
    assert update["body"] == "<!-- pulumi-preview-dev -->\n### the picture\n"


@pytest.mark.parametrize(
    "marker",
    [
        'dev")) | .id, ("x',  # a jq filter's quote
        "dev --> <!-- ack-offline-picture",  # ends the HTML comment, names another's
        "dev\n<!-- ack-offline-picture -->",
        "pulumi-preview-$(touch pwned)",
        "a b",
        "",
    ],
)
def test_pr_comment_refuses_a_marker_that_is_no_name_before_any_call(tmp_path, marker):
    """A crafted stack name in the marker can neither match nor edit another comment: refused
    (exit 2) before gh is called at all; jq only ever gets it as an --arg value."""
    done, calls = run_pr_comment(tmp_path, [*OTHERS, _bot(42, "<!-- dev -->")], marker)
    assert done.returncode == 2 and "marker" in done.stderr
    assert calls == []
    assert not (tmp_path / "pwned").exists()


def test_the_marker_reaches_jq_as_data_never_as_its_filter():
    run = yaml.safe_load((GITHUB / "actions" / "pr-comment" / "action.yml").read_text())["runs"]
    script = run["steps"][0]["run"]
    (jq,) = re.findall(r"\| jq .*?'(.*?)'", script, re.S)
    assert "$marker" in jq and "$author" in jq
    assert '--arg marker "$marker"' in script and "--jq" not in script


def _body_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "pr_comment_body", GITHUB / "actions" / "pr-comment" / "body.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_body_over_githubs_limit_is_cut_with_a_note(tmp_path):
    """GitHub refuses a body over 65,536 characters (the comment would not be posted at all):
    the action cuts it, whole lines, and says so."""
    lines = "".join(f"| stack-{i} | a row of the picture |\n" for i in range(5000))
    done, calls = run_pr_comment(tmp_path, [], "ack-offline-picture", lines)
    assert done.returncode == 0, done.stderr
    posted = calls[-1]["body"]
    assert len(posted) <= 65_536 and len(lines) > 65_536
    assert posted.startswith("<!-- ack-offline-picture -->\n| stack-0 |")
    note = posted.rsplit("\n", 2)[-2]
    assert "Cut to fit GitHub's limit" in note and f"{len(lines):,} characters" in note
    assert "https://github.com/org/repo/actions/runs/99" in note
    kept = posted.split("\n")[1:-3]
    assert all(line.endswith("row of the picture |") for line in kept)  # whole lines
    assert (tmp_path / "output").read_text() == "cut=true\n"
    # Within the limit: posted as it is.
    done, calls = run_pr_comment(tmp_path / "small", [], "ack-offline-picture")
    assert calls[-1]["body"] == "<!-- ack-offline-picture -->\n### the picture\n"
    assert (tmp_path / "small" / "output").read_text() == "cut=false\n"


def test_the_cut_closes_a_code_block_and_leaves_out_half_a_diagram():
    body = _body_module()
    log = "```\n" + "a preview line\n" * 10_000 + "```\n"
    got, cut = body.cut(log, 65_000)
    assert cut and body.units(got) <= 65_000
    head, note = got.rsplit("\n>", 1)
    assert head.startswith("```\na preview line\n") and head.endswith("a preview line\n```\n")
    assert "diagram" not in note
    picture = "### a\n\n```mermaid\nflowchart TD\n  a --> b\n```\n\n### b\n\n```mermaid\n"
    picture += "".join(f"  n{i} --> m{i}\n" for i in range(10_000)) + "```\n"
    got, cut = body.cut(picture, 65_000)
    head, note = got.rsplit("\n>", 1)
    assert head == "### a\n\n```mermaid\nflowchart TD\n  a --> b\n```\n\n### b\n\n"
    assert "A diagram that did not fit whole was left out" in note


def test_the_cut_counts_what_github_counts_at_the_most():
    """Characters outside the BMP count two (UTF-16), so no count GitHub may use is over the
    limit; one line longer than the limit is cut inside the line."""
    body = _body_module()
    got, cut = body.cut("🙂" * 40_000, 65_536)
    assert cut and len(got.encode("utf-16-le")) // 2 <= 65_536
    assert got.startswith("🙂" * 1000)
    got, cut = body.cut("x" * 100_000 + "\n", 65_536)
    assert cut and len(got) <= 65_536 and got.startswith("x" * 60_000)
    assert body.cut("x" * 65_536, 65_536) == ("x" * 65_536, False)


# -- what README says of the workflows ----------------------------------------------------------


def test_readme_says_which_jobs_may_write_and_no_other_can():
    """Every workflow's token reads the repository only, but the two jobs that post comments,
    which may also write pull requests: README says exactly that."""
    writers = set()
    for file in sorted((GITHUB / "workflows").glob("*.yml")):
        doc = yaml.safe_load(file.read_text())
        assert doc["permissions"] == {"contents": "read"}, file.name
        for name, job in doc["jobs"].items():
            granted = job.get("permissions", doc["permissions"])
            assert set(granted.values()) <= {"read", "write", "none"}
            extra = {k: v for k, v in granted.items() if v == "write"}
            # `id-token: write` writes nothing: it lets the job ask GitHub for its OIDC token,
            # which a RAM role trusts (no cloud key is stored); only jobs that assume one have it.
            if extra.pop("id-token", None):
                script = yaml.safe_dump(job)
                assert "oidc-provider-arn" in script, (file.name, name)
            if extra:
                assert extra == {"pull-requests": "write"}, (file.name, name)
                writers.add(f"{file.stem}/{name}")
    assert writers == {"pull-request/picture", "pull-request/preview"}
    said = " ".join(README.split())
    assert "every workflow reads the repository only" not in said
    assert (
        "Every workflow's token reads the repository only (`permissions: contents: read`) but "
        "in the pull-request workflow's `picture` and `preview` jobs, which post comments and "
        "so may also write pull requests (`pull-requests: write`); the jobs that assume a RAM "
        "role also get `id-token: write`, which writes nothing"
    ) in said


# -- command output in a code block --------------------------------------------------------------


def _output_steps() -> list[tuple[str, dict[str, Any], str]]:
    """The steps that put a command's output into Markdown: (workflow, step, output file)."""
    found = []
    for name, output, env in (
        ("pull-request.yml", "preview.txt", {"STACK": "dev", "OUTCOME": "failure"}),
        ("ack-stacks.yml", "out.txt", {"STACK": "dev", "COMMAND": "preview"}),
    ):
        doc = yaml.safe_load((GITHUB / "workflows" / name).read_text())
        for job in doc["jobs"].values():
            for step in job.get("steps", []):
                if output in step.get("run", "") and "fence" in step.get("run", ""):
                    found.append((name, step, json.dumps(env)))
    return found


@pytest.mark.parametrize("backticks", [0, 3, 4, 9])
def test_no_line_of_a_commands_output_closes_its_code_block(tmp_path, backticks):
    """`pulumi preview` prints what a program prints and the names it chose: a line of three
    backticks closed the comment's fixed fence, and the rest was Markdown (links, images,
    @mentions, HTML). The fence is longer than any run of backticks in the output."""
    steps = _output_steps()
    assert {name for name, _, _ in steps} == {"pull-request.yml", "ack-stacks.yml"}
    ticks = "`" * backticks
    output = f"Previewing update\n{ticks}\n<img src=x> @octocat [a](https://x)\n{ticks}\nend"
    for name, step, env in steps:
        temp = tmp_path / name
        temp.mkdir()
        (temp / "preview.txt").write_text(output)
        (temp / "out.txt").write_text(output)
        summary = temp / "summary.md"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=tmp_path,
            env={
                **os.environ,
                **json.loads(env),
                "RUNNER_TEMP": str(temp),
                "GITHUB_STEP_SUMMARY": str(summary),
            },
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, (name, done.stderr)
        md = (temp / "preview.md" if name == "pull-request.yml" else summary).read_text()
        lines = md.splitlines()
        opening = next(i for i, line in enumerate(lines) if line.startswith("```"))
        fence = lines[opening]
        assert set(fence) == {"`"} and len(fence) >= max(3, backticks + 1), (name, fence)
        closing = [i for i, line in enumerate(lines) if line.strip().startswith(fence)]
        # The block opens once and closes at its end: every line of the output inside it.
        assert closing == [opening, len(lines) - 1], (name, md)


def test_no_checkout_leaves_the_token_where_the_code_it_runs_can_read_it():
    """Every job runs code from the repository (a pull request's, in pull-request.yml) after
    checking it out; actions/checkout writes the job's token into .git/config unless told not
    to, where that code could read it and use the job's permissions."""
    found = []
    for file in [*workflow_files(), *sorted((GITHUB / "actions").glob("*/action.yml"))]:
        doc = yaml.safe_load(file.read_text())
        jobs = doc.get("jobs", {}) if isinstance(doc, dict) else {}
        steps = [s for j in jobs.values() for s in j.get("steps", [])]
        steps += (doc.get("runs", {}) or {}).get("steps", []) if "runs" in doc else []
        for step in steps:
            if str(step.get("uses", "")).startswith("actions/checkout"):
                found.append((file.name, (step.get("with") or {}).get("persist-credentials")))
    assert found and all(value is False for _, value in found), found
