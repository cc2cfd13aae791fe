"""The gate's rules around DriftGuard's documents: custom policies on ACK's service roles, the
exemptions of a deny-only control policy, duplicate JSON keys, grants on every cluster, and
ram.Policy's deprecated `document` input. Each program runs through the real analyzer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ack_clusters.guard import facts, plan
from ack_policies import service_roles
from ack_policies._common import DuplicateKeyError, load_document
from ack_policies.identity import _grants_everything
from ack_policies.references import deny_only, missing_exemptions

from .ram_eval import ADMIN, decide
from .test_drift_guard import guard_args, owned_tags, req

DRIFT = "ack-no-loose-attachments-to-cluster-resources"

CLUSTER = """
import json
import pulumi_alicloud as alicloud
from ack_clusters import ManagedCluster

ManagedCluster("prod", {"network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
                        "node_pools": {"web": {"instance_types": ["ecs.g7.large"],
                                               "desired_size": 2, "key_name": "ops"}}})
"""
NO_CLUSTER = """
import json
import pulumi_alicloud as alicloud
"""
TAG = {"StringEquals": {"acs:ResourceTag/ack.pulumi.io/managed-by": ["pulumi-ack-clusters"]}}


def gate(tmp_path: Any, capsys: Any, tail: str, head: str = CLUSTER) -> tuple[int, list[dict]]:
    """Run the program through the gate: its exit code and its mandatory violations."""
    from ack_offline.preview import main

    from .conftest import PACK_DIR

    (tmp_path / "Pulumi.yaml").write_text("name: gated\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(f"{head}\nTAG = {TAG!r}\n{tail}")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    rc = main(["dev", "--program", str(tmp_path), "--json", "--policy-pack", str(PACK_DIR)])
    out = json.loads(capsys.readouterr().out)
    return rc, [v for v in out["violations"] if v.get("enforcement") == "mandatory"]


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


# -- ACK's service roles: only Alibaba Cloud's System policies --------------------------------

DENY_ALL = doc({"Effect": "Deny", "Action": "*", "Resource": "*"})


def test_the_guard_and_the_pack_share_one_list_of_acks_roles():
    assert facts.ACK_SERVICE_ROLES is service_roles.ACK_SERVICE_ROLES
    assert facts.ACK_SERVICE_ROLE_PREFIXES is service_roles.ACK_SERVICE_ROLE_PREFIXES
    assert facts.is_ack_service_role("aliyuncsmanagedkubernetesrole")  # RAM ignores case


@pytest.mark.parametrize(
    "attachment",
    [
        'alicloud.ram.RolePolicyAttachment("att", policy_name=p.policy_name, '
        'policy_type="Custom", role_name="AliyunCSManagedKubernetesRole")',
        'alicloud.ram.RolePolicyAttachment("att", policy_name=p.policy_name, '
        'policy_type="Custom", role_name="AliyunCSDefaultRole")',
        'alicloud.ram.RolePolicyAttachment("att", policy_name=p.policy_name, '
        'policy_type="Custom", role_name="aliyuncsdefaultrole")',
        'alicloud.ram.RolePolicyAttachment("att", policy_name=p.policy_name, '
        'policy_type="Custom", role_name="AliyunServiceRoleForCSLogging")',
        'alicloud.ram.RolePolicyAttachment("att", policy_name=p.policy_name, '
        'policy_type="Custom", role_name="AliyunOOSLifecycleHook4CSRole")',
        'alicloud.resourcemanager.PolicyAttachment("att", policy_name=p.policy_name, '
        'policy_type="Custom", principal_type="ServiceRole", '
        'principal_name="AliyunCSManagedKubernetesRole@role.1234.onaliyunservice.com", '
        'resource_group_id="rg-abc")',
    ],
)
@pytest.mark.parametrize(
    "document",
    [DENY_ALL, doc({"Effect": "Deny", "NotAction": "ram:Get*", "Resource": "*", "Condition": TAG})],
)
def test_a_policy_of_ones_own_on_an_ack_service_role_is_refused(
    tmp_path, capsys, attachment, document
):
    tail = f'p = alicloud.ram.Policy("loose", policy_name="loose", policy_document={document!r})\n'
    rc, found = gate(tmp_path, capsys, tail + attachment)
    att = [v for v in found if v["urn"].endswith("::att")]
    assert rc == 1 and [v["policy"] for v in att] == [DRIFT], found
    assert "one of ACK's service roles" in att[0]["message"]
    assert "ACK manages the clusters' resources" in att[0]["message"]


BOOTSTRAP = """
trust = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["cs.aliyuncs.com"]}}]})
for role in ["AliyunCSManagedKubernetesRole", "AliyunCSDefaultRole"]:
    r = alicloud.ram.Role(role, role_name=role, assume_role_policy_document=trust)
    alicloud.ram.RolePolicyAttachment(f"{role}-att", role_name=r.role_name,
                                      policy_name=f"{role}Policy", policy_type="System")
app = alicloud.ram.Role("app", assume_role_policy_document=trust)
mine = alicloud.ram.Policy("app", policy_name="app", policy_document=json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:GetObject",
                                    "Resource": "*"}]}))
alicloud.ram.RolePolicyAttachment("app-att", role_name=app.role_name,
                                  policy_name=mine.policy_name, policy_type="Custom")
alicloud.resourcemanager.PolicyAttachment("user-att", policy_name=mine.policy_name,
    policy_type="Custom", principal_type="IMSUser",
    principal_name="alice@1234.onaliyun.com", resource_group_id="rg-abc")
"""


def test_the_ordinary_bootstrap_of_acks_roles_passes(tmp_path, capsys):
    """How Terraform and Pulumi programs create ACK's roles (SRC_TERRAFORM): the role and its
    System policy; a custom policy on a role of one's own (named by Pulumi) stays allowed."""
    rc, found = gate(tmp_path, capsys, BOOTSTRAP)
    assert rc == 0 and found == [], found


def test_a_role_unknown_at_preview_is_not_proven_safe(tmp_path, capsys):
    tail = (
        'p = alicloud.ram.Policy("loose", policy_name="loose", policy_document='
        f"{DENY_ALL!r})\n"
        'found = alicloud.ram.get_roles_output(name_regex="^AliyunCS")\n'
        'alicloud.ram.RolePolicyAttachment("att", policy_name=p.policy_name, policy_type="Custom",'
        " role_name=found.roles[0].name)\n"
    )
    rc, found = gate(tmp_path, capsys, tail)
    att = [v for v in found if v["urn"].endswith("::att")]
    assert rc == 1 and att and "cannot be proven not to be one of ACK's" in att[0]["message"]


# -- a deny-only control policy exempts ACK's roles and the node roles ---------------------------


def control(statement: dict[str, Any]) -> str:
    return (
        'cp = alicloud.resourcemanager.ControlPolicy("cp", control_policy_name="cp", '
        f'effect_scope="RAM", policy_document={doc(statement)!r})\n'
        'alicloud.resourcemanager.ControlPolicyAttachment("cpa", policy_id=cp.id, '
        'target_id="fd-abc")\n'
    )


def exempt(principals: list[str]) -> dict[str, Any]:
    return {"StringNotLike": {"acs:PrincipalARN": principals}}


def test_an_account_wide_deny_without_exemptions_is_refused(tmp_path, capsys):
    st = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": TAG}
    rc, found = gate(tmp_path, capsys, control(st))
    cp = [v for v in found if v["urn"].endswith("::cp")]
    assert rc == 1 and len(cp) == 1, found
    for what in (
        "role/AliyunCSManagedKubernetesRole",
        "role/AliyunServiceRoleForCS*",
        "role/prod-node-role",
    ):
        assert what in cp[0]["message"]


def test_a_control_policy_that_forgets_the_node_roles_is_refused(tmp_path, capsys):
    no_nodes = [a for a in plan.exempt_principals(guard_args()) if "node-role" not in a]
    st = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {**TAG, **exempt(no_nodes)},
    }
    rc, found = gate(tmp_path, capsys, control(st))
    cp = [v for v in found if v["urn"].endswith("::cp")]
    assert rc == 1 and len(cp) == 1 and "role/prod-node-role (a node role)" in cp[0]["message"]
    assert "AliyunCSDefaultRole" not in cp[0]["message"]


def test_a_control_policy_that_exempts_them_passes(tmp_path, capsys):
    st = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {**TAG, **exempt(plan.exempt_principals(guard_args()))},
    }
    rc, found = gate(tmp_path, capsys, control(st))
    assert rc == 0 and found == [], found


TWO_CLUSTERS_ONE_GUARDED = """
from ack_clusters import DriftGuard
ManagedCluster("dev", {"network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
                       "node_pools": {"web": {"instance_types": ["ecs.g7.large"],
                                              "desired_size": 1, "key_name": "ops"}}})
DriftGuard("guard", {
    "deploy_identity": {"kind": "role", "name": "ci-deploy", "principal_id": "300000000000001"},
    "clusters": ["prod"],
    "control_policy": {"target_ids": ["fd-prodfolder"]},
})
"""


def test_a_guard_of_one_cluster_of_two_passes(tmp_path, capsys):
    """The Deny names only prod's resources: dev's node role need not be exempt from it."""
    rc, found = gate(tmp_path, capsys, TWO_CLUSTERS_ONE_GUARDED)
    assert rc == 0 and found == [], found


def test_unit_missing_exemptions_per_statement():
    full = exempt(plan.exempt_principals(guard_args()))
    nodes = {"prod": {"prod-node-role"}}
    good = doc({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {**TAG, **full}})
    assert missing_exemptions(good, nodes) == []
    # one statement of two without the exemption is enough to break the cluster
    half = doc(
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {**TAG, **full}},
        {"Effect": "Deny", "Action": "ecs:*", "Resource": "*", "Condition": TAG},
    )
    assert "role/AliyunCSDefaultRole" in missing_exemptions(half, nodes)
    # an exemption spelt otherwise (StringNotEquals, the key in lower case) is not one
    for op, key in (("StringNotEquals", "acs:PrincipalARN"), ("StringNotLike", "acs:principalarn")):
        cond = {op: {key: plan.exempt_principals(guard_args())}}
        other = doc({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": cond})
        assert missing_exemptions(other, nodes), (op, key)


@pytest.mark.parametrize("role", ["prod-node-role", "PROD-node-role"])
def test_drift_guards_control_policy_never_denies_the_node_roles(role):
    control_doc = plan.control_policy_document(guard_args())
    for action in facts.denied_action_names():
        r = req(action, owned_tags(), **{"acs:PrincipalARN": f"acs:ram::1234:role/{role.lower()}"})
        assert decide([ADMIN, control_doc], r) == "Allow", action


def test_a_guard_of_every_cluster_exempts_every_node_role():
    a = guard_args(clusters=[])
    assert "acs:ram:*:*:role/*-node-role" in plan.exempt_principals(a)
    assert missing_exemptions(plan.control_policy_document(a), {"x": {"x-node-role"}}) == []


# -- duplicate JSON keys ---------------------------------------------------------------------

DUPLICATE_EFFECT = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*",'
    '"Condition":{"StringEquals":{"acs:ResourceTag/ack.pulumi.io/managed-by":'
    '"pulumi-ack-clusters"}},"Effect":"Deny"}]}'
)
DUPLICATE_STATEMENT = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*",'
    '"Resource":"acs:ram:*:*:role/prod-node-role"}],'
    '"Statement":[{"Effect":"Deny","Action":"ecs:Foo","Resource":"*"}]}'
)


@pytest.mark.parametrize("text", [DUPLICATE_EFFECT, DUPLICATE_STATEMENT])
def test_a_document_with_a_duplicate_key_is_not_deny_only(tmp_path, capsys, text):
    with pytest.raises(DuplicateKeyError):
        load_document(text)
    assert not deny_only("alicloud:ram/policy:Policy", "policyDocument", text)
    rc, found = gate(tmp_path, capsys, f'alicloud.ram.Policy("loose", policy_document={text!r})')
    assert rc == 1 and DRIFT in {v["policy"] for v in found if v["urn"].endswith("::loose")}


def test_the_admin_rule_refuses_a_document_with_a_duplicate_key():
    hidden = '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Effect":"Deny"}]}'
    assert "cannot be decided" in (_grants_everything(hidden) or "")
    assert _grants_everything(doc({"Effect": "Deny", "Action": "*", "Resource": "*"})) is None


def test_a_duplicate_key_in_an_oidc_trust_is_refused(tmp_path, capsys):
    trust = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        '"Principal":{"Federated":["acs:ram::1:oidc-provider/ack-rrsa-c1"]},'
        '"Condition":{"StringEquals":{"oidc:sub":"system:serviceaccount:a:b"}},'
        '"Condition":{"StringLike":{"oidc:sub":"*"}}}]}'
    )
    rc, found = gate(
        tmp_path, capsys, f'alicloud.ram.Role("r", assume_role_policy_document={trust!r})'
    )
    r = [v for v in found if v["urn"].endswith("::r")]
    assert rc == 1 and r and "names a key twice" not in r[0]["message"]
    assert "is given twice" in r[0]["message"]
    # The same trust with every "oidc" written as a JSON escape reads the same to RAM.
    escaped = trust.replace("oidc", "\\u006fidc")
    assert escaped != trust and json.loads(escaped) == json.loads(trust)
    rc, found = gate(
        tmp_path, capsys, f'alicloud.ram.Role("r", assume_role_policy_document={escaped!r})'
    )
    r = [v for v in found if v["urn"].endswith("::r")]
    assert rc == 1 and r and "is given twice" in r[0]["message"]


# -- grants on every cluster -------------------------------------------------------------------

ALL_CLUSTERS = (
    'alicloud.cs.KubernetesPermission("perm", uid="2000000000000001", permissions=[{'
    '"cluster": "", "role_name": "admin", "role_type": "all-clusters", "is_custom": False}])'
)


def test_a_grant_on_every_cluster_is_refused_where_the_stack_owns_one(tmp_path, capsys):
    rc, found = gate(tmp_path, capsys, ALL_CLUSTERS)
    perm = [v for v in found if v["urn"].endswith("::perm")]
    assert rc == 1 and len(perm) == 1 and "access.grants" in perm[0]["message"]


FOREIGN_TRUST = (
    '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", '
    '"Principal": {"Service": ["cs.aliyuncs.com"], "RAM": ["acs:ram::9999999999999999:root"]}}]}'
)


@pytest.mark.parametrize("head", [CLUSTER, NO_CLUSTER], ids=["with a cluster", "without"])
@pytest.mark.parametrize("kind", ["ram.Role", "resourcemanager.Role"])
def test_an_ack_role_created_with_a_trust_in_another_account_is_refused(
    tmp_path, capsys, head, kind
):
    tail = (
        f'alicloud.{kind}("ackrole", role_name="AliyunCSManagedKubernetesRole", '
        f"assume_role_policy_document={FOREIGN_TRUST!r})\n"
    )
    rc, found = gate(tmp_path, capsys, tail, head=head)
    assert rc == 1 and [v["urn"].rsplit("::", 1)[-1] for v in found] == ["ackrole"], found
    assert "could act as ACK on every cluster" in found[0]["message"]


# -- account-wide: a stack with no cluster still cannot break every cluster's roles -----------


def test_without_a_cluster_a_custom_policy_on_an_ack_role_is_refused(tmp_path, capsys):
    """ACK's service roles are the account's: a stack of its own (an account's guard, a
    bootstrap stack) attaching a custom policy to one breaks every cluster."""
    tail = (
        f'p = alicloud.ram.Policy("loose", policy_name="loose", policy_document={DENY_ALL!r})\n'
        'alicloud.ram.RolePolicyAttachment("att", role_name="AliyunCSDefaultRole", '
        'policy_name=p.policy_name, policy_type="Custom")\n'
    )
    rc, found = gate(tmp_path, capsys, tail, head=NO_CLUSTER)
    assert rc == 1 and [v["urn"].rsplit("::", 1)[-1] for v in found] == ["att"], found


def test_without_a_cluster_the_bootstrap_of_acks_roles_passes(tmp_path, capsys):
    rc, found = gate(tmp_path, capsys, BOOTSTRAP, head=NO_CLUSTER)
    assert rc == 0 and found == [], found


def test_without_a_cluster_a_control_policy_on_the_ownership_tags_must_exempt(tmp_path, capsys):
    """A control policy naming the ownership tags reaches every cluster of its targets: with no
    cluster in the stack it must exempt ACK's roles and every node role (`*-node-role`)."""
    bare = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": TAG}
    rc, found = gate(tmp_path, capsys, control(bare), head=NO_CLUSTER)
    assert rc == 1 and [v["urn"].rsplit("::", 1)[-1] for v in found] == ["cp"], found
    assert "a node role" in found[0]["message"]
    exempted = {
        **bare,
        "Condition": {**TAG, **exempt(plan.exempt_principals(guard_args(clusters=[])))},
    }
    rc, found = gate(tmp_path, capsys, control(exempted), head=NO_CLUSTER)
    assert rc == 0 and found == [], found
    # A control policy about something else (no ownership tag) is not this rule's.
    region = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"acs:RequestedRegion": "cn-hangzhou"}},
    }
    assert gate(tmp_path, capsys, control(region), head=NO_CLUSTER) == (0, [])


def test_a_grant_on_every_cluster_is_not_judged_without_a_cluster(tmp_path, capsys):
    rc, found = gate(tmp_path, capsys, ALL_CLUSTERS, head=NO_CLUSTER)
    assert rc == 0 and found == [], found


def test_a_grant_on_another_named_cluster_passes(tmp_path, capsys):
    tail = ALL_CLUSTERS.replace('"cluster": ""', '"cluster": "c-other"').replace(
        "all-clusters", "cluster"
    )
    rc, found = gate(tmp_path, capsys, tail)
    assert rc == 0 and found == [], found


# -- ram.Policy's deprecated `document` ------------------------------------------------------


@pytest.mark.parametrize(("effect", "passes"), [("Deny", True), ("Allow", False)])
def test_the_deprecated_document_input_is_judged_like_policy_document(
    tmp_path, capsys, effect, passes
):
    text = doc({"Effect": effect, "Action": "ecs:*", "Resource": "*", "Condition": TAG})
    rc, found = gate(tmp_path, capsys, f'alicloud.ram.Policy("loose", document={text!r})')
    loose = [v for v in found if v["urn"].endswith("::loose")]
    assert (rc == 0 and loose == []) if passes else (rc == 1 and loose), found


def test_a_control_policy_exempting_by_lower_case_arns_as_alibaba_writes_them_passes():
    """Alibaba Cloud's control-policy examples exempt roles by their ARN in lower case
    (acs:ram:*:*:role/resourcedirectoryaccountaccessrole): that is how RAM gives the ARN, and the
    gate takes it; the same policy without the node roles is missing them."""
    tag = {"acs:ResourceTag/ack.pulumi.io/managed-by": "pulumi-ack-clusters"}

    def doc(patterns: list[str]) -> str:
        return json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Action": ["ecs:*", "ess:*"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": tag,
                            "StringNotLike": {"acs:PrincipalARN": patterns},
                        },
                    }
                ],
            }
        )

    roles = {"prod": {"prod-node-role"}}
    assert (
        missing_exemptions(doc(["acs:ram:*:*:role/aliyun*", "acs:ram:*:*:role/*-node-role"]), roles)
        == []
    )
    assert missing_exemptions(doc(["acs:ram:*:*:role/aliyun*"]), roles) == [
        "role/prod-node-role (a node role)"
    ]
