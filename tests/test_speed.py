"""The offline engine's shortcuts: each skips only what nothing offline reads, and fails loudly
when the SDK stops matching what it assumes."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import resource as sdk

from ack_offline import cli, speed
from ack_offline.gate import PolicyPackProcess
from ack_offline.speed import SdkChanged, check_sdk, no_stack_traces
from ack_policies import speed as pack_speed

from .conftest import CLASSES, CONTEXT, PACK_DIR, ROOT, form_args, run


def test_the_installed_sdk_is_the_one_the_skip_was_written_for():
    check_sdk()


def test_runs_skip_the_stack_walk_and_restore_it_after():
    original = sdk._get_stack_trace
    walks = []

    def counting() -> Any:
        walks.append(1)
        return original()

    sdk._get_stack_trace = counting
    try:
        result = run(lambda: CLASSES["managed"]("demo", form_args("managed")))
        assert result.resources and walks == []  # no resource walked the stack
        walks.clear()
        assert sdk._get_stack_trace is counting  # the run put back what it found
    finally:
        sdk._get_stack_trace = original


@pytest.mark.parametrize(
    "change",
    ["renamed", "no longer called", "empty trace means something"],
)
def test_an_sdk_that_changed_fails_loudly(monkeypatch, change):
    if change == "renamed":
        monkeypatch.delattr(sdk, "_get_stack_trace")
    elif change == "no longer called":

        def register_resource(*args: object, **kwargs: object) -> None:
            return None

        monkeypatch.setattr(sdk, "register_resource", register_resource)
    else:
        monkeypatch.setattr(sdk, "_get_source_position", lambda stack: types.SimpleNamespace())
    with pytest.raises(SdkChanged, match=r"Update ack_offline/speed\.py"), no_stack_traces():
        pass
    with pytest.raises(SdkChanged):
        run(lambda: CLASSES["managed"]("demo", form_args("managed")))


def test_the_module_names_what_it_patches():
    assert speed._CALLERS == ("register_resource", "read_resource")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_console_script_tunes_the_collector_before_any_heavy_import():
    from ack_clusters.process import PROGRAM_GC_THRESHOLD

    assert cli.PROGRAM_GC_THRESHOLD == PROGRAM_GC_THRESHOLD
    done = _python(
        "import sys, ack_offline.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pulumi', 'pulumi_alicloud', 'pydantic', 'grpc', 'ack_clusters')))"
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_the_end_skips_shutdown_only_when_nothing_is_left():
    script = (
        "import atexit, subprocess, sys\n"
        "from ack_offline.cli import end\n"
        "atexit.register(lambda: print('shutdown ran', flush=True))\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(%s)'],\n"
        "                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "%s\n"
        "print('verdict', flush=True)\n"
        "end(3)\n"
    )
    # A child that ended is reaped: nothing is left, so shutdown is skipped.
    quiet = _python(script % ("0", "child.wait()"))
    assert (quiet.returncode, quiet.stdout) == (3, "verdict\n")
    # A child still running: the ordinary exit, which runs shutdown (atexit) as usual.
    busy = _python(script % ("5", ""))
    assert (busy.returncode, busy.stdout) == (3, "verdict\nshutdown ran\n")


def test_children_left_sees_a_running_child_and_not_an_ended_one():
    # In a fresh process: a test worker has children of its own (the session's policy pack).
    done = _python(
        "import subprocess, sys\n"
        "from ack_offline.cli import children_left\n"
        "before = children_left()\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(5)'])\n"
        "running = children_left()\n"
        "child.kill(); child.wait()\n"
        "print(before, running, children_left())\n"
    )
    assert done.stdout.split() == ["False", "True", "False"], done.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["managed-dev", "--json", "--policy-pack", "policies"], 0),
        (["no-such-stack"], 2),
    ],
)
def test_the_console_script_prints_and_exits_as_the_module_does(args, code):
    script = shutil.which("ack-preview", path=str(Path(sys.executable).parent))
    assert script is not None
    installed = subprocess.run(
        [script, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    module = subprocess.run(
        [sys.executable, "-m", "ack_offline.preview", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert installed.returncode == module.returncode == code, installed.stderr
    assert installed.stdout == module.stdout and installed.stderr == module.stderr


# --- the pack's server -------------------------------------------------------------------------


def test_the_installed_pulumi_policy_is_the_one_the_pack_speed_up_was_written_for():
    pack_speed.check()


@pytest.mark.parametrize("change", ["renamed", "converts differently", "stack analysis rewritten"])
def test_a_pulumi_policy_that_changed_stops_the_pack_loudly(monkeypatch, change):
    servicer = pack_speed._server._PolicyAnalyzerServicer
    if change == "renamed":
        monkeypatch.delattr(pack_speed._server, "deserialize_properties")
    elif change == "stack analysis rewritten":
        # The same conversions, another body: the replica would no longer be pulumi-policy's.
        def rewritten(self: object, request: Any, context: object) -> object:
            sdk = pack_speed._server
            return [
                sdk.unknown_checking_proxy(
                    sdk.deserialize_properties(sdk.json_format.MessageToDict(r.properties))
                )
                for r in request.resources
            ]

        monkeypatch.setattr(servicer, "AnalyzeStack", rewritten)
    else:

        def AnalyzeStack(self: object, request: object, context: object) -> None:
            return None

        monkeypatch.setattr(servicer, "AnalyzeStack", AnalyzeStack)
    with pytest.raises(pack_speed.PolicySdkChanged, match=r"Update ack_policies/speed\.py"):
        pack_speed.check()


def _facts(violations: list[Any]) -> list[tuple[str, str, str, str]]:
    return [(v.policy, v.urn, v.message, v.enforcement) for v in violations]


def _unpatched_pack(folder: Path) -> Path:
    """The real pack without the speed-up: the same rules, pulumi-policy as it comes."""
    folder.mkdir()
    (folder / "PulumiPolicy.yaml").write_text((PACK_DIR / "PulumiPolicy.yaml").read_text())
    main = (PACK_DIR / "__main__.py").read_text()
    assert "install()" in main
    (folder / "__main__.py").write_text(main.replace("\ninstall()", "\n"))
    return folder


def test_the_sped_up_pack_finds_exactly_what_pulumi_policy_alone_finds(tmp_path, policy_pack):
    plain = PolicyPackProcess(_unpatched_pack(tmp_path / "plain"), CONTEXT)
    try:
        plain.configure({}, CONTEXT)
        programs = [(kind, form_args(kind)) for kind in sorted(CLASSES)] + [
            # Violations of several rules, resource and stack ones.
            ("managed", form_args("managed", public_api_server=True, deletion_protection=False)),
        ]
        for preview in (True, False):
            for kind, args in programs:
                result = run(functools.partial(CLASSES[kind], "demo", args), preview=preview)
                fast = sorted(_facts(policy_pack.analyze(result)))
                slow = sorted(_facts(plain.analyze(result)))
                assert fast == slow
        assert any(v for v in fast)  # the last program does violate something
    finally:
        plain.close()
