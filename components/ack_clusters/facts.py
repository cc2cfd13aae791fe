"""Facts about Kubernetes, ACK, ECS and Alibaba Cloud that validation relies on, with where each
comes from and when it was last checked. Refresh them here, in one place.

Two kinds of fact:

- **Rules** that do not go stale (Kubernetes label syntax, disk size limits of a category): a
  value outside them is refused.
- **Lists** that go stale (regions, Kubernetes versions ACK offers): a value that matches the
  pattern but is not listed gets a warning, not a refusal, so a new region or version works the
  day ACK offers it. A value close to a listed one (one or two edits away) is a typo and is
  refused with the likely fix.
"""

from __future__ import annotations

from typing import Literal, get_args

#: When the lists below were last compared with their sources.
CHECKED = "2026-11-27"

# --- Kubernetes ----------------------------------------------------------------------------------
# Source: Kubernetes documentation, "Labels and Selectors" (syntax and character set) and
# "Well-Known Labels, Annotations and Taints"; kubelet's --node-labels restriction (KEP-279,
# NodeRestriction); API validation of Node taints (unique by key and effect).

#: A label name (the part after an optional "prefix/"): at most 63 characters, alphanumerics
#: with '-', '_' and '.' inside.
LABEL_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
#: A label prefix: a DNS subdomain, at most 253 characters.
LABEL_PREFIX = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)"
LABEL_PREFIX_MAX = 253
#: A label value: empty, or like a label name.
LABEL_VALUE = r"(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)"
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
#: Label namespaces reserved to Kubernetes: the kubelet refuses to set labels in them through
#: --node-labels (which is how ACK applies node-pool labels) except the keys and prefixes below.
RESERVED_LABEL_NAMESPACES = ("kubernetes.io", "k8s.io")
KUBELET_ALLOWED_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/instance-type",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "beta.kubernetes.io/instance-type",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.kubernetes.io/zone",
        "failure-domain.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "node.kubernetes.io/instance-type",
    }
)
KUBELET_ALLOWED_LABEL_PREFIXES = ("kubelet.kubernetes.io", "node.kubernetes.io")

# --- ACK -------------------------------------------------------------------------------------
# Source: ACK release notes, "Kubernetes versions supported by ACK" (version format
# <major>.<minor>.<patch>-aliyun.<n>); checked on CHECKED. ACK supports a minor for about a year
# after its release and stops offering older ones for new clusters.

#: The ACK version format.
KUBERNETES_VERSION = r"1\.(\d+)\.(\d+)-aliyun\.(\d+)"
#: Minor versions ACK offers for new clusters (a stale list: others get a warning).
KUBERNETES_MINORS = (30, 31, 32, 33, 34)

# --- Provider limits -----------------------------------------------------------------------------
# Source: terraform-provider-alicloud v1.289.0, the upstream pulumi-alicloud bridges (the schema
# of each resource). tests/test_provider_facts.py compares every value here with the generated
# table in ack_offline/provider_facts.json, so the two cannot drift apart.

#: `vswitch_ids` of alicloud_cs_managed_kubernetes (managed and serverless clusters): 1-5, so a
#: cluster with an ACK-managed control plane spans at most five zones.
MANAGED_MAX_ZONES = 5
#: `master_disk_size` of alicloud_cs_kubernetes (GiB).
MASTER_DISK_GIB = (40, 500)
#: `load_balancer_spec` of alicloud_slb_load_balancer (its pay-by-CLCU "slb.lcu.elastic" is left
#: out: the component's load balancer is pay-by-spec).
SlbSpec = Literal[
    "slb.s1.small",
    "slb.s2.small",
    "slb.s2.medium",
    "slb.s3.small",
    "slb.s3.medium",
    "slb.s3.large",
    "slb.s4.large",
]
SLB_SPECS: tuple[str, ...] = get_args(SlbSpec)

#: Cluster inputs the provider's Read never sets, so an import can never match them (Pulumi
#: refuses an import whose declared inputs differ from what was read). None of them is ever
#: updated either (the provider's Update code never sends them), so an adopted cluster ignores
#: them: nothing is hidden that refresh or an update could have seen.
NOT_READ_BACK: dict[str, tuple[str, ...]] = {
    "alicloud:cs/managedKubernetes:ManagedKubernetes": (
        "addons",
        "newNatGateway",
        "podVswitchIds",
        "skipSetCertificateAuthority",
        "slbInternetEnabled",
    ),
    "alicloud:cs/kubernetes:Kubernetes": (
        "addons",
        "newNatGateway",
        "password",
        "skipSetCertificateAuthority",
    ),
}

# --- ECS disks -------------------------------------------------------------------------------
# Sources: ECS documentation, "Block storage performance" / "ESSDs" (performance levels and the
# smallest disk for each), "Limits" (system disks at most 2,048 GiB); the provider schema of
# alicloud_cs_kubernetes_node_pool in pulumi-alicloud 4.0 (data disks 40-32,768 GiB per its
# documentation; the provider's code caps them at 32,767, the stricter one is used here).

SYSTEM_DISK_GIB = (20, 2048)
DATA_DISK_GIB = (40, 32767)
#: Smallest ESSD for each performance level (GiB). Only cloud_essd has performance levels.
ESSD_MIN_GIB = {"PL0": 1, "PL1": 20, "PL2": 461, "PL3": 1261}
#: `image_type` values of cs.NodePool (terraform-provider-alicloud v1.289.0's documentation of
#: alicloud_cs_kubernetes_node_pool; `Custom` is left out: it needs an image ID of one's own).
NODE_IMAGE_TYPES = (
    "AliyunLinux3",
    "AliyunLinux3Arm64",
    "AliyunLinux3ContainerOptimized",
    "AliyunLinux4",
    "AliyunLinux4Arm64",
    "AliyunLinux4Security",
    "AliyunLinux4ContainerOptimized",
    "AliyunLinux4ContainerOptimizedArm64",
    "AliyunLinux",
    "AliyunLinuxUEFI",
    "AliyunLinuxSecurity",
    "ContainerOS",
    "CentOS",
    "Ubuntu",
    "Windows",
    "WindowsCore",
)
#: Image types built for ARM (their names say so).
ARM_IMAGE_TYPES = tuple(t for t in NODE_IMAGE_TYPES if t.endswith("Arm64"))
#: ECS families with ARM processors (ECS documentation, "Instance families": the Yitian 710
#: g8y/c8y/r8y and the Ampere Altra g6r/c6r). Best effort: a family missing here is never
#: refused; an ARM image whose types are all outside this list only gets a warning.
ARM_FAMILIES = frozenset({"g8y", "c8y", "r8y", "g6r", "c6r"})

# --- Regions -----------------------------------------------------------------------------------
# Source: Alibaba Cloud documentation, "Regions and zones" (public regions that offer ECS and
# ACK); checked on CHECKED. A zone ID is the region ID followed by "-<letter>", or directly by
# the letter where the region ID ends in a digit (ap-southeast-1a). Finance and government
# regions have IDs of their own (cn-hangzhou-finance), so their zones belong to those regions.

REGIONS = frozenset(
    {
        "cn-qingdao",
        "cn-beijing",
        "cn-zhangjiakou",
        "cn-huhehaote",
        "cn-wulanchabu",
        "cn-hangzhou",
        "cn-shanghai",
        "cn-nanjing",
        "cn-fuzhou",
        "cn-shenzhen",
        "cn-heyuan",
        "cn-guangzhou",
        "cn-chengdu",
        "cn-hongkong",
        "cn-hangzhou-finance",
        "cn-shanghai-finance-1",
        "cn-shenzhen-finance-1",
        "cn-beijing-finance-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-southeast-1",
        "ap-southeast-3",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "us-east-1",
        "us-west-1",
        "na-south-1",
        "eu-west-1",
        "eu-central-1",
        "me-east-1",
        "me-central-1",
    }
)
#: A region ID: lowercase words joined by hyphens, optionally ending in a number.
REGION = r"[a-z]{2}(-[a-z]+)+(-\d+)?"

#: Zone letters of some regions (Alibaba Cloud documentation, "Regions and zones"; checked on
#: CHECKED). A stale list: a zone whose letter is not listed gets a warning, never a refusal
#: (zones open and close); regions not listed here are not checked.
ZONE_LETTERS: dict[str, str] = {
    "cn-hangzhou": "befghijk",
    "cn-shanghai": "abefglmn",
    "cn-beijing": "acdefghijkl",
    "cn-shenzhen": "abcdef",
    "cn-hongkong": "bcd",
    "ap-southeast-1": "abc",
}
#: Where the provider finds its region when `alicloud:region` is not set (terraform-provider-
#: alicloud alicloud/provider.go: the `region` schema's DefaultFunc reads these variables; then
#: providerConfigure falls back to the aliyun CLI profile, then DEFAULT_REGION in common.go).
REGION_ENVIRONMENT = ("ALICLOUD_REGION", "ALIBABA_CLOUD_REGION")
PROVIDER_DEFAULT_REGION = "cn-beijing"

# --- ECS logins and user data -----------------------------------------------------------------
# Source: ECS API reference, RunInstances / CreateInstance, parameter `Password`: 8-30
# characters with at least three of uppercase letters, lowercase letters, digits and special
# characters, the special characters being exactly these; a Windows password cannot start with
# '/'. ECS refuses key pairs for Windows instances (ECS "SSH key pairs": Linux only).

ECS_PASSWORD_SYMBOLS = "()`~!@#$%^&*-_+=|{}[]:;'<>,.?/"
ECS_PASSWORD_LENGTH = (8, 30)
#: User data: at most 16 KB before Base64 encoding (ECS documentation, "Instance user data":
#: "the size of the user data cannot exceed 16 KB before it is encoded").
USER_DATA_MAX_BYTES = 16 * 1024
#: Image types that boot Windows (of NODE_IMAGE_TYPES).
WINDOWS_IMAGE_TYPES = ("Windows", "WindowsCore")
#: Smallest system disk of a Windows Server public image (GiB): ECS sizes the system disk at
#: least as large as the image, and its Windows Server images are 40 GiB (Linux ones 20).
WINDOWS_IMAGE_GIB = 40

# --- Versions the provider or ACK needs ----------------------------------------------------------
#: RRSA: terraform-provider-alicloud alicloud/resource_alicloud_cs_kubernetes.go,
#: KubernetesClusterRRSASupportedVersion; the update errors "RRSA is not supported in current
#: version" below it.
RRSA_MIN_VERSION = (1, 22, 3)
#: goatscaler: website/docs/r/cs_autoscaling_config.html.markdown (scaler_type): "For cluster
#: version 1.22 and below, we only support cluster-autoscaler".
GOATSCALER_MIN_MINOR = 23

# --- ACK addons (a stale list: a name not here gets a warning) ---------------------------------
# Source: ACK documentation, "Component overview" (the add-on catalogue); checked on CHECKED.
ADDONS = frozenset(
    {
        "ack-node-problem-detector",
        "ack-node-local-dns",
        "ack-cost-exporter",
        "ack-kubernetes-cronhpa-controller",
        "ack-kubernetes-webhook-injector",
        "ack-arena",
        "ack-virtual-node",
        "ack-goatscaler",
        "ack-secret-manager",
        "ack-ram-authenticator",
        "ack-pod-identity-webhook",
        "ack-helm-manager",
        "ack-koordinator",
        "ack-cluster-agent",
        "alb-ingress-controller",
        "arms-prometheus",
        "arms-cmonitor",
        "aliyun-acr-acree-ai",
        "aliyun-acr-credential-helper",
        "cloud-controller-manager",
        "coredns",
        "csi-plugin",
        "csi-provisioner",
        "storage-operator",
        "gatekeeper",
        "kube-proxy",
        "kube-proxy-master",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "cloud-monitor-controller",
        "logtail-ds",
        "loongcollector",
        "managed-coredns",
        "metrics-server",
        "mse-ingress-controller",
        "nginx-ingress-controller",
        "policy-template-controller",
        "resource-controller",
        "security-inspector",
        "terway-eni",
        "terway-eniip",
        "terway-controlplane",
        "flannel",
        "ack-kube-queue",
        "migrate-controller",
        "nvidia-device-plugin",
        "ack-ai-installer",
        "cluster-autoscaler",
        "aliyun-acr-acree",
    }
)
#: Upstream chart names users reach for, and ACK's name for the same thing.
ADDON_SPELLINGS = {
    "ingress-nginx": "nginx-ingress-controller",
    "nginx-ingress": "nginx-ingress-controller",
    "node-problem-detector": "ack-node-problem-detector",
    "prometheus": "arms-prometheus",
    "nodelocaldns": "ack-node-local-dns",
    "node-local-dns": "ack-node-local-dns",
}
