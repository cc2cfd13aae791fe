"""Every argument reaches the provider input it stands for (a typo in a mapping fails here)."""

from __future__ import annotations

from typing import Any

import pytest

from ack_clusters.testing import FakeAlibabaCloud, run_program

from .conftest import CLASSES, POOL, ZONES, form_args

MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"
K = "alicloud:cs/kubernetes:Kubernetes"
POOL_T = "alicloud:cs/nodePool:NodePool"
LB = "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer"
SVC = "kubernetes:core/v1:Service"
ADDON = "alicloud:cs/kubernetesAddon:KubernetesAddon"

# (id, form, argument overrides, resource type, path into its inputs, expected value)
CASES: list[tuple[str, str, dict[str, Any], str, tuple[Any, ...], Any]] = [
    (
        "kubernetes_version",
        "managed",
        {"kubernetes_version": "1.33.3-aliyun.1"},
        MK,
        ("version",),
        "1.33.3-aliyun.1",
    ),
    (
        "service_cidr",
        "serverless",
        {"service_cidr": "172.22.0.0/20"},
        MK,
        ("serviceCidr",),
        "172.22.0.0/20",
    ),
    ("rrsa off", "managed", {"rrsa": False}, MK, ("enableRrsa",), False),
    (
        "log components",
        "managed",
        {"control_plane_logs": {"components": ["apiserver"], "ttl_days": 7, "project": "logs"}},
        MK,
        ("controlPlaneLogComponents",),
        ["apiserver"],
    ),
    (
        "log ttl",
        "managed",
        {"control_plane_logs": {"ttl_days": 7}},
        MK,
        ("controlPlaneLogTtl",),
        "7",
    ),
    (
        "log project",
        "managed",
        {"control_plane_logs": {"project": "k8s-logs"}},
        MK,
        ("controlPlaneLogProject",),
        "k8s-logs",
    ),
    ("logs off", "managed", {"control_plane_logs": None}, MK, ("controlPlaneLogComponents",), None),
    (
        "audit project",
        "managed",
        {"audit_log": {"project": "audit"}},
        MK,
        ("auditLogConfig", "slsProjectName"),
        "audit",
    ),
    (
        "window days",
        "managed",
        {"maintenance_window": {"weekly_period": "Monday,Friday"}},
        MK,
        ("maintenanceWindow", "weeklyPeriod"),
        "Monday,Friday",
    ),
    (
        "window length",
        "managed",
        {"maintenance_window": {"duration_hours": 5}},
        MK,
        ("maintenanceWindow", "duration"),
        "5h",
    ),
    (
        "window start",
        "managed",
        {"maintenance_window": {"maintenance_time": "2025-03-04T01:00:00.000+08:00"}},
        MK,
        ("maintenanceWindow", "maintenanceTime"),
        "2025-03-04T01:00:00.000+08:00",
    ),
    (
        "addon config",
        "managed",
        {"addons": [{"name": "logtail-ds", "config": '{"a":1}', "version": "v1"}]},
        ADDON,
        ("config",),
        '{"a":1}',
    ),
    (
        "addon on a serverless cluster",
        "serverless",
        {"addons": [{"name": "ack-pod-identity-webhook", "version": "v2"}]},
        ADDON,
        ("version",),
        "v2",
    ),
    (
        "disabled addon",
        "managed",
        {"addons": [{"name": "logtail-ds", "disabled": True}]},
        MK,
        ("addons", 1),
        {"name": "logtail-ds", "disabled": True},
    ),
    (
        "disabled addon, dedicated",
        "dedicated",
        {"addons": [{"name": "logtail-ds", "disabled": True}]},
        K,
        ("addons", 1),
        {"name": "logtail-ds", "disabled": True},
    ),
    (
        "flannel node mask",
        "managed",
        {"network_plugin": "flannel", "node_cidr_mask": 25},
        MK,
        ("nodeCidrMask",),
        25,
    ),
    (
        "flannel pod cidr",
        "dedicated",
        {"network_plugin": "flannel", "pod_cidr": "172.30.0.0/16"},
        K,
        ("podCidr",),
        "172.30.0.0/16",
    ),
    (
        "serverless spec",
        "serverless",
        {"cluster_spec": "ack.standard"},
        MK,
        ("clusterSpec",),
        "ack.standard",
    ),
    (
        "master disk",
        "dedicated",
        {"masters": {"disk": {"category": "cloud_ssd", "size": 80}}},
        K,
        ("masterDiskSize",),
        80,
    ),
    (
        "master disk level",
        "dedicated",
        # PL2 needs an ESSD of 461 GiB or more (ECS; ack_clusters.facts.ESSD_MIN_GIB).
        {"masters": {"disk": {"performance_level": "PL2", "size": 500}}},
        K,
        ("masterDiskPerformanceLevel",),
        "PL2",
    ),
    (
        "master types",
        "dedicated",
        {
            "masters": {
                "count": 3,
                "instance_types": ["ecs.g7.xlarge", "ecs.g6.xlarge", "ecs.c7.xlarge"],
            }
        },
        K,
        ("masterInstanceTypes",),
        ["ecs.g7.xlarge", "ecs.g6.xlarge", "ecs.c7.xlarge"],
    ),
    ("master login", "dedicated", {"key_name": "masters-key"}, K, ("keyName",), "masters-key"),
    (
        "pool image",
        "managed",
        {"node_pools": {"p": {**POOL, "image_type": "ContainerOS"}}},
        POOL_T,
        ("imageType",),
        "ContainerOS",
    ),
    (
        "pool max unavailable",
        "managed",
        {"node_pools": {"p": {**POOL, "max_unavailable": 3}}},
        POOL_T,
        ("management", "maxUnavailable"),
        3,
    ),
    (
        "pool auto upgrade off",
        "managed",
        {"node_pools": {"p": {**POOL, "auto_upgrade": False}}},
        POOL_T,
        ("management", "autoUpgrade"),
        False,
    ),
    (
        "pool system disk",
        "managed",
        {
            "node_pools": {
                "p": {
                    **POOL,
                    "system_disk": {"category": "cloud_auto", "size": 200, "kms_key_id": "key-1"},
                }
            }
        },
        POOL_T,
        ("systemDiskKmsKey",),
        "key-1",
    ),
    (
        "pool system disk size",
        "managed",
        {"node_pools": {"p": {**POOL, "system_disk": {"size": 200}}}},
        POOL_T,
        ("systemDiskSize",),
        200,
    ),
    (
        "pool data disk level",
        "dedicated",
        {"node_pools": {"p": {**POOL, "data_disks": [{"size": 500, "performance_level": "PL2"}]}}},
        POOL_T,
        ("dataDisks", 0, "performanceLevel"),
        "PL2",
    ),
    (
        "pool instance types",
        "managed",
        {"node_pools": {"p": {**POOL, "instance_types": ["ecs.g7.large", "ecs.g6.large"]}}},
        POOL_T,
        ("instanceTypes",),
        ["ecs.g7.large", "ecs.g6.large"],
    ),
    (
        "ingress spec",
        "serverless",
        {"ingress": {"spec": "slb.s3.medium"}},
        LB,
        ("loadBalancerSpec",),
        "slb.s3.medium",
    ),
    ("public ingress", "managed", {"ingress": {"public": True}}, LB, ("addressType",), "internet"),
    (
        "ingress service name",
        "managed",
        {"ingress": {"bind_service": True, "service_name": "edge", "service_namespace": "ingress"}},
        SVC,
        ("metadata", "name"),
        "edge",
    ),
    (
        "ingress service namespace",
        "managed",
        {"ingress": {"bind_service": True, "service_namespace": "ingress"}},
        SVC,
        ("metadata", "namespace"),
        "ingress",
    ),
    (
        "ingress selector",
        "dedicated",
        {"ingress": {"bind_service": True, "selector": {"app": "envoy"}}},
        SVC,
        ("spec", "selector"),
        {"app": "envoy"},
    ),
]


def build(form: str, overrides: dict[str, Any]):
    cloud = FakeAlibabaCloud()
    result = run_program(lambda: CLASSES[form]("demo", form_args(form, **overrides)), mock=cloud)
    return result, cloud


@pytest.mark.parametrize(
    ("name", "form", "overrides", "typ", "path", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_argument_reaches_its_provider_input(name, form, overrides, typ, path, expected):
    result, _ = build(form, overrides)
    value: Any = result.one(typ).inputs
    for step in path:
        value = value.get(step) if isinstance(value, dict) else value[step]
    assert value == expected


def test_nat_bandwidth_reaches_every_eip():
    result, _ = build(
        "managed", {"network": {"zones": ZONES[:2], "nat": "per_zone", "nat_eip_bandwidth": 150}}
    )
    eips = result.by_type("alicloud:ecs/eipAddress:EipAddress")
    assert len(eips) == 2 and {e.inputs["bandwidth"] for e in eips} == {"150"}


@pytest.mark.parametrize("form", list(CLASSES))
def test_kubeconfig_minutes_is_the_credential_lifetime(form):
    _, cloud = build(form, {"kubeconfig_minutes": 90})
    ((token, args),) = cloud.invoke_args
    assert token == "alicloud:cs/getClusterCredential:getClusterCredential"
    assert args["temporaryDurationMinutes"] == 90


def test_deletion_protection_off_reaches_every_protected_resource():
    result, _ = build("managed", {"deletion_protection": False, "ingress": {}})
    assert result.one(MK).inputs["deletionProtection"] is False
    assert result.one("alicloud:vpc/network:Network").protect is False
    assert result.one("alicloud:vpc/natGateway:NatGateway").inputs["deletionProtection"] is False
    assert result.one("alicloud:ecs/eipAddress:EipAddress").inputs["deletionProtection"] is False
    assert result.one(LB).inputs["deleteProtection"] == "off"
