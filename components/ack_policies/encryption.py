"""Encryption guard rails: disks, Kubernetes Secrets, KMS keys."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from ._common import as_list, is_map, resource_rule, truthy

_DISK_TYPES = ("alicloud:ecs/ecsDisk:EcsDisk", "alicloud:ecs/disk:Disk")
_TEMPLATES = (
    "alicloud:ecs/ecsLaunchTemplate:EcsLaunchTemplate",
    "alicloud:ecs/launchTemplate:LaunchTemplate",
)


#: What launches instances with a system disk it can encrypt (`systemDiskEncrypted`).
_WITH_SYSTEM_DISK = (
    "alicloud:cs/nodePool:NodePool",
    "alicloud:ecs/instance:Instance",
    "alicloud:ess/scalingConfiguration:ScalingConfiguration",
)
#: Instances launched with data disks only to judge (the set takes no system-disk encryption).
_DATA_DISKS_ONLY = ("alicloud:ecs/ecsInstanceSet:EcsInstanceSet",)


#: The Checkov check each finding answers to: a standalone disk (CKV_ALI_7), a launch
#: template's data disks (CKV_ALI_32). Node pools and instances are this pack's own extension.
CKV_DISK, CKV_TEMPLATE = "[CKV_ALI_7] ", "[CKV_ALI_32] "


def _unencrypted_data_disks(args: ResourceValidationArgs, check: str) -> Iterator[str]:
    for i, disk in enumerate(as_list(args.props.get("dataDisks"))):
        if is_map(disk) and not truthy(disk.get("encrypted")):
            yield f"{check}{args.name}: data disk {i} is not encrypted"


def _disks(args: ResourceValidationArgs) -> Iterator[str]:
    t, p = args.resource_type, args.props
    if t in _DISK_TYPES:
        if not p.get("snapshotId") and not truthy(p.get("encrypted")):
            yield f"{CKV_DISK}{args.name} is not encrypted"
        return
    has_system_disk = t in _WITH_SYSTEM_DISK
    if has_system_disk and not truthy(p.get("systemDiskEncrypted")):
        yield f"{args.name}: the system disk is not encrypted"
    yield from _unencrypted_data_disks(args, CKV_TEMPLATE if t in _TEMPLATES else "")


disks_encrypted = resource_rule(
    "disks-encrypted",
    description="Node pool, instance, scaling configuration, launch template and standalone "
    "disks are encrypted.",
    types=[*_DISK_TYPES, *_TEMPLATES, *_WITH_SYSTEM_DISK, *_DATA_DISKS_ONLY],
    check=_disks,
    severity=Severity.HIGH,
    remediation="Keep system_disk.encrypted and data_disks[].encrypted on (the node pool "
    "defaults); set encrypted on standalone disks and launch templates.",
    tags=["security", "encryption", "CKV_ALI_7", "CKV_ALI_32"],
)


def _cmk(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    if not p.get("snapshotId") and not (truthy(p.get("encrypted")) and p.get("kmsKeyId")):
        yield f"{args.name} is not encrypted with a customer master key (kms_key_id)"


disks_encrypted_with_cmk = resource_rule(
    "disks-encrypted-with-customer-key",
    description="Standalone disks are encrypted with a customer master key.",
    types=_DISK_TYPES,
    check=_cmk,
    severity=Severity.LOW,
    remediation="Set encrypted and kms_key_id to a KMS key you manage.",
    tags=["security", "encryption", "CKV_ALI_8"],
)


def _secrets(args: ResourceValidationArgs) -> Iterator[str]:
    spec = args.props.get("clusterSpec") or ""
    if spec.startswith("ack.pro") and not args.props.get("encryptionProviderKey"):
        yield f"{args.name} is a Pro cluster whose Secrets are not encrypted with a KMS key"


pro_cluster_secrets_encrypted = resource_rule(
    "ack-pro-cluster-secrets-encrypted",
    description="ACK Pro clusters encrypt Kubernetes Secrets at rest with a KMS key.",
    types=["alicloud:cs/managedKubernetes:ManagedKubernetes"],
    check=_secrets,
    severity=Severity.HIGH,
    remediation="Set secrets_encryption_kms_key_id on the ManagedCluster (Pro specs only).",
    tags=["security", "encryption"],
)


def _kms_rotation(args: ResourceValidationArgs) -> Iterator[str]:
    if args.props.get("automaticRotation") != "Enabled":
        yield f"{args.name} does not rotate automatically"


kms_key_rotation_enabled = resource_rule(
    "kms-key-rotation-enabled",
    description="KMS keys rotate automatically.",
    types=["alicloud:kms/key:Key"],
    check=_kms_rotation,
    severity=Severity.MEDIUM,
    remediation="Set automatic_rotation='Enabled' and a rotation_interval.",
    tags=["security", "encryption", "CKV_ALI_27"],
)


def _kms_enabled(args: ResourceValidationArgs) -> Iterator[str]:
    if args.props.get("status", "Enabled") != "Enabled":
        yield f"{args.name} is not enabled; what it encrypts cannot be read"


kms_key_enabled = resource_rule(
    "kms-key-enabled",
    description="KMS keys are enabled.",
    types=["alicloud:kms/key:Key"],
    check=_kms_enabled,
    severity=Severity.HIGH,
    remediation="Set status='Enabled'. To retire a key, first re-encrypt what uses it.",
    # Checkov 3.3.x (3.3.30 read from the package registry: KMSKeyIsEnabled.py) numbers this
    # check CKV_ALI_28; an older release filed it under CKV_ALI_26, the network plugin check's.
    tags=["security", "encryption", "CKV_ALI_28"],
)
