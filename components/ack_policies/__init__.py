"""The ACK policy pack's rules, importable without starting the analyzer server.

The rules are imported on use (:func:`all_policies`), so that the pure modules of this package
(:mod:`ack_policies.record`, the format of what a component records about what it owns, which
the library writes) import without pulumi-policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi_policy import Policy

PACK_NAME = "ack-guardrails"
PACK_DESCRIPTION = (
    "Blocks direct drift on the cloud resources an ACK cluster owns, plus security and "
    "reliability guard rails."
)


def all_policies() -> list[Policy]:
    from .drift import no_loose_attachments_to_cluster_resources
    from .encryption import (
        disks_encrypted,
        disks_encrypted_with_cmk,
        kms_key_enabled,
        kms_key_rotation_enabled,
        pro_cluster_secrets_encrypted,
    )
    from .identity import ram_no_administrator_access, ram_oidc_trust_names_a_service_account
    from .network import (
        alb_acl_restricts_access,
        api_server_not_public,
        security_group_no_world_open_ingress,
        slb_tls_cipher_policy_secure,
    )
    from .ownership import (
        cluster_ownership_proven,
        cluster_resources_declared_through_components,
        owned_resources_ignore_only_component_fields,
        stateful_resources_deletion_protected,
    )
    from .reliability import (
        cluster_audit_and_control_plane_logs,
        cluster_network_plugin,
        node_pool_auto_repair,
        production_clusters_span_zones,
    )

    return [
        # ownership and drift (mandatory)
        cluster_resources_declared_through_components,
        cluster_ownership_proven,
        no_loose_attachments_to_cluster_resources,
        owned_resources_ignore_only_component_fields,
        stateful_resources_deletion_protected,
        # critical security (mandatory)
        api_server_not_public,
        security_group_no_world_open_ingress,
        ram_no_administrator_access,
        ram_oidc_trust_names_a_service_account,
        # the rest (advisory)
        disks_encrypted,
        disks_encrypted_with_cmk,
        pro_cluster_secrets_encrypted,
        kms_key_rotation_enabled,
        kms_key_enabled,
        alb_acl_restricts_access,
        slb_tls_cipher_policy_secure,
        node_pool_auto_repair,
        cluster_audit_and_control_plane_logs,
        cluster_network_plugin,
        production_clusters_span_zones,
    ]
