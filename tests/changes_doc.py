"""docs/CHANGES.md, generated: what each change of arguments does to each resource, predicted
from the provider's facts (ack_offline.changes) on the graphs the library really builds.

    python -m tests.changes_doc > docs/CHANGES.md

tests/test_stability.py checks the document is current and that each prediction holds.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from ack_clusters import DedicatedCluster, ManagedCluster, ServerlessCluster
from ack_offline import provider
from ack_offline.changes import Change, Node, predict
from ack_offline.project import find_project, run_stack

from .conftest import ROOT, ZONES, run

POOLS: dict[str, dict[str, Any]] = {
    "web": {"instance_types": ["ecs.g7.large"], "desired_size": 3, "key_name": "ops"},
    "batch": {
        "instance_types": ["ecs.g7.large"],
        "autoscaling": {"min_size": 0, "max_size": 5},
        "key_name": "ops",
    },
}
NETWORK: dict[str, Any] = {"zones": ZONES[:2], "nat": "per_zone"}
BASES: dict[str, dict[str, Any]] = {
    "managed": {"network": NETWORK, "node_pools": POOLS},
    "serverless": {"network": NETWORK},
    "dedicated": {"network": {**NETWORK, "zones": ZONES}, "node_pools": POOLS, "key_name": "ops"},
}
CLASSES = {
    "managed": ManagedCluster,
    "serverless": ServerlessCluster,
    "dedicated": DedicatedCluster,
}


VPN = {"description": "vpn", "protocol": "tcp", "port_range": "443/443", "cidr": "10.9.0.0/16"}


def pools(**web: Any) -> dict[str, Any]:
    return {"node_pools": {**POOLS, "web": {**POOLS["web"], **web}}}


@dataclass(frozen=True)
class ArgChange:
    title: str
    form: str
    change: dict[str, Any]
    before: dict[str, Any] | None = None  # extra base arguments the change starts from


CHANGES: list[ArgChange] = [
    ArgChange("pool size", "managed", pools(desired_size=7)),
    ArgChange(
        "autoscaling bounds",
        "managed",
        {
            "node_pools": {
                **POOLS,
                "batch": {**POOLS["batch"], "autoscaling": {"min_size": 1, "max_size": 9}},
            }
        },
    ),
    ArgChange("pool labels", "managed", pools(labels={"tier": "web"})),
    ArgChange("pool taints", "managed", pools(taints=[{"key": "dedicated", "value": "web"}])),
    ArgChange("pool instance types", "managed", pools(instance_types=["ecs.g7.xlarge"])),
    ArgChange("pool system disk size", "managed", pools(system_disk={"size": 200})),
    ArgChange("pool image", "managed", pools(image_type="AliyunLinux3ContainerOptimized")),
    ArgChange("pool login key pair", "managed", pools(key_name="ops2")),
    ArgChange(
        "pool runtime version", "managed", pools(runtime="containerd", runtime_version="1.6.38")
    ),
    ArgChange("pool zones narrowed", "managed", pools(zones=["cn-hangzhou-i"])),
    ArgChange("pool to subscription", "managed", pools(prepaid={"period": 1})),
    ArgChange("pool CVE patching", "managed", pools(fix_vulnerabilities=True)),
    ArgChange(
        "pool CVE patching off",
        "managed",
        pools(),
        before=pools(fix_vulnerabilities=True),
    ),
    ArgChange(
        "pool stops autoscaling",
        "managed",
        {"node_pools": {**POOLS, "batch": {**POOLS["web"]}}},
    ),
    ArgChange(
        "pool rolling upgrade parallelism",
        "managed",
        pools(upgrade_max_parallelism=3),
    ),
    ArgChange(
        "pool renamed",
        "managed",
        {"node_pools": {"frontend": POOLS["web"], "batch": POOLS["batch"]}},
    ),
    ArgChange("pool user data", "managed", pools(user_data="#!/bin/sh\necho hi\n")),
    ArgChange("control plane only upgrades", "managed", {"upgrade_control_plane_only": True}),
    ArgChange("tags", "managed", {"tags": {"team": "payments"}}),
    ArgChange("control plane log settings", "managed", {"control_plane_logs": {"ttl_days": 90}}),
    ArgChange("control plane logs off", "managed", {"control_plane_logs": None}),
    ArgChange("audit log off", "managed", {"audit_log": {"enabled": False}}),
    ArgChange("maintenance window", "managed", {"maintenance_window": {"weekly_period": "Sunday"}}),
    ArgChange(
        "maintenance window removed",
        "managed",
        {"maintenance_window": None},
        before={"maintenance_window": {"weekly_period": "Sunday"}},
    ),
    ArgChange("Kubernetes version", "managed", {"kubernetes_version": "1.33.3-aliyun.1"}),
    ArgChange("Pro to standard", "managed", {"cluster_spec": "ack.standard"}),
    ArgChange("RRSA off", "managed", {"rrsa": False}, before={"rrsa": True}),
    ArgChange("deletion protection off", "managed", {"deletion_protection": False}),
    ArgChange("NAT bandwidth", "managed", {"network": {**NETWORK, "nat_eip_bandwidth": 150}}),
    ArgChange(
        "NAT: one per zone to one in all", "managed", {"network": {**NETWORK, "nat": "single"}}
    ),
    ArgChange("service CIDR", "managed", {"service_cidr": "172.22.0.0/20"}),
    ArgChange("public API server", "managed", {"public_api_server": True}),
    ArgChange(
        "autoscaler settings",
        "managed",
        {"autoscaler": {"utilization_threshold": 0.7, "scan_interval": "15s"}},
        before={"autoscaler": {}},
    ),
    ArgChange("autoscaler removed", "managed", {"autoscaler": None}, before={"autoscaler": {}}),
    ArgChange(
        "VPC attached to CEN",
        "managed",
        {"network": {**NETWORK, "cen": {"instance_id": "cen-a1", "transit_router_id": "tr-a1"}}},
    ),
    ArgChange(
        "another transit router",
        "managed",
        {"network": {**NETWORK, "cen": {"instance_id": "cen-a1", "transit_router_id": "tr-b2"}}},
        before={
            "network": {**NETWORK, "cen": {"instance_id": "cen-a1", "transit_router_id": "tr-a1"}}
        },
    ),
    ArgChange("addon added", "managed", {"addons": [{"name": "ack-node-problem-detector"}]}),
    ArgChange(
        "addon version and config",
        "managed",
        {"addons": [{"name": "logtail-ds", "version": "v2", "config": '{"a": 2}'}]},
        before={"addons": [{"name": "logtail-ds", "version": "v1", "config": '{"a": 1}'}]},
    ),
    ArgChange(
        "addon config reduced",
        "managed",
        {"addons": [{"name": "logtail-ds", "config": '{"a": 1}'}]},
        before={"addons": [{"name": "logtail-ds", "config": '{"a": 1, "b": 2}'}]},
    ),
    ArgChange(
        "addon removed",
        "managed",
        {"addons": []},
        before={"addons": [{"name": "logtail-ds"}]},
    ),
    ArgChange(
        "default addon disabled",
        "managed",
        {"addons": [{"name": "logtail-ds", "disabled": True}]},
    ),
    ArgChange("network plugin", "managed", {"network_plugin": "flannel"}),
    ArgChange(
        "Flannel node CIDR mask",
        "managed",
        {"node_cidr_mask": 25},
        before={"network_plugin": "flannel"},
    ),
    ArgChange("VPC range", "managed", {"network": {**NETWORK, "vpc_cidr": "10.8.0.0/16"}}),
    ArgChange("a zone added (Terway)", "managed", {"network": {**NETWORK, "zones": ZONES}}),
    ArgChange(
        "a zone removed from the middle",
        "managed",
        {"network": {**NETWORK, "zones": [ZONES[0], ZONES[2]]}},
        before={"network": {**NETWORK, "zones": ZONES}},
    ),
    ArgChange("a pool added", "managed", {"node_pools": {**POOLS, "gpu": POOLS["web"]}}),
    ArgChange(
        "an extra ingress rule's port",
        "managed",
        {"security": {"extra_ingress": [{**VPN, "port_range": "8443/8443"}]}},
        before={"security": {"extra_ingress": [VPN]}},
    ),
    ArgChange(
        "ingress made public", "managed", {"ingress": {"public": True}}, before={"ingress": {}}
    ),
    ArgChange(
        "ingress SLB spec", "managed", {"ingress": {"spec": "slb.s3.small"}}, before={"ingress": {}}
    ),
    ArgChange("serverless: service discovery", "serverless", {"service_discovery": "none"}),
    ArgChange(
        "dedicated: master instance types",
        "dedicated",
        {"masters": {"instance_types": ["ecs.g7.2xlarge"]}},
    ),
    ArgChange("dedicated: master disk size", "dedicated", {"masters": {"disk": {"size": 200}}}),
    ArgChange("dedicated: master login key", "dedicated", {"key_name": "ops2"}),
]


def graph(form: str, args: dict[str, Any]) -> list[Node]:
    return _graph(form, json.dumps(args, sort_keys=True))


@cache
def _graph(form: str, args: str) -> list[Node]:
    """One run per distinct arguments: most changes start from the same base."""
    cls = CLASSES[form]
    return Node.of_run(run(lambda: cls("demo", json.loads(args)), preview=False))


@cache
def outcome(index: int) -> tuple[Change, ...]:
    c = CHANGES[index]
    base = {**copy.deepcopy(BASES[c.form]), **copy.deepcopy(c.before or {})}
    after = {**base, **copy.deepcopy(c.change)}
    found = predict(graph(c.form, base), graph(c.form, after))
    # Every run fetches a fresh kubeconfig; that provider update is the same for every change.
    return tuple(x for x in found if not x.type.startswith("pulumi:providers:"))


def _short(type_: str) -> str:
    return type_.split(":")[-1]


def _cells(changes: tuple[Change, ...]) -> tuple[str, ...]:
    replaced: set[str] = set()
    never: set[str] = set()
    kept: set[str] = set()
    fails: set[str] = set()
    updated: set[str] = set()
    other: set[str] = set()
    for c in changes:
        if c.action in {"create", "delete"}:
            sign = "+" if c.action == "create" else "-"
            other.add(
                f"**{sign}{_short(c.type)}**" if c.deletes_state else f"{sign}{_short(c.type)}"
            )
        for i in c.inputs:
            field = f"{_short(c.type)}.`{i.path.split('[')[0]}`"
            if i.effect == "replaces" and i.reason:
                continue  # it follows another replacement: the resource is listed below
            {"replaces": replaced, "never applied": never, "kept": kept, "fails": fails}.get(
                i.effect, updated
            ).add(field)
        if c.action == "replace":
            replaced.add(f"**{_short(c.type)}**" if c.stateful else _short(c.type))

    def cell(items: set[str]) -> str:
        return ", ".join(sorted(items)) or "-"

    return cell(replaced), cell(never), cell(kept), cell(fails), cell(updated), cell(other)


@cache
def stack_inputs() -> dict[str, set[str]]:
    """Inputs the four stacks and the catalogue above set, per provider type."""
    seen: dict[str, set[str]] = {}
    project = find_project(ROOT)
    nodes = [n for s in project.stacks() for n in Node.of_run(run_stack(project, s, preview=False))]
    for i in range(len(CHANGES)):
        c = CHANGES[i]
        nodes += graph(c.form, {**BASES[c.form], **(c.before or {}), **c.change})
    for n in nodes:
        if n.custom and provider.resource_facts(n.type):
            seen.setdefault(n.type, set()).update(n.inputs)
    return seen


INTRO = """\
# What a change does

<!-- Generated by `python -m tests.changes_doc > docs/CHANGES.md`; do not edit by hand. -->

Every resource is named from the cluster name and the user's keys (zone, pool name, rule), never
from list positions, so changing one thing never renames another. What a change does to each
resource is predicted from the provider's own facts (`ack_offline/provider_facts.json`, read out
of terraform-provider-alicloud {version}'s source; see README, "What the offline engine
models"): an input the provider marks **ForceNew** replaces its resource, and everything
whose input takes the replaced resource's ID follows it (a cluster's pools, addons, autoscaler
settings and Kubernetes provider with its workloads; a CEN attachment's route table association
and propagation); an input its Update code never sends (alone, or at all) is **never
applied** (`pulumi up` succeeds, the cloud keeps the old value); an Optional+Computed input
removed from the code is **kept in the cloud** (no change is even planned); a change the
provider's Update code refuses **fails** (`pulumi up` stops with its error); anything else is
updated in place. Check a change of your own before applying it:

    ack-preview STACK --mode update --diff HEAD       # the committed program and stack file
    ack-preview STACK --mode update --diff old.json   # a saved --json graph

A replacement of a cluster, VPC, vSwitch, NAT gateway, EIP, node pool, private zone or ingress
load balancer (**bold** below) makes that command exit 3 unless `--allow-replace` is given,
its deletion (**bold** with `-`) unless `--allow-delete` is given, and a change that fails
always does. How `--diff REV` runs the
program as it was: [DIFF.md](DIFF.md).
"""

CAVEATS = """\
## Caveats

- **Every run fetches a new cluster credential** (`admin_kubeconfig`), but the Kubernetes
  provider is configured from `kubeconfig`, which runs ACK's credential plugin and is the same
  on every run, so `pulumi preview --expect-no-changes` stays quiet. A provider you build from
  `admin_kubeconfig` would change on every run (`ack-preview --diff --mode update` shows it).
- **Zone order.** Planned CIDRs follow the position of a zone in `network.zones`. Removing a
  zone from the middle moves the zones after it (their vSwitches would be replaced). Pin the
  CIDRs with `node_vswitch_cidrs` / `pod_vswitch_cidrs` before removing one.
- **Adding a zone to a Terway cluster.** The new zone's vSwitches and SNAT entries are created,
  and `vswitch_ids` (control plane) is updated in place, but the provider never sends a change
  of `pod_vswitch_ids`: add the new pod vSwitch to Terway's `eni-config` ConfigMap in
  `kube-system` too.
- **Values the provider never sends.** `new_nat_gateway: false` and `slb_internet_enabled:
  false` on a managed or serverless cluster are never sent on create (the provider reads them
  with `GetOk`, which skips `false`), so ACK's API defaults for `snat_entry` and
  `endpoint_public_access` decide (every cluster waits for its own NAT gateway and SNAT entries,
  so egress ends up as declared whichever default applies; see README). Emptying control
  plane log settings and removing a maintenance window or an auto-upgrade channel are never
  sent on update either. Turning RRSA off is refused by the provider's Update
  (`resource_alicloud_cs_kubernetes.go:1024`, "It's not supported to disable RRSA!"): `pulumi
  up` fails, so `--diff` exits 3.
- **Removed, but kept.** Inputs the provider marks Optional+Computed keep their last value in
  the cloud when the code stops setting them (the Terraform SDK plans no change): a pool that
  stops autoscaling keeps its `scaling_config` (set `autoscaling.max_size` to the pool size
  first, or replace the pool; the library sends `auto_vul_fix: false` itself, so turning CVE
  patching off is applied), and an
  addon's `config` removed or reduced to a subset of what the cloud holds is never sent
  (`needUpgrade`, `resource_alicloud_cs_kubernetes_addon.go:285`). Change the value explicitly
  instead of removing it.
- **Sent only with other changes.** A pool's `rolling_policy` (`upgrade_max_parallelism`) is
  put into the request other changes send (`resource_alicloud_cs_kubernetes_node_pool.go:3330`):
  changed alone, it is never applied.
- **Addons.** An installed addon is a `KubernetesAddon`: its `version` and `config` are
  updated in place (the provider upgrades, or updates the config, whichever changed). Removing
  it from `addons` uninstalls it, except ACK's required or non-uninstallable addons, which the
  provider leaves installed and only drops from state. Creating one that is already installed
  (an addon ACK put on the cluster at creation, or one a stack from before 0.2 listed on the
  cluster resource) takes it over and applies the declared version and config. A `disabled`
  addon only keeps ACK from installing one of its default addons at creation: changing that
  list later is never applied.
- **Autoscaler.** Its settings are resent whole on every update. Removing `autoscaler` deletes
  the resource from the stack only: the provider's delete does nothing, so ACK keeps the last
  settings (set them back to the defaults first if that matters). Turning
  `skip_nodes_with_local_storage`, `daemonset_eviction_for_nodes` or
  `recycle_node_deletion_enabled` off again is never sent (the provider skips `false`).
- **Ignored fields.** An autoscaled pool's `desired_size`, only with
  `ignore_scaling_changes: true` (the cluster autoscaler moves it); and on an adopted cluster,
  the inputs the provider neither reads back nor updates (so that the import can match). Nothing
  else is ignored, so refresh-based drift detection sees every other console edit.
"""


def render() -> str:
    out = [INTRO.format(version=provider.version()), "## Changes of arguments", ""]
    out.append(
        "| Change | Form | Replaces | Never applied | Kept in the cloud | Fails | Updated in place "
        "| Adds / removes |"
    )
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for i, c in enumerate(CHANGES):
        cells = _cells(outcome(i))
        out.append(f"| {c.title} | {c.form} | " + " | ".join(cells) + " |")
    out += ["", "## Inputs taken at creation, per resource type", ""]
    out.append(
        "Of the inputs the components set: those whose change replaces the resource, and those "
        "the provider never updates. The source is the provider file and line of the fact."
    )
    out += ["", "| Resource type | Input | Effect | Source |", "| --- | --- | --- | --- |"]
    for type_, names in sorted(stack_inputs().items()):
        for name in sorted(names):
            f = provider.input_facts(type_, name)
            if not f:
                continue
            if f.get("force_new"):
                effect = "replaces"
            elif f.get("updatable") is False:
                effect = "never applied"
            elif f.get("clear_applied") is False:
                effect = "emptying it is never applied"
            else:
                continue
            out.append(f"| `{type_}` | `{name}` | {effect} | {provider.source_of(type_, f)} |")
    out += ["", CAVEATS]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
