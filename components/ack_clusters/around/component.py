"""Registers what teams build around a cluster, as direct children of the cluster component:
access grants, app subnets and private zones. Each function registers exactly what its
arguments or plan say, keyed by the names the user chose.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_alicloud as alicloud

from ..later import given
from ..network.plan import AppSubnetPlan
from .args import AccessGrant, PrivateZone


def access_grants(
    name: str,
    grants: Mapping[str, AccessGrant],
    *,
    cluster_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> dict[str, alicloud.cs.KubernetesPermission]:
    """One ``cs.KubernetesPermission`` per grant (one principal on this cluster), holding only
    this cluster's roles.

    Why one per (principal, cluster), from the provider's code
    (terraform-provider-alicloud alicloud/resource_alicloud_cs_kubernetes_permissions.go):
    Create and Update call ``UpdateUserPermissions`` in mode ``patch`` with the listed
    permissions only (``manageUserPermissions(ModePatch, ...)``), Update revokes only the
    entries dropped from the list (``diffPermissions`` then ``ModeDelete``), and Delete revokes
    only the listed entries (``manageUserPermissions(ModeDelete, ...)``); ACK's incremental
    modes grant or revoke exactly the entries sent and leave the principal's other
    permissions alone (ACK API reference, UpdateUserPermissions). So a resource that lists
    only this cluster's entries never touches the principal's grants on other clusters, from
    this stack or another. ``role_type`` ``all-clusters`` is not offered: an entry for every
    cluster would be revoked for every cluster when this one goes.
    """
    out = {}
    for grant_name, grant in grants.items():
        out[grant_name] = alicloud.cs.KubernetesPermission(
            f"{name}-access-{grant_name}",
            # ForceNew in the provider: a new principal is a new resource (the old one's
            # entries revoked, the new one's granted).
            uid=given(grant.principal),
            permissions=[
                alicloud.cs.KubernetesPermissionPermissionArgs(
                    cluster=cluster_id,
                    role_type=role.role_type,
                    role_name=role.role,
                    # The provider sends namespace and the booleans as they are
                    # (buildUpdateUserPermissionsArgs): "" for a cluster-wide role.
                    namespace=role.namespace or "",
                    is_custom=role.custom,
                    is_ram_role=grant.is_ram_role,
                )
                for role in grant.roles
            ],
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return out


def app_subnets(
    name: str,
    plan: tuple[AppSubnetPlan, ...],
    *,
    vpc_id: pulumi.Input[str],
    tags: Mapping[str, pulumi.Input[str]],
    parent: pulumi.Resource,
) -> dict[str, pulumi.Output[str]]:
    """One ``vpc.Switch`` per app subnet, in the cluster's VPC; their IDs by name. They get no
    SNAT entry: what runs in them (a database) has no internet egress through the cluster."""
    return {
        s.name: alicloud.vpc.Switch(
            f"{name}-app-{s.name}",
            vswitch_name=f"{name}-app-{s.name}",
            vpc_id=vpc_id,
            zone_id=s.zone,
            cidr_block=str(s.cidr),
            description=f"App subnet {s.name} of ACK cluster {name} in {s.zone}",
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
        ).id
        for s in plan
    }


def private_zones(
    name: str,
    zones: Mapping[str, PrivateZone],
    *,
    vpc_id: pulumi.Input[str],
    tags: Mapping[str, pulumi.Input[str]],
    parent: pulumi.Resource,
) -> dict[str, pulumi.Output[str]]:
    """A ``pvtz.Zone`` and its ``pvtz.ZoneAttachment`` to the cluster's VPC per private zone;
    the zones' IDs by name.

    Only zones the component creates: the attachment's Create and Update call ``BindZoneVpc``
    with the whole list of VPCs, and Read reads every bound VPC back
    (terraform-provider-alicloud alicloud/resource_alicloud_pvtz_zone_attachment.go), so an
    attachment of a zone shared with other VPCs would unbind theirs. A zone several VPCs share
    belongs to the stack that owns them."""
    out = {}
    for zone_name, zone in zones.items():
        created = alicloud.pvtz.Zone(
            f"{name}-pvtz-{zone_name}",
            zone_name=zone.zone_name,
            remark=zone.remark,
            proxy_pattern=zone.proxy_pattern,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        alicloud.pvtz.ZoneAttachment(
            f"{name}-pvtz-{zone_name}",
            zone_id=created.id,
            vpc_ids=[vpc_id],
            opts=pulumi.ResourceOptions(parent=parent),
        )
        out[zone_name] = created.id
    return out
