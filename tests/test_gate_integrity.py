"""Ways around the gate that are closed: world-open ingress by another spelling, mandatory rules
that cannot decide at preview, policy config that silently disables, secrets in messages and
output that changes from run to run. Every case goes through the real analyzer server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from ack_clusters import InvalidArguments, ManagedCluster
from ack_offline.gate import GateError

from .conftest import ACK_PREVIEW, CONTEXT, ROOT, args, found, only, resource, run

RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule"
WORLD_OPEN = "security-group-no-world-open-ingress"


def sg_rule(name: str, cidr: Any = "0.0.0.0/0", ports: str = "22/22", **extra: Any):
    props = {"type": "ingress", "ipProtocol": "tcp", "portRange": ports, "securityGroupId": "sg-a"}
    if cidr is not None:
        props["cidrIp"] = cidr
    return resource(RULE, name, {**props, **extra})


def ssh_ingress(name: str, group_id: Any, **source: Any) -> Any:
    """An SSH ingress rule on a group, declared through the SDK, from the source given."""
    import pulumi_alicloud as alicloud

    return alicloud.ecs.SecurityGroupRule(
        name,
        security_group_id=group_id,
        type="ingress",
        ip_protocol="tcp",
        port_range="22/22",
        nic_type="intranet",
        **source,
    )


def flagged(violations, level: str | None = "mandatory") -> set[str]:
    return {name for policy, name in found(violations, level) if policy == WORLD_OPEN}


# --- address sets, not strings -------------------------------------------------------------------


def test_the_internet_split_in_halves_is_still_the_internet(gate):
    halves = only(sg_rule("low", "0.0.0.0/1"), sg_rule("high", "128.0.0.0/1"))
    assert flagged(gate(halves)) == {"low", "high"}


def test_rules_of_one_group_are_judged_together(gate):
    at_the_limit = [sg_rule("a", "8.8.0.0/17"), sg_rule("b", "8.8.128.0/17")]
    assert flagged(gate(only(*at_the_limit))) == set()
    one_more = [*at_the_limit, sg_rule("c", "8.9.0.0/24")]
    assert flagged(gate(only(*one_more))) == {"a", "b", "c"}


def test_rules_of_different_groups_are_judged_apart(gate):
    apart = [sg_rule("a", "8.8.0.0/16"), sg_rule("b", "8.9.0.0/16", securityGroupId="sg-b")]
    assert flagged(gate(only(*apart))) == set()


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_prefix_list_admits_its_entries(gate, preview):
    """A rule whose source is a prefix list the program declares admits the list's ranges,
    as the SDK sends them (the list's ID is unknown at preview; its entries are not)."""
    import pulumi_alicloud as alicloud

    def program() -> None:
        for name, cidr in (("world", "0.0.0.0/0"), ("office", "203.0.113.0/24")):
            group = alicloud.ecs.SecurityGroup(f"{name}-group", vpc_id="vpc-1")
            listed = alicloud.ecs.EcsPrefixList(
                f"{name}-list",
                address_family="IPv4",
                max_entries=5,
                prefix_list_name=name,
                entries=[alicloud.ecs.EcsPrefixListEntryArgs(cidr=cidr)],
            )
            ssh_ingress(name, group.id, prefix_list_id=listed.id)

    assert flagged(gate(run(program, preview=preview))) == {"world"}


def test_an_unknown_source_blocks_its_own_rule_and_hides_no_other(gate):
    """A rule whose source is unknown at preview is undecided, named as such; the world-open
    rule beside it in the same group is still reported."""
    rules = [sg_rule("https", "0.0.0.0/0", "443/443"), sg_rule("unknown", UNKNOWN)]
    violations = gate(only(*rules, sg_rule("world", "0.0.0.0/0")))
    assert flagged(violations) == {"unknown", "world"}
    message = next(v.message for v in violations if v.urn.endswith("::unknown"))
    assert "unknown cannot be proven compliant" in message


def test_a_prefix_list_derived_from_something_else_is_not_judged_and_blocks(gate):
    """At preview, an ID an invoke derived from another resource is unknown and depends on that
    resource, not on a prefix list: the rule names it and blocks, judging the group's other
    rules as usual."""
    vpc = resource("alicloud:vpc/network:Network", "vpc")
    derived = sg_rule("derived", None, prefixListId=UNKNOWN)
    derived.property_dependencies = {"prefixListId": [vpc.urn]}
    violations = gate(only(vpc, derived, sg_rule("world", "0.0.0.0/0")))
    assert flagged(violations) == {"derived", "world"}
    message = next(v.message for v in violations if v.urn.endswith("::derived"))
    assert "a prefix list unknown at preview, which this program does not declare" in message


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_source_group_the_program_creates_is_judged_at_preview(gate, preview):
    """Its ID is unknown at preview, but the dependency says the source is a group: no range of
    addresses, nothing to prove (it used to block the preview as undecided)."""
    import pulumi_alicloud as alicloud

    def program() -> None:
        group = alicloud.ecs.SecurityGroup("db", vpc_id="vpc-1")
        peers = alicloud.ecs.SecurityGroup("apps", vpc_id="vpc-1")
        ssh_ingress("from-apps", group.id, source_security_group_id=peers.id)

    assert flagged(gate(run(program, preview=preview))) == set()


def test_private_and_shared_space_does_not_count(gate):
    private = [sg_rule(n, c) for n, c in [("ten", "10.0.0.0/8"), ("cgnat", "100.64.0.0/10")]]
    assert flagged(gate(only(*private))) == set()


def test_a_rule_with_no_source_at_all_is_world_open_and_a_source_group_is_not(gate):
    rules = [sg_rule("nothing", None), sg_rule("peer", None, sourceSecurityGroupId="sg-peer")]
    assert flagged(gate(only(*rules))) == {"nothing"}


def test_all_ports_and_harmless_ports(gate):
    rules = [
        sg_rule("everything", "1.0.0.0/8", ports="-1/-1", ipProtocol="all"),
        sg_rule("https", "0.0.0.0/0", ports="443/443", securityGroupId="sg-b"),
    ]
    assert flagged(gate(only(*rules))) == {"everything"}


def test_the_widest_public_source_is_configurable(gate):
    office = only(sg_rule("office", "8.8.0.0/16"))
    assert flagged(gate(office)) == set()
    strict = {WORLD_OPEN: {"widestPublicSource": 24}}
    assert flagged(gate(office, config=strict)) == {"office"}


def test_argument_validation_refuses_the_same_shapes():
    halves = [
        {"description": "low", "protocol": "tcp", "port_range": "22/22", "cidr": "0.0.0.0/1"},
        {"description": "high", "protocol": "tcp", "port_range": "22/22", "cidr": "128.0.0.0/1"},
    ]
    with pytest.raises(InvalidArguments) as caught:
        run(lambda: ManagedCluster("c", args(security={"extra_ingress": halves})))
    assert [p for p, _ in caught.value.problems] == ["security.extra_ingress"]
    assert "SSH" in str(caught.value)


# --- fail closed ---


def test_a_mandatory_rule_that_cannot_decide_at_preview_blocks(gate):
    unknown = only(sg_rule("from-an-output", UNKNOWN))
    violations = gate(unknown)
    assert flagged(violations) == {"from-an-output"}
    (v,) = [v for v in violations if v.policy == WORLD_OPEN]
    assert "cannot be proven compliant until" in v.message


def test_an_unknown_resource_rule_input_blocks_at_its_level(gate):
    cluster = resource(
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "c",
        {"slbInternetEnabled": UNKNOWN},
        inside=("ack:index:ManagedCluster",),
    )
    hits = {(p, n) for p, n in found(gate(only(cluster)), "mandatory")}
    assert ("ack-api-server-not-public", "c") in hits


PROGRAM = """
import pulumi, pulumi_alicloud as alicloud
from ack_clusters import ManagedCluster
c = ManagedCluster("t", {"network": {"zones": ["cn-hangzhou-i"]}})
eip = alicloud.ecs.EipAddress("bastion", bandwidth="5")
alicloud.ecs.SecurityGroupRule(
    "bastion-ssh", security_group_id="sg-other", type="ingress", ip_protocol="tcp",
    port_range="22/22", cidr_ip=eip.ip_address.apply(lambda ip: f"{ip}/32"),
)
"""


def test_preview_blocks_what_it_cannot_prove_and_the_update_decides(tmp_path, capsys):
    from ack_offline.preview import main

    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    base = ["dev", "--program", str(tmp_path), "--policy-pack", "policies", "--json"]
    assert main([*base, "--mode", "preview"]) == 1
    preview = json.loads(capsys.readouterr().out)
    assert any("cannot be proven compliant" in v["message"] for v in preview["violations"])
    assert main([*base, "--mode", "update"]) == 0  # a /32 bastion address is fine
    capsys.readouterr()


# --- policy config ---


def exception(urn: str, reason: str | None) -> dict[str, Any]:
    """A policy config with one exception to the world-open rule."""
    entry = {"urn": urn} if reason is None else {"urn": urn, "reason": reason}
    return {WORLD_OPEN: {"allow": [entry]}}


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({WORLD_OPEN: {"allow": "urn:*::*"}}, "must be an array"),
        ({WORLD_OPEN: {"allow": [3]}}, "must be an object"),
        ({WORLD_OPEN: {"allow": ["urn:pulumi:*::*::*::*"]}}, "an exception is an object"),
        (
            {
                WORLD_OPEN: {
                    "allow": [{"urn": "urn:pulumi:*::*::*::*", "reason": "every one of them"}]
                }
            },
            "does not match",
        ),
        (
            {
                WORLD_OPEN: {
                    "allow": [{"urn": "urn:pulumi:s::p::t::n*", "reason": "a name pattern"}]
                }
            },
            "does not match",
        ),
        ({WORLD_OPEN: {"allow": [{"urn": "urn:pulumi:s::p::t::n"}]}}, "needs 'reason'"),
        (
            {WORLD_OPEN: {"allow": [{"urn": "urn:pulumi:s::p::t::n", "reason": "ok"}]}},
            "at least 10 characters",
        ),
        ({WORLD_OPEN: {"widestPublicSource": "16"}}, "must be an integer"),
        ({WORLD_OPEN: {"widestPublicSource": 40}}, "at most 32"),
        ({WORLD_OPEN: {"widestPublicSource": 0}}, "at least 16"),
        ({WORLD_OPEN: {"widestPublicSource": 8}}, "at least 16"),
        ({WORLD_OPEN: "advisory"}, "may only narrow the pack"),
        ({"all": "advisory"}, "may only narrow the pack"),
        ({WORLD_OPEN: {"alow": ["x"]}}, "no property 'alow'"),
        ({WORLD_OPEN: "off"}, "unknown enforcement level"),
        ({"no-such-rule": "advisory"}, "unknown policies"),
    ],
)
def test_policy_config_is_checked_against_each_rules_schema(policy_pack, config, says):
    with pytest.raises(GateError, match=says):
        policy_pack.configure(config, CONTEXT)
    policy_pack.configure({}, CONTEXT)


PUBLIC = {
    "urn": "urn:pulumi:*::*::ack:index:ManagedCluster$alicloud:cs/managedKubernetes:"
    "ManagedKubernetes::public",
    "reason": "the demo cluster is public on purpose",
}


def test_every_override_is_reported(policy_pack):
    overrides = policy_pack.configure(
        {
            "ack-api-server-not-public": {"allow": [PUBLIC]},
            "disks-encrypted": "disabled",
            "kms-key-enabled": "mandatory",
            WORLD_OPEN: {"enforcementLevel": "remediate", "widestPublicSource": 24},
        },
        CONTEXT,
    )
    policy_pack.configure({}, CONTEXT)
    seen = {o.policy: o for o in overrides}
    assert set(seen) == {
        "ack-api-server-not-public",
        "disks-encrypted",
        "kms-key-enabled",
        WORLD_OPEN,
    }
    assert seen["disks-encrypted"].level == "disabled"
    assert seen["disks-encrypted"].default == "advisory"
    assert seen["kms-key-enabled"].level == "mandatory"
    assert seen[WORLD_OPEN].level == "remediate" and seen[WORLD_OPEN].default == "mandatory"
    assert seen["ack-api-server-not-public"].properties == {"allow": [PUBLIC]}
    assert policy_pack.configure({}, CONTEXT) == []


def _configure_request(level: Any, properties: dict[str, Any] | None = None) -> Any:
    """A Configure of the world-open rule, as the engine sends it (numbers as doubles)."""
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import analyzer_pb2

    given = struct_pb2.Struct()
    given.update(properties or {})
    return analyzer_pb2.ConfigureAnalyzerRequest(
        policyConfig={
            WORLD_OPEN: analyzer_pb2.PolicyConfig(properties=given, enforcementLevel=level)
        }
    )


def test_the_pack_itself_refuses_a_config_that_weakens_it(policy_pack):
    """The refusal holds under the Pulumi CLI too: the pack's server refuses the same config
    when the engine configures it (sent here past ack-preview's own check), properties past
    the rule's schema included (a Configure not sent through the CLI is not checked by it)."""
    import grpc
    from pulumi.runtime.proto import analyzer_pb2

    mandatory = analyzer_pb2.MANDATORY
    for request, says in (
        (_configure_request(analyzer_pb2.DISABLED), "may only narrow"),
        (_configure_request(mandatory, {"allow": ["*"]}), "must be an object"),
        (_configure_request(mandatory, {"widestPublicSource": 0}), "must be at least 16"),
        (_configure_request(mandatory, {"widestPublicSource": "all"}), "must be an integer"),
        (_configure_request(mandatory, {"openEverything": True}), "has no property"),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            policy_pack.stub.Configure(request, timeout=30)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert says in str(refused.value.details()), says
    policy_pack.stub.Configure(_configure_request(mandatory, {"widestPublicSource": 24}))
    policy_pack.configure({}, CONTEXT)


def test_a_policy_config_file_naming_a_rule_twice_is_refused(tmp_path, capsys):
    from ack_offline.preview import main

    config = tmp_path / "config.json"
    config.write_text('{"disks-encrypted": "mandatory", "disks-encrypted": "disabled"}')
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text("")
    rc = main(
        [
            "dev",
            "--program",
            str(tmp_path),
            "--policy-pack",
            "policies",
            "--policy-pack-config",
            str(config),
        ]
    )
    assert rc == 2
    assert "'disks-encrypted' is given twice" in capsys.readouterr().err


# --- secrets and order ---


def test_secret_values_never_appear_in_messages(gate):
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    attachment = resource(
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        "admin",
        {"policyName": {**secret, "value": "AdministratorAccess"}, "policyType": "System"},
    )
    violations = [v for v in gate(only(attachment)) if v.policy == "ram-no-administrator-access"]
    assert violations, "the rule must still see the secret value and fire"
    for v in violations:
        assert "AdministratorAccess" not in v.message
        assert "[secret]" in v.message


def test_violations_come_out_in_one_order(gate):
    rules = [sg_rule(f"r{i}", f"{i + 1}.0.0.0/8", securityGroupId=f"sg-{i}") for i in range(12)]
    first = gate(only(*rules))
    second = gate(only(*reversed(rules)))
    assert [(v.urn, v.policy) for v in first] == [(v.urn, v.policy) for v in second]
    assert [(v.urn, v.policy) for v in first] == sorted((v.urn, v.policy) for v in first)


def test_the_pack_and_the_library_agree_on_how_wide_is_too_wide():
    import ack_policies.network as pack
    from ack_clusters import validation
    from ack_clusters.security import args as library

    assert pack.WIDEST_PUBLIC_SOURCE[4] == library.WIDEST_PUBLIC_SOURCE
    assert {n for n in pack.NOT_PUBLIC if n.version == 4} == set(validation.NOT_PUBLIC)


# --- the program cannot change the verdict ---

DRIFTING = """
import pulumi, pulumi_alicloud as alicloud
from ack_clusters import ManagedCluster
c = ManagedCluster("t", {"network": {"zones": ["cn-hangzhou-i"]}})
alicloud.ecs.SecurityGroupRule(
    "loose", security_group_id=c.security_group_id, type="ingress", ip_protocol="tcp",
    port_range="443/443", cidr_ip="10.0.0.0/8",
)
"""


def _gate(tmp_path, program: str, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(program)
    command = [*ACK_PREVIEW, "dev", "--program", str(tmp_path)]
    return subprocess.run(
        [*command, "--policy-pack", str(ROOT / "policies"), *extra],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize(
    ("tail", "code", "says"),
    [
        ("import atexit, os\natexit.register(lambda: os._exit(0))\n", 1, "mandatory"),
        ("import ack_offline.gate as g\ng.analyze_with = lambda *a, **k: None\n", 1, "mandatory"),
        ("import ack_offline.preview as p\np.EXIT_VIOLATIONS = 0\n", 1, "mandatory"),
        ("import sys\nsys.exit(0)\n", 2, "the program exited early (sys.exit(0))"),
        ("raise KeyboardInterrupt\n", 2, "the program was interrupted"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", 2, "exit code -9"),
    ],
    ids=["atexit os._exit", "patched gate", "patched exit code", "sys.exit", "Ctrl-C", "killed"],
)
def test_nothing_a_program_does_changes_the_verdict(tmp_path, tail, code, says):
    done = _gate(tmp_path, DRIFTING + tail)
    assert done.returncode == code, done.stderr
    assert says in done.stdout + done.stderr


@pytest.mark.heavy
def test_a_hanging_program_ends_at_the_time_limit(tmp_path):
    done = _gate(tmp_path, DRIFTING + "import time\ntime.sleep(120)\n", "--timeout", "1")
    assert done.returncode == 2
    assert "did not finish within 1 s" in done.stderr


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.heavy
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_sigterm_stops_the_program_and_every_pack(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text("import time\ntime.sleep(120)\n")
    preview = subprocess.Popen(
        [*ACK_PREVIEW, "dev", "--program", str(tmp_path)]
        + ["--policy-pack", str(ROOT / "policies")] * 2,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(children := _children(preview.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)  # the program's process and two packs
    assert len(children) >= 3
    time.sleep(1)
    preview.send_signal(signal.SIGTERM)
    _, err = preview.communicate(timeout=60)
    assert preview.returncode == 2
    assert "stopped by SIGTERM" in err
    deadline = time.monotonic() + 10
    while (running := _running(children)) and time.monotonic() < deadline:
        time.sleep(0.05)  # a child reparented to init may take a moment to be reaped
    assert running == set()


def _running(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (neither gone nor a zombie awaiting its parent)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # gone
        if state != "Z":
            running.add(pid)
    return running


def test_a_process_that_ran_programs_before_can_still_isolate_one():
    """A library caller (or this test process) may have run programs in-process first; the
    child must not inherit a dead executor from them."""
    from ack_offline.isolation import IsolatedProgram
    from ack_offline.project import find_project, load_stack_config, run_stack

    project = find_project(ROOT)
    in_process = run_stack(project, "managed-dev", preview=True)
    config, secrets = load_stack_config(project, "managed-dev")
    with IsolatedProgram(project, "managed-dev", config, secrets, preview=True) as program:
        isolated = program.result()
    assert sorted(r.urn for r in isolated.resources) == sorted(r.urn for r in in_process.resources)


@pytest.mark.heavy
def test_a_process_with_grpc_threads_starts_the_program_in_a_new_interpreter(
    policy_pack, monkeypatch
):
    """gRPC's pre-fork handler waits for gRPC's threads, and once hung a process that held a
    pack's channel in fork(): such a process (a caller that ran a gate before, with gRPC's fork
    handlers on, as they are by default) starts the child in a new interpreter, and the run is
    the one a forked child gives."""
    from ack_offline import isolation
    from ack_offline.project import find_project, load_stack_config

    project = find_project(ROOT)
    config, secrets = load_stack_config(project, "managed-dev")
    policy_pack.analyze(only(sg_rule("any")))  # the channel is alive, gRPC's threads with it
    assert isolation._threads() > 1

    def isolated() -> tuple[bool, list[str]]:
        with isolation.IsolatedProgram(project, "managed-dev", config, secrets, preview=True) as p:
            forked = p._child is not None  # a forked child exists before start(), waiting
            return forked, sorted(r.urn for r in p.result().resources)

    monkeypatch.setenv("GRPC_ENABLE_FORK_SUPPORT", "0")  # as tests/__init__.py sets it
    forked_off, urns_forked = isolated()
    monkeypatch.delenv("GRPC_ENABLE_FORK_SUPPORT")  # gRPC's default: handlers on
    forked_on, urns_spawned = isolated()
    assert (forked_off, forked_on) == (True, False)
    assert urns_spawned == urns_forked and urns_forked


SLOW_PACK = """
import time
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def slow(args, report):
    time.sleep(30)

PolicyPack(
    name="slow",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[ResourceValidationPolicy(name="slow-rule", description="Sleeps.", validate=slow)],
)
"""


@pytest.mark.heavy
def test_a_pack_that_hangs_ends_the_gate_unproven(tmp_path):
    from ack_offline.gate import PolicyPackProcess

    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(SLOW_PACK)
    pack = PolicyPackProcess(tmp_path, CONTEXT, call_timeout=1)
    try:
        pack.configure({}, CONTEXT)
        with pytest.raises(GateError, match=r"DEADLINE_EXCEEDED|Deadline"):
            pack.analyze(only(sg_rule("any")))
    finally:
        pack.close()


def test_a_pack_that_ended_before_the_verdict_gives_none(monkeypatch):
    """Had the pack the gate started ended (a program killed it), whatever answered on its
    port (gRPC reconnects) is not proven to be it: exit 2, never its answer."""
    from ack_offline.gate import PolicyPackProcess, analyze_with

    pack = PolicyPackProcess(ROOT / "policies", CONTEXT)
    try:
        answered = pack.analyze

        def analyze_then_end(run):
            found = answered(run)
            pack.process.kill()
            pack.process.wait()
            return found

        monkeypatch.setattr(pack, "analyze", analyze_then_end)
        with pytest.raises(GateError, match="ended during the analysis"):
            analyze_with([pack], only(sg_rule("any")), CONTEXT)
    finally:
        pack.close()


# --- Checkov CKV_ALI_26 and named IDs ---

PLUGIN = "ack-cluster-uses-terway-or-flannel"
MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"
K = "alicloud:cs/kubernetes:Kubernetes"


def _plugin_hits(violations) -> set[str]:
    return {name for policy, name in found(violations) if policy == PLUGIN}


def test_terway_pods_on_node_or_master_vswitches_are_flagged_with_literal_ids(gate):
    terway = {"addons": [{"name": "terway-eniip"}]}
    own = resource(MK, "own", {**terway, "vswitchIds": ["vsw-1"], "podVswitchIds": ["vsw-4"]})
    shared = resource(
        MK, "shared", {**terway, "vswitchIds": ["vsw-1", "vsw-2"], "podVswitchIds": ["vsw-2"]}
    )
    masters = resource(
        K, "masters", {**terway, "masterVswitchIds": ["vsw-3"], "podVswitchIds": ["vsw-3"]}
    )
    flannel = resource(
        MK, "flannel", {"addons": [{"name": "flannel"}], "vswitchIds": ["vsw-1"], "podCidr": "x"}
    )
    assert _plugin_hits(gate(only(own, shared, masters, flannel))) == {"shared", "masters"}


def test_terway_pods_sharing_a_node_pools_vswitch_are_flagged_at_preview(gate):
    """At preview the IDs are unknown: identity comes from the vSwitch resources depended on."""
    switch = resource("alicloud:vpc/switch:Switch", "node-a", {"zoneId": "cn-hangzhou-i"})
    pod = resource("alicloud:vpc/switch:Switch", "pod-a", {"zoneId": "cn-hangzhou-i"})
    cluster = resource(
        MK,
        "c",
        {"addons": [{"name": "terway-eniip"}], "vswitchIds": [UNKNOWN], "podVswitchIds": [UNKNOWN]},
    )
    cluster.property_dependencies = {"vswitchIds": [switch.urn], "podVswitchIds": [pod.urn]}
    pool = resource("alicloud:cs/nodePool:NodePool", "p", {"vswitchIds": [UNKNOWN]})
    pool.property_dependencies = {"clusterId": [cluster.urn], "vswitchIds": [switch.urn]}
    assert _plugin_hits(gate(only(switch, pod, cluster, pool))) == set()
    pool.property_dependencies["vswitchIds"] = [pod.urn]  # the pool runs in the pod vSwitch
    assert _plugin_hits(gate(only(switch, pod, cluster, pool))) == {"c"}


def test_a_rule_with_two_checkov_ids_names_the_one_that_fired(gate):
    rules = [sg_rule("ssh"), sg_rule("rdp", ports="3389/3389", securityGroupId="sg-b")]
    messages = {v.urn.rsplit("::", 1)[-1]: v.message for v in gate(only(*rules))}
    assert "[CKV_ALI_2] ssh opens SSH" in messages["ssh"]
    assert "[CKV_ALI_3] rdp opens RDP" in messages["rdp"]


INITIAL_ALL = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def always(args, report):
    report("always")

PolicyPack(
    name="strict",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[ResourceValidationPolicy(name="always", description="Always.", validate=always)],
    initial_config={"all": EnforcementLevel.MANDATORY},
)
"""


def test_a_packs_own_initial_config_for_all_applies(tmp_path):
    """The engine applies a pack's initial config, `all` first (ReconcilePolicyPackConfig);
    offline it used to be ignored."""
    from ack_offline.gate import PolicyPackProcess

    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(INITIAL_ALL)
    pack = PolicyPackProcess(tmp_path, CONTEXT)
    try:
        pack.configure({}, CONTEXT)
        (violation,) = pack.analyze(only(sg_rule("any")))
    finally:
        pack.close()
    assert violation.enforcement == "mandatory"


@pytest.mark.parametrize(
    ("field", "secret"),
    [("cidrIp", "8.8.8.8/8"), ("ipv6CidrIp", "2400:CB00::0/32"), ("cidrIp", "0.0.0.0/0.0.0.0")],
    ids=["host bits", "IPv6 uppercase, uncompressed", "netmask"],
)
def test_a_secret_range_is_redacted_in_the_form_a_rule_prints(gate, field, secret):
    """The world-open rule prints ranges as Python's ipaddress writes them (normalised to the
    network, IPv6 compressed and lower case): no form of the secret reaches a message."""
    import ipaddress

    wrapped = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    source: dict[str, Any] = {field: {**wrapped, "value": secret}}
    rule = sg_rule("hidden", None, **source)
    violations = [v for v in gate(only(rule)) if v.policy == WORLD_OPEN]
    assert violations, "the rule must still see the secret range and fire"
    network = ipaddress.ip_network(secret, strict=False)
    for v in violations:
        # The policy's description comes first, as it is ("... counts as 0.0.0.0/0"): the
        # program gave none of it.
        finding = v.message.split("\n", 1)[1]
        for form in (secret, str(network), network.compressed, network.exploded):
            assert form not in finding
        assert "[secret]" in finding


# --- the run cannot be forged, the judge cannot be rewritten -----------------------------------

FORGE = r"""
import os, stat, struct, json, pickle, pathlib
# Once the drifting rule is registered, write to every pipe this process holds: a forged end of
# the run, and a pickle that would write a file if the gate unpickled it; then exit at once.
class Boom:
    def __reduce__(self):
        return (pathlib.Path.write_text, (pathlib.Path(MARKER), "unpickled"))

def forge(_):
    done = json.dumps({"kind": "done", "log": []}).encode()
    for payload in (done, pickle.dumps(((("run", Boom()), []))), pickle.dumps(Boom())):
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                mode = os.fstat(fd).st_mode
                if fd > 2 and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
                    os.write(fd, struct.pack("!i", len(payload)) + payload)
            except OSError:
                pass
    os._exit(0)

rule.urn.apply(forge)
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds its pipes in /proc")
def test_a_program_cannot_forge_its_run_or_run_code_in_the_gate(tmp_path):
    """The gate reads nothing executable from the program's process, and a forged end of the
    run never passes: the pickle written to the gate's pipes is never unpickled, and the run
    ends in exit 2 when the gate reads the forgery as a message outside the protocol, or is
    judged as far as it got when the forgery, written into the middle of the program's own
    messages, reads as the pipe's end (the cluster, cut short before its record, blocks)."""
    marker = tmp_path / "unpickled.txt"
    program = DRIFTING.replace(
        "alicloud.ecs.SecurityGroupRule(", "rule = alicloud.ecs.SecurityGroupRule("
    )
    done = _gate(tmp_path, program + f"MARKER = {str(marker)!r}\n" + FORGE, "--json")
    assert not marker.exists()
    assert done.returncode in (1, 2), done.stdout + done.stderr
    if done.returncode == 2:
        assert "broke the engine's protocol" in done.stderr
    else:
        doc = json.loads(done.stdout)
        assert any(
            v["enforcement"] == "mandatory" and "has no ownership record" in v["message"]
            for v in doc["violations"]
        )


GARBLE = r"""
import os, stat, struct, json
# Once the drifting rule is registered, send every pipe this process holds a well-framed
# message outside the protocol (a reply whose ID is an object), then go on as if nothing was.
def garble(_):
    for payload in (b'{"reply": {"id": 1}}\n', json.dumps([1, 2]).encode()):
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                mode = os.fstat(fd).st_mode
                if fd > 2 and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
                    os.write(fd, struct.pack("!i", len(payload)) + payload)
            except OSError:
                pass

rule.urn.apply(garble)
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds its pipes in /proc")
def test_a_program_that_breaks_the_protocol_gets_no_verdict_and_no_hang(tmp_path):
    program = DRIFTING.replace(
        "alicloud.ecs.SecurityGroupRule(", "rule = alicloud.ecs.SecurityGroupRule("
    )
    done = _gate(tmp_path, program + GARBLE, "--timeout", "60")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "did not finish within" not in done.stderr  # it ended at once, not at the limit


REWRITE = """
import pathlib
# Rewrite the judge: a pack that passes everything.
pathlib.Path(PACK, "__main__.py").write_text(
    "from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy\\n"
    "PolicyPack(name='ack-guardrails', enforcement_level=EnforcementLevel.ADVISORY, policies=["
    "ResourceValidationPolicy(name='nothing', description='Nothing.', "
    "validate=lambda a, r: None)])\\n"
)
"""


def test_a_program_that_rewrites_its_judge_gets_no_verdict(tmp_path):
    """The packs load before any user code runs, and the gate checks that their files did not
    change while it ran: the rewritten pack is not the one that judged, and the run ends in
    exit 2, never in a pass."""
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "policies", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    program = DRIFTING + f"PACK = {str(pack)!r}\n" + REWRITE
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(program)
    done = subprocess.run(
        [*ACK_PREVIEW, "dev", "--program", str(tmp_path), "--policy-pack", str(pack)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "changed while the gate ran" in done.stderr


PLANT = """
import pathlib, sys
# Plant compiled bytecode beside the pack's source: an interpreter prefers a matching .pyc.
cache = pathlib.Path(PACK, "__pycache__")
cache.mkdir(exist_ok=True)
(cache / f"__main__.{sys.implementation.cache_tag}.pyc").write_bytes(b"planted")
"""


def test_a_program_that_plants_bytecode_in_its_judge_gets_no_verdict(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "policies", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(DRIFTING + f"PACK = {str(pack)!r}\n" + PLANT)
    done = subprocess.run(
        [*ACK_PREVIEW, "dev", "--program", str(tmp_path), "--policy-pack", str(pack)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "changed while the gate ran" in done.stderr


def test_the_gate_and_its_programs_write_no_bytecode(tmp_path):
    """A program imports this library, which shares modules with the pack: compiled into
    their `__pycache__`, they would change the judge's digest, and a clean checkout's first
    run would end in "not proven". Whatever the environment, nothing writes bytecode."""
    prefix = tmp_path / "pycache"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)  # where any bytecode would be written
    program = tmp_path / "program"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (program / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (program / "helper.py").write_text("VALUE = 1\n")
    (program / "__main__.py").write_text(
        "import helper\nfrom ack_clusters import ManagedCluster\n"
        "import ack_policies.record, ack_policies.drift\n"
    )
    done = subprocess.run(
        [*ACK_PREVIEW, "dev", "--program", str(program), "--policy-pack", str(ROOT / "policies")],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = {p.name.split(".")[0] for p in prefix.rglob("*.pyc")}
    # What only the program imports (before its main, the gate compiles what it imports
    # itself, which the digest then holds).
    assert "helper" not in written and "drift" not in written
    assert "cluster" in {p.parent.name for p in prefix.rglob("*.pyc")}  # the prefix is used


def test_ack_fleet_hands_every_stack_the_digest_taken_before_any_program(monkeypatch, tmp_path):
    from ack_offline import integrity

    pack = ROOT / "policies"
    taken = integrity.digests([pack])
    monkeypatch.setenv(integrity.ENVIRONMENT, json.dumps({str(pack.resolve()): "before"}))
    assert integrity.digests([pack]) == {str(pack.resolve()): "before"}
    with pytest.raises(integrity.PackChanged):
        integrity.check({str(pack.resolve()): "before"}, "while the gate ran")
    integrity.check(taken, "while the gate ran")


RECONFIGURING_PROGRAM = """
import os, time
import pulumi_alicloud as alicloud
from ack_clusters import ManagedCluster

ManagedCluster("demo", {"network": {"zones": ["cn-hangzhou-i"]}})
alicloud.ram.RolePolicyAttachment(
    "oss", role_name="demo-node-role", policy_name="AliyunOSSFullAccess", policy_type="System"
)


def reconfigure_every_analyzer(log):
    import grpc
    from google.protobuf import empty_pb2, struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    allow = {"allow": [{"urn": "urn:pulumi:*::*::alicloud:ram/rolePolicyAttachment:"
                                "RolePolicyAttachment::oss", "reason": "the program says so"}]}
    # The gate's packs are the program's siblings; their sockets give their ports. (Only the
    # gate's: other gates on this machine are none of this test's business.)
    gate, inodes = os.getppid(), set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) != gate or int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            log.write(f"unreadable {pid}\\n")  # a non-dumpable process, to an ordinary user
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):  # gRPC may listen on a v4-mapped socket
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.add(int(fields[1].split(":")[1], 16))
    for port in sorted(ports):
        stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        try:
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=1)
            config = {}
            for p in info.policies:
                props = struct_pb2.Struct()
                if p.name == "ack-no-loose-attachments-to-cluster-resources":
                    props.update(allow)
                config[p.name] = analyzer_pb2.PolicyConfig(
                    enforcementLevel=p.enforcementLevel, properties=props)
            stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config), timeout=1)
            log.write(f"configured {port}\\n")
        except grpc.RpcError as exc:
            log.write(f"{exc.code().name} {port}\\n")
        log.flush()


if os.fork() == 0:  # a daemon, detached from the program, reconfiguring for 20 s
    os.setsid()
    if os.fork() == 0:
        with open(LOG, "a") as log:
            end = time.monotonic() + 20
            while time.monotonic() < end:
                reconfigure_every_analyzer(log)
                time.sleep(0.05)
    os._exit(0)
end = time.monotonic() + 30  # the program ends once the daemon has called every analyzer once
while time.monotonic() < end and not (os.path.exists(LOG) and open(LOG).read()):
    time.sleep(0.05)
"""


@pytest.mark.heavy
def test_a_program_s_daemon_cannot_reconfigure_the_pack(tmp_path):
    """The pack listens on a port of 127.0.0.1 any local process can find and call: a program's
    daemon calling `Configure` with an exception for its own drift, over and over, must not be
    heard (the pack answers only its gate's token), and nothing of the program runs while the
    packs judge. Run as the console script, as CI runs it."""
    log = tmp_path / "daemon.log"
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(f"LOG = {str(log)!r}\n" + RECONFIGURING_PROGRAM)
    cmd = [*ACK_PREVIEW, "dev", "--program", str(tmp_path), "--policy-pack", "policies"]
    for mode in ("preview", "update"):
        done = subprocess.run(
            [*cmd, "--mode", mode, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 1, done.stderr
        found = json.loads(done.stdout)["violations"]
        assert any(v["urn"].endswith("::oss") and v["enforcement"] == "mandatory" for v in found)
    heard = log.read_text().splitlines()
    assert not any(line.startswith("configured ") for line in heard), heard
    # The daemon did find the pack and call it, and was refused (else this proves nothing); an
    # ordinary user's daemon cannot even read a pack's sockets (it is non-dumpable).
    expected = "UNAUTHENTICATED " if os.geteuid() == 0 else "unreadable "
    assert any(line.startswith(expected) for line in heard), heard


BLINDABLE_PACK = """
import helper_of_the_pack
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def no_vpc(args, report_violation):
    if helper_of_the_pack.BLOCK and args.resource_type == "alicloud:vpc/network:Network":
        report_violation("no VPC here")

PolicyPack(
    name="blindable",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[ResourceValidationPolicy(name="no-vpc", description="No VPC.", validate=no_vpc)],
)
"""


@pytest.mark.heavy
def test_a_stack_cannot_rewrite_a_module_a_later_stacks_pack_loads(tmp_path):
    """Under ack-fleet, stack a's program rewrote a module the pack imports beyond the fixed
    list of packages (`yaml`, in the review) and stack b's pack, loading it, passed what it
    should block. ack-fleet notes what each pack loads before any program runs; a later pack
    that loaded anything else, or a listed file since changed, is no verdict."""
    extra = tmp_path / "extra"
    extra.mkdir()
    helper = extra / "helper_of_the_pack.py"
    helper.write_text("BLOCK = True\n")
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text(BLINDABLE_PACK)
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    for stack in ("a", "b"):
        (project / f"Pulumi.{stack}.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (project / "__main__.py").write_text(
        "import pulumi, pulumi_alicloud as alicloud\n"
        "alicloud.vpc.Network('v', cidr_block='10.0.0.0/16')\n"
        "if pulumi.get_stack() == 'a':\n"
        f"    open({str(helper)!r}, 'w').write('BLOCK = False\\n')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(extra)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ack_offline.fleet import console; console()",
            "--program",
            str(project),
            "gate",
            "--policy-pack",
            str(pack),
            "--mode",
            "preview",
            "--workers",
            "1",
            "--json",
            str(tmp_path / "report.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    report = json.loads((tmp_path / "report.json").read_text())
    by_stack = {r["stack"]: r for r in report["stacks"]}
    # a rewrote its judge while it ran, and b's pack loaded what a wrote: neither is judged.
    assert by_stack["a"]["exit"] == 2 and "while the gate ran" in by_stack["a"]["error"]
    assert by_stack["b"]["exit"] == 2 and "before it started" in by_stack["b"]["error"]
    assert done.returncode == 2
