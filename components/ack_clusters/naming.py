"""Ownership tags and cloud names shared by every component."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Tag keys the library puts on every taggable resource it creates. The policy pack and people
#: in the console use them to see which cluster owns a resource.
OWNERSHIP_TAG_PREFIX = "ack.pulumi.io/"
CLUSTER_TAG = f"{OWNERSHIP_TAG_PREFIX}cluster"
MANAGED_BY_TAG = f"{OWNERSHIP_TAG_PREFIX}managed-by"
MANAGED_BY = "pulumi-ack-clusters"

#: Pulumi type tokens of the components (package "ack"); the policy pack keys on them.
PACKAGE = "ack"
MANAGED_CLUSTER_TYPE = f"{PACKAGE}:index:ManagedCluster"
SERVERLESS_CLUSTER_TYPE = f"{PACKAGE}:index:ServerlessCluster"
DEDICATED_CLUSTER_TYPE = f"{PACKAGE}:index:DedicatedCluster"
NETWORK_TYPE = f"{PACKAGE}:index:ClusterNetwork"
SECURITY_GROUP_TYPE = f"{PACKAGE}:index:ClusterSecurityGroup"
NODE_ROLE_TYPE = f"{PACKAGE}:index:NodeRole"
NODE_POOL_TYPE = f"{PACKAGE}:index:NodePool"
SERVICE_ACCOUNT_ROLE_TYPE = f"{PACKAGE}:index:ServiceAccountRole"


def ownership_tags(cluster: str, user_tags: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """User tags plus the ownership tags (ownership wins: it cannot be spoofed by a user tag)."""
    return {**(user_tags or {}), CLUSTER_TAG: cluster, MANAGED_BY_TAG: MANAGED_BY}
