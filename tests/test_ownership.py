"""Ownership is a fact each component records (issue 27): what it registered, each with a seal
of what it planned. Forged ownership, transforms that change what it planned and second owners
of what it owns are blocked; a transform that only adds tags, and everything a component builds
itself, pass. Every case runs through the real analyzer server, in preview and update mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import ManagedCluster, ServiceAccountRole
from ack_offline.recorder import ProgramRun
from ack_policies import record

from .conftest import AUTOSCALED_POOL, CLASSES, POOL, ZONES, args, form_args, run

OWNERSHIP = "ack-cluster-ownership-proven"
DRIFT = "ack-no-loose-attachments-to-cluster-resources"
MODES = pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])


def cluster(name: str = "demo", **overrides: Any) -> ManagedCluster:
    base = {"ingress": {}, "node_pools": {"general": AUTOSCALED_POOL}}
    return ManagedCluster(name, args(**{**base, **overrides}))


#: A service account role that reads OSS.
READER = {
    "namespace": "app",
    "service_account": "reader",
    "policies": [{"name": "AliyunOSSReadOnlyAccess", "type": "System"}],
}


def blocked(gate: Any, result: ProgramRun) -> dict[tuple[str, str], str]:
    """(policy, resource name) -> message of each mandatory violation."""
    return {
        (v.policy, v.urn.rsplit("::", 1)[-1]): v.message
        for v in gate(result)
        if v.enforcement == "mandatory"
    }


def rule(name: str, group: Any, **opts: Any) -> alicloud.ecs.SecurityGroupRule:
    return alicloud.ecs.SecurityGroupRule(
        name,
        security_group_id=group,
        type="ingress",
        ip_protocol="tcp",
        port_range="8443/8443",
        cidr_ip="10.9.0.0/16",
        nic_type="intranet",
        opts=pulumi.ResourceOptions(**opts) if opts else None,
    )


# --- what a component records ----------------------------------------------------------------


@MODES
def test_a_cluster_records_everything_it_registered_and_passes(gate, preview):
    result = run(cluster, preview=preview)
    (component,) = [r for r in result.resources if r.type == "ack:index:ManagedCluster"]
    recorded = component.wire_outputs[record.RECORD_OUTPUT]
    recorded = recorded.get("value", recorded)  # secret: the provider's kubeconfig is sealed
    assert recorded["owner"] == component.urn
    below = {r.urn for r in result.resources if r.urn != component.urn}
    assert set(recorded["children"]) == below
    for seal in recorded["children"].values():
        assert set(seal) == {"inputs", "tags", "options", "engineOptions"}
        assert set(seal["options"]) == set(record.ANALYZED_OPTIONS)
        assert set(seal["engineOptions"]) == set(record.ENGINE_OPTIONS)
    assert blocked(gate, result) == {}


#: Each form with every option that adds resources, and adoption of an existing cluster.
CEN = {"instance_id": "cen-abc123", "transit_router_id": "tr-xyz789", "route_table_id": "vtb-rt1"}
ADDONS = [{"name": "ack-node-problem-detector", "version": "1.2.16"}]
VARIANTS: dict[str, Callable[[], object]] = {
    "managed, everything": lambda: CLASSES["managed"](
        "demo",
        form_args(
            "managed",
            network={"zones": ZONES[:2], "nat": "per_zone", "cen": CEN},
            node_pools={"general": AUTOSCALED_POOL, "fixed": POOL},
            ingress={"bind_service": True},
            public_api_server=True,
            addons=ADDONS,
            autoscaler={},
        ),
    ),
    "serverless, everything": lambda: CLASSES["serverless"](
        "demo",
        form_args("serverless", network={"zones": ZONES[:2], "cen": CEN}, ingress={}),
    ),
    "dedicated, everything": lambda: CLASSES["dedicated"](
        "demo", form_args("dedicated", ingress={}, addons=ADDONS)
    ),
    "adopted": lambda: CLASSES["managed"](
        "demo",
        form_args(
            "managed",
            adopt={
                "cluster_id": "c" + "0" * 32,
                "vpc_id": "vpc-existing1",
                "security_group_id": "sg-existing1",
            },
        ),
    ),
    "a service account role": lambda: ServiceAccountRole.for_cluster("reader", cluster(), READER),
    "migrated from dedicated": lambda: CLASSES["managed"](
        "demo",
        form_args(
            "managed",
            cluster_spec="ack.pro.small",
            migrated_from_dedicated=True,
            adopt={"cluster_id": "c" + "0" * 32},
        ),
    ),
}


def _unwrapped(value: Any) -> Any:
    return value.get("value", value) if isinstance(value, dict) and "value" in value else value


@MODES
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_library_registers_only_the_types_the_pack_lets_it_own(gate, variant, preview):
    """The pack refuses a record listing a type the component never registers (a forgery's
    way to own what it likes); this holds the library to the same closed list. Everything the
    library sets on its children (imports of what it adopts, aliases of a migration, ...)
    passes the seal, in both modes."""
    result = run(VARIANTS[variant], preview=preview)
    owners = [r for r in result.resources if r.type in record.OWNER_TYPES]
    assert owners
    for owner in owners:
        below = [r for r in result.resources if owner.urn in _ancestry(result, r)]
        assert {r.type for r in below} <= record.OWNED_TYPES[owner.type], owner.name
        recorded = _unwrapped(owner.wire_outputs[record.RECORD_OUTPUT])
        assert set(recorded["children"]) == {r.urn for r in below}
    assert not [v for v in gate(result) if v.policy == OWNERSHIP]


def _ancestry(result: ProgramRun, res: Any) -> list[str]:
    by_urn = {r.urn: r for r in result.resources}
    found, parent = [], res.parent
    while parent in by_urn:
        found.append(parent)
        parent = by_urn[parent].parent
    return found


def test_a_service_account_role_records_what_it_registered(gate):
    def program() -> None:
        ServiceAccountRole.for_cluster("reader", cluster(), READER)

    result = run(program, preview=True)
    (sar,) = [r for r in result.resources if r.type == record.SERVICE_ACCOUNT_ROLE_TYPE]
    children = set(sar.wire_outputs[record.RECORD_OUTPUT]["children"])
    assert children == {r.urn for r in result.resources if r.parent == sar.urn}
    assert blocked(gate, result) == {}


# --- forged ownership ------------------------------------------------------------------------


@MODES
def test_a_resource_parented_into_a_cluster_by_hand_is_not_its(gate, preview):
    """`parent=cluster` used to put a resource beyond the drift rule; now the component's
    record says what it registered, and this is not in it. A harmless one is refused too: a
    component owns only what it declares."""

    def program() -> None:
        c = cluster()
        rule("hand", c.security_group_id, parent=c)
        alicloud.ecs.SecurityGroup(
            "mine", vpc_id="vpc-elsewhere", opts=pulumi.ResourceOptions(parent=c)
        )

    found_ = blocked(gate, run(program, preview=preview))
    assert set(found_) == {(OWNERSHIP, "hand"), (DRIFT, "hand"), (OWNERSHIP, "mine")}
    assert (
        "parented into ManagedCluster 'demo', which did not register it"
        in (found_[OWNERSHIP, "mine"])
    )


class Impostor(pulumi.ComponentResource):
    """A component of the program's own with the library's type token."""

    def __init__(self, name: str, group: Any, *, forge: bool = False) -> None:
        super().__init__("ack:index:ManagedCluster", name, None, None)
        self.rule = rule(f"{name}-rule", group, parent=self)
        outputs: dict[str, Any] = {}
        if forge:
            # A determined forgery: a record of its own, built with the library's format.
            outputs[record.RECORD_OUTPUT] = self.rule.urn.apply(
                lambda urn: {
                    "format": record.FORMAT,
                    "owner": f"urn:pulumi:test::project::ack:index:ManagedCluster::{name}",
                    "children": {urn: {"inputs": {"x": "y"}}},
                    "legacyTransformations": 0,
                }
            )
        self.register_outputs(outputs)


@MODES
def test_a_component_with_the_librarys_type_owns_nothing_without_a_record(gate, preview):
    def program() -> None:
        c = cluster()
        Impostor("shadow", c.security_group_id)

    found_ = blocked(gate, run(program, preview=preview))
    assert "has no ownership record" in found_[OWNERSHIP, "shadow"]
    assert (DRIFT, "shadow-rule") in found_  # what it holds is judged as loose


@MODES
def test_a_forged_record_owns_nothing_of_anothers(gate, preview):
    """Even a record built in the library's format makes the impostor own only its own rule:
    the rule takes another owner's security group, which is drift between owners too, and its
    seal is not what it registered."""

    def program() -> None:
        c = cluster()
        Impostor("shadow", c.security_group_id, forge=True)

    found_ = blocked(gate, run(program, preview=preview))
    assert "owned by cluster 'demo'" in found_[DRIFT, "shadow-rule"]
    assert "is not what the component planned" in found_[OWNERSHIP, "shadow-rule"]


DEMO_SG = (
    "urn:pulumi:test::project::ack:index:ManagedCluster$ack:index:ClusterSecurityGroup$"
    "alicloud:ecs/securityGroup:SecurityGroup::demo-sg"
)


class Forger(pulumi.ComponentResource):
    """A component of the program's own with the library's type, sealed with the library's own
    helpers: a record as valid as the library's, of whatever the forger registers or names."""

    def __init__(self, name: str, build: Callable[[Forger], Any], claims: Any = None) -> None:
        from ack_clusters.ownership import Seals, record_of, sealed

        seals = Seals()
        super().__init__("ack:index:ManagedCluster", name, None, sealed(None, seals))
        build(self)
        built = record_of(self, seals)
        if claims is not None:  # a URN of someone else's listed beside its own children
            built = pulumi.Output.all(built, claims).apply(
                lambda a: {**a[0], "children": {**a[0]["children"], a[1]: {}}}
            )
        self.register_outputs({record.RECORD_OUTPUT: built})


@MODES
def test_a_record_sealed_with_the_librarys_helpers_owns_only_its_own_children(gate, preview):
    """The forger owns its rule, sealed as planned; the rule takes the cluster's security
    group, which the cluster owns: drift between owners, blocked all the same."""

    def program() -> None:
        c = cluster()
        Forger("shadow", lambda f: rule("shadow-rule", c.security_group_id, parent=f))

    found_ = blocked(gate, run(program, preview=preview))
    assert set(found_) == {(DRIFT, "shadow-rule")}
    assert "owned by cluster 'demo'" in found_[DRIFT, "shadow-rule"]


@MODES
def test_a_record_listing_another_components_resource_is_refused(gate, preview):
    def program() -> None:
        cluster()
        Forger(
            "shadow",
            lambda f: alicloud.ecs.SecurityGroup(
                "shadow-sg", vpc_id="vpc-elsewhere", opts=pulumi.ResourceOptions(parent=f)
            ),
            claims=DEMO_SG,
        )

    result = run(program, preview=preview)
    assert DEMO_SG in {r.urn for r in result.resources}
    found_ = blocked(gate, result)
    assert f"lists {DEMO_SG}, which is not one of its children" in found_[OWNERSHIP, "shadow"]
    assert not [k for k in found_ if k[1].startswith("demo")]  # the cluster's own stays its


@MODES
def test_a_record_listing_a_type_the_library_never_registers_is_refused(gate, preview):
    def program() -> None:
        cluster()
        Forger(
            "shadow",
            lambda f: alicloud.ecs.Instance(
                "shadow-vm",
                instance_type="ecs.g7.large",
                image_id="aliyun_3_x64_20G_alibase_20240819.vhd",
                vswitch_id="vsw-elsewhere",
                security_groups=["sg-elsewhere"],
                system_disk_encrypted=True,
                opts=pulumi.ResourceOptions(parent=f),
            ),
        )

    found_ = blocked(gate, run(program, preview=preview))
    assert (
        "lists a alicloud:ecs/instance:Instance ('shadow-vm'), which a ManagedCluster never "
        "registers" in found_[OWNERSHIP, "shadow"]
    )


# --- transforms --------------------------------------------------------------------------------

Transform = Callable[[pulumi.ResourceTransformArgs], pulumi.ResourceTransformResult | None]


def changing(type_: str, change: Callable[[dict[str, Any]], None]) -> Transform:
    def transform(a: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if a.type_ != type_:
            return None
        props = dict(a.props)
        change(props)
        return pulumi.ResourceTransformResult(props, a.opts)

    return transform


def protect_off(a: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if a.type_ != "alicloud:vpc/network:Network":
        return None
    return pulumi.ResourceTransformResult(
        a.props, pulumi.ResourceOptions.merge(a.opts, pulumi.ResourceOptions(protect=False))
    )


TRANSFORMS: dict[str, tuple[Transform, str, str]] = {
    "an extra security group on every pool": (
        changing(
            "alicloud:cs/nodePool:NodePool",
            lambda p: p.update(securityGroupIds=[*p.get("securityGroupIds", []), "sg-extra"]),
        ),
        "demo-general",
        "input 'securityGroupIds' changed",
    ),
    "the ingress load balancer's deletion protection off": (
        changing(
            "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer",
            lambda p: p.update(deleteProtection="off"),
        ),
        "demo-ingress",
        "input 'deleteProtection' changed",
    ),
    "the ingress load balancer's modification protection off": (
        changing(
            "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer",
            lambda p: p.update(modificationProtectionStatus="NonProtection"),
        ),
        "demo-ingress",
        "input 'modificationProtectionStatus' changed",
    ),
    "an ownership tag rewritten": (
        changing(
            "alicloud:ecs/securityGroup:SecurityGroup",
            lambda p: p.update(tags={**p.get("tags", {}), "ack.pulumi.io/cluster": "other"}),
        ),
        "demo-sg",
        "tag 'ack.pulumi.io/cluster' changed",
    ),
    "an input the component did not set": (
        changing("alicloud:vpc/natGateway:NatGateway", lambda p: p.update(eipBindMode="NAT")),
        "demo-nat-egress",
        "input 'eipBindMode' added",
    ),
    "the VPC's protect option off": (protect_off, "demo-vpc", "option 'protect' changed"),
    "an input added and passed off as a provider default": (
        changing(
            "alicloud:vpc/natGateway:NatGateway",
            lambda p: p.update(eipBindMode="NAT", __defaults=["eipBindMode"]),
        ),
        "demo-nat-egress",
        "input 'eipBindMode' added",
    ),
}


def with_options(type_: str, **given: Any) -> Transform:
    """A transform giving resources of one type more options; a value that is a callable is
    called (in the program) for the option's value."""

    def transform(a: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if a.type_ != type_:
            return None
        made = {k: v() if callable(v) else v for k, v in given.items()}
        return pulumi.ResourceTransformResult(
            a.props, pulumi.ResourceOptions.merge(a.opts, pulumi.ResourceOptions(**made))
        )

    return transform


_VPC = "alicloud:vpc/network:Network"
_SG = "alicloud:ecs/securityGroup:SecurityGroup"
_NAT = "alicloud:vpc/natGateway:NatGateway"


def _elsewhere() -> pulumi.Resource:
    """A resource of the program's own, for options that name one."""
    return alicloud.vpc.Network("elsewhere", cidr_block="10.99.0.0/16")


#: Every option the engine registers a resource with that changes what happens to it
#: (ack_policies.record.OPTIONS), given by a transform to an owned resource (issue 27,
#: finding 6; the reviewer's w12 gave the first five).
OPTION_TRANSFORMS: dict[str, tuple[Transform, str, str]] = {
    "import": (
        with_options(_VPC, import_="vpc-legacy0123456789"),
        "demo-vpc",
        "option 'importId' added",
    ),
    "retain on delete": (
        with_options(_VPC, retain_on_delete=True),
        "demo-vpc",
        "option 'retainOnDelete' added",
    ),
    "replace on changes": (
        with_options(_SG, replace_on_changes=["*"]),
        "demo-sg",
        "option 'replaceOnChanges' added",
    ),
    "custom timeouts": (
        with_options(_SG, custom_timeouts=pulumi.CustomTimeouts(delete="1s")),
        "demo-sg",
        "option 'customTimeouts' changed",
    ),
    "aliases": (
        with_options(
            "alicloud:cs/managedKubernetes:ManagedKubernetes",
            aliases=[pulumi.Alias(name="other-cluster")],
        ),
        "demo",
        "option 'aliases' added",
    ),
    "ignore changes": (
        with_options(_VPC, ignore_changes=["cidrBlock"]),
        "demo-vpc",
        "option 'ignoreChanges' changed",
    ),
    "delete before replace": (
        with_options(_SG, delete_before_replace=True),
        "demo-sg",
        "option 'deleteBeforeReplace' changed",
    ),
    "additional secret outputs": (
        with_options(_SG, additional_secret_outputs=["securityGroupName"]),
        "demo-sg",
        "option 'additionalSecretOutputs' changed",
    ),
    "deleted with": (
        with_options(_NAT, deleted_with=_elsewhere),
        "demo-nat-egress",
        "option 'deletedWith' added",
    ),
    "depends on": (
        with_options(_NAT, depends_on=lambda: [_elsewhere()]),
        "demo-nat-egress",
        "option 'dependencies' changed",
    ),
    "provider version": (
        with_options(_VPC, version="3.0.0"),
        "demo-vpc",
        "option 'version' changed",
    ),
    "plugin download URL": (
        with_options(_VPC, plugin_download_url="https://plugins.example.com/alicloud"),
        "demo-vpc",
        "option 'pluginDownloadURL' added",
    ),
}
#: What only the engine sees (not handed to an analyzer): judged by ack-preview's gate, which
#: sends their digests to the pack; Pulumi's engine does not.
_ENGINE_ONLY = {"aliases", "import", "retain on delete", "replace on changes", "deleted with"}
_ENGINE_ONLY |= {"depends on", "provider version", "plugin download URL"}


@MODES
@pytest.mark.parametrize("kind", list(OPTION_TRANSFORMS))
def test_a_transform_that_gives_an_owned_resource_an_option_is_blocked(gate, kind, preview):
    transform, name, says = OPTION_TRANSFORMS[kind]

    def program() -> None:
        pulumi.runtime.register_resource_transform(transform)
        cluster()

    found_ = blocked(gate, run(program, preview=preview))
    assert says in found_.get((OWNERSHIP, name), ""), found_.get((OWNERSHIP, name))
    assert {n for p, n in found_ if p == OWNERSHIP} == {name}
    assert (kind in _ENGINE_ONLY) == (says.split("'")[1] in record.ENGINE_OPTIONS)


def test_options_only_the_engine_sees_are_not_compared_when_it_sends_none():
    """Pulumi's engine hands an analyzer no import, retainOnDelete, ... (the gate of
    ack-preview sends them beside each call); without them a seal's are not compared, and
    the options an analyzer is handed still are."""
    sealed = record.seal(_VPC, {}, {"protect": True})
    assert record.differences(sealed, _VPC, {}, {"protect": True}) == []
    assert record.differences(sealed, _VPC, {}, {"protect": False}) == [
        "option 'protect' changed from true to false"
    ]
    # The engine hands an analyzer the one alias it found old state under: a migrated or
    # renamed component's children show theirs by right (what they declare is compared below).
    assert record.differences(sealed, _VPC, {}, {"protect": True, "aliases": ["urn:old"]}) == []
    assert record.differences(sealed, _VPC, {}, {"protect": True}, {"importId": "x"}) == [
        "option 'importId' added"
    ]
    engine = record.engine_digests({"aliases": ["urn:x"]})
    assert record.differences(sealed, _VPC, {}, {"protect": True}, engine) == [
        "option 'aliases' added"
    ]


def test_custom_timeouts_compare_as_the_engine_hands_them_in_seconds():
    sealed = record.seal(_SG, {}, {"customTimeouts": {"create": "1h30m", "delete": "90s"}})
    handed = {"customTimeouts": {"create": 5400.0, "update": 0.0, "delete": 90.0}}
    assert record.differences(sealed, _SG, {}, handed) == []
    handed["customTimeouts"]["delete"] = 1.0
    assert record.differences(sealed, _SG, {}, handed) == [
        'option \'customTimeouts\' changed from {"create": "5400", "delete": "90"} to '
        '{"create": "5400", "delete": "1"}'
    ]


@MODES
def test_options_given_to_the_component_reach_its_children_before_the_seal(gate, preview):
    """What a program gives the component itself (its children inherit it in the SDK, before
    any transform runs), and what the library sets on its children (protect, ignore_changes,
    the import of an adopted cluster), are what the component planned."""

    def program() -> None:
        ManagedCluster(
            "demo",
            args(ingress={}, node_pools={"general": AUTOSCALED_POOL}),
            opts=pulumi.ResourceOptions(
                retain_on_delete=True,
                custom_timeouts=pulumi.CustomTimeouts(create="45m"),
                aliases=[pulumi.Alias(name="old-demo")],
                depends_on=[_elsewhere()],
            ),
        )

    assert not [n for p, n in blocked(gate, run(program, preview=preview)) if p == OWNERSHIP]


@MODES
def test_a_transform_giving_the_programs_own_resources_options_passes(gate, preview):
    """A stack transform that keeps a team's buckets on delete and gives them long timeouts
    runs over the cluster's resources too, and changes none of them."""

    def keep_buckets(a: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if a.type_ != "alicloud:oss/bucket:Bucket":
            return None
        given = pulumi.ResourceOptions(
            retain_on_delete=True,
            custom_timeouts=pulumi.CustomTimeouts(delete="30m"),
            replace_on_changes=["bucket"],
        )
        return pulumi.ResourceTransformResult(a.props, pulumi.ResourceOptions.merge(a.opts, given))

    def program() -> None:
        pulumi.runtime.register_resource_transform(keep_buckets)
        cluster()
        alicloud.oss.Bucket("reports", bucket="team-reports-0001")

    result = run(program, preview=preview)
    bucket = result.one("alicloud:oss/bucket:Bucket")
    assert bucket.engine_options["retainOnDelete"] and bucket.custom_timeouts == {"delete": "30m"}
    assert blocked(gate, result) == {}


@MODES
@pytest.mark.parametrize("kind", list(TRANSFORMS))
def test_a_transform_that_changes_what_a_cluster_planned_is_blocked(gate, kind, preview):
    transform, name, says = TRANSFORMS[kind]

    def program() -> None:
        pulumi.runtime.register_resource_transform(transform)
        cluster()

    found_ = blocked(gate, run(program, preview=preview))
    assert says in found_[OWNERSHIP, name]
    assert {n for p, n in found_ if p == OWNERSHIP} == {name}


@MODES
def test_a_transform_on_the_component_itself_is_blocked_too(gate, preview):
    """A transform given to the component runs after its seal, which comes first."""
    transform, name, says = TRANSFORMS["an extra security group on every pool"]

    def program() -> None:
        ManagedCluster(
            "demo",
            args(node_pools={"general": AUTOSCALED_POOL}),
            opts=pulumi.ResourceOptions(transforms=[transform]),
        )

    assert says in blocked(gate, run(program, preview=preview))[OWNERSHIP, name]


@MODES
def test_a_transform_that_replaces_a_service_account_roles_trust_is_blocked(gate, preview):
    trust = '{"Version": "1", "Statement": []}'

    def program() -> None:
        pulumi.runtime.register_resource_transform(
            changing("alicloud:ram/role:Role", lambda p: p.update(assumeRolePolicyDocument=trust))
        )
        ServiceAccountRole.for_cluster("reader", cluster(), READER)

    found_ = blocked(gate, run(program, preview=preview))
    assert "input 'assumeRolePolicyDocument'" in found_[OWNERSHIP, "reader"]


@MODES
def test_a_transform_that_only_adds_tags_passes(gate, preview):
    """A team's tagging transform is ordinary Pulumi practice: tags may be added."""

    def tag(a: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        tags = a.props.get("tags")
        if not isinstance(tags, dict):
            return None
        return pulumi.ResourceTransformResult(
            {**a.props, "tags": {**tags, "cost-center": "platform"}}, a.opts
        )

    def program() -> None:
        pulumi.runtime.register_resource_transform(tag)
        cluster()

    result = run(program, preview=preview)
    assert result.one("alicloud:vpc/network:Network").inputs["tags"]["cost-center"] == "platform"
    assert blocked(gate, result) == {}


@MODES
def test_another_provider_given_by_a_transform_is_blocked(gate, preview):
    def program() -> None:
        elsewhere = alicloud.Provider("elsewhere", region="cn-beijing")

        def move(a: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
            if a.type_ != "alicloud:ecs/securityGroup:SecurityGroup":
                return None
            return pulumi.ResourceTransformResult(
                a.props,
                pulumi.ResourceOptions.merge(a.opts, pulumi.ResourceOptions(provider=elsewhere)),
            )

        pulumi.runtime.register_resource_transform(move)
        cluster()

    found_ = blocked(gate, run(program, preview=preview))
    assert "option 'provider' changed" in found_[OWNERSHIP, "demo-sg"]


@MODES
def test_a_provider_given_to_the_component_is_its_own(gate, preview):
    """Providers passed to the component reach its children before the seal: nothing changed."""

    def program() -> None:
        hangzhou = alicloud.Provider("hangzhou", region="cn-hangzhou")
        ManagedCluster(
            "demo",
            args(node_pools={"general": AUTOSCALED_POOL}),
            opts=pulumi.ResourceOptions(providers=[hangzhou]),
        )

    assert blocked(gate, run(program, preview=preview)) == {}


# --- second owners -------------------------------------------------------------------------------


def owned_id(type_: str) -> str:
    return run(cluster).one(type_).id


def test_importing_an_owned_resource_into_another_is_blocked(gate):
    group = owned_id("alicloud:ecs/securityGroup:SecurityGroup")

    def program() -> None:
        cluster()
        alicloud.ecs.SecurityGroup(
            "copy",
            vpc_id="vpc-elsewhere",
            opts=pulumi.ResourceOptions(import_=group),
        )

    found_ = blocked(gate, run(program))
    assert (
        f"is the cloud resource '{group}', which cluster 'demo' owns" in found_[OWNERSHIP, "copy"]
    )
    assert {n for p, n in found_ if p == OWNERSHIP} == {"copy"}


def _scaling_group(group: str) -> object:
    return alicloud.ess.ScalingGroup(
        "copy", min_size=0, max_size=10, opts=pulumi.ResourceOptions(import_=group)
    )


def _api_server_lb(lb: str) -> object:
    return alicloud.slb.ApplicationLoadBalancer(
        "copy", load_balancer_spec="slb.s1.small", opts=pulumi.ResourceOptions(import_=lb)
    )


@pytest.mark.parametrize(
    "owned_type, field, build",
    [
        ("alicloud:cs/nodePool:NodePool", "scalingGroupId", _scaling_group),
        ("alicloud:cs/managedKubernetes:ManagedKubernetes", "slbId", _api_server_lb),
    ],
    ids=["a pool's scaling group", "the API server's load balancer"],
)
def test_importing_what_an_owned_resource_carries_is_blocked(gate, owned_type, field, build):
    """What ACK made for an owned resource (a pool's scaling group, the API server's load
    balancer) is the component's too: a second resource imported from it is a second owner."""
    owned = run(cluster).one(owned_type).state[field]

    def program() -> None:
        cluster()
        build(owned)

    found_ = blocked(gate, run(program))
    assert (
        f"is the cloud resource '{owned}', which cluster 'demo' owns" in found_[OWNERSHIP, "copy"]
    )


def test_another_clusters_oidc_issuer_on_the_same_host_is_not_this_ones(gate):
    """ACK's RRSA issuers of a region share one host; only the URL names one cluster."""
    mine = run(cluster).one("alicloud:cs/managedKubernetes:ManagedKubernetes")
    issuer = mine.state["rrsaMetadata"]["rrsaOidcIssuerUrl"]
    other = issuer.rsplit("/", 1)[0] + "/c" + "1" * 32

    def program() -> None:
        cluster()
        alicloud.ims.OidcProvider(
            "other-cluster",
            oidc_provider_name="other-cluster",
            issuer_url=other,
            fingerprints=["902ef2deeb3c5b13ea4c3d5193629309e231ae55"],
            client_ids=["sts.aliyuncs.com"],
        )

    assert blocked(gate, run(program)) == {}


def test_a_second_cluster_adopting_the_first_ones_vpc_is_blocked(gate):
    vpc = owned_id("alicloud:vpc/network:Network")

    def program() -> None:
        cluster()
        ManagedCluster(
            "second",
            args(node_pools={"general": AUTOSCALED_POOL}, adopt={"vpc_id": vpc}),
        )

    found_ = blocked(gate, run(program))
    assert (
        f"is the cloud resource '{vpc}', which cluster 'demo' owns"
        in found_[OWNERSHIP, "second-vpc"]
    )


def _nth(i: int) -> Callable[[list[str]], str]:
    return lambda ids: ids[i]


@MODES
def test_a_second_cluster_on_the_first_ones_network_is_blocked(gate, preview):
    """`existing_vpc` is for a VPC nobody's component owns (a network stack's, say)."""

    def program() -> None:
        first = cluster()
        ids = first.vswitch_ids
        switches = {
            zone: {"id": ids.apply(_nth(i)), "cidr": cidr}
            for i, (zone, cidr) in enumerate(
                zip(ZONES[:2], ["10.0.4.0/22", "10.0.12.0/22"], strict=True)
            )
        }
        network = {
            "zones": ZONES[:2],
            "nat": "none",
            "existing_vpc": {"id": first.vpc_id, "cidr": "10.0.0.0/16", "node_vswitches": switches},
        }
        # Built by hand: the arguments hold outputs, which the test builder's copy cannot copy.
        ManagedCluster(
            "second",
            {
                "network": network,
                "network_plugin": "flannel",
                "node_pools": {"general": AUTOSCALED_POOL},
            },
        )

    found_ = blocked(gate, run(program, preview=preview))
    assert "a vSwitch of its" in found_[DRIFT, "second"]
    assert "owned by cluster 'demo'" in found_[DRIFT, "second"]


@MODES
def test_a_patch_of_the_ingress_service_the_component_owns_is_blocked(gate, preview):
    import pulumi_kubernetes as k8s

    def program() -> None:
        c = cluster(ingress={"bind_service": True})
        k8s.core.v1.ServicePatch(
            "patched",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name="nginx-ingress-lb", namespace="kube-system"
            ),
            spec=k8s.core.v1.ServiceSpecPatchArgs(load_balancer_source_ranges=["0.0.0.0/0"]),
            opts=pulumi.ResourceOptions(provider=c.provider),
        )

    result = run(program, preview=preview)
    service = result.one("kubernetes:core/v1:Service")
    assert service.inputs["metadata"]["name"] == "nginx-ingress-lb"
    found_ = blocked(gate, result)
    assert "writes core/Service kube-system/nginx-ingress-lb" in found_[OWNERSHIP, "patched"]


@MODES
def test_a_custom_resource_patch_naming_the_ingress_service_is_blocked(gate, preview):
    """`CustomResourcePatch` takes any apiVersion and kind: the object is what it names."""
    import pulumi_kubernetes as k8s

    def program() -> None:
        c = cluster(ingress={"bind_service": True})
        k8s.apiextensions.CustomResourcePatch(
            "patched",
            api_version="v1",
            kind="Service",
            metadata={"name": "nginx-ingress-lb", "namespace": "kube-system"},
            spec={"loadBalancerSourceRanges": ["0.0.0.0/0"]},
            opts=pulumi.ResourceOptions(provider=c.provider),
        )

    found_ = blocked(gate, run(program, preview=preview))
    assert "writes core/Service kube-system/nginx-ingress-lb" in found_[OWNERSHIP, "patched"]


def test_a_patch_of_the_ingress_service_by_its_kubeconfigs_namespace_is_blocked(gate):
    """A patch naming no namespace lands in the kubeconfig's current context's (an update
    knows the kubeconfig)."""
    import pulumi_kubernetes as k8s

    from .test_ways_around import in_namespace

    def program() -> None:
        c = cluster(ingress={"bind_service": True})
        provider = k8s.Provider(
            "context", kubeconfig=c.kubeconfig.apply(in_namespace("kube-system"))
        )
        k8s.core.v1.ServicePatch(
            "patched",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name="nginx-ingress-lb"),
            spec=k8s.core.v1.ServiceSpecPatchArgs(selector={"app": "not-the-ingress"}),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    found_ = blocked(gate, run(program, preview=False))
    assert "writes core/Service kube-system/nginx-ingress-lb" in found_[OWNERSHIP, "patched"]


def _service(name: str, namespace: str, provider: Any, parent: Any) -> Any:
    import pulumi_kubernetes as k8s

    return k8s.core.v1.Service(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        spec=k8s.core.v1.ServiceSpecArgs(
            selector={"k8s-app": "elsewhere"},
            ports=[k8s.core.v1.ServicePortArgs(port=53, protocol="UDP")],
        ),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )


@MODES
def test_a_forged_component_writing_into_kube_system_is_blocked(gate, preview):
    """A component sealed with the library's own helpers owns what it registers, and is held
    to what the library writes into ACK's namespaces: only ACK's ingress Service."""

    def program() -> None:
        c = cluster()
        Forger("shadow", lambda f: _service("kube-dns", "kube-system", c.provider, f))

    found_ = blocked(gate, run(program, preview=preview))
    assert "writes into 'kube-system'" in found_[DRIFT, "kube-dns"]


@MODES
def test_two_components_declaring_one_object_are_second_owners(gate, preview):
    def program() -> None:
        c = cluster(ingress={"bind_service": True})
        Forger("shadow", lambda f: _service("nginx-ingress-lb", "kube-system", c.provider, f))

    found_ = blocked(gate, run(program, preview=preview))
    assert (
        "writes core/Service kube-system/nginx-ingress-lb" in found_[OWNERSHIP, "nginx-ingress-lb"]
    )


# --- old-style transformations ------------------------------------------------------------------


def test_old_style_transformations_cannot_be_proven(gate):
    def noop(a: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        return pulumi.ResourceTransformationResult(a.props, a.opts)

    def program() -> None:
        pulumi.runtime.register_stack_transformation(noop)
        cluster()

    found_ = blocked(gate, run(program, preview=True))
    assert set(found_) == {(OWNERSHIP, "demo")}
    assert "old-style transformation" in found_[OWNERSHIP, "demo"]


# --- what the changelog says of the rules -------------------------------------------------------


def test_the_changelog_counts_the_reviewed_references_as_the_code_does():
    """CHANGELOG.md's Unreleased section states how many reference-only uses the drift rule
    allows; the count is the code's (docs/POLICY-PACK.md is held to it in test_references)."""
    import re
    from pathlib import Path

    from ack_policies.references import ALLOWED

    text = (Path(__file__).parents[1] / "CHANGELOG.md").read_text()
    unreleased = " ".join(text.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0].split())
    counts = re.findall(r"one of (\d+) reviewed reference-only uses", unreleased)
    assert counts, "the Unreleased section no longer states the count: drop this test"
    assert {int(c) for c in counts} == {len(ALLOWED)}


def test_engine_options_sent_but_unreadable_are_not_proven():
    """The gate always sends the digests; what the pack cannot read matches no seal."""
    from ack_policies import seen

    class Context:
        def __init__(self, *metadata: tuple[str, str]) -> None:
            self.metadata = metadata

        def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
            return self.metadata

    key = record.ENGINE_OPTIONS_METADATA
    sealed = record.seal(_VPC, {}, {})
    good = json.dumps(record.engine_digests({}))
    assert seen._engine_options(Context()) is None
    assert not record.differences(sealed, _VPC, {}, {}, seen._engine_options(Context((key, good))))
    for bad in ("{", "[]", '{"importId": ""}', json.dumps({k: 1 for k in record.ENGINE_OPTIONS})):
        engine = seen._engine_options(Context((key, bad)))
        assert len(record.differences(sealed, _VPC, {}, {}, engine)) == len(record.ENGINE_OPTIONS)
