"""DriftGuard: the Deny takes away changes to owned resources from people and other automation,
never from the deploy identity or ACK's service roles, and leaves reads alone; the alert fires
on exactly the callers the Deny is meant for; refused targets register nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ack_clusters import InvalidArguments
from ack_clusters.guard import facts, plan
from ack_clusters.guard.args import DriftGuardArgs
from ack_clusters.guard.component import DriftGuard
from ack_clusters.naming import CLUSTER_TAG, MANAGED_BY, MANAGED_BY_TAG, ownership_tags

from .conftest import run
from .event_match import matches
from .ram_eval import ADMIN, Request, decide

DEPLOY_ID = "300000000000001"
ARGS: dict[str, Any] = {
    "deploy_identity": {"kind": "role", "name": "ci-deploy", "principal_id": DEPLOY_ID},
    "attach_to_groups": ["ops"],
    "attach_to_roles": ["other-automation"],
    "clusters": ["prod"],
    "control_policy": {"target_ids": ["fd-prodfolder"]},
    "alert": {
        "kind": "dingtalk",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=tok3n-Sup3r",
        "secret_key": "SECsigning",
        "oss_bucket_name": "audit-log",
    },
}


def guard_args(**over: Any) -> DriftGuardArgs:
    a = copy.deepcopy(ARGS)
    a.update(over)
    return DriftGuardArgs.model_validate(a)


def owned_tags(cluster: str = "prod") -> dict[str, str]:
    """The condition keys of a resource a cluster component tagged (naming.ownership_tags)."""
    return {f"acs:ResourceTag/{k}": v for k, v in ownership_tags(cluster, {"team": "x"}).items()}


def req(action: str, tags: dict[str, str] | None = None, **ctx: str) -> Request:
    return Request(action=action, context={**(tags or {}), **ctx})


# -- the RAM Deny -----------------------------------------------------------------------------


def test_every_denied_action_is_denied_on_an_owned_resource():
    doc = plan.deny_policy_document(guard_args())
    for action in facts.denied_action_names():
        assert decide([ADMIN, doc], req(action, owned_tags())) == "Deny", action


@pytest.mark.parametrize(
    "action", ["ecs:AuthorizeSecurityGroup", "vpc:DeleteVSwitch", "slb:DeleteLoadBalancer"]
)
def test_resources_the_library_does_not_own_stay_editable(action):
    doc = plan.deny_policy_document(guard_args())
    assert decide([ADMIN, doc], req(action, {"acs:ResourceTag/team": "x"})) == "Allow"
    # Another cluster of the library, when the guard names only "prod".
    assert decide([ADMIN, doc], req(action, owned_tags("staging"))) == "Allow"
    # A spoofed managed-by value is not the library's.
    spoof = {
        f"acs:ResourceTag/{MANAGED_BY_TAG}": "someone-else",
        f"acs:ResourceTag/{CLUSTER_TAG}": "prod",
    }
    assert decide([ADMIN, doc], req(action, spoof)) == "Allow"


def test_without_clusters_the_guard_covers_every_cluster_of_the_library():
    doc = plan.deny_policy_document(guard_args(clusters=[], node_role_names=[]))
    for c in ("prod", "staging", "anything"):
        assert decide([ADMIN, doc], req("ecs:RevokeSecurityGroup", owned_tags(c))) == "Deny"


@pytest.mark.parametrize(
    "action",
    [
        "ecs:DescribeSecurityGroups",
        "ecs:DescribeSecurityGroupAttribute",
        "vpc:DescribeVpcs",
        "slb:DescribeLoadBalancers",
        "cs:DescribeClusterDetail",
        "cs:DescribeClusterUserKubeconfig",
        "ess:DescribeScalingGroups",
        "ram:GetRole",
        "ecs:TagResources",  # adding a team's own tag stays possible (the gate allows it too)
    ],
)
def test_ordinary_reads_of_owned_resources_are_allowed(action):
    doc = plan.deny_policy_document(guard_args())
    assert decide([ADMIN, doc], req(action, owned_tags())) == "Allow"


def test_removing_the_ownership_tags_is_denied_so_the_deny_cannot_be_stepped_around():
    doc = plan.deny_policy_document(guard_args())
    for service in ("ecs", "slb", "ess", "cs"):
        assert decide([ADMIN, doc], req(f"{service}:UntagResources", owned_tags())) == "Deny"
    assert decide([ADMIN, doc], req("vpc:UnTagResources", owned_tags())) == "Deny"


def test_an_action_without_tag_support_is_not_denied_but_watched():
    """The documented way a tag condition fails open: the key is absent. Every such action the
    library lists is in the alert's pattern instead."""
    doc = plan.deny_policy_document(guard_args())
    watched = facts.watched_events()
    for u in facts.DETECT_ONLY:
        for name in u.actions:
            assert f"{u.service}:{name}" not in facts.denied_action_names()
            assert decide([ADMIN, doc], req(f"{u.service}:{name}")) == "Allow"
            assert name in watched[u.trail_name]
        assert u.source.startswith("https://")


def test_node_roles_are_guarded_by_name():
    doc = plan.deny_policy_document(guard_args())
    attach = Request("ram:AttachPolicyToRole", "acs:ram:*:1234:role/prod-node-role")
    assert decide([ADMIN, doc], attach) == "Deny"
    other = Request("ram:AttachPolicyToRole", "acs:ram:*:1234:role/app-role")
    assert decide([ADMIN, doc], other) == "Allow"


def test_the_deny_grants_nothing():
    doc = json.loads(plan.deny_policy_document(guard_args()))
    assert {s["Effect"] for s in doc["Statement"]} == {"Deny"}
    assert decide([plan.deny_policy_document(guard_args())], req("ecs:DescribeInstances")) == (
        "ImplicitDeny"
    )


# -- the control policy: the deploy identity and ACK's service roles are never denied ---------

#: As RAM gives a role's ARN: its name in lower case (Alibaba Cloud's control-policy examples).
ACK_ROLE_ARNS = [f"acs:ram::1234:role/{r.lower()}" for r in facts.ACK_SERVICE_ROLES] + [
    "acs:ram::1234:role/aliyunservicerole" + "forcslogging"
]


@pytest.mark.parametrize("principal", ["acs:ram::1234:role/ci-deploy", *ACK_ROLE_ARNS])
def test_the_control_policy_never_denies_the_deploy_identity_or_acks_roles(principal):
    doc = plan.control_policy_document(guard_args())
    for action in [*facts.denied_action_names(), "ram:AttachPolicyToRole"]:
        r = req(action, owned_tags(), **{"acs:PrincipalARN": principal})
        r.resource = "acs:ram:*:1234:role/prod-node-role" if action.startswith("ram:") else "*"
        assert decide([ADMIN, doc], r) == "Allow", action


@pytest.mark.parametrize(
    "principal", ["acs:ram::1234:user/alice", "acs:ram::1234:role/other-automation"]
)
def test_the_control_policy_denies_everyone_else(principal):
    doc = plan.control_policy_document(guard_args())
    r = req("ecs:AuthorizeSecurityGroup", owned_tags(), **{"acs:PrincipalARN": principal})
    assert decide([ADMIN, doc], r) == "Deny"


def test_a_deploy_user_is_exempt_from_the_control_policy():
    a = guard_args(deploy_identity={"kind": "user", "name": "deployer", "principal_id": "42"})
    doc = plan.control_policy_document(a)
    ok = req("vpc:DeleteVSwitch", owned_tags(), **{"acs:PrincipalARN": "acs:ram::1:user/deployer"})
    assert decide([ADMIN, doc], ok) == "Allow"


def test_the_control_policy_fits_resource_directorys_limit():
    assert len(plan.control_policy_document(guard_args())) <= plan.CONTROL_POLICY_MAX


# -- the alert ----------------------------------------------------------------------------------


def trail_event(user_identity: dict[str, Any], event_name: str, service: str, **kw: Any) -> dict:
    """An ActionTrail event as EventBridge delivers it: a CloudEvent whose data is the trail's
    record, shaped as the documented samples (facts.SRC_ACTIONTRAIL_EVENTS,
    facts.SRC_ASSUMED_ROLE_EVENT)."""
    return {
        "id": "45ef4dewdwe1-7c35-447a-bd93-fab****",
        "source": "acs.actiontrail",
        "specversion": "1.0",
        "type": kw.pop("type", "actiontrail:ActionTrail:ApiCall"),
        "subject": f"acs.actiontrail:cn-hangzhou:1234:{service}",
        "data": {
            "eventId": "92b33345-0cef-47be-821f-fb9914d3****",
            "eventVersion": 1,
            "eventRW": "Write",
            "eventType": "ApiCall",
            "userIdentity": user_identity,
            "serviceName": service,
            "eventName": event_name,
            "acsRegion": "cn-hangzhou",
            "referencedResources": {"ACS::ECS::SecurityGroup": ["sg-bp1****"]},
            **kw,
        },
    }


def assumed(role: str, role_id: str, session: str = "s1") -> dict[str, Any]:
    return {
        "type": "assumed-role",
        "principalId": f"{role_id}:{session}",
        "accountId": "1234",
        "userName": f"{role}:{session}",
    }


ALICE = {"type": "ram-user", "principalId": "2000001", "accountId": "1234", "userName": "alice"}


@pytest.mark.parametrize(
    ("who", "service", "action"),
    [
        (ALICE, "Ecs", "AuthorizeSecurityGroup"),
        (ALICE, "Slb", "CreateLoadBalancerTCPListener"),  # detect-only: no tag support
        (ALICE, "Vpc", "CreateSnatEntry"),
        (assumed("other-automation", "399"), "Ess", "ModifyScalingGroup"),
        (assumed("other-automation", "399"), "Ram", "AttachPolicyToRole"),
    ],
)
def test_the_alert_fires_on_people_and_other_automation(who, service, action):
    pattern = json.loads(plan.event_pattern(guard_args()))
    assert matches(pattern, trail_event(who, action, service))
    console = trail_event(who, action, service, type="actiontrail:ActionTrail:ConsoleOperation")
    assert matches(pattern, console)


@pytest.mark.parametrize("role", facts.ACK_SERVICE_ROLES)
def test_the_alert_never_fires_on_acks_service_roles(role):
    pattern = json.loads(plan.event_pattern(guard_args()))
    assert not matches(pattern, trail_event(assumed(role, "377"), "AuthorizeSecurityGroup", "Ecs"))


def test_the_alert_never_fires_on_the_deploy_identity():
    pattern = json.loads(plan.event_pattern(guard_args()))
    for session in ("ci-1", "pulumi-up"):
        event = trail_event(assumed("ci-deploy", DEPLOY_ID, session), "DeleteVSwitch", "Vpc")
        assert not matches(pattern, event)
    # A role whose ID merely starts with the deploy role's ID is someone else.
    other = trail_event(assumed("x", DEPLOY_ID + "9"), "DeleteVSwitch", "Vpc")
    assert matches(pattern, other)
    user = guard_args(deploy_identity={"kind": "user", "name": "deployer", "principal_id": "42"})
    pattern = json.loads(plan.event_pattern(user))
    me = {"type": "ram-user", "principalId": "42", "userName": "deployer"}
    assert not matches(pattern, trail_event(me, "DeleteVSwitch", "Vpc"))


def test_the_alert_ignores_reads_other_services_and_alibabas_own_operations():
    pattern = json.loads(plan.event_pattern(guard_args()))
    assert not matches(pattern, trail_event(ALICE, "DescribeSecurityGroups", "Ecs"))
    assert not matches(pattern, trail_event(ALICE, "PutObject", "Oss"))
    system = {"type": "system", "userName": "ecs.aliyuncs.com"}
    event = trail_event(
        system, "DeleteDisk", "Ecs", type="actiontrail:ActionTrail:AliyunServiceEvent"
    )
    assert not matches(pattern, event)


# -- what registers ---------------------------------------------------------------------------


def test_the_guard_registers_its_resources_as_children_named_by_user_choices():
    result = run(lambda: DriftGuard("guard", ARGS))
    by = {(r.type, r.name): r for r in result.resources if r.custom}
    comp = next(r for r in result.resources if r.type == "ack:index:DriftGuard")
    assert {r.parent for r in by.values()} == {comp.urn}
    assert set(by) == {
        ("alicloud:ram/policy:Policy", "guard-deny"),
        ("alicloud:ram/groupPolicyAttachment:GroupPolicyAttachment", "guard-group-ops"),
        ("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment", "guard-role-other-automation"),
        ("alicloud:resourcemanager/controlPolicy:ControlPolicy", "guard-control"),
        (
            "alicloud:resourcemanager/controlPolicyAttachment:ControlPolicyAttachment",
            "guard-control-fd-prodfolder",
        ),
        ("alicloud:actiontrail/trail:Trail", "guard-trail"),
        ("alicloud:eventbridge/rule:Rule", "guard-alert"),
    }
    policy = by[("alicloud:ram/policy:Policy", "guard-deny")].inputs
    assert policy["policyDocument"] == plan.deny_policy_document(guard_args())
    control = by[("alicloud:resourcemanager/controlPolicy:ControlPolicy", "guard-control")].inputs
    assert control["effectScope"] == "RAM"
    rule = by[("alicloud:eventbridge/rule:Rule", "guard-alert")]
    assert json.loads(rule.inputs["filterPattern"]) == json.loads(plan.event_pattern(guard_args()))
    # The robot's token and signing secret never show in what the engine recorded.
    assert "tok3n-Sup3r" not in json.dumps(rule.inputs) and "SECsigning" not in json.dumps(
        rule.inputs
    )
    assert "targets" in json.dumps(rule.wire_inputs) and "tok3n" not in str(rule.inputs)


def test_a_minimal_guard_registers_only_the_policy_and_its_attachment():
    minimal = {"deploy_identity": ARGS["deploy_identity"], "attach_to_groups": ["ops"]}
    result = run(lambda: DriftGuard("g", minimal))
    types = sorted(r.type for r in result.resources if r.custom)
    assert types == [
        "alicloud:ram/groupPolicyAttachment:GroupPolicyAttachment",
        "alicloud:ram/policy:Policy",
    ]


@pytest.mark.parametrize(
    ("change", "path", "text"),
    [
        (
            {"attach_to_roles": ["AliyunCSManagedKubernetesRole"]},
            "attach_to_roles.0",
            "ACK's service roles",
        ),
        (
            {"attach_to_roles": ["AliyunServiceRoleForCSLogging"]},
            "attach_to_roles.0",
            "ACK's service roles",
        ),
        ({"attach_to_roles": ["ok", "prod-node-role"]}, "attach_to_roles.1", "node role"),
        ({"attach_to_roles": ["ci-deploy"]}, "attach_to_roles.0", "deploy identity"),
        (
            {"attach_to_groups": [], "attach_to_roles": [], "control_policy": None},
            "attach_to_groups",
            "denies nobody",
        ),
        (
            {"alert": {"kind": "dingtalk", "url": "https://evil.example/x"}},
            "alert.url",
            "oapi.dingtalk.com",
        ),
        (
            {"control_policy": {"target_ids": ["not a folder"]}},
            "control_policy.target_ids.0",
            "folder",
        ),
    ],
)
def test_refused_guards_register_nothing(change, path, text):
    caught: list[InvalidArguments] = []

    def program() -> None:
        try:
            DriftGuard("g", {**ARGS, **change})
        except InvalidArguments as exc:
            caught.append(exc)

    result = run(program)
    assert result.resources == []
    assert caught and any(p == path and text in m for p, m in caught[0].problems), caught
    assert "tok3n-Sup3r" not in str(caught[0])


def test_the_guard_reads_the_ownership_facts_the_components_write():
    assert facts.OWNED_TAG_KEY == MANAGED_BY_TAG and facts.OWNED_TAG_VALUE == MANAGED_BY
    assert set(ownership_tags("prod")) == {facts.OWNED_TAG_KEY, facts.CLUSTER_TAG_KEY}


# -- the gate passes a program that uses the guard ----------------------------------------------

GUARDED_PROGRAM = """
import pulumi
from ack_clusters import DriftGuard, ManagedCluster

cluster = ManagedCluster("prod", {
    "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
    "node_pools": {"web": {"instance_types": ["ecs.g7.large"], "desired_size": 2,
                           "key_name": "ops"}},
})
config = pulumi.Config()
DriftGuard("guard", {
    "deploy_identity": {"kind": "role", "name": "ci-deploy", "principal_id": "300000000000001"},
    "attach_to_groups": ["ops", "developers"],
    "attach_to_roles": ["other-automation"],
    "clusters": ["prod"],
    "control_policy": {"target_ids": ["fd-prodfolder"]},
    "alert": {"kind": "dingtalk", "url": config.require("robot"), "oss_bucket_name": "audit"},
})
"""


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_program_with_the_guard_passes_the_gate(tmp_path, capsys, mode):
    from ack_offline.preview import main

    from .conftest import PACK_DIR

    (tmp_path / "Pulumi.yaml").write_text("name: guarded\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(GUARDED_PROGRAM)
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  alicloud:region: cn-hangzhou\n"
        "  guarded:robot: https://oapi.dingtalk.com/robot/send?access_token=abc\n"
    )
    argv = ["dev", "--program", str(tmp_path), "--json", "--mode", mode]
    rc = main([*argv, "--policy-pack", str(PACK_DIR)])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0, out["violations"]
    assert [v for v in out["violations"] if v.get("enforcement") == "mandatory"] == []
    types = {r["type"] for r in out["resources"]}
    assert {"alicloud:ram/policy:Policy", "alicloud:eventbridge/rule:Rule"} <= types


@pytest.mark.parametrize(
    ("robot", "rc"),
    [
        ("https://oapi.dingtalk.com/robot/send?access_token=s3cr3t-token", 0),
        ("https://evil.example/hook?access_token=s3cr3t-token", 2),
    ],
    ids=["a robot", "not a robot"],
)
def test_a_secret_robot_url_from_config_is_taken_and_checked_without_quoting_it(
    tmp_path, capsys, robot, rc
):
    """`Config.require_secret()` for the alert's URL: checked when known (an update), never
    quoted, kept secret."""
    from ack_offline.preview import main

    program = GUARDED_PROGRAM.replace('config.require("robot")', 'config.require_secret("robot")')
    assert program != GUARDED_PROGRAM
    (tmp_path / "Pulumi.yaml").write_text("name: guarded\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(program)
    (tmp_path / "Pulumi.dev.yaml").write_text(
        f"config:\n  alicloud:region: cn-hangzhou\n  guarded:robot: {robot}\n"
    )
    assert main(["dev", "--program", str(tmp_path), "--json", "--mode", "update"]) == rc
    captured = capsys.readouterr()
    assert "s3cr3t-token" not in captured.out + captured.err
    if rc:
        assert "a DingTalk robot's URL starts with" in captured.err


LOOSE_POLICY_PROGRAM = """
import json
import pulumi_alicloud as alicloud
from ack_clusters import ManagedCluster

ManagedCluster("prod", {"network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
                        "node_pools": {"web": {"instance_types": ["ecs.g7.large"],
                                               "desired_size": 2, "key_name": "ops"}}})
TAG = {"StringEquals": {"acs:ResourceTag/ack.pulumi.io/managed-by": ["pulumi-ack-clusters"]}}
alicloud.ram.Policy("loose", policy_name="loose", policy_document=json.dumps(
    {"Version": "1", "Statement": STATEMENTS}))
"""


@pytest.mark.parametrize(
    ("statements", "passes"),
    [
        ('[{"Effect": "Deny", "Action": "ecs:*", "Resource": "*", "Condition": TAG}]', True),
        ('[{"Effect": "Allow", "Action": "ecs:*", "Resource": "*", "Condition": TAG}]', False),
        (
            '[{"Effect": "Deny", "Action": "vpc:*", "Resource": "*", "Condition": TAG},'
            ' {"Effect": "Allow", "Action": "ecs:*", "Resource": "*", "Condition": TAG}]',
            False,
        ),
        ('[{"Effect": "deny", "Action": "ecs:*", "Resource": "*", "Condition": TAG}]', False),
        (
            '[{"Effect": "Allow", "Action": "ram:AttachPolicyToRole",'
            ' "Resource": "acs:ram:*:*:role/prod-node-role"}]',
            False,
        ),
    ],
)
def test_only_a_deny_may_name_what_a_cluster_owns(tmp_path, capsys, statements, passes):
    """The gate's reviewed exception for the guard: a policy that only denies may name the
    ownership tags or a node role; an Allow (or anything not spelt Deny) is still drift."""
    from ack_offline.preview import main

    from .conftest import PACK_DIR

    (tmp_path / "Pulumi.yaml").write_text("name: loose\nruntime: python\n")
    program = LOOSE_POLICY_PROGRAM.replace("STATEMENTS", statements)
    (tmp_path / "__main__.py").write_text(program)
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    rc = main(["dev", "--program", str(tmp_path), "--json", "--policy-pack", str(PACK_DIR)])
    out = json.loads(capsys.readouterr().out)
    loose = [v for v in out["violations"] if v.get("urn", "").endswith("::loose")]
    if passes:
        assert rc == 0 and loose == [], loose
    else:
        assert rc == 1 and {v["policy"] for v in loose} == {
            "ack-no-loose-attachments-to-cluster-resources"
        }


def test_the_packaged_guard_builds_the_same_graph_as_the_python_class():
    from ack_clusters.package import declarations

    python = {r.urn for r in run(lambda: DriftGuard("g", ARGS)).resources}
    typed: Any = ARGS  # the package class declares its arguments as a TypedDict
    packaged = {r.urn for r in run(lambda: declarations.DriftGuard("g", typed)).resources}
    assert python == packaged and len(python) == 8


def test_the_page_lists_every_guarded_and_watched_action_with_its_source():
    from .conftest import ROOT

    page = (ROOT / "docs" / "CONSOLE-DRIFT.md").read_text()
    for g in facts.TAG_DENY:
        row = next(
            line for line in page.splitlines() if line.startswith(f"| `{g.service}` | {g.what}")
        )
        assert all(f"`{a}`" in row for a in g.actions) and g.source in row
    for u in facts.DETECT_ONLY:
        row = next(line for line in page.splitlines() if u.why in line)
        assert all(f"`{a}`" in row for a in u.actions) and u.source in row
    for role in facts.ACK_SERVICE_ROLES:
        assert f"`{role}`" in page
