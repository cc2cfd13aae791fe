"""A cluster on the shared network stack: its VPC and vSwitch IDs are outputs of that stack,
checked when known; the CIDRs stay literal because the firewall is planned from them. The
network stack owns egress, so this cluster creates no NAT gateway."""

import pulumi

from ack_clusters import ManagedCluster

network = pulumi.StackReference(pulumi.Config().require("network-stack"))
nodes = network.get_output("node_vswitches")
pods = network.get_output("pod_vswitches")
ZONES = {"cn-hangzhou-i": 0, "cn-hangzhou-j": 1}

cluster = ManagedCluster(
    "shop",
    {
        "network": {
            "zones": list(ZONES),
            "nat": "none",
            "existing_vpc": {
                "id": network.get_output("vpc_id"),
                "cidr": "10.0.0.0/16",
                "node_vswitches": {
                    z: {"id": nodes.apply(lambda v, z=z: v[z]), "cidr": f"10.0.{16 * i}.0/20"}
                    for z, i in ZONES.items()
                },
                "pod_vswitches": {
                    z: {"id": pods.apply(lambda v, z=z: v[z]), "cidr": f"10.0.{64 + 32 * i}.0/19"}
                    for z, i in ZONES.items()
                },
            },
        },
        "node_pools": {
            "web": {
                "instance_types": ["ecs.g7.large"],
                "autoscaling": {"min_size": 2, "max_size": 6},
                "key_name": "ops",
            }
        },
    },
)
pulumi.export("cluster_id", cluster.cluster_id)
pulumi.export("kubeconfig", cluster.kubeconfig)
