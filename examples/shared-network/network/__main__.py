"""The shared network: one VPC, a node and a Terway pod vSwitch per zone, and NAT egress for the
whole VPC. Cluster stacks read its outputs through a StackReference (see ../cluster)."""

import pulumi
import pulumi_alicloud as alicloud

ZONES = {"cn-hangzhou-i": 0, "cn-hangzhou-j": 1}

vpc = alicloud.vpc.Network("shared", vpc_name="shared", cidr_block="10.0.0.0/16")
nodes, pods = {}, {}
for zone, i in ZONES.items():
    nodes[zone] = alicloud.vpc.Switch(
        f"nodes-{zone}",
        vswitch_name=f"nodes-{zone}",
        vpc_id=vpc.id,
        zone_id=zone,
        cidr_block=f"10.0.{16 * i}.0/20",
    )
    pods[zone] = alicloud.vpc.Switch(
        f"pods-{zone}",
        vswitch_name=f"pods-{zone}",
        vpc_id=vpc.id,
        zone_id=zone,
        cidr_block=f"10.0.{64 + 32 * i}.0/19",
    )

gateway = alicloud.vpc.NatGateway(
    "egress",
    nat_gateway_name="shared-egress",
    vpc_id=vpc.id,
    vswitch_id=nodes["cn-hangzhou-i"].id,
    nat_type="Enhanced",
    network_type="internet",
    payment_type="PayAsYouGo",
    internet_charge_type="PayByLcu",
)
eip = alicloud.ecs.EipAddress("egress", address_name="shared-egress", bandwidth="100")
alicloud.ecs.EipAssociation("egress", allocation_id=eip.id, instance_id=gateway.id)
for zone in ZONES:
    for role, switch in (("nodes", nodes[zone]), ("pods", pods[zone])):
        alicloud.vpc.SnatEntry(
            f"{role}-{zone}",
            snat_table_id=gateway.snat_table_ids,
            source_vswitch_id=switch.id,
            snat_ip=eip.ip_address,
        )

pulumi.export("vpc_id", vpc.id)
pulumi.export("vpc_cidr", "10.0.0.0/16")
pulumi.export("node_vswitches", {z: s.id for z, s in nodes.items()})
pulumi.export("pod_vswitches", {z: s.id for z, s in pods.items()})
