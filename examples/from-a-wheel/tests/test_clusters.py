from ack_clusters import ManagedCluster
from ack_clusters.testing import FakeAlibabaCloud, run_program


def test_the_apps_cluster_has_one_autoscaled_pool():
    def program():
        ManagedCluster(
            "apps",
            {
                "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
                "node_pools": {
                    "general": {
                        "instance_types": ["ecs.g7.large"],
                        "autoscaling": {"min_size": 1, "max_size": 3},
                        "key_name": "ops",
                    }
                },
            },
        )

    run = run_program(program, mock=FakeAlibabaCloud(preview=True), preview=True)
    (pool,) = run.by_type("alicloud:cs/nodePool:NodePool")
    assert pool.inputs["scalingConfig"]["maxSize"] == 3
