"""Ownership is a fact each component records (issue 27): what it registered, each with a seal
of what it planned. Forged ownership, transforms that change what it planned and second owners
of what it owns are blocked; a transform that only adds tags, and everything a component builds
itself, pass. Every case runs through the real analyzer server, in preview and update mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import ManagedCluster, ServiceAccountRole
from ack_offline.recorder import ProgramRun
from ack_policies import record

from .conftest import AUTOSCALED_POOL, ZONES, args, run

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
        assert set(seal) == {"inputs", "tags", "options"}
    assert blocked(gate, result) == {}


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
}


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
    assert f"is the cloud resource '{group}', which" in found_[OWNERSHIP, "copy"]
    assert "(owned by cluster 'demo') is too" in found_[OWNERSHIP, "copy"]
    assert {n for p, n in found_ if p == OWNERSHIP} == {"copy"}


def test_a_second_cluster_adopting_the_first_ones_vpc_is_blocked(gate):
    vpc = owned_id("alicloud:vpc/network:Network")

    def program() -> None:
        cluster()
        ManagedCluster(
            "second",
            args(node_pools={"general": AUTOSCALED_POOL}, adopt={"vpc_id": vpc}),
        )

    found_ = blocked(gate, run(program))
    assert "(owned by cluster 'demo') is too" in found_[OWNERSHIP, "second-vpc"]
    assert "(owned by cluster 'second') is too" in found_[OWNERSHIP, "demo-vpc"]


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
