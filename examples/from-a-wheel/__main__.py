"""Two clusters in one program: a managed one with a pool, and a serverless one."""

import pulumi

from ack_clusters import ManagedCluster, ServerlessCluster

apps = ManagedCluster(
    "apps",
    {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"], "vpc_cidr": "10.10.0.0/16"},
        "node_pools": {
            "general": {
                "instance_types": ["ecs.g7.large"],
                "autoscaling": {"min_size": 1, "max_size": 3},
                "key_name": "ops",
            }
        },
    },
)
jobs = ServerlessCluster(
    "jobs",
    {"network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"], "vpc_cidr": "10.20.0.0/16"}},
)
pulumi.export("apps_kubeconfig", apps.kubeconfig)
pulumi.export("jobs_cluster_id", jobs.cluster_id)
