"""Reliability guard rails: self-healing nodes, zone spread, logs, a standard pod network."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from ._common import (
    CLUSTER_TYPES,
    as_list,
    is_map,
    known,
    resource_rule,
    stack_of,
    stack_rule,
    truthy,
)


def _auto_repair(args: ResourceValidationArgs) -> Iterator[str]:
    m = args.props.get("management") or {}
    if not (truthy(m.get("enable")) and truthy(m.get("autoRepair"))):
        yield f"{args.name} does not repair failed nodes automatically"


node_pool_auto_repair = resource_rule(
    "ack-node-pool-auto-repair",
    description="ACK node pools repair failed nodes automatically.",
    types=["alicloud:cs/nodePool:NodePool"],
    check=_auto_repair,
    severity=Severity.MEDIUM,
    remediation="Keep auto_repair on (the default) for the pool.",
    tags=["reliability", "CKV_ALI_31"],
)


def _logs(args: ResourceValidationArgs) -> Iterator[str]:
    audit = args.props.get("auditLogConfig") or {}
    if not truthy(audit.get("enabled")):
        yield f"{args.name} does not keep an audit log"
    if "apiserver" not in as_list(args.props.get("controlPlaneLogComponents")):
        yield f"{args.name} does not collect API server logs"


cluster_audit_and_control_plane_logs = resource_rule(
    "ack-cluster-audit-and-control-plane-logs",
    description="Managed clusters keep an audit log and collect control plane logs.",
    types=["alicloud:cs/managedKubernetes:ManagedKubernetes"],
    check=_logs,
    severity=Severity.MEDIUM,
    remediation="Keep audit_log.enabled and control_plane_logs (with apiserver) on.",
    tags=["security", "reliability"],
)


CLUSTERS_WITH_NODES = (
    "alicloud:cs/managedKubernetes:ManagedKubernetes",
    "alicloud:cs/kubernetes:Kubernetes",
)


_SWITCH = "alicloud:vpc/switch:Switch"


def _switches(res: PolicyResource, field: str) -> set[str]:
    """The vSwitches a resource names in `field`: the vSwitch resources it depends on for that
    field (known at preview) when every dependency is one; otherwise the IDs themselves (literals,
    or values from a StackReference or a read, which one dependency stands for however many
    vSwitches it gives: comparing it would make every such pod vSwitch a node one)."""
    deps = res.property_dependencies.get(field, [])
    if deps and all(d.resource_type == _SWITCH for d in deps):
        return {d.urn for d in deps}
    return {str(v) for v in as_list(res.props.get(field))}


def _network_plugin(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    pools: dict[str, set[str]] = {}
    for res in args.resources:
        if res.resource_type == "alicloud:cs/nodePool:NodePool":
            cluster = res.property_dependencies.get("clusterId") or []
            key = cluster[0].urn if cluster else str(res.props.get("clusterId"))
            pools.setdefault(key, set()).update(_switches(res, "vswitchIds"))
    for res in args.resources:
        if res.resource_type not in CLUSTERS_WITH_NODES:
            continue
        p = res.props
        if p.get("profile") == "Serverless":
            continue  # ECI pods take VPC addresses from the cluster vSwitches: no plugin
        addons = {a.get("name") for a in as_list(p.get("addons")) if is_map(a)}
        if not (p.get("podVswitchIds") or p.get("podCidr")):
            yield (
                res.urn,
                f"{res.name} sets neither pod vSwitches (Terway) nor a pod CIDR (Flannel)",
            )
        elif not addons & {"terway-eniip", "flannel"}:
            yield res.urn, f"{res.name} installs neither the terway-eniip nor the flannel addon"
        elif "terway-eniip" in addons:
            pods = _switches(res, "podVswitchIds")
            nodes = (
                _switches(res, "vswitchIds")
                | _switches(res, "masterVswitchIds")
                | _switches(res, "workerVswitchIds")
                | pools.get(res.urn, set())
                | pools.get(str(known(res.props, "id") or ""), set())
            )
            shared = sorted(pods & nodes)
            if shared:
                yield (
                    res.urn,
                    (
                        f"{res.name} gives Terway pods vSwitches that its nodes or masters use too "
                        f"({', '.join(x.rsplit('::', 1)[-1] for x in shared)}): pods and nodes "
                        "then "
                        "compete for the same addresses; give pods vSwitches of their own"
                    ),
                )


cluster_network_plugin = stack_rule(
    "ack-cluster-uses-terway-or-flannel",
    description="Clusters install Terway or Flannel, which support Kubernetes network policies; "
    "Terway pods get vSwitches that no node or master uses.",
    check=_network_plugin,
    severity=Severity.MEDIUM,
    remediation="Choose network_plugin 'terway' or 'flannel' on the cluster component; with "
    "Terway, give pods vSwitches of their own (the component plans them per zone).",
    tags=["security", "network", "CKV_ALI_26"],
)

PROD_VALUES = {"prod", "production"}


def _is_production(args: StackValidationArgs, stack: str) -> bool:
    tags = args.stack_tags or {}
    if any(tags.get(k, "").lower() in PROD_VALUES for k in ("environment", "env")):
        return True
    patterns = args.get_config().get("productionStacks", ["*prod*"])
    return any(fnmatch.fnmatchcase(stack, p) for p in patterns)


def _zones(res: PolicyResource) -> int:
    """Distinct zones of a resource's vSwitches: read from the vSwitch resources it depends on,
    or, for vSwitches given by ID, counted as one zone each (an upper bound)."""
    switches = res.property_dependencies.get("vswitchIds", [])
    zones = {
        s.props.get("zoneId") for s in switches if s.resource_type.startswith("alicloud:vpc/switch")
    }
    zones.discard(None)
    return len(zones) if zones else len(set(as_list(res.props.get("vswitchIds"))))


def _single_zone(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    for res in args.resources:
        if (
            res.resource_type not in CLUSTER_TYPES
            and res.resource_type != "alicloud:cs/nodePool:NodePool"
        ):
            continue
        if not _is_production(args, stack_of(res.urn)):
            continue
        if _zones(res) < 2:
            yield res.urn, f"{res.name} runs in a single zone in a production stack"


production_clusters_span_zones = stack_rule(
    "ack-production-clusters-span-zones",
    description="In production stacks, clusters and node pools span at least two zones.",
    check=_single_zone,
    severity=Severity.HIGH,
    remediation="List two or more zones in network.zones. A stack counts as production when its "
    "'environment' or 'env' tag is prod/production, or its name matches `productionStacks` "
    "in this rule's config (default '*prod*').",
    tags=["reliability"],
    config={
        "productionStacks": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Stack name patterns (fnmatch) that count as production.",
        }
    },
)
