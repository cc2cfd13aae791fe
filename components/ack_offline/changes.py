"""What `pulumi up` would do to each resource when a stack goes from one graph to another:
create, update, replace, delete or nothing, predicted from the provider's facts.

An input the provider marks ForceNew replaces its resource (a nested ForceNew field replaces it
too); any other change is an update, and an update of an input the provider's Update code never
sends is marked "never applied": ``pulumi up`` reports success and the cloud keeps the old
value. An Optional+Computed input removed from the code is "kept" (Terraform plans no change
for it: the cloud keeps the old value), and a change the provider's Update code refuses
"fails" (``pulumi up`` stops with the provider's error).

Replacements are followed: a resource whose input takes, by an Output dependency or by an equal
literal, the ID (or any output) of a replaced or newly created resource gets a new value there,
so it is replaced when that input is ForceNew, and updated otherwise; a Kubernetes provider
pointed at a replaced cluster is replaced, and so is every resource it manages.

``ack-preview --diff`` refuses without ``--allow-replace`` a replacement of a stateful resource
(a cluster, VPC, vSwitch, NAT gateway, EIP, node pool, private zone or ingress load
balancer), without ``--allow-delete`` its deletion, and with no flag a change that fails.

Graphs are compared by URN. Inputs are compared as the engine compares them: secret values by
value when both graphs come from runs in this process (they never leave it), and as equal
otherwise; a value unknown at preview on either side makes the outcome uncertain ("may").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi.runtime.rpc import UNKNOWN

from . import provider
from .recorder import UNKNOWN_TEXT, ProgramRun
from .text import one_line

Action = Literal["create", "update", "replace", "delete", "same"]
Effect = Literal["replaces", "updates", "never applied", "kept", "fails", "not modelled"]

#: Types whose replacement destroys what they hold (workloads, addresses, routes).
STATEFUL: frozenset[str] = frozenset(
    {
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "alicloud:cs/kubernetes:Kubernetes",
        "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
        "alicloud:cs/nodePool:NodePool",
        "alicloud:vpc/network:Network",
        "alicloud:vpc/natGateway:NatGateway",
        "alicloud:ecs/eipAddress:EipAddress",
        # A vSwitch holds the addresses of what runs in it (nodes, pods, an app subnet's
        # databases): ECS refuses to delete one in use, and a new one is a new address range.
        "alicloud:vpc/switch:Switch",
        # A private zone holds its records; a new zone starts empty.
        "alicloud:pvtz/zone:Zone",
        # The ingress load balancer holds the address clients and DNS point at.
        "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer",
    }
)

#: Kubernetes objects are replaced when their identity changes (the Kubernetes provider's rule).
_K8S_IDENTITY = frozenset({"metadata.name", "metadata.namespace", "apiVersion", "kind"})


@dataclass(frozen=True)
class InputChange:
    path: str
    effect: Effect
    #: file:line of the provider fact behind the effect ("" when not modelled).
    source: str = ""
    #: A value is unknown at preview, so the change may not happen.
    uncertain: bool = False
    #: Why, beyond the fact at `source` (the replaced resource an input follows; the
    #: provider's error for "fails").
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "effect": self.effect,
            "source": self.source,
            "uncertain": self.uncertain,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    action: Action
    inputs: tuple[InputChange, ...] = ()
    stateful: bool = False

    @property
    def refused(self) -> bool:
        """A replacement that destroys state: needs --allow-replace."""
        return self.action == "replace" and self.stateful

    @property
    def deletes_state(self) -> bool:
        """A deletion that destroys state (a renamed pool, a NAT gateway no longer needed):
        needs --allow-delete."""
        return self.action == "delete" and self.stateful

    @property
    def fails(self) -> list[InputChange]:
        """Changes the provider's Update code refuses: `pulumi up` stops there."""
        return [i for i in self.inputs if i.effect == "fails"]

    @property
    def never_applied(self) -> list[InputChange]:
        return [i for i in self.inputs if i.effect == "never applied"]

    @property
    def kept(self) -> list[InputChange]:
        return [i for i in self.inputs if i.effect == "kept"]

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "action": self.action,
            "stateful": self.stateful,
            "inputs": [i.to_json() for i in self.inputs],
        }


@dataclass(frozen=True)
class Node:
    """One resource of a graph, from a run in this process or from a saved ``--json`` graph."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: Mapping[str, Any]
    ignore_changes: tuple[str, ...] = ()
    aliases: frozenset[str] = field(default_factory=frozenset)
    #: Input name -> URNs of the resources its value came from (Output dependencies).
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: URN of the provider resource that manages it ("" for a default provider).
    provider: str = ""
    #: Its ID where known (a run in update mode), for inputs that hold it as a literal.
    id: str = ""

    @classmethod
    def of_run(cls, run: ProgramRun, *, secrets: bool = True) -> list[Node]:
        """The run's resources; with `secrets`, inputs as sent (secrets compared by value,
        never printed), else as a saved ``--json`` graph holds them (secrets masked)."""
        aliases = run.alias_urns()
        return [
            cls(
                r.urn,
                r.type,
                r.name,
                r.custom,
                r.wire_inputs if secrets and r.wire_inputs else r.inputs,
                tuple(r.ignore_changes),
                frozenset(aliases.get(r.urn, ())),
                dict(r.property_dependencies),
                _provider_urn(r.provider),
                "" if _unknown(r.id) else str(r.id or ""),
            )
            for r in run.resources
        ]

    @classmethod
    def of_json(cls, doc: Mapping[str, Any]) -> list[Node]:
        return [
            cls(
                str(r["urn"]),
                str(r["type"]),
                str(r["name"]),
                bool(r.get("custom", True)),
                r.get("inputs") or {},
                tuple(r.get("ignore_changes") or ()),
                property_dependencies={
                    str(k): [str(u) for u in v]
                    for k, v in (r.get("property_dependencies") or {}).items()
                },
                provider=_provider_urn(str(r.get("provider") or "")),
            )
            for r in doc["resources"]
        ]


def _provider_urn(reference: str) -> str:
    """The URN in a provider reference (``URN::ID``)."""
    return reference.rsplit("::", 1)[0] if reference.count("::") > 3 else reference


def _unknown(value: Any) -> bool:
    return value in (UNKNOWN, UNKNOWN_TEXT) if isinstance(value, str) else False


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return _unknown(value)


def _nested_force_new(facts: provider.Facts, old: Any, new: Any, path: str) -> str | None:
    """The path of a nested ForceNew field that differs between old and new, if any."""
    fields = facts.get("fields")
    if not fields:
        return None
    olds = old if isinstance(old, list) else [old]
    news = new if isinstance(new, list) else [new]
    for i in range(max(len(olds), len(news))):
        a = olds[i] if i < len(olds) and isinstance(olds[i], dict) else {}
        b = news[i] if i < len(news) and isinstance(news[i], dict) else {}
        for name, sub in fields.items():
            if a.get(name) != b.get(name):
                at = f"{path}[{i}].{name}"
                if sub.get("force_new"):
                    return at
                deeper = _nested_force_new(sub, a.get(name), b.get(name), at)
                if deeper:
                    return deeper
    return None


#: Why an Optional+Computed input removed from the code is kept: the Terraform plugin SDK the
#: provider is built on plans no change for it (terraform-plugin-sdk/v2 helper/schema/schema.go:
#: `diffString`, "if removed && schema.Computed { return nil }", and `diffList`/`diffSet`, "if
#: o != nil && n == nil && !computedList && schema.Computed { return nil }"), so the bridge
#: sends nothing and the cloud keeps the old value.
KEPT_RULE = "Optional+Computed: a removed value is planned as no change (terraform-plugin-sdk)"


def input_change(type_: str, name: str, old: Any, new: Any) -> InputChange:
    """What changing one top-level input from `old` to `new` does (the first of
    :func:`input_changes`, for callers that ask about one input)."""
    return input_changes(type_, name, old, new)[0]


def input_changes(type_: str, name: str, old: Any, new: Any) -> list[InputChange]:
    """What changing one top-level input from `old` to `new` does: one entry, or (an object
    some of whose Optional+Computed fields were removed) one per kept field, then one for the
    rest of the change if any."""
    uncertain = _contains_unknown(old) or _contains_unknown(new)
    if type_.startswith("pulumi:providers:") or type_.startswith("kubernetes:"):
        return [_one_change(type_, name, old, new, uncertain)]
    facts = provider.input_facts(type_, name)
    if facts is None:
        return [InputChange(name, "not modelled", "", uncertain)]
    source = provider.source_of(type_, facts)
    rule = VALUE_RULES.get((type_, name))
    if rule is not None and not uncertain:
        found = rule.effect(old, new)
        if found is not None:
            effect, reason = found
            return [InputChange(name, effect, rule.source, uncertain, reason)]
    if old is not None and new is None and facts.get("optional") and facts.get("computed"):
        return [InputChange(name, "kept", source, uncertain, KEPT_RULE)]
    kept: list[str] = []
    planned = _planned(facts, old, new, name, kept)
    out = [InputChange(k, "kept", source, uncertain, KEPT_RULE) for k in kept]
    if planned != old:
        out.append(_one_change(type_, name, old, planned, uncertain))
    return out


def _planned(facts: provider.Facts, old: Any, new: Any, path: str, kept: list[str]) -> Any:
    """`new` as Terraform plans it: a nested Optional+Computed field that `old` set and `new`
    leaves out keeps its old value (its path is added to `kept`). Objects (blocks of at most
    one item, as Pulumi holds them) are followed; lists of several blocks are left as they
    are (their items have no identity to match fields by)."""
    fields = facts.get("fields")
    if not fields or not isinstance(old, dict) or not isinstance(new, dict):
        return new
    out = dict(new)
    for field_name, sub in fields.items():
        at = f"{path}.{field_name}"
        if field_name not in old or old[field_name] is None:
            continue
        if out.get(field_name) is None:
            if sub.get("optional") and sub.get("computed"):
                out[field_name] = old[field_name]
                kept.append(at)
            continue
        out[field_name] = _planned(sub, old[field_name], out[field_name], at, kept)
    return out


def _one_change(type_: str, name: str, old: Any, new: Any, uncertain: bool) -> InputChange:
    if type_.startswith("pulumi:providers:"):
        # New provider configuration: the provider is updated, then diffs its resources with it.
        return InputChange(name, "updates", "", uncertain)
    if type_.startswith("kubernetes:"):
        ident = name in {"apiVersion", "kind"} or (
            name == "metadata"
            and any(
                (old or {}).get(k) != (new or {}).get(k)
                for k in ("name", "namespace")
                if isinstance(old, dict) and isinstance(new, dict)
            )
        )
        return InputChange(name, "replaces" if ident else "updates", "", uncertain)
    facts = provider.input_facts(type_, name)
    if facts is None:
        return InputChange(name, "not modelled", "", uncertain)
    source = provider.source_of(type_, facts)
    if facts.get("force_new"):
        return InputChange(name, "replaces", source, uncertain)
    nested = _nested_force_new(facts, old, new, name)
    if nested:
        return InputChange(nested, "replaces", source, uncertain)
    if facts.get("updatable") is False:
        return InputChange(name, "never applied", source, uncertain)
    if facts.get("clear_applied") is False and _empty(new) and not _empty(old):
        return InputChange(name, "never applied", facts["clear_code"][0], uncertain)
    return InputChange(name, "updates", source, uncertain)


def _empty(value: Any) -> bool:
    return value is None or value is False or value in ("", [], {})


@dataclass(frozen=True)
class ValueRule:
    """What the provider's Update code does for some values of an input (read from its code):
    `effect(old, new)` is (effect, reason) where the rule decides, None where it does not."""

    source: str
    effect: Callable[[Any, Any], tuple[Effect, str] | None]


def _spec_migration(old: Any, new: Any) -> tuple[Effect, str] | None:
    if old in (None, "", "ack.standard") and isinstance(new, str) and "pro" in new:
        return None
    return "never applied", "only ack.standard to a Pro spec is migrated"


def _not_removed(old: Any, new: Any) -> tuple[Effect, str] | None:
    # The provider sends the block only when it has items: a removed block stays in the cloud.
    if _empty(new) or new == [{}] or new == {}:
        return "never applied", "an empty block is never sent"
    return None


def _rrsa_off(old: Any, new: Any) -> tuple[Effect, str] | None:
    if old is True and not new:
        return "fails", 'the provider errors: "It\'s not supported to disable RRSA!"'
    return None


def _json_object(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str):
        return None
    try:
        found = json.loads(value)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _is_subset(small: Mapping[str, Any], big: Mapping[str, Any]) -> bool:
    """The provider's `isSubset` (resource_alicloud_cs_kubernetes_addon.go): every key of
    `small` is in `big` with an equal value, objects compared the same way, key by key."""
    for key, value in small.items():
        if key not in big:
            return False
        if isinstance(value, dict) and isinstance(big[key], dict):
            if not _is_subset(value, big[key]):
                return False
        elif isinstance(value, dict) != isinstance(big[key], dict) or value != big[key]:
            return False
    return True


def _addon_config_reduced(old: Any, new: Any) -> tuple[Effect, str] | None:
    # needUpgrade: the config is sent only when the declared one is not a subset of the
    # cloud's, which holds at least the old declared config (Read merges the two); "{}" is a
    # subset of anything (an empty string is no config at all: GetOk skips it).
    small, big = _json_object(new), _json_object(old)
    if small is not None and big is not None and _is_subset(small, big):
        return "kept", "a config that is a subset of the cloud's is never sent"
    return None


_CS = "alicloud/resource_alicloud_cs_kubernetes.go"
_ADDON = "alicloud/resource_alicloud_cs_kubernetes_addon.go"
_POOL = "alicloud/resource_alicloud_cs_kubernetes_node_pool.go"
MK_TYPE = "alicloud:cs/managedKubernetes:ManagedKubernetes"
K_TYPE = "alicloud:cs/kubernetes:Kubernetes"
POOL_TYPE = "alicloud:cs/nodePool:NodePool"
#: Value-dependent updates, curated from terraform-provider-alicloud v1.289.0 (file:line).
VALUE_RULES: dict[tuple[str, str], ValueRule] = {
    # migrateCluster: only ack.standard (or an empty spec) to a Pro spec is applied.
    (MK_TYPE, "clusterSpec"): ValueRule(f"{_CS}:955", _spec_migration),
    (MK_TYPE, "maintenanceWindow"): ValueRule(f"{_CS}:995", _not_removed),
    (MK_TYPE, "operationPolicy"): ValueRule(f"{_CS}:1004", _not_removed),
    (K_TYPE, "maintenanceWindow"): ValueRule(f"{_CS}:995", _not_removed),
    # modifyCluster (called by both types' Update: resource_alicloud_cs_managed_kubernetes.go
    # :1459, resource_alicloud_cs_kubernetes.go:894): enable_rrsa false -> fmt.Errorf.
    (MK_TYPE, "enableRrsa"): ValueRule(f"{_CS}:1024", _rrsa_off),
    (K_TYPE, "enableRrsa"): ValueRule(f"{_CS}:1024", _rrsa_off),
    # Update -> updateAddon -> needUpgrade: `updateConfig = !isSubset(localConfig, remote)`.
    ("alicloud:cs/kubernetesAddon:KubernetesAddon", "config"): ValueRule(
        f"{_ADDON}:285", _addon_config_reduced
    ),
}

#: Inputs the provider's Update code puts into a request that only other changes send: the
#: node pool's `rolling_policy` is added to the ModifyNodePool body (:3330) and sent only `if
#: update` (:3342), which only the other inputs' HasChange set; the upgrade call (:3420) only
#: with `upgrade_policy`. Changed alone, it is never applied.
SENT_WITH_OTHERS: dict[tuple[str, str], str] = {
    (POOL_TYPE, "rollingPolicy"): f"{_POOL}:3330",
}


def _resource_change(old: Node, new: Node) -> Change:
    ignored = set(new.ignore_changes)
    keys = sorted(set(old.inputs) | set(new.inputs))
    changed = [
        c
        for k in keys
        if k not in ignored and old.inputs.get(k) != new.inputs.get(k)
        for c in input_changes(new.type, k, old.inputs.get(k), new.inputs.get(k))
    ]
    if not new.custom:
        changed = []  # a component's inputs are not sent to any provider
    changed = _sent_with_others(new.type, changed)
    return _change_of(new, changed)


def _sent_with_others(type_: str, changed: list[InputChange]) -> list[InputChange]:
    carriers = [c for c in changed if c.effect in {"updates", "not modelled"}]
    out = []
    for c in changed:
        source = SENT_WITH_OTHERS.get((type_, c.path.split(".")[0].split("[")[0]))
        if source and c.effect == "updates" and all(o is c for o in carriers):
            c = InputChange(
                c.path, "never applied", source, c.uncertain, "sent only with other changes"
            )
        out.append(c)
    return out


def _change_of(node: Node, changed: Sequence[InputChange]) -> Change:
    action: Action = "same"
    if any(c.effect == "replaces" for c in changed):
        action = "replace"
    elif any(c.effect != "kept" for c in changed):
        action = "update"  # "kept" alone: Terraform plans no change, the engine shows none
    return Change(node.urn, node.type, node.name, action, tuple(changed), node.type in STATEFUL)


def predict(before: Sequence[Node], after: Sequence[Node]) -> list[Change]:
    """Every resource's fate, in URN order (deletions by their old URN)."""
    old = {n.urn: n for n in before}
    claimed: set[str] = set()
    out: dict[str, Change] = {}
    matched: dict[str, Node] = {}
    for n in after:
        match = old.get(n.urn) or next((old[a] for a in sorted(n.aliases) if a in old), None)
        if match is None:
            out[n.urn] = Change(n.urn, n.type, n.name, "create", (), n.type in STATEFUL)
            continue
        claimed.add(match.urn)
        matched[n.urn] = match
        out[n.urn] = _resource_change(match, n)
    _follow_new_ids(after, matched, out)
    found = list(out.values())
    for n in before:
        if n.urn not in claimed:
            found.append(Change(n.urn, n.type, n.name, "delete", (), n.type in STATEFUL))
    return sorted(found, key=lambda c: (c.urn, c.action))


#: pulumi/pulumi-kubernetes provider/pkg/provider/provider.go, DiffConfig: "planning a
#: replacement iff the active cluster in the kubeconfig changes" (unless a `clusterIdentifier`
#: names the cluster); the engine then replaces every resource that provider manages (a
#: replaced provider gets a new ID, so its resources' provider reference changes:
#: pulumi/pulumi pkg/resource/deploy/step_generator.go, `providerChanged`, which makes the
#: step generator diff them as a replacement).
K8S_PROVIDER_RULE = "pulumi-kubernetes DiffConfig: another cluster replaces the provider"


def _follow_new_ids(
    after: Sequence[Node], matched: Mapping[str, Node], out: dict[str, Change]
) -> None:
    """The blast radius: an input whose value comes from a resource that gets a new ID (one
    replaced or created), by an Output dependency or as an equal literal of a replaced
    resource's old ID, changes too; a ForceNew one replaces its resource, whose dependents
    follow in turn. A resource managed by a replaced provider is replaced."""
    by_urn = {n.urn: n for n in after}
    renewed = {u for u, c in out.items() if c.action in {"replace", "create"}}
    pending = sorted(renewed)
    while pending:
        pending = []
        # The old IDs of what is replaced: an input may hold one as a literal.
        old_ids = {matched[u].id: u for u in renewed if u in matched and matched[u].id}
        for n in after:
            change = out[n.urn]
            match = matched.get(n.urn)
            if match is None or change.action in {"create", "replace"} or not n.custom:
                continue
            extra = _new_id_inputs(n, match, renewed, old_ids, by_urn, change)
            if n.provider in renewed and out.get(n.provider, change).action == "replace":
                prov = by_urn[n.provider]
                extra.append(
                    InputChange(
                        "provider",
                        "replaces",
                        "",
                        False,
                        f"its provider {prov.type.split(':')[-1]} {prov.name} is replaced",
                    )
                )
            if not extra:
                continue
            new_change = _change_of(n, [*change.inputs, *extra])
            out[n.urn] = new_change
            if new_change.action == "replace":
                renewed.add(n.urn)
                pending.append(n.urn)


def _new_id_inputs(
    n: Node,
    match: Node,
    renewed: set[str],
    old_ids: Mapping[str, str],
    by_urn: Mapping[str, Node],
    change: Change,
) -> list[InputChange]:
    already = {c.path.split(".")[0].split("[")[0] for c in change.inputs}
    extra: list[InputChange] = []
    for name in sorted(n.inputs):
        if name in already or name in n.ignore_changes:
            continue
        sources = [u for u in n.property_dependencies.get(name, ()) if u in renewed]
        if not sources:
            sources = [old_ids[v] for v in _strings(n.inputs[name]) if v in old_ids]
        if not sources:
            continue
        src = by_urn[sources[0]]
        reason = f"takes the new ID of {src.type.split(':')[-1]} {src.name}"
        if n.type.startswith("pulumi:providers:kubernetes"):
            if (
                "clusterIdentifier" in n.inputs
                and match.inputs.get("clusterIdentifier") == (n.inputs["clusterIdentifier"])
            ):
                extra.append(InputChange(name, "updates", "", False, reason))
            else:
                extra.append(
                    InputChange(name, "replaces", "", False, f"{reason}; {K8S_PROVIDER_RULE}")
                )
            continue
        found = _one_change(n.type, name, match.inputs.get(name), _CHANGED, False)
        extra.append(InputChange(found.path, found.effect, found.source, False, reason))
    return extra


#: A value no input ever holds: "some other value" for the effect of an input taking a new ID.
_CHANGED = object()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def summary(changes: Iterable[Change]) -> dict[str, int]:
    counts = dict.fromkeys(("create", "update", "replace", "delete", "same"), 0)
    refused = deleted = never = kept = fails = 0
    for c in changes:
        counts[c.action] += 1
        refused += c.refused
        deleted += c.deletes_state
        never += bool(c.never_applied)
        kept += bool(c.kept)
        fails += bool(c.fails)
    return {
        **counts,
        "stateful_replacements": refused,
        "stateful_deletions": deleted,
        "never_applied": never,
        "kept": kept,
        "fails": fails,
    }


def guarded(changes: Iterable[Change], *, allow_replace: bool, allow_delete: bool) -> list[str]:
    """Why ``ack-preview --diff`` exits 3: each stateful replacement not allowed, each stateful
    deletion not allowed, and each change `pulumi up` would fail on (no flag allows that)."""
    found = []
    for c in changes:
        what = f"{c.type.split(':')[-1]} {c.name}"
        if c.refused and not allow_replace:
            found.append(f"{what} is replaced (--allow-replace)")
        if c.deletes_state and not allow_delete:
            found.append(f"{what} is deleted (--allow-delete)")
        for i in c.fails:
            found.append(f"{what}: {i.path}: `pulumi up` fails ({i.reason})")
    return found


def shown(change: Change) -> bool:
    """Whether a report lists the change: anything but "same", and a "same" resource with
    inputs that are kept (the code says one thing, the cloud keeps another)."""
    return change.action != "same" or bool(change.inputs)


_SIGNS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": "="}


def render(
    changes: Sequence[Change], *, base: str, allow_replace: bool, allow_delete: bool = False
) -> str:
    """The text report: one line per resource that changes, its inputs below it."""
    lines = [f"Changes against {base}:"]
    for c in changes:
        if not shown(c):
            continue
        flag = ""
        if c.refused:
            flag = (
                "  [STATEFUL: allowed by --allow-replace]"
                if allow_replace
                else ("  [STATEFUL: refused without --allow-replace]")
            )
        elif c.deletes_state:
            flag = (
                "  [STATEFUL: allowed by --allow-delete]"
                if allow_delete
                else "  [STATEFUL: refused without --allow-delete]"
            )
        if c.fails:
            flag += "  [FAILS: `pulumi up` stops here]"
        what = f"{one_line(c.type)}  {one_line(c.name)}"
        lines.append(f"  {_SIGNS[c.action]:<2} {c.action:<7} {what}{flag}")
        for i in c.inputs:
            maybe = "may be " if i.uncertain else ""
            what = {
                "replaces": f"{maybe}{'ForceNew: ' if i.source else ''}replaces the resource",
                "updates": f"{maybe}updated in place",
                "never applied": f"{maybe}changed in the diff, NEVER APPLIED by the provider",
                "kept": f"{maybe}removed or reduced in the code, KEPT in the cloud (no change "
                "is planned)",
                "fails": f"{maybe}`pulumi up` FAILS",
                "not modelled": f"{maybe}changed (no provider facts: assumed an update)",
            }[i.effect]
            why = f"; {one_line(i.reason)}" if i.reason else ""
            src = f" ({i.source})" if i.source else ""
            lines.append(f"        {one_line(i.path)}: {what}{why}{src}")
    s = summary(changes)
    lines.append(
        f"{s['create']} to create, {s['update']} to update, {s['replace']} to replace "
        f"({s['stateful_replacements']} stateful), {s['delete']} to delete "
        f"({s['stateful_deletions']} stateful), {s['same']} unchanged"
        + (f", {s['fails']} failing" if s["fails"] else "")
    )
    if len(lines) == 2:
        lines.insert(1, "  no changes")
    return "\n".join(lines)
