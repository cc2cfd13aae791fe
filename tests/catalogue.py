"""The catalogue of mistakes users make, and the error each gets.

One table drives both tests/test_catalogue.py and docs/BAD-INPUTS.md; the errors in the document
are produced by running the library. Regenerate the document with:

    python -m tests.catalogue > docs/BAD-INPUTS.md
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ack_clusters import DriftGuard, InvalidArguments
from ack_offline.preview import main as ack_preview

from .conftest import CLASSES, MINIMAL_ARGS, POOL, ROOT, ZONES, form_args

#: Each form's smallest valid arguments, with the pool named as the docs name it.
BASE: dict[str, dict[str, Any]] = {
    kind: form_args(kind, **({"node_pools": {"web": POOL}} if "node_pools" in args else {}))
    for kind, args in MINIMAL_ARGS.items()
}
#: DriftGuard's smallest valid arguments (an account's shared guard, docs/CONSOLE-DRIFT.md).
BASE["guard"] = {
    "deploy_identity": {"kind": "role", "name": "ci-deploy", "principal_id": "300000000000001"},
    "attach_to_groups": ["ops"],
}
COMPONENTS: dict[str, Any] = {**CLASSES, "guard": DriftGuard}


@dataclass
class Mistake:
    id: str
    what: str
    form: str  # managed | serverless | dedicated | guard | config
    change: dict[str, Any]  # merged into the form's base arguments (or the stack's cluster key)
    path: str  # the field path the error names ("" for a whole-object check)
    text: str  # a fragment of the message
    name: str = "demo"
    raw_stack: str | None = field(default=None, repr=False)  # config cases: a stack file body
    #: The program's config, for component cases that depend on it (the region).
    config: dict[str, str] = field(default_factory=dict)
    #: What the document shows of `change`, where the value itself is too long to print.
    shown: str | None = None


@dataclass
class Warned:
    """A value that goes stale rather than wrong: the component builds, and warns."""

    id: str
    what: str
    form: str
    change: dict[str, Any]
    text: str  # a fragment of the warning
    config: dict[str, str] = field(default_factory=dict)


CLUSTER_KEY = "  ack-clusters:cluster: {kind: managed, name: demo, network: {zones: [%s]}}\n"


def net(**kw: Any) -> dict[str, Any]:
    return {"network": {"zones": ZONES[:2], **kw}}


def pool(**kw: Any) -> dict[str, Any]:
    return {"node_pools": {"web": {**POOL, **kw}}}


CATALOGUE: list[Mistake] = [
    # --- CIDRs ----------------------------------------------------------------------------
    Mistake(
        "M1",
        "A VPC CIDR that is not a CIDR",
        "managed",
        net(vpc_cidr="10.0.0/16"),
        "network.vpc_cidr",
        "not a valid VPC CIDR",
    ),
    Mistake(
        "M2",
        "Host bits set in the VPC CIDR",
        "managed",
        net(vpc_cidr="10.0.0.1/16"),
        "network.vpc_cidr",
        "host bits",
    ),
    Mistake(
        "M3",
        "A public range as VPC CIDR",
        "managed",
        net(vpc_cidr="8.8.0.0/16"),
        "network.vpc_cidr",
        "not a private range",
    ),
    Mistake(
        "M4",
        "A VPC smaller than Alibaba allows",
        "managed",
        net(vpc_cidr="10.0.0.0/26"),
        "network.vpc_cidr",
        "Alibaba Cloud accepts /8 to /24",
    ),
    Mistake(
        "M5",
        "A vSwitch larger than Alibaba allows",
        "managed",
        net(vpc_cidr="10.0.0.0/8", node_vswitch_cidrs={ZONES[0]: "10.0.0.0/15"}),
        f"network.node_vswitch_cidrs.{ZONES[0]}",
        "accepts /16 to /29",
    ),
    Mistake(
        "M6",
        "A vSwitch outside the VPC",
        "managed",
        net(
            vpc_cidr="10.1.0.0/16",
            node_vswitch_cidrs={ZONES[0]: "10.2.0.0/24", ZONES[1]: "10.1.1.0/24"},
        ),
        f"network.node_vswitch_cidrs.{ZONES[0]}",
        "outside the VPC range",
    ),
    Mistake(
        "M7",
        "Overlapping vSwitches",
        "managed",
        net(
            vpc_cidr="10.1.0.0/16",
            node_vswitch_cidrs={ZONES[0]: "10.1.0.0/23", ZONES[1]: "10.1.1.0/24"},
        ),
        f"network.node_vswitch_cidrs.{ZONES[1]}",
        "vSwitches must be disjoint",
    ),
    Mistake(
        "M8",
        "A Flannel pod CIDR inside the VPC",
        "managed",
        {"network_plugin": "flannel", "pod_cidr": "10.0.0.0/16"},
        "pod_cidr",
        "overlaps the VPC",
    ),
    Mistake(
        "M9",
        "A Service CIDR inside the VPC",
        "managed",
        {"service_cidr": "10.0.128.0/20"},
        "service_cidr",
        "overlaps the VPC",
    ),
    Mistake(
        "M10",
        "Pod and Service CIDRs overlapping",
        "managed",
        {"network_plugin": "flannel", "pod_cidr": "172.16.0.0/12", "service_cidr": "172.21.0.0/20"},
        "service_cidr",
        "overlaps pod_cidr",
    ),
    Mistake(
        "M11",
        "A Service CIDR of the wrong size",
        "managed",
        {"service_cidr": "172.21.0.0/26"},
        "service_cidr",
        "accepts /16 to /24",
    ),
    # --- zones ------------------------------------------------------------------------------
    Mistake(
        "M12", "No zones", "managed", {"network": {"zones": []}}, "network.zones", "at least 1 item"
    ),
    Mistake(
        "M13",
        "A zone listed twice",
        "managed",
        {"network": {"zones": [ZONES[0], ZONES[0]]}},
        "network.zones",
        "must be distinct",
    ),
    Mistake(
        "M14",
        "Something that is not a zone ID",
        "managed",
        {"network": {"zones": ["hangzhou"]}},
        "network.zones.0",
        "not an Alibaba Cloud zone ID",
    ),
    Mistake(
        "M15",
        "More zones than vSwitch CIDRs",
        "managed",
        net(vpc_cidr="10.1.0.0/16", node_vswitch_cidrs={ZONES[0]: "10.1.0.0/24"}),
        "network.node_vswitch_cidrs",
        "no entry for zone(s) cn-hangzhou-j",
    ),
    Mistake(
        "M16",
        "An existing VPC without a vSwitch for a zone",
        "managed",
        {
            "network": {
                "zones": ZONES[:2],
                "existing_vpc": {
                    "id": "vpc-abc",
                    "cidr": "10.5.0.0/16",
                    "node_vswitches": {ZONES[0]: {"id": "vsw-a", "cidr": "10.5.0.0/20"}},
                    "pod_vswitches": {ZONES[0]: {"id": "vsw-b", "cidr": "10.5.64.0/18"}},
                },
            }
        },
        "network.existing_vpc.node_vswitches",
        "no entry for zone(s) cn-hangzhou-j",
    ),
    Mistake(
        "M17",
        "More zones than the VPC has room for",
        "managed",
        {"network": {"zones": ZONES, "vpc_cidr": "10.0.0.0/18"}},
        "network.vpc_cidr",
        "zone slot(s)",
    ),
    Mistake(
        "M18",
        "A new VPC's CIDR together with an existing VPC",
        "managed",
        {
            "network": {
                "zones": ZONES[:1],
                "vpc_cidr": "10.0.0.0/16",
                "existing_vpc": {"id": "vpc-abc", "cidr": "10.0.0.0/16", "node_vswitches": {}},
            }
        },
        "network",
        "cannot be combined with existing_vpc",
    ),
    # --- node pools -------------------------------------------------------------------------
    Mistake(
        "M19",
        "Autoscaling minimum above maximum",
        "managed",
        pool(desired_size=None, autoscaling={"min_size": 5, "max_size": 2}),
        "node_pools.web.autoscaling",
        "must not exceed max_size",
    ),
    Mistake(
        "M20",
        "Desired size outside the autoscaling range",
        "managed",
        pool(
            desired_size=9, autoscaling={"min_size": 1, "max_size": 3}, ignore_scaling_changes=True
        ),
        "node_pools.web",
        "must lie within",
    ),
    Mistake(
        "M21",
        "Desired size on an autoscaled pool without ignoring the autoscaler",
        "managed",
        pool(autoscaling={"min_size": 1, "max_size": 3}),
        "node_pools.web",
        "set ignore_scaling_changes=true",
    ),
    Mistake(
        "M22",
        "A fixed pool without a size",
        "managed",
        pool(desired_size=None),
        "node_pools.web",
        "set desired_size",
    ),
    Mistake(
        "M23",
        "A node pool name Alibaba would reject",
        "managed",
        {"node_pools": {"Web_Pool": POOL}},
        "node_pools.Web_Pool.[key]",
        "should match pattern",
    ),
    Mistake(
        "M24",
        "No node login",
        "managed",
        pool(key_name=None),
        "node_pools.web",
        "exactly one of key_name and password",
    ),
    Mistake(
        "M25",
        "A password on a managed node pool",
        "managed",
        pool(key_name=None, password="Sup3r-Secret!"),
        "node_pools.web",
        "accept key_name only",
    ),
    Mistake(
        "M26",
        "A weak node password (never echoed back)",
        "managed",
        pool(key_name=None, password="weakpass", auto_repair=False, auto_upgrade=False),
        "node_pools.web.password",
        "8-30 characters",
    ),
    Mistake(
        "M27",
        "Not an ECS instance type",
        "managed",
        pool(instance_types=["g7.large"]),
        "node_pools.web.instance_types.0",
        "not an ECS instance type",
    ),
    # --- cluster features -------------------------------------------------------------------
    Mistake(
        "M28",
        "An unknown cluster spec",
        "managed",
        {"cluster_spec": "ack.pro.mega"},
        "cluster_spec",
        "Input should be",
    ),
    Mistake(
        "M29",
        "A Pro-only feature on a standard cluster",
        "managed",
        {"cluster_spec": "ack.standard", "secrets_encryption_kms_key_id": "key-1"},
        "",
        "needs a Pro cluster_spec",
    ),
    Mistake(
        "M30",
        "Auto-upgrade without a maintenance window",
        "managed",
        {"auto_upgrade_channel": "stable"},
        "",
        "only works inside a maintenance window",
    ),
    Mistake(
        "M31",
        "A pinned version with auto-upgrade",
        "managed",
        {
            "auto_upgrade_channel": "stable",
            "kubernetes_version": "1.33.3-aliyun.1",
            "maintenance_window": {},
        },
        "",
        "conflicts with auto_upgrade_channel",
    ),
    Mistake(
        "M32",
        "Choosing the pod network through addons",
        "managed",
        {"addons": [{"name": "terway-eniip"}]},
        "",
        "use network_plugin instead",
    ),
    Mistake(
        "M33",
        "A Flannel pod CIDR on a Terway cluster",
        "managed",
        {"pod_cidr": "172.20.0.0/16"},
        "",
        "pod_cidr is for Flannel",
    ),
    Mistake(
        "M34",
        "SSH open to the internet",
        "managed",
        {
            "security": {
                "extra_ingress": [
                    {
                        "description": "ssh",
                        "protocol": "tcp",
                        "port_range": "22/22",
                        "cidr": "0.0.0.0/0",
                    }
                ]
            }
        },
        "security.extra_ingress.0",
        "SSH (port 22) to 0.0.0.0/0 is refused",
    ),
    Mistake(
        "M35",
        "A reserved tag prefix",
        "managed",
        {"tags": {"acs:owner": "me"}},
        "tags",
        "cannot start with 'aliyun' or 'acs:'",
    ),
    Mistake(
        "M36",
        "More tags than fit beside the ownership tags",
        "managed",
        {"tags": {f"t{i}": "x" for i in range(19)}},
        "tags",
        "at most 18 fit",
    ),
    Mistake(
        "M37",
        "A cluster name Alibaba would reject",
        "managed",
        {},
        "name",
        "not a valid cluster name",
        name="Demo_Cluster",
    ),
    Mistake(
        "M38",
        "An argument that does not exist",
        "managed",
        {"node_count": 3},
        "node_count",
        "unknown argument 'node_count'",
    ),
    Mistake(
        "M39",
        "Adopting node pools without the cluster",
        "managed",
        {"adopt": {"node_pool_ids": {"web": "np" + "0" * 32}}},
        "",
        "need adopt.cluster_id",
    ),
    # --- dedicated --------------------------------------------------------------------------
    Mistake(
        "D1",
        "Two masters",
        "dedicated",
        {"masters": {"count": 2}},
        "masters.count",
        "3 or 5 masters",
    ),
    Mistake(
        "D2",
        "Four masters",
        "dedicated",
        {"masters": {"count": 4}},
        "masters.count",
        "3 or 5 masters",
    ),
    Mistake(
        "D3",
        "Masters spread over fewer than 3 zones",
        "dedicated",
        {"network": {"zones": ZONES[:2]}},
        "",
        "list at least 3 zones",
    ),
    Mistake(
        "D4",
        "Fewer master zones than masters",
        "dedicated",
        {"masters": {"count": 5, "zones": ZONES}},
        "masters",
        "5 masters need 5 master zones",
    ),
    Mistake(
        "D5",
        "A managed-only feature on a dedicated cluster",
        "dedicated",
        {"audit_log": {"enabled": True}},
        "audit_log",
        "is an argument of ManagedClusterArgs and ServerlessClusterArgs, not of "
        "DedicatedClusterArgs",
    ),
    # --- serverless -------------------------------------------------------------------------
    Mistake(
        "S1",
        "Node pools on a serverless cluster",
        "serverless",
        {"node_pools": {"web": POOL}},
        "",
        "node_pools: a ServerlessCluster runs every pod on ECI",
    ),
    Mistake(
        "S2",
        "KMS Secret encryption on Serverless Basic",
        "serverless",
        {"cluster_spec": "ack.standard", "secrets_encryption_kms_key_id": "key-1"},
        "",
        "needs cluster_spec ack.pro.small",
    ),
    # --- stack config -----------------------------------------------------------------------
    # --- Kubernetes syntax --------------------------------------------------------------------
    Mistake(
        "M40",
        "A node label in the namespace the kubelet reserves",
        "managed",
        pool(labels={"node-role.kubernetes.io/worker": ""}),
        "node_pools.web.labels.node-role.kubernetes.io/worker.[key]",
        "the kubelet refuses node labels",
    ),
    Mistake(
        "M41",
        "A label key that is not a label key",
        "managed",
        pool(labels={"-tier": "web"}),
        "node_pools.web.labels.-tier.[key]",
        "is not a Kubernetes label key",
    ),
    Mistake(
        "M42",
        "A label value with a space",
        "managed",
        pool(labels={"tier": "web tier"}),
        "node_pools.web.labels.tier",
        "is not a Kubernetes label value",
    ),
    Mistake(
        "M43",
        "A label value longer than 63 characters",
        "managed",
        pool(labels={"commit": "a" * 64}),
        "node_pools.web.labels.commit",
        "at most 63 characters",
    ),
    Mistake(
        "M44",
        "A taint key with an empty name",
        "managed",
        pool(taints=[{"key": "example.com/", "value": "gpu"}]),
        "node_pools.web.taints.0.key",
        "is not a Kubernetes label key",
    ),
    Mistake(
        "M45",
        "A taint value Kubernetes refuses",
        "managed",
        pool(taints=[{"key": "dedicated", "value": "gpu!"}]),
        "node_pools.web.taints.0.value",
        "is not a Kubernetes label value",
    ),
    Mistake(
        "M46",
        "The same taint key and effect twice",
        "managed",
        pool(taints=[{"key": "gpu", "value": "a"}, {"key": "gpu", "value": "b"}]),
        "node_pools.web.taints",
        "unique by key and effect",
    ),
    Mistake(
        "M47",
        "A misspelt taint effect",
        "managed",
        pool(taints=[{"key": "gpu", "effect": "NoScheduled"}]),
        "node_pools.web.taints.0.effect",
        "Input should be",
    ),
    Mistake(
        "M48",
        "An ingress Service selector key with a space",
        "managed",
        {"ingress": {"bind_service": True, "selector": {"app name": "ingress"}}},
        "ingress.selector.app name.[key]",
        "is not a Kubernetes label key",
    ),
    Mistake(
        "M77",
        "An ingress Service bound in kube-system under the name of one of ACK's own",
        "managed",
        {"ingress": {"bind_service": True, "service_name": "kube-dns"}},
        "ingress.service_name",
        "can only be ACK's ingress controller Service",
    ),
    # --- ACK and ECS facts ----------------------------------------------------------------------
    Mistake(
        "M49",
        "'latest' as the Kubernetes version",
        "managed",
        {"kubernetes_version": "latest"},
        "kubernetes_version",
        "is not an ACK Kubernetes version",
    ),
    Mistake(
        "M50",
        "A Kubernetes version without patch and ACK suffix",
        "managed",
        {"kubernetes_version": "1.33"},
        "kubernetes_version",
        "give the full version ACK offers",
    ),
    Mistake(
        "M51",
        "A maintenance time without a date and offset",
        "managed",
        {"maintenance_window": {"maintenance_time": "03:00"}},
        "maintenance_window.maintenance_time",
        "is not an RFC 3339 time",
    ),
    Mistake(
        "M52",
        "A system disk larger than ECS allows",
        "managed",
        pool(system_disk={"size": 4096}),
        "node_pools.web.system_disk",
        "a system disk takes 20-2048 GiB",
    ),
    Mistake(
        "M53",
        "A data disk smaller than ACK allows",
        "managed",
        pool(data_disks=[{"size": 30}]),
        "node_pools.web.data_disks",
        "takes 40-32767 GiB",
    ),
    Mistake(
        "M54",
        "A PL3 ESSD below the size PL3 needs",
        "managed",
        pool(data_disks=[{"size": 500, "performance_level": "PL3"}]),
        "node_pools.web.data_disks.0",
        "needs at least 1261 GiB",
    ),
    Mistake(
        "M55",
        "A performance level on a disk category that has none",
        "managed",
        pool(system_disk={"category": "cloud_ssd", "performance_level": "PL1"}),
        "node_pools.web.system_disk",
        "has no performance levels",
    ),
    Mistake(
        "M56",
        "An image type ACK does not offer",
        "managed",
        pool(image_type="Ubuntu22"),
        "node_pools.web.image_type",
        "is not an ACK node image type",
    ),
    Mistake(
        "M57",
        "A KMS key given by name instead of ID",
        "managed",
        {"secrets_encryption_kms_key_id": "my-secrets-key"},
        "secrets_encryption_kms_key_id",
        "is not a KMS key ID",
    ),
    Mistake(
        "M58",
        "A disk KMS key given as an alias",
        "managed",
        pool(system_disk={"kms_key_id": "alias/disks"}),
        "node_pools.web.system_disk.kms_key_id",
        "is not a KMS key ID",
    ),
    Mistake(
        "M59",
        "Addon configuration that is not JSON",
        "managed",
        {"addons": [{"name": "ack-node-problem-detector", "config": "{enabled: true}"}]},
        "addons.0.config",
        "not valid JSON",
    ),
    Mistake(
        "M60",
        "A blank key pair name, which satisfies 'key or password' in name only",
        "managed",
        pool(key_name="   "),
        "node_pools.web.key_name",
        "is not an ECS key pair name",
    ),
    Mistake(
        "M61",
        "A Flannel pod range that cannot hold the nodes the autoscaler may add",
        "managed",
        {
            "network_plugin": "flannel",
            "pod_cidr": "172.20.0.0/20",
            "node_cidr_mask": 24,
            "node_pools": {
                "web": {
                    **POOL,
                    "desired_size": None,
                    "autoscaling": {"min_size": 1, "max_size": 1000},
                }
            },
        },
        "",
        "has pod ranges for 16 nodes, but the cluster may grow to 1000",
    ),
    Mistake(
        "D6",
        "A weak master password",
        "dedicated",
        {"key_name": None, "password": "weakpass"},
        "password",
        "password must be 8-30 characters",
    ),
    Mistake(
        "D7",
        "A master key pair name that starts with a digit",
        "dedicated",
        {"key_name": "1ops"},
        "key_name",
        "is not an ECS key pair name",
    ),
    # --- Regions, zones, ownership, addresses -------------------------------------------------
    Mistake(
        "M62",
        "A finance-region zone among a region's zones (it shares the prefix)",
        "managed",
        net(zones=["cn-hangzhou-i", "cn-hangzhou-finance-b"]),
        "network.zones",
        "must be in one region",
    ),
    Mistake(
        "M63",
        "A zone ID that is not one",
        "managed",
        net(zones=["cn-hangzhou-1", "cn-hangzhou-j"]),
        "network.zones.0",
        "is not an Alibaba Cloud zone ID",
    ),
    Mistake(
        "M64",
        "A user tag that claims another owner",
        "managed",
        {"tags": {"ack.pulumi.io/cluster": "someone-else"}},
        "tags",
        "are the library's ownership tags",
    ),
    Mistake(
        "M65",
        "Loopback as a firewall source",
        "managed",
        {
            "security": {
                "extra_ingress": [
                    {
                        "description": "local",
                        "protocol": "tcp",
                        "port_range": "443/443",
                        "cidr": "127.0.0.0/8",
                    }
                ]
            }
        },
        "security.extra_ingress.0.cidr",
        "is a loopback range",
    ),
    Mistake(
        "M66",
        "Link-local as a firewall source",
        "managed",
        {
            "security": {
                "extra_ingress": [
                    {
                        "description": "metadata",
                        "protocol": "tcp",
                        "port_range": "80/80",
                        "cidr": "169.254.0.0/16",
                    }
                ]
            }
        },
        "security.extra_ingress.0.cidr",
        "is a link-local range",
    ),
    Mistake(
        "M67",
        "SSH open to the whole internet in two halves",
        "managed",
        {
            "security": {
                "extra_ingress": [
                    {
                        "description": "a",
                        "protocol": "tcp",
                        "port_range": "22/22",
                        "cidr": "0.0.0.0/1",
                    },
                    {
                        "description": "b",
                        "protocol": "tcp",
                        "port_range": "22/22",
                        "cidr": "128.0.0.0/1",
                    },
                ]
            }
        },
        "security.extra_ingress",
        "together these rules open SSH",
    ),
    Mistake(
        "M68",
        "A version or config on a disabled addon, which would never be applied",
        "managed",
        {"addons": [{"name": "logtail-ds", "disabled": True, "version": "v1.0.0"}]},
        "addons.0",
        "would never be applied",
    ),
    Mistake(
        "M69",
        "An addon name that is not ACK's spelling",
        "serverless",
        {"addons": [{"name": "Logtail_DS"}]},
        "addons.0.name",
        "should match pattern",
    ),
    Mistake(
        "M70",
        "Autoscaler settings with no autoscaled pool to size",
        "managed",
        {"autoscaler": {"utilization_threshold": 0.6}},
        "",
        "nothing for the cluster autoscaler to size",
    ),
    Mistake(
        "M71",
        "Turning off an autoscaler default the provider never sends",
        "managed",
        {
            "node_pools": {
                "web": {**POOL, "desired_size": None, "autoscaling": {"min_size": 1, "max_size": 3}}
            },
            "autoscaler": {"skip_nodes_with_system_pods": False},
        },
        "autoscaler",
        "false is never sent",
    ),
    Mistake(
        "M72",
        "An ARM instance type with an x86 image",
        "managed",
        pool(instance_types=["ecs.g8y.large"]),
        "node_pools.web",
        "are ARM instance types",
    ),
    Mistake(
        "M73",
        "A subscription pool that autoscales",
        "managed",
        pool(desired_size=None, autoscaling={"min_size": 1, "max_size": 3}, prepaid={"period": 1}),
        "node_pools.web",
        "prepaid pools cannot autoscale",
    ),
    Mistake(
        "M74",
        "A spot price cap that misses one of the pool's instance types",
        "managed",
        pool(
            instance_types=["ecs.g7.large", "ecs.g7.xlarge"],
            spot=True,
            spot_price_limits={"ecs.g7.large": 0.3},
        ),
        "node_pools.web",
        "no price cap for ecs.g7.xlarge",
    ),
    Mistake(
        "M75",
        "A pool zone the cluster does not have",
        "managed",
        pool(zones=["cn-hangzhou-k"]),
        "",
        "not in network.zones",
    ),
    Mistake(
        "M76",
        "Attaching an existing (not owned) VPC to CEN from the cluster",
        "managed",
        net(
            cen={"instance_id": "cen-abc123", "transit_router_id": "tr-xyz789"},
            existing_vpc={
                "id": "vpc-1",
                "cidr": "10.0.0.0/16",
                "node_vswitches": {
                    "cn-hangzhou-i": {"id": "vsw-1", "cidr": "10.0.0.0/20"},
                    "cn-hangzhou-j": {"id": "vsw-2", "cidr": "10.0.16.0/20"},
                },
                "pod_vswitches": {
                    "cn-hangzhou-i": {"id": "vsw-3", "cidr": "10.0.64.0/19"},
                    "cn-hangzhou-j": {"id": "vsw-4", "cidr": "10.0.96.0/19"},
                },
            },
        ),
        "network",
        "the stack that owns the VPC attaches it",
    ),
    Mistake(
        "S3",
        "Multicast as a firewall source",
        "serverless",
        {
            "security": {
                "extra_ingress": [
                    {
                        "description": "mdns",
                        "protocol": "udp",
                        "port_range": "5353/5353",
                        "cidr": "224.0.0.0/4",
                    }
                ]
            }
        },
        "security.extra_ingress.0.cidr",
        "is a multicast range",
    ),
    # --- placement, keys and secrets in code (issue 29) ------------------------------------
    Mistake(
        "M78",
        "A misspelt region in the program's config (code-driven program)",
        "managed",
        {},
        "alicloud:region",
        "did you mean 'cn-hangzhou'?",
        config={"alicloud:region": "cn-hangzou"},
    ),
    Mistake(
        "M79",
        "Zones of another region than the program's",
        "managed",
        {},
        "network.zones.0",
        "cn-hangzhou-i is not a zone of region cn-shanghai",
        config={"alicloud:region": "cn-shanghai"},
    ),
    Mistake(
        "M80",
        "A misspelt zone",
        "managed",
        net(zones=["cn-hangzhou-i", "cn-hangzou-j"]),
        "network.zones.1",
        "did you mean 'cn-hangzhou-j'?",
    ),
    Mistake(
        "M81",
        "A misspelt argument key",
        "managed",
        {"nodepools": {"web": POOL}},
        "nodepools",
        "unknown argument 'nodepools'; did you mean 'node_pools'?",
    ),
    Mistake(
        "M82",
        "A misspelt key inside a node pool",
        "managed",
        pool(desired=3),
        "node_pools.web.desired",
        "did you mean 'desired_size'?",
    ),
    # --- issue 30: what ECS and the provider refuse or drop ----------------------------------
    Mistake(
        "M83",
        "A key pair on a Windows pool",
        "managed",
        pool(image_type="Windows", system_disk={"size": 60}),
        "node_pools.web",
        "ECS refuses key pairs on Windows instances",
    ),
    Mistake(
        "M84",
        "A Windows pool's system disk smaller than the image",
        "managed",
        pool(
            image_type="Windows",
            key_name=None,
            password="Sup3r-Secret!",
            auto_repair=False,
            auto_upgrade=False,
            system_disk={"size": 30},
        ),
        "node_pools.web",
        "Windows Server images are 40 GiB, not 30",
    ),
    Mistake(
        "M93",
        "A Windows password that starts with '/' (never echoed back)",
        "managed",
        pool(
            image_type="Windows",
            key_name=None,
            password="/Sup3r-Secret!",
            auto_repair=False,
            auto_upgrade=False,
            system_disk={"size": 60},
        ),
        "node_pools.web",
        "a Windows password cannot start with '/'",
    ),
    Mistake(
        "M85",
        "A node password with a space (never echoed back)",
        "managed",
        pool(key_name=None, password="Sup3r Secret!", auto_repair=False, auto_upgrade=False),
        "node_pools.web.password",
        "holds a character ECS does not allow",
    ),
    Mistake(
        "M86",
        "User data over ECS's 16 KB",
        "managed",
        pool(user_data="#!/bin/sh\n" + "echo padding padding padding\n" * 600),
        "node_pools.web.user_data",
        "ECS takes at most 16,384 before Base64 encoding",
        shown="node_pools:\n  web:\n    ...\n    user_data: |  # 17,410 bytes\n"
        "      #!/bin/sh\n      echo padding padding padding\n      ...",
    ),
    Mistake(
        "M87",
        "User data already in Base64 (it would be encoded twice)",
        "managed",
        pool(user_data="IyEvYmluL3NoCmVjaG8gaGVsbG8K"),
        "node_pools.web.user_data",
        "user_data is already Base64",
    ),
    Mistake(
        "M88",
        "A scaling policy on a pool without autoscaling (the provider drops it)",
        "managed",
        pool(scaling_policy="recycle"),
        "node_pools.web",
        "csNodepoolScalingPolicyDiffSuppressFunc",
    ),
    Mistake(
        "M89",
        "node_cidr_mask on a Terway cluster (ACK ignores it)",
        "managed",
        {"node_cidr_mask": 25},
        "",
        "node_cidr_mask sizes Flannel's per-node pod range",
    ),
    Mistake(
        "M90",
        "RRSA on a Kubernetes version below the provider's minimum",
        "managed",
        {"kubernetes_version": "1.20.11-aliyun.1"},
        "",
        "rrsa needs Kubernetes 1.22.3 or later",
    ),
    Mistake(
        "M91",
        "goatscaler on Kubernetes 1.22",
        "managed",
        {
            "kubernetes_version": "1.22.15-aliyun.1",
            "node_pools": {
                "web": {**POOL, "desired_size": None, "autoscaling": {"min_size": 1, "max_size": 3}}
            },
            "autoscaler": {"scaler_type": "goatscaler"},
        },
        "",
        "goatscaler needs Kubernetes 1.23 or later",
    ),
    Mistake(
        "M92",
        "'latest' as an addon version",
        "managed",
        {"addons": [{"name": "nginx-ingress-controller", "version": "latest"}]},
        "addons.0.version",
        "never a channel such as 'latest'",
    ),
    Mistake(
        "D8",
        "A performance level on a master disk that is not an ESSD (the provider drops it)",
        "dedicated",
        {"masters": {"disk": {"category": "cloud_ssd", "performance_level": "PL1"}}},
        "masters.disk",
        "masterDiskPerformanceLevelDiffSuppressFunc",
    ),
    Mistake(
        "D9",
        "A master ESSD below its performance level's minimum size",
        "dedicated",
        {"masters": {"disk": {"size": 200, "performance_level": "PL2"}}},
        "masters.disk",
        "needs at least 461 GiB, not 200",
    ),
    Mistake(
        "D10",
        "A master password with a symbol ECS does not allow (never echoed back)",
        "dedicated",
        {"key_name": None, "password": "Sup3r-Secret\u00a7"},
        "password",
        "holds a character ECS does not allow",
    ),
    Mistake(
        "C1",
        "No cluster in the stack file",
        "config",
        {},
        "ack-clusters:cluster",
        "is not set",
        raw_stack="config:\n  alicloud:region: cn-hangzhou\n",
    ),
    Mistake(
        "C2",
        "A misspelled key",
        "config",
        {"kind": "managed", "name": "demo", "network": {"zones": ZONES[:1]}, "node_pool": {}},
        "ack-clusters:cluster.node_pool",
        "unknown argument 'node_pool'; did you mean 'node_pools'?",
    ),
    Mistake(
        "C3",
        "An unknown cluster kind",
        "config",
        {"kind": "edge", "name": "demo", "network": {"zones": ZONES[:1]}},
        "ack-clusters:cluster.kind",
        "Input should be",
    ),
    Mistake(
        "C4",
        "A zone outside the stack's region",
        "config",
        {"kind": "managed", "name": "demo", "network": {"zones": ["cn-shanghai-e"]}},
        "ack-clusters:cluster.network.zones.0",
        "is not a zone of region cn-hangzhou",
    ),
    Mistake(
        "C5",
        "The same node pool twice",
        "config",
        {},
        "",
        "duplicate key 'web'",
        raw_stack=(
            "config:\n  alicloud:region: cn-hangzhou\n  ack-clusters:cluster:\n"
            "    kind: managed\n    name: demo\n    network: {zones: [cn-hangzhou-i]}\n"
            "    node_pools:\n"
            "      web: {instance_types: [ecs.g7.large], desired_size: 1, key_name: k}\n"
            "      web: {instance_types: [ecs.g7.xlarge], desired_size: 2, key_name: k}\n"
        ),
    ),
    Mistake(
        "C6",
        "A misspelt region",
        "config",
        {},
        "alicloud:region",
        "did you mean 'cn-hangzhou'?",
        raw_stack="config:\n  alicloud:region: cn-hangzou\n" + CLUSTER_KEY % "cn-hangzou-i",
    ),
    Mistake(
        "C7",
        "A misspelt top-level key of the project",
        "config",
        {},
        "ack-clusters:clusterr",
        "did you mean ack-clusters:cluster?",
        raw_stack="config:\n  alicloud:region: cn-hangzhou\n  ack-clusters:clusterr: {}\n"
        + CLUSTER_KEY % "cn-hangzhou-i",
    ),
    Mistake(
        "C8",
        "A provider setting the provider does not have",
        "config",
        {},
        "alicloud:regoin",
        "did you mean alicloud:region?",
        raw_stack="config:\n  alicloud:regoin: cn-hangzhou\n  alicloud:region: cn-hangzhou\n"
        + CLUSTER_KEY % "cn-hangzhou-i",
    ),
    # --- What teams build around a cluster (docs/AROUND-A-CLUSTER.md) ---------------------
    Mistake(
        "H1",
        "An access grant naming the principal by name instead of its RAM ID",
        "managed",
        {"access": {"grants": {"alice": {"ram_user_id": "alice", "roles": [{"role": "dev"}]}}}},
        "access.grants.alice.ram_user_id",
        "not a RAM user or role ID",
    ),
    Mistake(
        "H2",
        "An access grant with both a RAM user and a RAM role",
        "managed",
        {
            "access": {
                "grants": {
                    "ci": {"ram_user_id": "2001", "ram_role_id": "3001", "roles": [{"role": "ops"}]}
                }
            }
        },
        "access.grants.ci",
        "exactly one of ram_user_id and ram_role_id",
    ),
    Mistake(
        "H3",
        "A Kubernetes ClusterRole given as one of ACK's predefined roles",
        "managed",
        {
            "access": {
                "grants": {"ci": {"ram_role_id": "3001", "roles": [{"role": "cluster-admin"}]}}
            }
        },
        "access.grants.ci.roles.0",
        "set custom: true",
    ),
    Mistake(
        "H4",
        "Two grants for one principal (removing one would revoke the other's roles)",
        "managed",
        {
            "access": {
                "grants": {
                    "alice": {"ram_user_id": "2001", "roles": [{"role": "dev"}]},
                    "alice-ops": {"ram_user_id": "2001", "roles": [{"role": "ops"}]},
                }
            }
        },
        "access.grants",
        "same principal",
    ),
    Mistake(
        "H5",
        "An app subnet overlapping a cluster vSwitch",
        "managed",
        {"app_subnets": {"db": {"zone": ZONES[0], "cidr": "10.0.32.0/24"}}},
        "app_subnets.db",
        "overlaps the node vSwitch",
    ),
    Mistake(
        "H6",
        "A planned app subnet in an existing VPC (its free ranges are not known)",
        "managed",
        {
            "network": {
                "zones": ZONES[:2],
                "existing_vpc": {
                    "id": "vpc-shared",
                    "cidr": "10.0.0.0/16",
                    "node_vswitches": {
                        ZONES[0]: {"id": "vsw-a", "cidr": "10.0.0.0/24"},
                        ZONES[1]: {"id": "vsw-b", "cidr": "10.0.1.0/24"},
                    },
                    "pod_vswitches": {
                        ZONES[0]: {"id": "vsw-c", "cidr": "10.0.64.0/19"},
                        ZONES[1]: {"id": "vsw-d", "cidr": "10.0.96.0/19"},
                    },
                },
            },
            "app_subnets": {"db": {"zone": ZONES[0]}},
        },
        "app_subnets.db.cidr",
        "give the app subnet's cidr",
    ),
    Mistake(
        "H7",
        "An app subnet in another region than the cluster",
        "managed",
        {"app_subnets": {"db": {"zone": "cn-shanghai-b"}}},
        "",
        "not in the cluster's region",
    ),
    Mistake(
        "H8",
        "A private zone name with one label",
        "managed",
        {"private_zones": {"internal": {"zone_name": "internal"}}},
        "private_zones.internal.zone_name",
        "at least two labels",
    ),
    Mistake(
        "H9",
        "Auto-repairing pools with the node problem detector disabled",
        "managed",
        {"addons": [{"name": "ack-node-problem-detector", "disabled": True}]},
        "",
        "needs ack-node-problem-detector",
    ),
    Mistake(
        "C9",
        "A config key that is a number",
        "config",
        {},
        "config key 5",
        "must be a string",
        raw_stack="config:\n  5: five\n  alicloud:region: cn-hangzhou\n"
        + CLUSTER_KEY % "cn-hangzhou-i",
    ),
    Mistake(
        "C10",
        "A YAML 'billion laughs' (aliases that expand exponentially)",
        "config",
        {},
        "Pulumi.demo.yaml",
        "expands to more than 100,000 values",
        raw_stack="".join(
            f"{n}: &{n} [{', '.join([f'*{p}' if p else 'x' for _ in range(9)])}]\n"
            for p, n in zip(["", "a", "b", "c", "d", "e", "f"], "abcdefg", strict=True)
        )
        + "config: {x: *g}\n",
    ),
    # --- DriftGuard: who the account's guard may deny ----------------------------------------
    Mistake(
        "G1",
        "The guard attached to one of ACK's service roles",
        "guard",
        {"attach_to_roles": ["AliyunCSManagedKubernetesRole"]},
        "attach_to_roles.0",
        "one of ACK's service roles",
        name="guard",
    ),
    Mistake(
        "G2",
        "The guard attached to a cluster's node role",
        "guard",
        {"attach_to_roles": ["prod-node-role"]},
        "attach_to_roles.0",
        "is a cluster's node role",
        name="guard",
    ),
    Mistake(
        "G3",
        "The guard attached to the deploy identity",
        "guard",
        {"attach_to_roles": ["ci-deploy"]},
        "attach_to_roles.0",
        "is the deploy identity",
        name="guard",
    ),
    Mistake(
        "G4",
        "A guard attached to nobody",
        "guard",
        {"attach_to_groups": []},
        "attach_to_groups",
        "the guard denies nobody",
        name="guard",
    ),
    Mistake(
        "G5",
        "A DingTalk alert to a URL that is not a DingTalk robot",
        "guard",
        {
            "alert": {
                "kind": "dingtalk",
                "url": "https://hooks.example.com/x?token=Sup3r-Secret!",
                "oss_bucket_name": "audit-log",
            }
        },
        "alert.url",
        "oapi.dingtalk.com/robot/send",
        name="guard",
    ),
    Mistake(
        "G6",
        "A control policy on something that is no folder or account",
        "guard",
        {"control_policy": {"target_ids": ["prod"]}},
        "control_policy.target_ids.0",
        "is not a folder",
        name="guard",
    ),
    Mistake(
        "G7",
        "An alert whose trail delivers nowhere",
        "guard",
        {"alert": {"kind": "webhook", "url": "https://hooks.example.com/drift"}},
        "alert.oss_bucket_name",
        "a trail delivers to an OSS bucket or an SLS project",
        name="guard",
    ),
]


#: Facts that go stale (lists of regions, zones, add-ons): the component builds, and warns with
#: the date of the facts.
WARNED: list[Warned] = [
    Warned(
        "W1",
        "An upstream chart name instead of ACK's add-on name",
        "managed",
        {"addons": [{"name": "ingress-nginx"}]},
        "ACK's name for it is 'nginx-ingress-controller'",
    ),
    Warned(
        "W2",
        "A zone letter the region did not have",
        "managed",
        net(zones=["cn-hangzhou-i", "cn-hangzhou-z"]),
        "zone cn-hangzhou-z: cn-hangzhou had the zones",
    ),
    Warned(
        "W3",
        "A well-formed region the facts do not know",
        "managed",
        {"network": {"zones": ["xx-newland-a"]}},
        "region 'xx-newland' is not among the regions known",
        config={"alicloud:region": "xx-newland"},
    ),
    Warned(
        "W4",
        "No region anywhere (neither alicloud:region nor the environment)",
        "managed",
        {},
        "no region is set",
    ),
]


def arguments(m: Mistake | Warned) -> dict[str, Any]:
    out = copy.deepcopy(BASE[m.form])
    out.update(copy.deepcopy(m.change))
    for key in [k for k, v in out.items() if v is None]:
        del out[key]
    return out


def warnings_of(w: Warned) -> list[str]:
    """Build the component on `w` (it must build) and return the warnings it logged."""
    from ack_clusters.testing import FakeAlibabaCloud, run_program

    said: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                said.append(record.getMessage())

    handler = Catch()
    logging.getLogger().addHandler(handler)
    try:
        run_program(
            lambda: COMPONENTS[w.form]("demo", arguments(w)),
            mock=FakeAlibabaCloud(),
            config=w.config,
        )
    finally:
        logging.getLogger().removeHandler(handler)
    return said


def build(m: Mistake) -> InvalidArguments | None:
    """Run the component on the mistake; the error it raised (None if it built)."""
    try:
        COMPONENTS[m.form](m.name, arguments(m))
    except InvalidArguments as exc:
        return exc
    return None


def stack_error(m: Mistake) -> tuple[int, str]:
    """Run ack-preview on a stack file holding the mistake: (exit code, stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "stacks").mkdir()
        shutil.copy(ROOT / "Pulumi.yaml", project)
        shutil.copy(ROOT / "stacks" / "__main__.py", project / "stacks")
        body = m.raw_stack or yaml.safe_dump(
            {"config": {"alicloud:region": "cn-hangzhou", "ack-clusters:cluster": m.change}}
        )
        (project / "stacks" / "Pulumi.demo.yaml").write_text(body)
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = ack_preview(["demo", "--program", str(project)])
        return rc, err.getvalue().replace(str(project), "<project>")


def render() -> str:
    from ack_clusters.testing import FakeAlibabaCloud, run_program

    lines = [
        "# Refused inputs",
        "",
        "Every mistake below is refused before any resource is registered, with the field path",
        "and the fix. The errors are the library's own output (this file is generated by",
        "`python -m tests.catalogue > docs/BAD-INPUTS.md`, and tests/test_catalogue.py fails when",
        "it is out of date). Field errors of one input are reported together; cross-field checks",
        "(CIDR overlaps, zone layout) run once the fields themselves are valid.",
        "",
        "Not refused here: a public API server without a source allow-list. The provider has no",
        "access-control argument for ACK's API-server load balancer, and its listener belongs to",
        "ACK, so the library cannot apply one honestly. Public API servers are governed by the",
        "policy pack instead: `ack-api-server-not-public` is mandatory, and its `allow` list names",
        "the clusters a team accepts as public.",
        "",
        "Warned, not refused: facts from lists that go stale. A region that is well formed but",
        "not in the list of known regions, and a Kubernetes version whose minor ACK did not offer",
        "when the list was made, build with a warning, so a new region or version works the day",
        "ACK offers it; a region one or two letters from a known one is a typo and is refused.",
        "The lists, limits and their sources are in `components/ack_clusters/facts.py`.",
        "",
    ]
    for m in CATALOGUE:
        lines += [f"## {m.id}. {m.what}", ""]
        if m.form == "config":
            _, text = stack_error(m)
            lines += ["`ack-preview` on a stack file with:", "", "```yaml"]
            lines += (
                (
                    m.raw_stack
                    or yaml.safe_dump(
                        {"config": {"ack-clusters:cluster": m.change}}, sort_keys=False
                    )
                )
                .rstrip()
                .splitlines()
            )
            lines += ["```", "", "```text", *text.rstrip().splitlines(), "```", ""]
            continue
        errors: list[InvalidArguments] = []

        def program(m: Mistake = m, errors: list[InvalidArguments] = errors) -> None:
            exc = build(m)
            if exc is not None:
                errors.append(exc)

        run_program(program, mock=FakeAlibabaCloud(), config=m.config)
        shown = yaml.safe_dump(m.change, sort_keys=False).rstrip() if m.change else "{}"
        shown = m.shown or shown
        lines += [f"`{COMPONENTS[m.form].__name__}({m.name!r}, ...)` with:", "", "```yaml"]
        lines += shown.splitlines()
        lines += ["```", ""]
        if m.config:
            lines += ["With config:", "", "```yaml", *yaml.safe_dump(m.config).splitlines(), "```"]
            lines += [""]
        lines += ["```text", *str(errors[0]).splitlines(), "```", ""]
    lines += ["# Warned, not refused", ""]
    for w in WARNED:
        said = [s for s in warnings_of(w) if w.text in s]
        shown = yaml.safe_dump(w.change, sort_keys=False).rstrip() if w.change else "{}"
        lines += [f"## {w.id}. {w.what}", ""]
        lines += [f"`{COMPONENTS[w.form].__name__}('demo', ...)` with:", "", "```yaml"]
        lines += shown.splitlines()
        lines += ["```", ""]
        if w.config:
            lines += ["With config:", "", "```yaml", *yaml.safe_dump(w.config).splitlines(), "```"]
            lines += [""]
        lines += ["```text", *said[0].splitlines(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
