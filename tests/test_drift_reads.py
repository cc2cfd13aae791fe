"""Ownership follows identity: a read (`.get`) of a resource a cluster owns, or a value an
invoke derived from one, is that resource for the drift rule (issue 14)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import ManagedCluster

from .conftest import AUTOSCALED_POOL, args, run
from .test_drift import instance_with_interface

DRIFT = "ack-no-loose-attachments-to-cluster-resources"


def cluster() -> ManagedCluster:
    return ManagedCluster("demo", args(ingress={}, node_pools={"general": AUTOSCALED_POOL}))


def rule(sg_id: Any) -> alicloud.ecs.SecurityGroupRule:
    return alicloud.ecs.SecurityGroupRule(
        "loose",
        security_group_id=sg_id,
        type="ingress",
        ip_protocol="tcp",
        port_range="8443/8443",
        cidr_ip="10.9.0.0/16",
        nic_type="intranet",
    )


def groups_in_vpc(c: ManagedCluster) -> Any:
    """The security groups an account holds in the cluster's VPC, looked up once the cluster's
    resources exist (as in a preview of a deployed stack)."""
    after = pulumi.InvokeOutputOptions(depends_on=[c])
    return alicloud.ecs.get_security_groups_output(vpc_id=c.vpc_id, opts=after).ids[0]


LAUNDERED: dict[str, Callable[[ManagedCluster], object]] = {
    "rule on a read of its security group": lambda c: rule(
        alicloud.ecs.SecurityGroup.get("read-sg", c.security_group_id).id
    ),
    "vSwitch in a read of its VPC": lambda c: alicloud.vpc.Switch(
        "loose",
        vpc_id=alicloud.vpc.Network.get("read-vpc", c.vpc_id).id,
        zone_id="cn-hangzhou-k",
        cidr_block="10.0.192.0/22",
    ),
    "listener on a read of its API server load balancer": lambda c: alicloud.slb.Listener(
        "loose",
        load_balancer_id=alicloud.slb.ApplicationLoadBalancer.get(
            "read-lb", c.api_server_slb_id
        ).id,
        frontend_port=9443,
        backend_port=6443,
        protocol="tcp",
        bandwidth=-1,
    ),
    "rule on a security group an invoke found in its VPC": lambda c: rule(groups_in_vpc(c)),
    "interface in a list of groups an invoke found in its VPC": lambda c: (
        alicloud.ecs.EcsNetworkInterface(
            "loose",
            vswitch_id="vsw-elsewhere",
            security_group_ids=[
                "sg-mine",
                groups_in_vpc(c),
            ],
        )
    ),
    "interface in a security group an invoke found in its VPC": lambda c: instance_with_interface(
        "loose", [groups_in_vpc(c)]
    ),
    "route in a route table an invoke found in its VPC": lambda c: alicloud.vpc.RouteEntry(
        "loose",
        route_table_id=alicloud.vpc.get_route_tables_output(vpc_id=c.vpc_id).ids[0],
        destination_cidrblock="10.50.0.0/16",
        nexthop_type="Instance",
        nexthop_id="i-123",
    ),
}


#: The kinds that read (`.get`) an owned resource by an ID still unknown at preview.
READS = {k for k in LAUNDERED if "read of" in k}
#: The kinds that take an ID from an invoke on the cluster's VPC.
INVOKES = {k for k in LAUNDERED if "invoke" in k}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("kind", list(LAUNDERED))
def test_laundering_through_a_read_or_an_invoke_is_blocked(gate, kind, preview):
    def program() -> None:
        LAUNDERED[kind](cluster())

    result = run(program, preview=preview)
    loose = next(r for r in result.resources if r.name == "loose")
    violations = gate(result)
    blocked = {(v.policy, v.urn) for v in violations if v.enforcement == "mandatory"}
    assert (DRIFT, loose.urn) in blocked
    assert {urn for _, urn in blocked} == {loose.urn}
    message = next(v.message for v in violations if v.policy == DRIFT)
    if preview and kind in READS:
        # The read's ID is the cluster's, still to be created: fail closed.
        assert "identity is unknown at preview" in message
    elif preview and kind in INVOKES:
        # The SDK drops an invoke's dependencies when its inputs are unknown: fail closed.
        assert "cannot be proven not to be a resource a cluster owns" in message
    else:
        assert "owned by cluster '" in message


def test_a_read_answers_with_what_the_cloud_holds():
    def program() -> None:
        c = cluster()
        alicloud.ecs.SecurityGroup.get("read-sg", c.security_group_id)

    result = run(program, preview=False)
    (read,) = result.reads
    owned = result.one("alicloud:ecs/securityGroup:SecurityGroup")
    assert read.read and read.id == owned.id
    assert read.inputs["tags"]["ack.pulumi.io/cluster"] == "demo"
    assert read.urn not in {r.urn for r in result.resources}
    (preview_read,) = run(program, preview=True).reads
    assert preview_read.inputs["tags"] == "[unknown]"


def test_a_users_own_security_group_in_the_cluster_vpc_is_not_drift(gate):
    def program() -> None:
        c = cluster()
        mine = alicloud.ecs.SecurityGroup("mine", vpc_id=c.vpc_id, security_group_name="mine")
        rule(mine.id)

    violations = gate(run(program, preview=True))
    assert not [v for v in violations if v.policy == DRIFT]


def test_a_read_of_an_unrelated_group_by_literal_id_is_not_drift(gate):
    def program() -> None:
        cluster()
        rule(alicloud.ecs.SecurityGroup.get("other", "sg-unrelated").id)

    violations = gate(run(program, preview=True))
    assert not [v for v in violations if v.policy == DRIFT]


ORDINARY = """
import pulumi, pulumi_alicloud as alicloud
from ack_clusters import ManagedCluster

zones = alicloud.get_zones(available_resource_creation="VSwitch").ids
types = alicloud.ecs.get_instance_types(cpu_core_count=2, memory_size=8)
image = alicloud.ecs.get_images(name_regex="^aliyun_3", most_recent=True).images[0]
caller = alicloud.get_caller_identity()
cluster = ManagedCluster(
    "apps",
    {
        "network": {"zones": zones[:2]},
        "node_pools": {
            "general": {
                "instance_types": [types.instance_types[0].id],
                "desired_size": 2,
                "key_name": "ops",
            }
        },
    },
)
# An invoke the fake cloud has no answer for: unknown, never an error.
bucket = alicloud.oss.get_buckets_output(name_regex="^logs")
pulumi.export("account", caller.account_id)
pulumi.export("image", image.id)
pulumi.export("buckets", bucket.names)
"""


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_program_reading_ordinary_data_sources_passes(tmp_path, capsys, mode):
    """Zones, instance types, images and the caller are answered; an invoke the fake cloud
    cannot answer is unknown. None of them ends the run in exit 2 (issue 27: get_zones did)."""
    from ack_offline.preview import main

    (tmp_path / "Pulumi.yaml").write_text("name: ordinary\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(ORDINARY)
    argv = ["dev", "--program", str(tmp_path), "--mode", mode, "--json"]
    assert main([*argv, "--policy-pack", "policies"]) == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    assert doc["outputs"]["account"] == "1234567890123456"
    assert doc["outputs"]["buckets"] == "[unknown]"
    switches = [r for r in doc["resources"] if r["type"] == "alicloud:vpc/switch:Switch"]
    assert {r["inputs"]["zoneId"] for r in switches} == {"cn-hangzhou-h", "cn-hangzhou-i"}


# --- invokes nobody can answer offline (issue 27, review findings 2 and 3) ----------------------

#: Lookups of what an account holds, which only Alibaba Cloud can answer (pulumi_alicloud 4.x).
ACCOUNT_STATE: dict[str, Callable[[], object]] = {
    "alicloud:ecs/getKeyPairs:getKeyPairs": lambda: alicloud.ecs.get_key_pairs(name_regex="^ops$"),
    "alicloud:dns/getAlidnsDomains:getAlidnsDomains": lambda: alicloud.dns.get_alidns_domains(
        domain_name_regex="^example.com$"
    ),
    "alicloud:oss/getBuckets:getBuckets": lambda: alicloud.oss.get_buckets(name_regex="^logs"),
    "alicloud:kms/getKeys:getKeys": lambda: alicloud.kms.get_keys(),
    "alicloud:ram/getPolicies:getPolicies": lambda: alicloud.ram.get_policies(type="System"),
    "alicloud:resourcemanager/getResourceGroups:getResourceGroups": lambda: (
        alicloud.resourcemanager.get_resource_groups(name_regex="^prod$")
    ),
    # No facts of RDS classes here: unknown, as what an account holds is.
    "alicloud:rds/getInstanceClasses:getInstanceClasses": lambda: alicloud.rds.get_instance_classes(
        engine="MySQL", engine_version="8.0"
    ),
}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("token", list(ACCOUNT_STATE))
def test_a_plain_lookup_of_account_state_stops_with_a_clear_message(token, preview):
    """The SDK cannot carry an unknown result through a plain invoke (its data source fails
    with `AssertionError: get can only be used with classes decorated ...`): the run stops
    naming the invoke and its `_output` form, which the gate judges."""
    from ack_offline.fake_cloud import UnansweredPlainInvoke

    with pytest.raises(UnansweredPlainInvoke) as raised:
        run(ACCOUNT_STATE[token], preview=preview)
    message = str(raised.value)
    assert token in message
    assert "_output(...)" in message and "plain invoke" in message
    assert "AssertionError" in message  # says what the SDK would have done, not that it did
    offering = "Classes" in token
    assert ("has no facts" in message) == offering
    assert ("what the account holds" in message) == (not offering)


def test_a_plain_lookup_stops_the_offline_run_with_exit_2(tmp_path, capsys):
    from ack_offline.preview import main

    (tmp_path / "Pulumi.yaml").write_text("name: plain\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_alicloud as alicloud\nalicloud.ecs.get_key_pairs(name_regex='^ops$')\n"
    )
    assert main(["dev", "--program", str(tmp_path), "--mode", "preview"]) == 2
    err = capsys.readouterr().err
    assert "alicloud:ecs/getKeyPairs:getKeyPairs" in err
    assert "alicloud.ecs.get_key_pairs_output(...)" in err
    assert "get can only be used" not in err


#: Data sources of facts the fake cloud answers in both forms: every service's zones (the
#: region's, in the service's own shape) and ECS's instance families.
FACTS: dict[str, Callable[[], Any]] = {
    "rds": lambda: alicloud.rds.get_zones(engine="MySQL").zones[0].id,
    "kvstore": lambda: alicloud.kvstore.get_zones().zones[0].id,
    "alb": lambda: alicloud.alb.get_zones().zones[0].zone_id,
    "nlb": lambda: alicloud.nlb.get_zones().zones[0].zone_id,
    "nas": lambda: alicloud.nas.get_zones().zones[0].zone_id,
    "slb": lambda: alicloud.slb.get_zones().zones[0].master_zone_id,
    "eci": lambda: alicloud.eci.get_zones().zones[0].zone_ids[0],
    "mongodb": lambda: alicloud.mongodb.get_zones().ids[0],
    "families": lambda: alicloud.ecs.get_instance_type_families().families[0].id,
}
FACTS_OUTPUT: dict[str, Callable[[], Any]] = {
    "rds": lambda: alicloud.rds.get_zones_output(engine="MySQL").zones[0].id,
    "alb": lambda: alicloud.alb.get_zones_output().zones[0].zone_id,
    "families": lambda: alicloud.ecs.get_instance_type_families_output().ids[0],
}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("fact", list(FACTS))
def test_facts_are_answered_for_every_service(fact, preview):
    found: list[Any] = []

    def program() -> None:
        found.append(FACTS[fact]())
        if fact in FACTS_OUTPUT:
            pulumi.export("fact", FACTS_OUTPUT[fact]())

    result = run(program, preview=preview)
    expected = "ecs.c7" if fact == "families" else "cn-hangzhou-h"
    assert found == [expected]
    if fact in FACTS_OUTPUT:
        assert result.stack_outputs["fact"] == expected
    assert not result.unanswered


def test_private_zones_are_not_taken_for_availability_zones():
    """pvtz's getZones lists the account's PrivateZone zones (a kind a cluster owns): never
    answered with the region's availability zones."""

    def program() -> None:
        pulumi.export("zones", alicloud.pvtz.get_zones_output(keyword="internal").ids)

    result = run(program, preview=False)
    assert result.stack_outputs["zones"] == "[unknown]"
    assert [t for t, _ in result.unanswered] == ["alicloud:pvtz/getZones:getZones"]


def test_an_update_lookup_of_what_the_run_does_not_hold_is_unknown_not_empty():
    """o29: an empty list made `groups[0]` fail with an IndexError where the real cloud
    answers (a group another stack made); unknown, as at preview."""

    def program() -> None:
        shared = alicloud.ecs.get_security_groups_output(name_regex="^platform-shared$")
        pulumi.export("first", shared.groups[0].id)

    result = run(program, preview=False)
    assert result.stack_outputs["first"] == "[unknown]"
    assert result.unanswered == [
        ("alicloud:ecs/getSecurityGroups:getSecurityGroups", {"nameRegex": "^platform-shared$"})
    ]


def test_the_gate_and_the_fake_cloud_name_unanswered_invokes_alike():
    from ack_offline.fake_cloud import UNANSWERED_TYPE
    from ack_policies.lookups import UNANSWERED

    assert UNANSWERED == UNANSWERED_TYPE


def _tools_network() -> tuple[Any, Any]:
    vpc = alicloud.vpc.Network("tools", cidr_block="10.50.0.0/16")
    sw = alicloud.vpc.Switch(
        "tools", vpc_id=vpc.id, cidr_block="10.50.0.0/24", zone_id="cn-hangzhou-i"
    )
    return vpc, sw


def _rds_from_lookups(c: ManagedCluster) -> None:
    """o19b: an RDS instance whose class and zone come from RDS's own data sources."""
    zones = alicloud.rds.get_zones_output(engine="MySQL", engine_version="8.0")
    classes = alicloud.rds.get_instance_classes_output(
        engine="MySQL", engine_version="8.0", category="HighAvailability"
    )
    alicloud.rds.Instance(
        "orders-db",
        engine="MySQL",
        engine_version="8.0",
        instance_type=classes.instance_classes[0].instance_class,
        instance_storage=20,
        instance_charge_type="Postpaid",
        vswitch_id=c.vswitch_ids[0],
        vpc_id=c.vpc_id,
        zone_id=zones.zones[0].id,
        security_ips=c.egress_addresses,
        db_instance_storage_type="cloud_essd",
    )


def _record_in_a_domain(c: ManagedCluster) -> None:
    """o20b: a DNS record in a domain found by name."""
    domain = alicloud.dns.get_alidns_domains_output(domain_name_regex="^example.com$")
    alicloud.dns.AlidnsRecord(
        "api", domain_name=domain.domains[0].domain_name, rr="www", type="CNAME", value="web.x"
    )


def _instance_with_a_key_pair(c: ManagedCluster) -> None:
    """o21b: an instance of one's own, logged into with a key pair found by name."""
    pair = alicloud.ecs.get_key_pairs_output(name_regex="^ops$")
    _, sw = _tools_network()
    alicloud.ecs.Instance(
        "tools",
        vswitch_id=sw.id,
        instance_type="ecs.g7.large",
        image_id="ubuntu_22_04_x64_20G_alibase_20240101.vhd",
        key_name=pair.pairs[0].key_name,
    )


def _rule_from_a_shared_group(c: ManagedCluster) -> None:
    """o29: a database group of one's own letting in a platform team's shared group, found
    by a name no group of the cluster has."""
    shared = alicloud.ecs.get_security_groups_output(name_regex="^platform-shared$")
    sg = alicloud.ecs.SecurityGroup("db", vpc_id=c.vpc_id)
    alicloud.ecs.SecurityGroupRule(
        "from-shared",
        type="ingress",
        ip_protocol="tcp",
        port_range="5432/5432",
        security_group_id=sg.id,
        source_security_group_id=shared.groups[0].id,
        nic_type="intranet",
    )


def _rule_on_a_shared_group(c: ManagedCluster) -> None:
    """A rule on the platform team's shared group itself, found by its name: not the
    cluster's group, so not the cluster's to guard."""
    shared = alicloud.ecs.get_security_groups_output(name_regex="^platform-shared$")
    rule(shared.ids[0])


def _instance_in_listed_groups(c: ManagedCluster) -> None:
    """An instance of one's own in groups found by literal IDs."""
    found = alicloud.ecs.get_security_groups_output(ids=["sg-bp1platformshared"])
    _, sw = _tools_network()
    alicloud.ecs.Instance(
        "tools",
        vswitch_id=sw.id,
        instance_type="ecs.g7.large",
        image_id="ubuntu_22_04_x64_20G_alibase_20240101.vhd",
        security_groups=found.ids,
    )


LEGITIMATE_LOOKUPS: dict[str, Callable[[ManagedCluster], None]] = {
    "o19b RDS class and zone from RDS's data sources": _rds_from_lookups,
    "o20b a DNS record in a domain found by name": _record_in_a_domain,
    "o21b an instance with a key pair found by name": _instance_with_a_key_pair,
    "o29 a rule letting in a shared group found by name": _rule_from_a_shared_group,
    "a rule on a shared group found by a name the cluster's has not": _rule_on_a_shared_group,
    "an instance in groups found by literal IDs": _instance_in_listed_groups,
}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("kind", list(LEGITIMATE_LOOKUPS))
def test_a_lookup_that_cannot_return_what_a_cluster_owns_passes(gate, kind, preview):
    def program() -> None:
        LEGITIMATE_LOOKUPS[kind](cluster())

    result = run(program, preview=preview)
    assert result.unanswered  # the gate judged a lookup nobody could answer
    violations = gate(result)
    assert not [v for v in violations if v.policy == DRIFT], [v.message for v in violations]


def _shared_group_rule(found: Any) -> None:
    rule(found)


OWNED_LOOKUPS: dict[str, Callable[[ManagedCluster], object]] = {
    "a rule on its group found by its name": lambda c: rule(
        alicloud.ecs.get_security_groups_output(name_regex="^demo-sg$").ids[0]
    ),
    "a rule on its group found by a pattern its name matches": lambda c: rule(
        alicloud.ecs.get_security_groups_output(name_regex="^demo").groups[0].id
    ),
    "a rule on its group found by the ownership tags": lambda c: rule(
        alicloud.ecs.get_security_groups_output(tags={"ack.pulumi.io/cluster": "demo"}).ids[0]
    ),
    "a rule on any group of the account": lambda c: rule(
        alicloud.ecs.get_security_groups_output().ids[0]
    ),
    "a rule on a group an unknown lookup found": lambda c: rule(
        alicloud.ecs.get_instances_output(name_regex="^web").instances[0].security_groups[0]
    ),
    "a rule on its group rebuilt beside a key pair lookup": lambda c: (
        alicloud.ecs.get_key_pairs_output(name_regex="^ops$"),
        rule(pulumi.Output(set(), c.security_group_id.future(), c.security_group_id.is_known())),
    ),
    "a rule on a group found beside a shared group's lookup": lambda c: (
        alicloud.ecs.get_security_groups_output(name_regex="^platform-shared$"),
        rule(alicloud.ecs.get_security_groups_output(name_regex="^demo-sg$").ids[0]),
    ),
}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("kind", list(OWNED_LOOKUPS))
def test_a_lookup_that_can_return_what_a_cluster_owns_is_drift(gate, kind, preview):
    def program() -> None:
        OWNED_LOOKUPS[kind](cluster())

    result = run(program, preview=preview)
    loose = next(r for r in result.resources if r.name == "loose")
    violations = gate(result)
    drift = [v for v in violations if v.policy == DRIFT and v.enforcement == "mandatory"]
    assert {v.urn for v in drift} == {loose.urn}, [v.message for v in violations]
    if "name" in kind or "pattern" in kind or "tags" in kind:
        assert "what a lookup finds among what a cluster owns" in drift[0].message
        assert "ownership tags" in drift[0].message if "tags" in kind else True


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_value_nobody_answered_is_named_for_its_mode(tmp_path, capsys, mode):
    """'unknown at preview' only at preview: in an update the value is unknown because the
    fake cloud could not answer, and the message says so."""
    from ack_offline.preview import main

    (tmp_path / "Pulumi.yaml").write_text("name: modes\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_alicloud as alicloud\n"
        "from ack_clusters import ManagedCluster\n"
        "c = ManagedCluster('demo', {'network': {'zones': ['cn-hangzhou-i', 'cn-hangzhou-j']},"
        " 'node_pools': {'general': {'instance_types': ['ecs.g7.large'], 'desired_size': 1,"
        " 'key_name': 'ops'}}})\n"
        "alicloud.ecs.SecurityGroupRule('loose', type='ingress', ip_protocol='tcp',"
        " port_range='8443/8443', cidr_ip='10.9.0.0/16', nic_type='intranet',"
        " security_group_id=alicloud.ecs.get_security_groups_output().ids[0])\n"
        "alicloud.ram.RolePolicyAttachment('attach', policy_name='mine', policy_type='Custom',"
        " role_name=alicloud.ram.get_roles_output(name_regex='^ci$').roles[0].name)\n"
    )
    argv = ["dev", "--program", str(tmp_path), "--mode", mode, "--policy-pack", "policies"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "takes through 'securityGroupId'" in x)
    assert "getSecurityGroups" in line
    assert ("unknown at preview" in line) == (mode == "preview")
    if mode == "update":
        assert "unknown offline" in line
    role = next(x for x in out.splitlines() if "attaches the Custom policy 'mine'" in x)
    assert ("unknown at preview" in role) == (mode == "preview")


@pytest.mark.parametrize("how", ["registered", "read"])
def test_a_program_cannot_vouch_for_its_own_values_with_a_forged_lookup(gate, how):
    """Only ack-preview records what it could not answer: a resource of that type the program
    registers (or reads) clears nothing."""

    def program() -> None:
        c = cluster()
        props = {
            "token": "alicloud:ecs/getSecurityGroups:getSecurityGroups",
            "args": {"ids": ["sg-x"]},
        }
        opts = pulumi.ResourceOptions(id="forged") if how == "read" else None
        pulumi.CustomResource("ack:offline:UnansweredInvoke", "forged", props, opts=opts)
        rule(pulumi.Output(set(), c.security_group_id.future(), c.security_group_id.is_known()))

    result = run(program, preview=True)
    loose = next(r for r in result.resources if r.name == "loose")
    violations = gate(result)
    assert (DRIFT, loose.urn) in {(v.policy, v.urn) for v in violations}


# --- the provider's regular expressions: Go's, not Python's (review g27b, finding 1) ----------

#: (pattern, text, what Go's regexp.MatchString says; None: not read here, so not proven).
GO_READINGS: list[tuple[str, str, bool | None]] = [
    # POSIX classes: a class in Go, a set plus ']' in Python's re.
    ("^demo[[:punct:]]node[[:punct:]]role$", "demo-node-role", True),
    ("^d[[:alpha:]]mo$", "demo", True),
    ("^demo[[:^alpha:]]sg$", "demo-sg", True),
    ("[[:digit:]]", "-", False),
    # `$` is the end of the text in Go; Python's also matches before a final newline.
    ("^demo$", "demo\n", False),
    # Perl classes are ASCII in Go; `\s` has no `\v`.
    (r"^\d+$", "\u0661\u0662", False),
    (r"\s", "\v", False),
    (r"^\w+$", "d\u00e9mo", False),
    # `{,3}` is literal text in Go, a repetition in Python; `{01}` too.
    ("a{,3}", "a{,3}", True),
    ("^a{,3}$", "aaa", False),
    ("a{01}", "a{01}", True),
    ("^a{2}$", "aa", True),
    # Flags, escapes and groups both read alike.
    ("(?i)^DEMO-SG$", "demo-sg", True),
    ("(a(?i)b|c)", "C", True),
    ("(?s)^.$", "\n", True),
    ("^.$", "\n", False),
    ("(?m)^b$", "a\nb\nc", True),
    (r"\Qdemo.sg\E", "demoxsg", False),
    (r"\x{64}emo", "demo", True),
    ("(?P<n>demo)-(?:sg)", "demo-sg", True),
    ("[]a-]", "-", True),
    # Outside what is read here, or refused by Go: not proven either way.
    (r"\pL", "d", None),
    (r"\1", "d", None),
    ("(?=d)", "d", None),
    ("(?U)d", "d", None),
    ("[[:letters:]]", "d", None),
    ("a**", "a", None),
    ("(?i)demo", "d\u00e9mo", None),
]


@pytest.mark.parametrize(("pattern", "text", "expected"), GO_READINGS)
def test_a_name_regex_is_read_as_gos_regexp_reads_it(pattern, text, expected):
    from ack_policies.lookups import go_search

    assert go_search(pattern, text) is expected


#: Lookups of what a cluster owns by POSIX classes Python's re does not read (x02, x14).
POSIX_LOOKUPS: dict[str, Callable[[ManagedCluster], object]] = {
    "x02 a System policy attached to its node role found by [[:punct:]]": lambda c: (
        alicloud.ram.RolePolicyAttachment(
            "loose",
            role_name=alicloud.ram.get_roles_output(
                name_regex="^demo[[:punct:]]node[[:punct:]]role$"
            )
            .roles[0]
            .name,
            policy_name="AliyunOSSFullAccess",
            policy_type="System",
        )
    ),
    "x14 a rule on its group found by [[:punct:]]": lambda c: rule(
        alicloud.ecs.get_security_groups_output(name_regex="^demo[[:punct:]]sg$").ids[0]
    ),
    "a rule on its group found by a pattern the gate cannot read": lambda c: rule(
        alicloud.ecs.get_security_groups_output(name_regex=r"^\pLemo-sg$").ids[0]
    ),
}


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("kind", list(POSIX_LOOKUPS))
def test_a_lookup_by_a_go_pattern_that_matches_what_a_cluster_owns_is_drift(gate, kind, preview):
    def program() -> None:
        POSIX_LOOKUPS[kind](cluster())

    result = run(program, preview=preview)
    loose = next(r for r in result.resources if r.name == "loose")
    violations = gate(result)
    drift = [v for v in violations if v.policy == DRIFT and v.enforcement == "mandatory"]
    assert {v.urn for v in drift} == {loose.urn}, [v.message for v in violations]
    if "cannot read" in kind:
        assert "not a pattern the gate reads as the provider does" in drift[0].message
    elif preview:  # the update found it: the rule names the owned resource itself
        assert "its nameRegex matches" in drift[0].message


def test_a_lookup_by_a_go_pattern_no_owned_resource_matches_passes(gate):
    """The legitimate neighbour: a POSIX class in a name no owned group has."""

    def program() -> None:
        _rule_from_a_shared_group_named(cluster(), "^platform[[:punct:]]shared$")

    violations = gate(run(program, preview=True))
    assert not [v for v in violations if v.policy == DRIFT], [v.message for v in violations]


def _rule_from_a_shared_group_named(c: ManagedCluster, pattern: str) -> None:
    shared = alicloud.ecs.get_security_groups_output(name_regex=pattern)
    sg = alicloud.ecs.SecurityGroup("db", vpc_id=c.vpc_id)
    alicloud.ecs.SecurityGroupRule(
        "from-shared",
        type="ingress",
        ip_protocol="tcp",
        port_range="5432/5432",
        security_group_id=sg.id,
        source_security_group_id=shared.groups[0].id,
        nic_type="intranet",
    )


def test_the_fake_cloud_matches_a_name_regex_as_gos_regexp_does():
    """In an update the fake cloud answers what the run holds by Go's reading; a pattern it
    cannot read that way is left unanswered (unknown), never answered by Python's."""

    def program() -> None:
        c = cluster()
        pulumi.export("own", c.security_group_id)
        after = pulumi.InvokeOutputOptions(depends_on=[c])
        posix = alicloud.ecs.get_security_groups_output(
            name_regex="^demo[[:punct:]]sg$", opts=after
        )
        pulumi.export("posix", posix.ids)
        unread = alicloud.ecs.get_security_groups_output(name_regex=r"^\pLemo-sg$", opts=after)
        pulumi.export("unread", unread.ids)

    result = run(program, preview=False)
    assert result.stack_outputs["posix"] == [result.stack_outputs["own"]]
    assert result.stack_outputs["unread"] == "[unknown]"
    assert [a for _, a in result.unanswered] == [{"nameRegex": r"^\pLemo-sg$"}]


# --- which lookup a value came from is not guessed from the property (finding 2) ------------

#: Free-form keys named like a kind no cluster owns: a dynamic provider's or a custom
#: resource's inputs can be named anything.
FREE_KEYS = ["domain", "bucket", "keyId", "version", "resourceGroupId"]


def _opener(key: str, value: Any) -> None:
    pulumi.CustomResource("example:index:Opener", "loose", {key: value})


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("key", FREE_KEYS)
def test_an_uncleared_lookup_leaves_no_value_explained_whatever_its_key(gate, key, preview):
    """x03: a found group's ID under `domain`, beside an unused DNS lookup, passed: the DNS
    lookup 'explained' it by the key's name."""

    def program() -> None:
        cluster()
        groups = alicloud.ecs.get_security_groups_output(name_regex="^demo-sg")
        alicloud.dns.get_alidns_domains_output()
        alicloud.oss.get_buckets_output()
        alicloud.kms.get_keys_output()
        alicloud.resourcemanager.get_resource_groups_output()
        alicloud.cs.get_kubernetes_version_output(cluster_type="ManagedKubernetes")
        _opener(key, groups.groups[0].id)

    result = run(program, preview=preview)
    loose = next(r for r in result.resources if r.name == "loose")
    violations = gate(result)
    drift = [v for v in violations if v.policy == DRIFT and v.enforcement == "mandatory"]
    assert {v.urn for v in drift} == {loose.urn}, [v.message for v in violations]
    if preview:
        assert "getSecurityGroups" in drift[0].message
        assert "cannot be told" in drift[0].message


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_cleared_lookups_still_explain_a_value_by_its_kind(gate, preview):
    """The legitimate neighbour: a DNS domain found by name, under a custom resource's
    `domain`, with no lookup that may find what a cluster owns."""

    def program() -> None:
        cluster()
        found = alicloud.dns.get_alidns_domains_output(domain_name_regex="^example.com$")
        _opener("domain", found.domains[0].domain_name)

    result = run(program, preview=preview)
    violations = gate(result)
    assert not [v for v in violations if v.policy == DRIFT], [v.message for v in violations]


# --- a known name filter clears a lookup whatever its other arguments (finding 9, o59) -------


def _database_in_shared_switches(c: ManagedCluster) -> None:
    """o59: vSwitches of a shared VPC found by name, their VPC by another lookup (so the
    vSwitch lookup's vpc_id is unknown, and the SDK never sends it)."""
    shared = alicloud.vpc.get_networks_output(name_regex="^shared-data$")
    sw = alicloud.vpc.get_switches_output(vpc_id=shared.vpcs[0].id, name_regex="^shared-data-db")
    alicloud.rds.Instance(
        "db",
        engine="MySQL",
        engine_version="8.0",
        instance_type="mysql.n2.medium.1",
        instance_storage=50,
        vswitch_id=sw.vswitches[0].id,
        security_ips=c.egress_addresses,
    )


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_lookup_whose_name_filter_excludes_every_owned_resource_is_cleared(gate, preview):
    def program() -> None:
        _database_in_shared_switches(cluster())

    result = run(program, preview=preview)
    unsent = [a for t, a in result.unanswered if t == "alicloud:vpc/getSwitches:getSwitches"]
    assert unsent and unsent[0]["nameRegex"] == "^shared-data-db"  # judged, though never sent
    violations = gate(result)
    assert not [v for v in violations if v.policy == DRIFT], [v.message for v in violations]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_lookup_with_unknown_arguments_that_may_find_what_a_cluster_owns_is_drift(gate, preview):
    """Its neighbour: the same unknown vpc_id, with a name the cluster's vSwitches have."""

    def program() -> None:
        cluster()
        shared = alicloud.vpc.get_networks_output(name_regex="^shared-data$")
        sw = alicloud.vpc.get_switches_output(vpc_id=shared.vpcs[0].id, name_regex="^demo")
        alicloud.vpc.Switch(
            "loose",
            vpc_id="vpc-elsewhere",
            zone_id="cn-hangzhou-k",
            cidr_block="10.0.192.0/22",
            description=sw.vswitches[0].id,
        )
        rule(sw.vswitches[0].id)

    result = run(program, preview=preview)
    violations = gate(result)
    drift = [v for v in violations if v.policy == DRIFT and v.enforcement == "mandatory"]
    assert "getSwitches" in " ".join(v.message for v in drift), [v.message for v in violations]


# --- an undecided value is named for its mode (finding 9, o63) ------------------------------


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_system_policy_found_by_a_lookup_is_undecided_and_says_why_for_its_mode(
    tmp_path, capsys, mode
):
    """o63: a System policy found by name, attached to the program's own role. The name at the
    attachment is unknown offline in both modes and no dependency ties it to the lookup (an
    apply on its result could spell AdministratorAccess): not proven, as before. The update's
    message no longer sends the user to an update."""
    from ack_offline.preview import main

    (tmp_path / "Pulumi.yaml").write_text("name: syspolicy\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_alicloud as alicloud\n"
        "ro = alicloud.ram.get_policies_output(type='System',"
        " name_regex='^AliyunOSSReadOnlyAccess$')\n"
        "r = alicloud.ram.Role('app', name='app-reader', document='{\"Statement\":"
        '[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":'
        '{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}\')\n'
        "alicloud.ram.RolePolicyAttachment('app', role_name=r.name,"
        " policy_name=ro.policies[0].policy_name, policy_type='System')\n"
        "alicloud.ram.RolePolicyAttachment('named', role_name=r.name,"
        " policy_name='AliyunOSSReadOnlyAccess', policy_type='System')\n"
    )
    argv = ["dev", "--program", str(tmp_path), "--mode", mode, "--policy-pack", "policies"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if "cannot be proven compliant" in x]
    assert len(lines) == 1 and "app cannot be proven compliant" in lines[0], out
    assert ("run the gate on an update" in lines[0]) == (mode == "preview")
    assert ("unknown offline" in lines[0]) == (mode == "update")
