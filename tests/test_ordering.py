"""Safe ordering in every form: what boots (nodes, masters, ECI pods) waits for egress; the
cluster waits for its firewall and vSwitches. The engine destroys in the reverse order, so the
security group is freed only after the cluster and its network interfaces are gone."""

from __future__ import annotations

import pytest

from .conftest import CLASSES, ZONES, form_args, run

#: What boots first in each form: the type that must wait for egress.
BOOTS_FIRST = {
    "managed": "alicloud:cs/nodePool:NodePool",
    "dedicated": "alicloud:cs/kubernetes:Kubernetes",
    "serverless": "alicloud:cs/managedKubernetes:ManagedKubernetes",
}
EGRESS = (
    "alicloud:vpc/snatEntry:SnatEntry",
    "alicloud:ecs/eipAssociation:EipAssociation",
    "alicloud:vpc/routeEntry:RouteEntry",
    "alicloud:vpc/routeTableAttachment:RouteTableAttachment",
)
CLUSTERS = ("alicloud:cs/managedKubernetes:ManagedKubernetes", "alicloud:cs/kubernetes:Kubernetes")


@pytest.mark.parametrize("form", list(BOOTS_FIRST))
@pytest.mark.parametrize("nat", ["single", "per_zone"])
def test_what_boots_waits_for_every_egress_resource(form, nat):
    booting = BOOTS_FIRST[form]
    network = {"zones": ZONES, "nat": nat}
    r = run(lambda: CLASSES[form]("demo", form_args(form, network=network)))
    egress = {x.urn for t in EGRESS for x in r.by_type(t)}
    assert egress
    for boot in r.by_type(booting):
        assert egress <= set(boot.dependencies), boot.urn


@pytest.mark.parametrize("form", list(BOOTS_FIRST))
def test_the_cluster_waits_for_its_security_group_and_vswitches(form):
    r = run(lambda: CLASSES[form]("demo", form_args(form, network={"zones": ZONES})))
    cluster = next(x for x in r.resources if x.type in CLUSTERS)
    needed = {x.urn for x in r.by_type("alicloud:vpc/switch:Switch")}
    needed.add(r.one("alicloud:ecs/securityGroup:SecurityGroup").urn)
    assert needed <= set(cluster.dependencies)


@pytest.mark.parametrize("form", list(BOOTS_FIRST))
@pytest.mark.parametrize("nat", ["single", "per_zone"])
def test_every_control_plane_waits_for_egress(form, nat):
    """A managed or serverless cluster never sends new_nat_gateway=false (the provider skips
    false), so ACK's own snat_entry default decides; with the SNAT entries already in place,
    either default leaves egress exactly as declared."""
    network = {"zones": ZONES, "nat": nat}
    r = run(lambda: CLASSES[form]("demo", form_args(form, network=network)))
    cluster = next(x for x in r.resources if x.type in CLUSTERS)
    egress = {x.urn for t in EGRESS for x in r.by_type(t)}
    assert egress and egress <= set(cluster.dependencies)
