"""The tools under hostile input (issue 28): what a program prints or names cannot pose as the
command's own output, and every failure of the tool is exit 2 with one line, never a traceback
or the exit code of a mandatory violation."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ack_offline import fleet
from ack_offline.text import markdown_cell, one_line, terminal

from .conftest import ACK_PREVIEW, ROOT

CLUSTER = """
import pulumi
from ack_clusters import ManagedCluster
c = ManagedCluster("t", {"network": {"zones": ["cn-hangzhou-i"]}})
"""


def _project(folder: Path, program: str, stack_file: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (folder / "Pulumi.dev.yaml").write_text(
        stack_file or "config:\n  alicloud:region: cn-hangzhou\n"
    )
    (folder / "__main__.py").write_text(program)
    return folder


def _preview(folder: Path, *extra: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ACK_PREVIEW, "dev", "--program", str(folder), *extra],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


# --- what the program prints -------------------------------------------------------------


@pytest.mark.parametrize("spawned", [False, True], ids=["forked", "--program-python"])
def test_json_stays_json_whatever_the_program_prints(tmp_path, spawned):
    program = CLUSTER + 'print("{not json")\nimport sys\nsys.stdout.write("0 mandatory\\n")\n'
    folder = _project(tmp_path / "p", program)
    extra = ["--program-python", sys.executable] if spawned else []
    done = _preview(folder, "--json", "--policy-pack", str(ROOT / "policies"), *extra)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the whole of standard output is the report
    assert report["summary"]["mandatory"] == 0
    assert "{not json" in done.stderr and "0 mandatory" in done.stderr  # kept and shown


def test_the_callers_pulumi_config_does_not_feed_the_program(tmp_path):
    """The language host sets PULUMI_CONFIG to the stack's config; a value the caller's
    environment held must not reach the program as config."""
    program = CLUSTER + (
        'assert pulumi.Config("t").get("extra") is None, "config from the environment"\n'
        'assert pulumi.Config("alicloud").require("region") == "cn-hangzhou"\n'
    )
    folder = _project(tmp_path / "p", program)
    env = {**os.environ, "PULUMI_CONFIG": json.dumps({"t:extra": "x", "alicloud:region": "x"})}
    done = _preview(folder, env=env)
    assert done.returncode == 0, done.stderr


# --- what the program names ----------------------------------------------------------------

HOSTILE_NAME = "evil\\n0 mandatory, 0 other.\\r\\x1b[2J\\u202e```\\u2028x\\n</details>|"
# The name itself, its escapes made real characters: what the program registers.
RAW = HOSTILE_NAME.encode().decode("unicode_escape")
NAMING = (
    CLUSTER
    + f"""
import pulumi_alicloud as alicloud
alicloud.vpc.Network({RAW!r}, cidr_block="10.9.0.0/16")
alicloud.kms.Key({RAW!r})  # unprotected: a rule's message quotes its name
alicloud.ecs.SecurityGroupRule(
    "loose-" + {RAW!r}, security_group_id=c.security_group_id, type="ingress",
    ip_protocol="tcp", port_range="443/443", cidr_ip="10.0.0.0/8",
)
"""
)


def test_text_output_shows_a_names_control_characters_escaped(tmp_path):
    folder = _project(tmp_path / "p", NAMING)
    done = _preview(folder, "--policy-pack", str(ROOT / "policies"))
    assert done.returncode == 1, done.stderr  # the loose rule is drift
    for stream in (done.stdout, done.stderr):
        assert not any(c in stream for c in "\x1b\r\u202e")
    assert "\u2028" not in done.stdout
    # The only summary line is the gate's own, and no line starts with a name's text, not even
    # indented under a violation whose message quotes the name.
    assert not any(line.lstrip().startswith("0 mandatory") for line in done.stdout.split("\n"))
    summaries = [line for line in done.stdout.splitlines() if line.endswith("other.")]
    assert len(summaries) == 1 and not summaries[0].startswith("0 mandatory")
    assert one_line(RAW) in done.stdout


def test_a_name_cannot_end_the_mermaid_block(tmp_path):
    folder = _project(tmp_path / "p", NAMING)
    done = _preview(folder, "--mermaid", "--policy-pack", str(ROOT / "policies"))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    fences = [i for i, line in enumerate(lines) if line.startswith("```")]
    assert fences == [0, fences[1]] and lines[fences[1]] == "```"
    inside = "\n".join(lines[1 : fences[1]])
    # (">" draws the edges; "<br>" is the picture's own line break)
    assert not any(c in inside.replace("<br>", "") for c in "`\r\x1b\u202e<")
    assert "</details>" not in done.stdout and "#96;#96;#96;" in inside


@pytest.mark.parametrize("name", ["--allow-replace", "-x", "a b", "dev\n| forged |"])
def test_the_fleet_gate_never_passes_a_file_name_as_an_argument(tmp_path, monkeypatch, name):
    root = _project(tmp_path / "p", CLUSTER)
    called: list[list[str]] = []

    def ack_preview(argv: list[str], timeout: float) -> tuple[int, str, str]:
        called.append(argv)
        return 0, "{}", ""

    monkeypatch.setattr(fleet, "run_ack_preview", ack_preview)
    monkeypatch.setattr(fleet.Project, "stacks", lambda self: [name])
    report = tmp_path / "gate.json"
    gate = ["--program", str(root), "gate", "--mode", "preview", "--json", str(report)]
    assert fleet.main([*gate, "--policy-pack", str(ROOT / "policies")]) == 2
    assert called == []
    (row,) = json.loads(report.read_text())["stacks"]
    assert row["exit"] == 2 and "not a stack name" in row["error"]


def test_the_fleet_table_shows_a_stack_name_on_one_line(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path / "p", CLUSTER)
    name = "dev\n| forged | preview | 0 |"

    def ack_preview(argv: list[str], timeout: float) -> tuple[int, str, str]:
        return 2, "", "broken\x1b[31m\r"

    monkeypatch.setattr(fleet, "run_ack_preview", ack_preview)
    monkeypatch.setattr(fleet.Project, "stacks", lambda self: [name])
    gate = ["--program", str(root), "gate", "--mode", "preview"]
    assert fleet.main([*gate, "--policy-pack", str(ROOT / "policies")]) == 2
    out, err = capsys.readouterr()
    rows = [line for line in out.splitlines() if line.startswith("| dev")]
    assert len(rows) == 1 and rows[0].startswith(f"| {markdown_cell(name)} | preview | 2 |")
    assert not any(line.startswith("| forged") for line in out.splitlines())
    assert "\x1b" not in err and "\r" not in err


def test_escaping_keeps_ordinary_text_and_shows_every_control():
    ordinary = "alicloud:vpc/network:Network  prod-vpc ünïcode 中文 \\ tab"
    assert one_line(ordinary) == ordinary == terminal(ordinary)
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E, 0x2066, 0x200F, 0x2028, 0xFEFF]:
        shown = one_line(chr(code))
        assert shown.startswith("\\") and len(shown) > 1 and chr(code) not in shown
    assert terminal("a\nb\tc\x1bd") == "a\nb\tc\\x1bd"
    assert markdown_cell("a|b\nc") == "a\\|b\\nc"


# --- failures of the tool are exit 2 --------------------------------------------------------


def test_components_nested_deeper_than_the_interpreter_recurses_print_as_a_tree(tmp_path):
    program = CLUSTER + (
        "parent = None\n"
        "for i in range(1500):\n"
        "    parent = pulumi.ComponentResource('my:deep:Box', f'box{i}', None,\n"
        "        pulumi.ResourceOptions(parent=parent))\n"
    )
    folder = _project(tmp_path / "p", program)
    done = _preview(folder)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "box1499" in done.stdout


@pytest.mark.parametrize(
    "stack_file",
    [
        "config:\n  alicloud:region: cn-hangzhou\n  t:deep: " + "[" * 5000 + "]" * 5000 + "\n",
        "config:\n  alicloud:region: cn-hangzhou\n  t:deep: " + "{a: " * 3000 + "1" + "}" * 3000,
    ],
    ids=["lists", "mappings"],
)
def test_a_stack_file_nested_too_deeply_is_exit_2(tmp_path, stack_file):
    folder = _project(tmp_path / "p", CLUSTER, stack_file)
    done = _preview(folder)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.startswith("ack-preview:")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_report_that_cannot_be_written_is_exit_2(tmp_path):
    folder = _project(tmp_path / "p", CLUSTER)
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*ACK_PREVIEW, "dev", "--program", str(folder), "--json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=180,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert "could not be written" in done.stderr and "Traceback" not in done.stderr


def test_an_unwritable_fleet_report_is_exit_2(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path / "p", CLUSTER)
    monkeypatch.setattr(
        fleet, "run_ack_preview", lambda argv, timeout: (0, json.dumps({"summary": {}}), "")
    )
    target = tmp_path / "no-such-folder" / "gate.json"
    gate = ["--program", str(root), "gate", "--mode", "preview", "--json", str(target)]
    assert fleet.main([*gate, "--policy-pack", str(ROOT / "policies")]) == 2
    err = capsys.readouterr().err
    assert "gate.json" in err and "Traceback" not in err


# --- no process outlives the tools ----------------------------------------------------------

DAEMON = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open({pid_file!r}, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(120)
    os._exit(0)
time.sleep(0.5)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _gone(pids: list[int], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


LINUX = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


@LINUX
@pytest.mark.heavy
def test_a_daemon_the_program_leaves_does_not_outlive_ack_preview(tmp_path):
    """A program that double-forks a detached process holding the command's output: the
    command still ends at once (its reader is not kept waiting) and the daemon with it."""
    pid_file = tmp_path / "daemon.pid"
    folder = _project(tmp_path / "p", CLUSTER + DAEMON.format(pid_file=str(pid_file)))
    start = time.monotonic()
    done = _preview(folder, "--json")  # a pipe: communicate() waits for every writer
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 60
    assert _gone([int(pid_file.read_text())])


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _descendants(pid: int) -> list[int]:
    from ack_offline.reaper import descendants

    return descendants(pid)


@LINUX
@pytest.mark.heavy
def test_ack_preview_killed_with_sigkill_takes_its_program_and_packs_with_it(tmp_path):
    folder = _project(tmp_path / "p", "import time\ntime.sleep(120)\n")
    preview = subprocess.Popen(
        [*ACK_PREVIEW, "dev", "--program", str(folder), "--policy-pack", str(ROOT / "policies")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    below: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the pack serves: the program waits by then
        time.sleep(0.2)
        below = _descendants(preview.pid)
        if any("pulumi.policy" in _command(pid) for pid in below) and len(below) >= 2:
            break
    assert any("pulumi.policy" in _command(pid) for pid in below), below
    time.sleep(1)
    preview.kill()
    preview.wait()
    assert _gone(below)


def _fleet_project(tmp_path: Path, program: str, stacks: int = 1) -> Path:
    folder = _project(tmp_path / "p", program)
    for i in range(1, stacks):
        (folder / f"Pulumi.dev{i}.yaml").write_text((folder / "Pulumi.dev.yaml").read_text())
    return folder


ACK_FLEET = [sys.executable, "-m", "ack_offline.fleet"]


def _gate_args(folder: Path, report: Path) -> list[str]:
    pack = ["--policy-pack", str(ROOT / "policies")]
    run = ["--workers", "1", "--mode", "preview", "--json", str(report)]
    return ["--program", str(folder), "gate", *pack, *run]


@LINUX
@pytest.mark.heavy
def test_sigterm_to_the_fleet_gate_stops_every_stack_and_still_reports(tmp_path):
    folder = _fleet_project(tmp_path, "while True:\n    pass\n", stacks=2)
    report = tmp_path / "gate.json"
    fleet_gate = subprocess.Popen(
        [*ACK_FLEET, *_gate_args(folder, report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    below: list[int] = []
    deadline = time.monotonic() + 60
    while len(below) < 4 and time.monotonic() < deadline:  # server, ack-preview, program, pack
        time.sleep(0.2)
        below = _descendants(fleet_gate.pid)
    assert len(below) >= 4
    fleet_gate.send_signal(signal.SIGTERM)
    out, err = fleet_gate.communicate(timeout=60)
    assert fleet_gate.returncode == 2, err
    summary = "0 of 2 stack runs judged, exit 2; not judged: dev (preview), dev1 (preview)"
    assert out.splitlines()[-1] == f"ack-fleet: {summary}"  # not "2 stacks gated"
    rows = json.loads(report.read_text())["stacks"]
    assert sorted(r["stack"] for r in rows) == ["dev", "dev1"]
    assert all(r["exit"] == 2 for r in rows)
    assert any("not judged" in r.get("error", "") for r in rows)
    assert _gone(below)


@LINUX
@pytest.mark.heavy
def test_sigkill_to_the_fleet_gate_leaves_no_process_it_started(tmp_path):
    """SIGKILL, which no handler sees: the fork server dies with ack-fleet, each stack's
    ack-preview with the fork server, each program and pack with its ack-preview, and the
    multiprocessing resource tracker when the last of them is gone. The programs spin and
    ignore SIGTERM, so only a kill ends them."""
    spin = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n"
    # Each program first leaves a detached daemon (`sleep`), which init adopts once the tools
    # are SIGKILLed (docs/ARCHITECTURE.md): it must not keep anything of the tools' running.
    daemon = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.execvp('sleep', ['sleep', '300'])\n"
        "    os._exit(0)\n"
        "time.sleep(0.5)\n"
    )
    folder = _fleet_project(tmp_path, daemon + spin, stacks=2)
    args = _gate_args(folder, tmp_path / "gate.json")
    args[args.index("--workers") + 1] = "2"
    fleet_gate = subprocess.Popen(
        [*ACK_FLEET, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    below: list[int] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # until both packs serve: both programs spin by then
        time.sleep(0.2)
        below = _descendants(fleet_gate.pid)
        if sum("pulumi.policy" in _command(pid) for pid in below) >= 2:
            break
    assert sum("pulumi.policy" in _command(pid) for pid in below) >= 2, below
    # the fork server, the resource tracker, two ack-previews, two programs, two packs
    assert len(below) >= 8, [_command(pid) for pid in below]
    time.sleep(1)
    daemons = [pid for pid in _descendants(fleet_gate.pid) if _command(pid).startswith("sleep")]
    fleet_gate.kill()
    fleet_gate.wait()
    try:
        ours = [pid for pid in below if pid not in daemons]
        assert _gone(ours), [_command(pid) for pid in ours if _alive(pid)]
    finally:
        for pid in daemons:  # the programs' own, which outlive a SIGKILLed tool
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


_ORPHAN = """
import os, sys, time
from ack_offline import reaper
parent = os.getpid()
read, write = os.pipe()
child = os.fork()
if child == 0:
    os.close(write)
    os.read(read, 1)  # end of file: the parent has ended
    while os.getppid() == parent:
        time.sleep(0.01)
    reaper.die_with_parent(parent)
    open(sys.argv[1], "w").write("outlived its parent")
    os._exit(0)
print(child, flush=True)
os._exit(0)
"""


@LINUX
def test_a_child_whose_parent_ended_before_it_asked_to_die_with_it_exits(tmp_path):
    """The race of a second review: the parent ends between the fork and the child's request,
    so the child's parent is init (or a subreaper) by then; asked with the PID read before the
    fork, it exits rather than run on with no parent to die with."""
    mark = tmp_path / "outlived"
    done = subprocess.run(
        [sys.executable, "-c", _ORPHAN, str(mark)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert _gone([int(done.stdout)])
    assert not mark.exists()


_LATE = """
import time
from ack_offline import fleet


def late(argv, out, err):
    time.sleep(2)  # the fork server is killed meanwhile
    fleet._ack_preview_forked(argv, out, err)
"""

_KILL_THE_SERVER = """
import os, signal, sys, time
from multiprocessing import forkserver

import late
from ack_offline import fleet, reaper

reaper.become_subreaper()  # the orphaned stack is re-parented here, and its status read here
context = fleet._fork_server()
server = forkserver._forkserver._forkserver_pid
process = context.Process(target=late.late, args=(["--help"], sys.argv[1], sys.argv[2]))
process.start()
os.kill(server, signal.SIGKILL)  # right after it forked the stack
deadline = time.monotonic() + 60
while True:
    try:  # the stack's until the server is gone and it is re-parented here
        _, status = os.waitpid(process.pid, 0)
        break
    except ChildProcessError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.01)
print(os.waitstatus_to_exitcode(status))
"""


@LINUX
@pytest.mark.heavy
def test_a_stack_forked_just_before_the_fork_server_died_does_not_run(tmp_path):
    """SIGKILL to ack-fleet as its fork server forks a stack: the server dies with ack-fleet
    before the stack asks to die with the server (it is still importing ack_offline.fleet, to
    unpickle what to run). It must not run ack-preview under init; it read the server's PID
    before the fork, and exits."""
    (tmp_path / "late.py").write_text(_LATE)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _KILL_THE_SERVER, str(out), str(err)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"], (done.stdout, done.stderr)
    assert not out.exists()  # ack-preview never ran (it would print its help there)


@LINUX
@pytest.mark.heavy
def test_a_program_that_kills_the_fork_server_leaves_the_other_stacks_judged(tmp_path):
    killer = CLUSTER + (
        "import os, signal\n"
        "if pulumi.get_stack() == 'dev':\n"
        "    stat = open(f'/proc/{os.getppid()}/stat').read().rsplit(')', 1)[1].split()\n"
        "    os.kill(int(stat[1]), signal.SIGKILL)  # ack-preview's parent: the fork server\n"
    )
    folder = _fleet_project(tmp_path, killer, stacks=3)
    report = tmp_path / "gate.json"
    done = subprocess.run(
        [*ACK_FLEET, *_gate_args(folder, report)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr
    rows = {r["stack"]: r for r in json.loads(report.read_text())["stacks"]}
    assert sorted(rows) == ["dev", "dev1", "dev2"]
    assert rows["dev1"]["exit"] == 0 and rows["dev2"]["exit"] == 0, done.stderr
    assert done.returncode == max(r["exit"] for r in rows.values() if r["exit"] != 3)


@pytest.mark.heavy
def test_the_fleet_passes_its_time_limit_on_to_each_program(tmp_path, capsys):
    folder = _fleet_project(tmp_path, "import time\ntime.sleep(120)\n")
    report = tmp_path / "gate.json"
    start = time.monotonic()
    code = fleet.main([*_gate_args(folder, report), "--timeout", "2"])
    assert code == 2 and time.monotonic() - start < 60
    (row,) = json.loads(report.read_text())["stacks"]
    assert "did not finish within 2 s" in row["error"]
    capsys.readouterr()


@LINUX
def test_the_program_cannot_reach_the_gates_descriptors_as_an_ordinary_user(tmp_path):
    """ack-preview is non-dumpable, and the program's process with it: an ordinary user's
    program cannot open /proc/<gate>/fd/1 to write a forged report (root can; see reaper)."""
    program = CLUSTER + (
        "import ctypes\n"
        "assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0, 'dumpable'  # PR_GET_DUMPABLE\n"
    )
    done = _preview(_project(tmp_path / "p", program))
    assert done.returncode == 0, done.stderr


def test_a_programs_log_lines_are_printed_with_control_characters_escaped(tmp_path):
    program = CLUSTER + 'pulumi.log.warn("\\x1b[2J forged\\r\\n0 mandatory")\n'
    done = _preview(_project(tmp_path / "p", program))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    assert "\\x1b[2J forged\\r" in done.stderr


# --- files a user names ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["device", "fifo", "huge"])
@pytest.mark.parametrize("option", ["--policy-pack-config", "--stack-reference"])
def test_a_named_file_that_is_not_a_small_regular_one_is_no_verdict(tmp_path, option, kind):
    """A device would be read without end (/dev/zero grew the gate to 12.5 GB in 8 s), a FIFO
    with no writer never answers (no --timeout covers reading options), a huge file fills the
    memory that decides the verdict: each is exit 2 at once, naming the option."""
    folder = _project(tmp_path / "p", CLUSTER)
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    else:
        path = tmp_path / "huge.json"
        path.write_text('{"x": "' + "a" * (65 << 20) + '"}')
    value = str(path) if option == "--policy-pack-config" else f"o/p/s={path}"
    extra = ["--policy-pack", str(ROOT / "policies")] if option == "--policy-pack-config" else []
    done = _preview(folder, *extra, option, value)
    assert done.returncode == 2, done.stderr
    reason = {"device": "not a regular file", "fifo": "not a regular file", "huge": "larger than"}
    assert reason[kind] in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e9", "ten"])
def test_a_time_limit_that_means_nothing_is_refused(tmp_path, value):
    """`--timeout nan` ended in "the program ended before it finished (exit code 0)", `-1` was
    taken, `inf` ended in an OverflowError: each is refused before anything runs."""
    done = _preview(_project(tmp_path / "p", CLUSTER), "--timeout", value)
    assert done.returncode == 2 and "argument --timeout" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_program_gets_no_descriptor_of_its_caller_but_the_standard_three(tmp_path):
    """Pulumi's language host starts a program with standard input, output and error alone; a
    forked program inherited whatever its caller had open (a shell's descriptor 251 was
    written to), and, under --diff, the other program's pipes to the gate."""
    read, write = os.pipe()
    seen = tmp_path / "seen"
    program = CLUSTER + (
        "import os\n"
        f"try:\n    os.write({write}, b'x')\n    said = 'written'\n"
        "except OSError:\n    said = 'closed'\n"
        f"open({str(seen)!r}, 'w').write(said)\n"
    )
    folder = _project(tmp_path / "p", program)
    try:
        done = _preview(folder, pass_fds=(write,))
    finally:
        os.close(write)
        os.close(read)
    assert done.returncode == 0, done.stderr
    assert seen.read_text() == "closed"


def test_sigterm_before_the_run_begins_is_a_stopped_run():
    """SIGTERM between the command's start and the run's own handlers (loading the library
    takes a while) ended ack-preview with status 143 and no word; it is exit 2, said."""
    script = (
        "import os, signal, time\n"
        "import ack_offline.preview as preview\n"
        "def main(argv=None):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(10)\n"
        "    return 0\n"
        "preview.main = main\n"
        "from ack_offline import cli\n"
        "cli.main([])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.strip().endswith("stopped by SIGTERM; no verdict"), done.stderr


_FLEET_STOPPED_WHILE_IMPORTING = """
import os, signal, sys, time, types
fake = types.ModuleType("ack_offline.fleet")  # stands for ack-fleet's imports, as they run
def console():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)
fake.console = console
sys.modules["ack_offline.fleet"] = fake
from ack_offline import cli
cli.fleet()
"""


def test_sigterm_while_ack_fleet_loads_is_a_stopped_run():
    """The ack-fleet console script imported the whole library before it installed any handler:
    SIGTERM in its first ~0.35 s ended it with status 143 and no word. Its entry point now
    installs the early handler first, as ack-preview's does: exit 2, one line."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "ack-fleet"]
    assert script.value == "ack_offline.cli:fleet"
    done = subprocess.run(
        [sys.executable, "-c", _FLEET_STOPPED_WHILE_IMPORTING],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.strip() == "ack-fleet: stopped by SIGTERM", done.stderr


@pytest.mark.parametrize("target", ["folder", "missing/report.json"])
def test_the_fleet_gate_refuses_a_report_it_cannot_write_before_running_any_stack(
    tmp_path, monkeypatch, capsys, target
):
    from ack_offline import fleet

    folder = _project(tmp_path / "p", CLUSTER)
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(folder)
    ran: list[object] = []
    monkeypatch.setattr(fleet, "gate_one", lambda *a, **k: ran.append(a))
    code = fleet.main(
        ["gate", "--policy-pack", str(ROOT / "policies"), "--json", str(tmp_path / target)]
    )
    assert code == 2 and ran == []
    assert "--json" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "-5", "inf"])
def test_the_fleet_gate_refuses_a_time_limit_that_means_nothing(tmp_path, monkeypatch, value):
    from ack_offline import fleet

    monkeypatch.chdir(_project(tmp_path / "p", CLUSTER))
    with pytest.raises(SystemExit) as stop:
        fleet.main(["gate", "--policy-pack", str(ROOT / "policies"), "--timeout", value])
    assert stop.value.code == 2


def test_the_address_plan_shows_a_name_as_code_never_as_markdown(tmp_path, monkeypatch):
    """A range read from a program's graph is named by its resource: HTML, links, images and
    @mentions in the name rendered in the plan (`<!--` hid the overlaps after it)."""
    from ack_offline import fleet

    name = "x<img src=https://evil.example/t.png> @octocat [click](https://e.example) <!-- |"
    program = (
        "import pulumi_alicloud as alicloud\n"
        f"alicloud.vpc.Network({name!r}, cidr_block='10.9.0.0/16')\n"
        "alicloud.vpc.Network('y', cidr_block='10.9.0.0/16')\n"
    )
    folder = _project(tmp_path / "p", program)
    monkeypatch.chdir(folder)
    plan = tmp_path / "plan.md"
    assert fleet.main(["check", "--markdown", str(plan)]) in (0, 1)
    text = plan.read_text()
    assert "<img" in text  # shown, as code
    outside_code = re.sub(r"(`+)(?:(?!\1).)*\1", "", text)  # every code span taken out
    for raw in ("<img", "<!--", "](https://", "@octocat"):
        assert raw not in outside_code, (raw, text)


@LINUX
@pytest.mark.heavy
@pytest.mark.timeout(240)
def test_a_program_that_stops_the_fork_server_cannot_hang_the_fleet_gate(
    tmp_path, monkeypatch, capsys
):
    """A program that SIGSTOPs the fork server made the next stack's start wait for ever on
    the stopped server: past FORK_SECONDS the server is killed and the stack runs in a new
    interpreter; the stack whose program stopped it is no verdict."""
    stopper = CLUSTER + (
        "import os, signal\n"
        "if pulumi.get_stack() == 'dev':\n"
        "    stat = open(f'/proc/{os.getppid()}/stat').read().rsplit(')', 1)[1].split()\n"
        "    os.kill(int(stat[1]), signal.SIGSTOP)  # ack-preview's parent: the fork server\n"
    )
    folder = _fleet_project(tmp_path, stopper, stacks=2)
    monkeypatch.setattr(fleet, "FORK_SECONDS", 2.0)
    monkeypatch.setattr(fleet, "GRACE", 5.0)
    report = tmp_path / "gate.json"
    start = time.monotonic()
    code = fleet.main([*_gate_args(folder, report), "--timeout", "10"])
    assert time.monotonic() - start < 120
    rows = {r["stack"]: r for r in json.loads(report.read_text())["stacks"]}
    assert rows["dev1"]["exit"] == 0, rows  # judged, in a new interpreter
    assert rows["dev"]["exit"] == 2 and code == 2, rows
    capsys.readouterr()
