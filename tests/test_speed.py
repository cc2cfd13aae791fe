"""The offline engine's shortcuts: each skips only what nothing offline reads, and fails loudly
when the SDK stops matching what it assumes."""

from __future__ import annotations

import functools
import json
import math
import random
import shutil
import subprocess
import sys
import types
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import resource as sdk
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy import proxy as pulumi_policy_proxy

from ack_offline import cli, speed
from ack_offline import gate as gate_module
from ack_offline.gate import PolicyPackProcess
from ack_offline.recorder import ProgramRun
from ack_offline.speed import SdkChanged, check_sdk, no_stack_traces
from ack_policies import all_policies
from ack_policies import speed as pack_speed
from ack_policies._common import RESOURCE_TYPES

from . import test_policies as policy_cases
from .conftest import CLASSES, CONTEXT, PACK_DIR, ROOT, form_args, only, run


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
    # A child still running is killed first (nothing outlives ack-preview): then nothing is
    # left either, and the child is gone.
    busy = _python(script % ("60", "print(child.pid, flush=True)"))
    pid, *rest = busy.stdout.splitlines()
    assert (busy.returncode, rest) == (3, ["verdict"])
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    # When a child cannot be ended, the ordinary exit runs shutdown (atexit) as usual.
    unkillable = "import ack_offline.reaper as r\nr.end_descendants = lambda: []\nend(3)\n"
    stuck = _python(script.replace("end(3)\n", unkillable) % ("5", ""))
    assert (stuck.returncode, stuck.stdout) == (3, "verdict\nshutdown ran\n")


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


@pytest.mark.heavy
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


@pytest.mark.parametrize(
    "change",
    [
        "renamed",
        "converts differently",
        "stack analysis rewritten",
        "resource analysis rewritten",
        "protobuf converts differently",
    ],
)
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
    elif change == "resource analysis rewritten":

        def Analyze(self: object, request: Any, context: object) -> object:
            return pack_speed._server.proto.AnalyzeResponse()

        monkeypatch.setattr(servicer, "Analyze", Analyze)
    elif change == "protobuf converts differently":
        # A protobuf whose JSON conversion of a Struct changed (here: integral numbers as ints).
        original = json_format.MessageToDict

        def as_ints(message: Any, *args: Any, **kwargs: Any) -> Any:
            def fix(value: Any) -> Any:
                if isinstance(value, float) and value.is_integer():
                    return int(value)
                if isinstance(value, dict):
                    return {k: fix(v) for k, v in value.items()}
                if isinstance(value, list):
                    return [fix(v) for v in value]
                return value

            return fix(original(message, *args, **kwargs))

        monkeypatch.setattr(json_format, "MessageToDict", as_ints)
    else:

        def AnalyzeStack(self: object, request: object, context: object) -> None:
            return None

        monkeypatch.setattr(servicer, "AnalyzeStack", AnalyzeStack)
    with pytest.raises(pack_speed.PolicySdkChanged, match=r"Pin pulumi-policy==1\.21\.0"):
        pack_speed.check()


def _random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.choice(["str", "num", "int", "bool", "null"] + ["dict", "list"] * (depth < 4))
    if kind == "str":
        return "".join(rng.choice('ab\u00e9\U0001f600 "\\\n0') for _ in range(rng.randrange(6)))
    if kind == "num":
        return rng.choice([0.0, -0.0, 1e-300, 1e300, -2.5, rng.uniform(-1e6, 1e6)])
    if kind == "int":
        return rng.randrange(-(2**40), 2**40)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [_random_value(rng, 9) if rng.random() < 0.3 else f"k{i}" for i in range(5)]
    return {str(k): _random_value(rng, depth + 1) for k in keys[: rng.randrange(6)]}


def test_struct_to_dict_gives_what_protobufs_conversion_gives():
    rng = random.Random(1907)
    for _ in range(400):
        message = struct_pb2.Struct()
        message.update({f"f{i}": _random_value(rng, 0) for i in range(rng.randrange(8))})
        # Parsed from the wire, as the server gets it: map order is whatever the table gives.
        message = struct_pb2.Struct.FromString(message.SerializeToString())
        # repr: the same keys in the same order, the same types (1.0 is not 1), -0.0 kept.
        assert repr(pack_speed.struct_to_dict(message)) == repr(json_format.MessageToDict(message))
    for bad in (math.inf, -math.inf, math.nan):
        message = struct_pb2.Struct()
        message.update({"deep": [{"n": bad}]})
        with pytest.raises(ValueError) as protobuf:
            json_format.MessageToDict(message)
        with pytest.raises(ValueError) as ours:
            pack_speed.struct_to_dict(message)
        assert str(ours.value) == str(protobuf.value)  # what a failed Analyze call reports


def test_rules_skipped_for_other_types_report_nothing_for_them():
    """The server does not call a rule for types outside its `RESOURCE_TYPES`: that holds only
    while the rule itself returns at once for them, without reading anything or reporting."""
    skipping = [p for p in all_policies() if getattr(p, RESOURCE_TYPES, None) is not None]
    assert len(skipping) >= 10  # most resource rules look at a few types

    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"read {name}")

    untouchable: Any = Untouchable()
    for policy in skipping:
        assert isinstance(policy, ResourceValidationPolicy)
        args = ResourceValidationArgs(
            "alicloud:other/thing:Thing", untouchable, "urn:x", "x", untouchable, None
        )

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            raise AssertionError(f"{name} reported {message!r}")

        assert policy.validate(args, report) is None
    for policy in all_policies():
        types = getattr(policy, RESOURCE_TYPES, None)
        assert types is None or isinstance(policy, ResourceValidationPolicy)


def _servicer(policies: list[Any]) -> Any:
    pack_speed.install()  # this process's pulumi-policy now serves the replicas
    return pack_speed._server._PolicyAnalyzerServicer(
        "p", "1", policies, EnforcementLevel.MANDATORY
    )


def test_the_stack_analysis_reuses_a_conversion_only_of_the_very_same_bytes():
    seen: dict[str, list[Any]] = {"resource": [], "stack": []}

    def resource(args: Any, report: Any) -> None:
        seen["resource"].append(args.props)

    def stack(args: Any, report: Any) -> None:
        seen["stack"].extend(r.props for r in args.resources)
        for r in args.resources:
            report(json.dumps(dict(r.props["tags"])), r.urn)

    servicer = _servicer(
        [
            ResourceValidationPolicy(name="r", description="r", validate=resource),
            StackValidationPolicy(name="s", description="s", validate=stack),
        ]
    )

    def properties(tags: dict[str, str]) -> Any:
        message = struct_pb2.Struct()
        message.update({"tags": tags})
        return message

    same = {"a": "1", "b": "2"}
    urns = ["urn:pulumi:s::p::t::same", "urn:pulumi:s::p::t::changed", "urn:pulumi:s::p::t::other"]
    for urn in urns:
        servicer.Analyze(
            analyzer_pb2.AnalyzeRequest(type="t", urn=urn, name=urn, properties=properties(same)),
            None,
        )
    resources = [
        # The bytes Analyze got for this URN: its conversion serves the stack rule too.
        analyzer_pb2.AnalyzerResource(type="t", urn=urns[0], properties=properties(same)),
        # Other values for the same URN (a stack request may hold outputs): converted anew.
        analyzer_pb2.AnalyzerResource(
            type="t", urn=urns[1], properties=properties({"a": "changed"})
        ),
        # Analyze got these bytes for another URN only.
        analyzer_pb2.AnalyzerResource(
            type="t", urn="urn:pulumi:s::p::t::new", properties=properties(same)
        ),
    ]
    response = servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), None)
    assert seen["stack"][0] is seen["resource"][0]
    assert all(p is not q for p in seen["stack"][1:] for q in seen["resource"])
    messages = [d.message.split("\n")[1] for d in response.diagnostics]
    assert messages == [json.dumps(same), json.dumps({"a": "changed"}), json.dumps(same)]
    assert pack_speed._converted == {}  # the deployment's analysis ended: nothing kept


def test_no_rule_writes_to_what_the_server_shares_between_rules(monkeypatch):
    """The replicas hand all rules of a call (and the stack call) the same property proxies:
    sound only while no rule writes to them."""

    def refuse(self: object, key: object, value: object) -> None:
        raise AssertionError(f"a rule wrote {key!r}")

    monkeypatch.setattr(pulumi_policy_proxy._DictProxy, "__setitem__", refuse)
    servicer = _servicer(all_policies())
    runs = [only(*case.resources) for case in policy_cases.CASES] + [
        run(functools.partial(CLASSES[kind], "demo", form_args(kind)), preview=preview)
        for kind in sorted(CLASSES)
        for preview in (True, False)
    ]
    reported = 0
    for result in runs:
        described = list(gate_module._describe(result))
        for _, fields in described:
            reported += len(
                servicer.Analyze(analyzer_pb2.AnalyzeRequest(**fields), None).diagnostics
            )
        stack = gate_module._stack_request(described, result.reads)
        reported += len(servicer.AnalyzeStack(stack, None).diagnostics)
    assert reported > len(policy_cases.CASES)  # the rules did run, and report


@cache
def _equivalence_runs() -> list[ProgramRun]:
    programs = [(kind, form_args(kind)) for kind in sorted(CLASSES)] + [
        # Violations of several rules, resource and stack ones.
        ("managed", form_args("managed", public_api_server=True, deletion_protection=False)),
    ]
    runs = [
        run(functools.partial(CLASSES[kind], "demo", args), preview=preview)
        for preview in (True, False)
        for kind, args in programs
    ]
    # Every rule's own cases, the resources that violate it and those that must not.
    return runs + [only(*case.resources) for case in policy_cases.CASES if case.config is None]


@pytest.fixture(scope="module")
def plain_pack(tmp_path_factory):
    """The real pack served by pulumi-policy as it comes, started once for this module."""
    pack = PolicyPackProcess(_unpatched_pack(tmp_path_factory.mktemp("plain") / "pack"), CONTEXT)
    yield pack
    pack.close()


def _unpatched_pack(folder: Path) -> Path:
    """The real pack without the speed-up: the same rules, pulumi-policy as it comes."""
    folder.mkdir()
    (folder / "PulumiPolicy.yaml").write_text((PACK_DIR / "PulumiPolicy.yaml").read_text())
    main = (PACK_DIR / "__main__.py").read_text()
    assert "install()" in main
    (folder / "__main__.py").write_text(main.replace("\ninstall()", "\n"))
    return folder


def _responses(stub: Any, result: ProgramRun) -> list[bytes]:
    """The pack's raw answers, in order: one Analyze per resource, then AnalyzeStack."""
    described = list(gate_module._describe(result))
    answers = [stub.Analyze(analyzer_pb2.AnalyzeRequest(**f), timeout=60) for _, f in described]
    answers.append(
        stub.AnalyzeStack(gate_module._stack_request(described, result.reads), timeout=60)
    )
    return [a.SerializeToString(deterministic=True) for a in answers]


@pytest.mark.heavy
@pytest.mark.parametrize(
    "config",
    [
        {},
        # Every level the replicas treat apart: mandatory, disabled (skipped), remediate
        # (reported as mandatory), on resource and stack rules (config may only lower the
        # advisory ones).
        {
            "all": "mandatory",
            "ack-cluster-resources-declared-through-components": "remediate",
            "disks-encrypted": "disabled",
            "ack-production-clusters-span-zones": "disabled",
            "security-group-no-world-open-ingress": "remediate",
        },
    ],
    ids=["defaults", "levels"],
)
def test_the_sped_up_pack_answers_exactly_as_pulumi_policy_alone(policy_pack, plain_pack, config):
    """Byte for byte, every answer: diagnostics in the same order with the same text, the same
    undecided-in-preview diagnostics, whether the requests reach the pack with maps in key
    order (as ack-preview sends them, so the stack request reuses conversions) or as built."""
    fast, plain = policy_pack, plain_pack
    try:
        for pack in (fast, plain):
            pack.configure(config, CONTEXT)
        as_built = [analyzer_pb2_grpc.AnalyzerStub(p.channel) for p in (fast, plain)]
        reported = 0
        for result in _equivalence_runs():
            answers = _responses(fast.stub, result)
            assert answers == _responses(plain.stub, result)
            assert _responses(as_built[0], result) == _responses(as_built[1], result)
            reported += sum(
                len(analyzer_pb2.AnalyzeResponse.FromString(a).diagnostics) for a in answers
            )
        assert reported > len(policy_cases.CASES)  # most cases violate something
    finally:
        fast.configure({}, CONTEXT)  # the session's pack, back to its defaults


def test_the_dependency_bounds_allow_exactly_the_tested_pulumi_policy_releases():
    """The pack refuses any pulumi-policy whose server it was not checked against: the bounds
    users install from must not let such a release in (the next patch release would stop
    every gate), and must let every tested one in."""
    import re

    from packaging.requirements import Requirement  # pytest's own dependency

    # Read with a pattern (tomllib is Python 3.11+, the project 3.10+).
    lines = re.findall(r'"(pulumi-policy[^"]*)"', (ROOT / "pyproject.toml").read_text())
    lines += (ROOT / "policies" / "requirements.txt").read_text().splitlines()
    specs = [Requirement(x).specifier for x in lines if x.startswith("pulumi-policy")]
    assert len(specs) == 3
    for spec in specs:
        assert all(spec.contains(v) for v in pack_speed.TESTED_PULUMI_POLICY)
        for untested in ("1.20.0", "1.21.1", "1.22.0", "2.0.0"):
            assert untested in pack_speed.TESTED_PULUMI_POLICY or not spec.contains(untested)


# --- the program's last outputs awaited together ----------------------------------------------


def test_the_installed_sdk_waits_for_outputs_the_way_the_shortcut_was_reasoned_for():
    speed.check_wait()


def test_a_changed_wait_for_rpcs_fails_loudly(monkeypatch):
    from pulumi.runtime import stack as sdk_stack

    async def wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
        return None

    monkeypatch.setattr(sdk_stack, "wait_for_rpcs", wait_for_rpcs)
    with pytest.raises(SdkChanged, match=r"Update ack_offline/speed\.py"):
        speed.check_wait()
    with pytest.raises(SdkChanged):
        run(lambda: CLASSES["managed"]("demo", form_args("managed")))


def test_a_wait_for_the_first_output_returns_all_done_or_the_first_failure():
    """What the SDK's loop relies on: `done` is not empty and holds a failure as soon as one
    happens; `done` and `not_done` together are what it gave."""
    import asyncio

    from pulumi.runtime import stack as sdk_stack

    async def scenario(fail: bool) -> tuple[list[str], list[str]]:
        async def value(name: str, delay: float) -> str:
            await asyncio.sleep(delay)
            if fail and name == "b":
                raise ValueError(name)
            return name

        tasks = {
            asyncio.ensure_future(value(n, d)): n for n, d in [("a", 0), ("b", 0.01), ("c", 5)]
        }
        with speed.outputs_awaited_together():
            waiting = sdk_stack.asyncio
            done, not_done = await waiting.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in not_done:
            task.cancel()
        return sorted(tasks[t] for t in done), sorted(tasks[t] for t in not_done)

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(scenario(fail=True)) == (["a", "b"], ["c"])
        assert loop.run_until_complete(asyncio.wait_for(scenario(fail=False), 10)) == (
            ["a", "b", "c"],
            [],
        )
    finally:
        loop.close()
    from pulumi.runtime import stack as after

    assert after.asyncio is asyncio  # put back


def test_one_way_calls_are_the_log_only():
    """A program sends its log lines without waiting for an answer; any other call sent so is
    outside the protocol, and the program stops being served."""
    import json as json_
    from multiprocessing import Pipe

    from ack_offline.served import _Peer

    ours, theirs = Pipe()
    served: list[str] = []

    def serve(header: dict[str, Any], payload: bytes) -> bytes:
        served.append(str(header.get("call")))
        return b""

    peer = _Peer(ours, serve)
    for call in ("Log", "Log", "RegisterResource"):
        theirs.send_bytes(json_.dumps({"call": call, "oneway": True}).encode() + b"\n")
    assert peer.drain(10)
    assert served == ["Log", "Log"] and "cannot be sent one way" in (peer.broken or "")
