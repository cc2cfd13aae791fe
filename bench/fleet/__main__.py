"""N managed clusters, each with an autoscaled and a fixed spot pool (benchmark program)."""

import pulumi

from ack_clusters import ManagedCluster, tune_gc

if pulumi.Config().get_bool("tune_gc") is not False:  # the bench also runs it without
    tune_gc()  # as a program declaring many clusters should (components/process.py)

ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]
count = pulumi.Config().get_int("clusters") or 5

for i in range(count):
    ManagedCluster(
        f"fleet-{i:02d}",
        {
            "network": {"zones": [ZONES[i % 4], ZONES[(i + 1) % 4]], "vpc_cidr": f"10.{i}.0.0/16"},
            "node_pools": {
                "general": {
                    "instance_types": ["ecs.g7.xlarge"],
                    "autoscaling": {"min_size": 2, "max_size": 10},
                    "key_name": "ops",
                },
                "batch": {
                    "instance_types": ["ecs.g7.2xlarge"],
                    "desired_size": 2,
                    "spot": True,
                    "key_name": "ops",
                },
            },
            "tags": {"fleet": "bench"},
        },
    )
