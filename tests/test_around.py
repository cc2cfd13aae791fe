"""What teams build around a cluster, on the fake cloud: access grants, app subnets and private
zones, each a typed argument of every form, owned by the component (docs/AROUND-A-CLUSTER.md)."""

from __future__ import annotations

import pulumi
import pytest

from ack_clusters import InvalidArguments
from ack_clusters.cluster.args import ManagedClusterArgs
from ack_clusters.cluster.plan import plan_cluster
from ack_policies.record import OWNED_TYPES

from .conftest import CLASSES, ZONES, args, assert_owned_and_tagged, form_args, run

PERMISSION = "alicloud:cs/kubernetesPermission:KubernetesPermission"
SWITCH = "alicloud:vpc/switch:Switch"
PVTZ = "alicloud:pvtz/zone:Zone"
PVTZ_ATTACH = "alicloud:pvtz/zoneAttachment:ZoneAttachment"

GRANTS = {
    "alice": {"ram_user_id": "2001", "roles": [{"role": "dev", "namespace": "shop"}]},
    "ci": {"ram_role_id": "3001", "roles": [{"role": "ci-deployer", "custom": True}]},
}


def _build(kind: str = "managed", name: str = "demo", **overrides):
    cls = CLASSES[kind]
    exported = {}

    def program():
        c = cls(name, form_args(kind, **overrides))
        exported["subnets"] = c.app_subnet_ids
        exported["zones"] = c.private_zone_ids
        pulumi.export("app_subnet_ids", c.app_subnet_ids)
        pulumi.export("private_zone_ids", c.private_zone_ids)

    return program


def _of(r, type_):
    return [res for res in r.resources if res.type == type_]


@pytest.mark.parametrize("kind", ["managed", "serverless", "dedicated"])
def test_every_form_owns_its_grants_subnets_and_zones(kind):
    r = run(
        _build(
            kind,
            access={"grants": GRANTS},
            app_subnets={"db": {"zone": ZONES[0]}},
            private_zones={"internal": {"zone_name": "db.internal"}},
        )
    )
    assert_owned_and_tagged(r, CLASSES[kind]._form.type_token, "demo")
    grants = {res.name: res for res in _of(r, PERMISSION)}
    assert set(grants) == {"demo-access-alice", "demo-access-ci"}
    alice = grants["demo-access-alice"].inputs
    assert alice["uid"] == "2001"
    [perm] = alice["permissions"]
    assert perm["roleType"] == "namespace" and perm["namespace"] == "shop"
    assert perm["roleName"] == "dev" and perm["isRamRole"] is False
    [ci] = grants["demo-access-ci"].inputs["permissions"]
    assert ci["roleType"] == "cluster" and ci["isCustom"] is True and ci["isRamRole"] is True
    assert ci["namespace"] == ""
    [app] = [s for s in _of(r, SWITCH) if s.name == "demo-app-db"]
    assert app.inputs["zoneId"] == ZONES[0]
    [zone] = _of(r, PVTZ)
    assert zone.inputs["zoneName"] == "db.internal"
    [attach] = _of(r, PVTZ_ATTACH)
    assert attach.name == "demo-pvtz-internal"
    assert set(r.stack_outputs["app_subnet_ids"]) == {"db"}
    assert set(r.stack_outputs["private_zone_ids"]) == {"internal"}


def test_owned_types_list_the_new_homes():
    for t in (PERMISSION, PVTZ, PVTZ_ATTACH, SWITCH):
        assert t in OWNED_TYPES["ack:index:ManagedCluster"]


def test_grants_hold_only_this_cluster_so_two_clusters_never_revoke_each_other():
    """Two clusters granting one user: two resources, each listing only its own cluster, so
    deleting one revokes (mode delete, the entries it lists) nothing of the other."""

    def program():
        for name in ("one", "two"):
            CLASSES["managed"](
                name,
                args(
                    network={
                        "zones": ZONES[:2],
                        "vpc_cidr": "10.1.0.0/16" if name == "one" else "10.2.0.0/16",
                    },
                    access={"grants": {"alice": GRANTS["alice"]}},
                ),
            )

    r = run(program)
    perms = _of(r, PERMISSION)
    assert sorted(p.name for p in perms) == ["one-access-alice", "two-access-alice"]
    clusters = {
        res.name: res.id
        for res in r.resources
        if res.type == "alicloud:cs/managedKubernetes:ManagedKubernetes"
    }
    for p in perms:
        owner = p.name.split("-")[0]
        assert [x["cluster"] for x in p.inputs["permissions"]] == [clusters[owner]]


def test_no_new_resources_without_the_new_arguments():
    r = run(_build())
    assert not _of(r, PERMISSION) and not _of(r, PVTZ) and not _of(r, PVTZ_ATTACH)
    assert not [s for s in _of(r, SWITCH) if "-app-" in s.name]
    assert r.stack_outputs["app_subnet_ids"] == {} and r.stack_outputs["private_zone_ids"] == {}


# --- the address plan ------------------------------------------------------------------------


def _plan(**overrides):
    a = ManagedClusterArgs.model_validate(args(**overrides))
    return plan_cluster("ManagedCluster 'demo'", "demo", a)


def test_app_subnets_take_the_vpc_end_and_never_move_when_zones_or_subnets_are_appended():
    subnets = {"db": {"zone": ZONES[0]}, "cache": {"zone": ZONES[1], "prefix": 26}}
    plan = _plan(network={"zones": ZONES[:2], "vpc_cidr": "10.0.0.0/16"}, app_subnets=subnets)
    got = {s.name: str(s.cidr) for s in plan.app_subnets}
    assert got == {"db": "10.0.255.0/24", "cache": "10.0.254.192/26"}
    more = _plan(
        network={"zones": ZONES[:3], "vpc_cidr": "10.0.0.0/16"},
        app_subnets={**subnets, "nas": {"zone": ZONES[2]}},
    )
    assert {s.name: str(s.cidr) for s in more.app_subnets} == {
        **got,
        "nas": "10.0.253.0/24",
    }
    zones = [c for c in more.network.all_cidrs()]
    for s in more.app_subnets:
        assert not any(s.cidr.overlaps(z) for z in zones)


def test_a_zone_reaching_an_app_subnet_is_refused_naming_both():
    # Terway defaults: each zone takes a /18 slot of the /16; a /18 app subnet takes the last
    # one, which three zones leave free and a fourth zone reaches.
    db = {"db": {"zone": ZONES[0], "prefix": 18}}
    plan = _plan(network={"zones": ZONES, "vpc_cidr": "10.0.0.0/16"}, app_subnets=db)
    assert [str(s.cidr) for s in plan.app_subnets] == ["10.0.192.0/18"]
    with pytest.raises(InvalidArguments) as caught:
        _plan(
            network={"zones": [*ZONES, "cn-hangzhou-h"], "vpc_cidr": "10.0.0.0/16"}, app_subnets=db
        )
    found = [(p, m) for p, m in caught.value.problems if p.startswith("app_subnets")]
    assert {p for p, _ in found} == {"app_subnets.db"}
    assert {m.split(" (")[0] for _, m in found} == {
        "10.0.192.0/18 overlaps the pod vSwitch of zone cn-hangzhou-h",
        "10.0.192.0/18 overlaps the node vSwitch of zone cn-hangzhou-h",
    }
    assert all("larger VPC" in m for _, m in found)


def test_explicit_cidr_overlapping_a_cluster_vswitch_is_refused():
    plan = _plan()
    node = plan.network.zones[0].node_cidr
    with pytest.raises(InvalidArguments) as caught:
        _plan(app_subnets={"db": {"zone": ZONES[0], "cidr": str(node)}})
    assert caught.value.problems[0][0] == "app_subnets.db"


def test_existing_vpc_needs_explicit_cidrs():
    existing = {
        "id": "vpc-abc",
        "cidr": "10.0.0.0/16",
        "node_vswitches": {
            ZONES[0]: {"id": "vsw-a", "cidr": "10.0.0.0/24"},
            ZONES[1]: {"id": "vsw-b", "cidr": "10.0.1.0/24"},
        },
        "pod_vswitches": {
            ZONES[0]: {"id": "vsw-c", "cidr": "10.0.64.0/19"},
            ZONES[1]: {"id": "vsw-d", "cidr": "10.0.96.0/19"},
        },
    }
    with pytest.raises(InvalidArguments) as caught:
        _plan(
            network={"zones": ZONES[:2], "existing_vpc": existing},
            app_subnets={"db": {"zone": ZONES[0]}},
        )
    assert caught.value.problems[0][0] == "app_subnets.db.cidr"
    ok = _plan(
        network={"zones": ZONES[:2], "existing_vpc": existing},
        app_subnets={"db": {"zone": ZONES[0], "cidr": "10.0.200.0/24"}},
    )
    assert [str(s.cidr) for s in ok.app_subnets] == ["10.0.200.0/24"]


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "text"),
    [
        (
            {"access": {"grants": {"a": {"roles": [{"role": "dev"}]}}}},
            "access.grants.a",
            "exactly one",
        ),
        (
            {"access": {"grants": {"a": {"ram_user_id": "alice", "roles": [{"role": "dev"}]}}}},
            "access.grants.a.ram_user_id",
            "numeric ID",
        ),
        (
            {
                "access": {
                    "grants": {"a": {"ram_user_id": "1", "roles": [{"role": "cluster-admin"}]}}
                }
            },
            "access.grants.a.roles.0",
            "custom: true",
        ),
        (
            {
                "access": {
                    "grants": {
                        "a": {"ram_user_id": "1", "roles": [{"role": "dev"}]},
                        "b": {"ram_user_id": "1", "roles": [{"role": "ops"}]},
                    }
                }
            },
            "access.grants",
            "same principal",
        ),
        ({"app_subnets": {"db": {"zone": "cn-shanghai-b"}}}, "", "region"),
        ({"app_subnets": {"DB": {"zone": ZONES[0]}}}, "app_subnets.DB.[key]", "not a valid name"),
        (
            {"private_zones": {"x": {"zone_name": "internal"}}},
            "private_zones.x.zone_name",
            "two labels",
        ),
        (
            {
                "private_zones": {
                    "x": {"zone_name": "db.internal"},
                    "y": {"zone_name": "DB.internal."},
                }
            },
            "private_zones",
            "distinct",
        ),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_registered(change, path, text):
    with pytest.raises(InvalidArguments) as caught:
        run(_build(**change))
    paths = [p for p, _ in caught.value.problems]
    assert path in paths, caught.value.problems
    assert text in str(caught.value)


def test_a_grant_from_an_output_is_accepted():
    def program():
        a = args()
        user = pulumi.Output.from_input("4242")
        a["access"] = {"grants": {"u": {"ram_user_id": user, "roles": [{"role": "ops"}]}}}
        CLASSES["managed"]("demo", a)

    r = run(program)
    [p] = _of(r, PERMISSION)
    assert p.inputs["uid"] == "4242"


# --- the gate: the loose forms point to these homes, the homes pass ----------------------------


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("RBAC grant on its cluster", ["access.grants"]),
        # ("network.existing_vpc" is in it too, but this program's secret 'x' redacts the x;
        # see test_the_vswitch_home_names_a_shared_vpc)
        ("vSwitch in its VPC", ["app_subnets", "a VPC of your own"]),
        ("PrivateZone bound to its VPC", ["private_zones"]),
        ("PrivateZone bound to its VPC by region", ["private_zones"]),
    ],
)
@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_the_drift_message_of_a_loose_form_names_its_home(gate, kind, words, preview):
    from .test_drift import DRIFT, loose_in, loose_result, loose_verdict

    loose = loose_in(loose_result("managed", preview), kind)
    [message] = [
        v.message
        for v in loose_verdict(gate, "managed", preview)
        if v.urn == loose.urn and v.policy == DRIFT
    ]
    for word in words:
        assert word in message, message


def test_the_drift_message_of_other_loose_forms_is_unchanged(gate):
    from .test_drift import DRIFT, loose_in, loose_result, loose_verdict

    loose = loose_in(loose_result("managed", True), "node pool on its cluster")
    messages = [
        v.message
        for v in loose_verdict(gate, "managed", True)
        if v.urn == loose.urn and v.policy == DRIFT
    ]
    assert any("node_pools, addons, autoscaler or ingress" in m for m in messages)
    for message in messages:
        assert "access.grants" not in message and "app_subnets" not in message


def test_the_vswitch_home_names_a_shared_vpc():
    from ack_policies.drift import instead

    said = instead(None, "alicloud:vpc/switch:Switch")
    assert "app_subnets" in said and "network.existing_vpc" in said
    assert instead(None) == "the cluster's typed arguments"


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_the_homes_pass_the_gate_and_a_database_may_use_an_app_subnet(gate, preview):
    """Grants, app subnets and private zones through the typed arguments pass; so does a
    database placed in an app subnet (a reviewed reference-only use of an owned vSwitch)."""
    from .conftest import found

    def program():
        c = CLASSES["managed"](
            "demo",
            args(
                access={"grants": GRANTS},
                app_subnets={"db": {"zone": ZONES[0]}},
                private_zones={"internal": {"zone_name": "db.internal"}},
            ),
        )
        import pulumi_alicloud as alicloud

        alicloud.rds.Instance(
            "orders-db",
            engine="MySQL",
            engine_version="8.0",
            instance_type="mysql.n2.medium.1",
            instance_storage=20,
            vswitch_id=c.app_subnet_ids.apply(lambda ids: ids["db"]),
        )

    assert found(gate(run(program, preview=preview)), "mandatory") == set()


# --- defaults that depend on each other: auto-repair needs the node problem detector ---------


def test_auto_repair_with_the_node_problem_detector_disabled_is_refused():
    off = [{"name": "ack-node-problem-detector", "disabled": True}]
    with pytest.raises(InvalidArguments) as caught:
        run(_build(addons=off))
    assert "auto_repair" in str(caught.value) and "ack-node-problem-detector" in str(caught.value)


def test_the_detector_may_be_disabled_where_no_pool_repairs():
    from .conftest import POOL

    off = [{"name": "ack-node-problem-detector", "disabled": True}]
    run(_build(addons=off, node_pools={"p": {**POOL, "auto_repair": False}}))
    run(_build("serverless", addons=off))  # no nodes, nothing to repair


@pytest.mark.parametrize("kind", ["managed", "serverless", "dedicated"])
def test_the_record_lists_the_new_homes_and_the_pack_accepts_it(gate, kind):
    """What the component registers for the homes is in its ownership record, and of types
    the pack lets a cluster own (ack_policies.record.OWNED_TYPES)."""
    from ack_policies import record

    from .test_ownership import _ancestry, _unwrapped

    result = run(
        _build(
            kind,
            access={"grants": GRANTS},
            app_subnets={"db": {"zone": ZONES[0]}},
            private_zones={"internal": {"zone_name": "db.internal"}},
        ),
        preview=True,
    )
    [owner] = [r for r in result.resources if r.type in record.OWNER_TYPES]
    below = [r for r in result.resources if owner.urn in _ancestry(result, r)]
    assert {r.type for r in below} <= record.OWNED_TYPES[owner.type]
    recorded = set(_unwrapped(owner.wire_outputs[record.RECORD_OUTPUT])["children"])
    homes = {r.urn for r in below if r.type in (PERMISSION, PVTZ, PVTZ_ATTACH)}
    assert len(homes) == 4 and homes <= recorded
    assert [v for v in gate(result) if v.enforcement == "mandatory"] == []


def test_a_ram_roles_name_given_as_its_id_is_refused_when_known():
    """`ram.Role(...).id` is the role's name (the provider sets the ID to RoleName); the grant
    needs `role_id`. Refused once the output is known, naming the field."""

    def program():
        a = args()
        name = pulumi.Output.from_input("ci-deployer")
        a["access"] = {"grants": {"ci": {"ram_role_id": name, "roles": [{"role": "ops"}]}}}
        CLASSES["managed"]("demo", a)

    with pytest.raises(Exception) as caught:
        run(program)
    assert "access.grants.ci.ram_role_id" in str(caught.value)
    assert "role_id" in str(caught.value)
