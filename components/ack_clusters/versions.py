"""ACK's version rules, pure: a cluster upgrades one minor version at a time and never
downgrades; a node pool never runs ahead of its control plane.

Sources: ACK's "Update the Kubernetes version of an ACK cluster" (a cluster is updated to the
next minor version only, one at a time, and cannot be rolled back), and the provider's
`UpgradeCluster` call on a `version` change (terraform-provider-alicloud
alicloud/resource_alicloud_cs_managed_kubernetes.go, resourceAlicloudCSManagedKubernetesUpdate,
and resource_alicloud_cs_kubernetes.go for dedicated clusters), which sends the new version as
it is: nothing in the provider refuses a skip or a downgrade before ACK does, mid-`pulumi up`.
`ack-preview --diff` refuses them first (:func:`refuse_version_changes`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

from . import facts
from .errors import InvalidArguments

#: The resources whose `version` input is a control plane's Kubernetes version.
CLUSTER_TYPES = frozenset(
    {
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "alicloud:cs/kubernetes:Kubernetes",
        "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
    }
)
NODE_POOL_TYPE = "alicloud:cs/nodePool:NodePool"


def parse(version: str) -> tuple[int, int, int, int] | None:
    """(1, minor, patch, aliyun build) of an ACK version, or None if it is not one."""
    m = re.fullmatch(facts.KUBERNETES_VERSION, version)
    if m is None:
        return None
    return 1, int(m[1]), int(m[2]), int(m[3])


def minors_between(old: str, new: str) -> list[str]:
    """The minor versions an upgrade from `old` to `new` goes through, `new`'s included:
    ``minors_between('1.31.1-aliyun.1', '1.33.3-aliyun.1') == ['1.32', '1.33']``."""
    a, b = parse(old), parse(new)
    if a is None or b is None:
        return []
    return [f"1.{m}" for m in range(a[1] + 1, b[1] + 1)]


def upgrade_problem(old: str | None, new: str | None) -> str | None:
    """Why ACK cannot go from `old` to `new` in one step, or None if it can (or nothing
    changes). A version that is not ACK's format is refused elsewhere (validation.py)."""
    if old is None or new is None or old == new:
        return None
    a, b = parse(old), parse(new)
    if a is None or b is None:
        return None
    if b < a:
        return (
            f"{old} -> {new} is a downgrade: ACK never rolls a cluster's Kubernetes version "
            f"back; keep {old} (or a later version)"
        )
    if b[1] - a[1] > 1:
        steps = minors_between(old, new)
        return (
            f"{old} -> {new} skips {', '.join(steps[:-1])}: ACK upgrades a cluster one minor "
            f"version at a time; go through {' -> '.join(steps)}, one change (and one "
            "`pulumi up`) each"
        )
    return None


def pool_ahead_problem(cluster: str | None, pool: str | None) -> str | None:
    """Why a node pool's version cannot run with its control plane's, or None. (The cluster's
    pools leave `kubernetes_version` unset and so run the control plane's; this holds a pool
    whose version is given.)"""
    if cluster is None or pool is None:
        return None
    a, b = parse(cluster), parse(pool)
    if a is None or b is None or b[:2] <= a[:2]:
        return None
    return (
        f"node pool version {pool} is ahead of the control plane's {cluster}: ACK upgrades the "
        "control plane first, and a kubelet newer than its API server is unsupported"
    )


class GraphNode(Protocol):
    """A resource of a graph `ack-preview --diff` compares (ack_offline.changes.Node)."""

    @property
    def urn(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...


def _version(node: GraphNode, key: str) -> str | None:
    value = node.inputs.get(key)
    return value if isinstance(value, str) and value else None


def version_problems(
    before: Iterable[GraphNode], after: Iterable[GraphNode], *, unknown: Collection[str]
) -> list[tuple[str, str]]:
    """(resource, problem) for each cluster whose version change ACK refuses, and each node
    pool ahead of its cluster, going from graph `before` to graph `after`. `unknown`: how a
    value unknown at preview reads; such a change cannot be proven one step, so it is one."""
    old = {n.urn: n for n in before}
    after = list(after)
    problems: list[tuple[str, str]] = []
    clusters: dict[str, str] = {}
    for n in after:
        if n.type not in CLUSTER_TYPES:
            continue
        new_v, prev = _version(n, "version"), old.get(n.urn)
        where = f"{n.type.rsplit(':', 1)[-1]} '{n.name}'"
        if new_v is not None:
            clusters[n.urn] = new_v
        old_v = _version(prev, "version") if prev is not None else None
        if new_v in unknown and old_v is not None:
            problems.append(
                (
                    where,
                    f"kubernetes_version goes from {old_v} to a value unknown at preview: it "
                    "cannot be proven one minor step up; give the version as a value",
                )
            )
            continue
        found = upgrade_problem(old_v, new_v)
        if found:
            problems.append((where, f"kubernetes_version: {found}"))
    for n in after:
        if n.type != NODE_POOL_TYPE:
            continue
        pool_v = _version(n, "kubernetesVersion")
        # A pool's cluster is its cluster's ID, unknown at preview: judged where the graph
        # holds one cluster (a stack of this library's).
        cluster_v = next(iter(clusters.values())) if len(clusters) == 1 else None
        found = pool_ahead_problem(cluster_v, pool_v)
        if found:
            problems.append((f"NodePool '{n.name}'", found))
    return problems


def refuse_version_changes(
    before: Iterable[GraphNode], after: Iterable[GraphNode], *, unknown: Collection[str]
) -> None:
    """Raise InvalidArguments naming each version change ACK would refuse (see
    :func:`version_problems`)."""
    problems = version_problems(before, after, unknown=unknown)
    if problems:
        raise InvalidArguments(
            "the change (ack-preview --diff)",
            [(f"{where}.kubernetes_version", msg) for where, msg in problems],
        )
