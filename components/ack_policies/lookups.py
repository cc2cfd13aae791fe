"""Lookups nobody could answer: what an invoke offline could have returned, judged closed-world.

Offline (``ack-preview``), the fake Alibaba Cloud answers the data sources of facts (zones,
instance types, images, the caller) and, in an update, lookups of what the run itself holds.
What an account holds beyond that (its key pairs, DNS domains, buckets, a security group made by
another stack) only Alibaba Cloud knows: such an invoke's result is unknown, and ``ack-preview``
hands each one, with its arguments, to the pack as a resource of type :data:`UNANSWERED` in the
stack view. Under the Pulumi engine itself there are none: the provider answers every invoke.

A value unknown at preview that no resource produced is then judged by what the lookups that
could have produced it could return (issue 27):

- a lookup listing a kind no component owns (key pairs, DNS domains, RDS classes, zones, ...)
  cannot return an owned identity;
- a lookup listing a kind components own (security groups, VPCs, vSwitches, load balancers,
  RAM roles, ...) is judged by its filters, each of which narrows it: one known filter (IDs,
  names, a name pattern read as Go's regexp reads it) that none of the owned resources of that
  kind passes (their names and IDs as known in this mode) clears it, whatever its other
  arguments are; a filter on the ownership tags finds what a cluster owns; a filter that may
  match, or none, cannot be proven;
- a lookup this module does not know cannot be proven.

Which lookup produced a value cannot be told (the SDK gives an invoke's result no
dependencies), nor guessed from the property it feeds (a dynamic provider's inputs can be named
anything): while any lookup is not cleared, no value without a producer is explained. When all
are cleared, a value is explained where a lookup whose kind fits the property (:attr:`Listed.takes`:
a key pair's name goes into `keyName`, a security group's ID into `*SecurityGroup*`) could have
produced it; so a value rebuilt without its resources, in a property a cleared lookup of its kind
fits, looks the same at preview (the update, where owned IDs are known, judges it by what it
is). This residue is
in docs/POLICY-PACK.md.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource

from ._common import CLUSTER_TYPES
from .goregex import go_search

#: The stack-view type ``ack-preview`` gives an invoke the fake cloud could not answer
#: (ack_offline.fake_cloud.UNANSWERED_TYPE; tests/test_drift_reads.py holds them equal).
UNANSWERED = "ack:offline:UnansweredInvoke"
#: The `field` of an owners.Reached that is a value unknown here that no resource produced.
UNKNOWN_FIELD = "unknown"

_SG = "alicloud:ecs/securityGroup:SecurityGroup"
_VPC = "alicloud:vpc/network:Network"
_VSWITCH = "alicloud:vpc/switch:Switch"
_SLB = "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer"


def dry_run() -> bool:
    """Whether this analysis is a preview (the engine, and ack-preview, start a pack with
    PULUMI_DRY_RUN, which pulumi-policy hands the Pulumi runtime's settings)."""
    try:
        import pulumi.runtime

        return bool(pulumi.runtime.is_dry_run())
    except Exception:  # not configured: say the cautious thing
        return True


def unknown_here() -> str:
    """How a value without an answer is named in this mode."""
    return (
        "unknown at preview"
        if dry_run()
        else "unknown offline (an invoke the fake Alibaba Cloud could not answer)"
    )


@dataclass(frozen=True)
class Listed:
    """What a lookup lists."""

    #: What it lists, in words.
    kind: str
    #: The owned resource type it lists; None for a kind no component owns.
    owned_type: str | None
    #: fnmatch patterns (lower case) of the property names its values go into.
    takes: tuple[str, ...]
    #: Arguments filtering by name: argument -> ("regex" | "exact", the owned state key).
    names: Mapping[str, tuple[str, str]] | None = None
    #: Arguments that leave out every owned resource of the kind (RAM's System policies).
    excludes: Callable[[Mapping[str, Any]], bool] | None = None

    def fits(self, name: str) -> bool:
        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, p) for p in self.takes)


def _unowned(kind: str, *takes: str) -> Listed:
    return Listed(kind, None, takes)


def _owned(
    kind: str,
    type_: str,
    takes: tuple[str, ...],
    names: Mapping[str, tuple[str, str]],
    excludes: Callable[[Mapping[str, Any]], bool] | None = None,
) -> Listed:
    return Listed(kind, type_, takes, names, excludes)


_ZONES = _unowned("availability zones", "*zone*")
_CLASSES = _unowned("instance classes", "*instancetype*", "*class*", "*nodetype*", "*spec*")
_KEY_PAIRS = _unowned("ECS key pairs", "*keyname*", "*keypair*")
_CLUSTER_NAMES = {"nameRegex": ("regex", "name")}

#: Every lookup the gate knows, by token (`alicloud:<service>/getZones:getZones` of any
#: service but pvtz as well: see :func:`listed`).
LISTED: dict[str, Listed] = {
    # --- kinds no component owns -----------------------------------------------------------
    "alicloud:index/getZones:getZones": _ZONES,
    "alicloud:index/getRegions:getRegions": _unowned("regions", "*region*"),
    "alicloud:ecs/getKeyPairs:getKeyPairs": _KEY_PAIRS,
    "alicloud:ecs/getEcsKeyPairs:getEcsKeyPairs": _KEY_PAIRS,
    "alicloud:ecs/getInstanceTypes:getInstanceTypes": _CLASSES,
    "alicloud:ecs/getInstanceTypeFamilies:getInstanceTypeFamilies": _unowned(
        "ECS instance families", "*family*", "*instancetype*"
    ),
    "alicloud:ecs/getImages:getImages": _unowned("images", "*image*"),
    "alicloud:rds/getInstanceClasses:getInstanceClasses": _CLASSES,
    "alicloud:rds/getInstanceClassInfos:getInstanceClassInfos": _CLASSES,
    "alicloud:rds/getInstanceEngines:getInstanceEngines": _unowned("engines", "*engine*"),
    "alicloud:kvstore/getInstanceClasses:getInstanceClasses": _CLASSES,
    "alicloud:kvstore/getInstanceEngines:getInstanceEngines": _unowned("engines", "*engine*"),
    "alicloud:mongodb/getInstanceClasses:getInstanceClasses": _CLASSES,
    "alicloud:polardb/getNodeClasses:getNodeClasses": _CLASSES,
    "alicloud:dns/getAlidnsDomains:getAlidnsDomains": _unowned("DNS domains", "*domain*"),
    "alicloud:dns/getDomains:getDomains": _unowned("DNS domains", "*domain*"),
    "alicloud:oss/getBuckets:getBuckets": _unowned("OSS buckets", "*bucket*"),
    "alicloud:kms/getKeys:getKeys": _unowned(
        "KMS keys", "*keyid*", "*kmskey*", "*encryptionkey*", "*encryptkey*"
    ),
    "alicloud:kms/getAliases:getAliases": _unowned("KMS aliases", "*keyid*", "*alias*"),
    "alicloud:resourcemanager/getResourceGroups:getResourceGroups": _unowned(
        "resource groups", "*resourcegroup*"
    ),
    "alicloud:cs/getKubernetesVersion:getKubernetesVersion": _unowned(
        "Kubernetes versions", "*version*"
    ),
    # --- kinds components own: judged by their filter ----------------------------------------
    "alicloud:ecs/getSecurityGroups:getSecurityGroups": _owned(
        "security groups",
        _SG,
        ("*securitygroup*",),
        {"nameRegex": ("regex", "securityGroupName")},
    ),
    "alicloud:vpc/getNetworks:getNetworks": _owned(
        "VPCs",
        _VPC,
        ("*vpc*",),
        {"nameRegex": ("regex", "vpcName"), "vpcName": ("exact", "vpcName")},
    ),
    "alicloud:vpc/getSwitches:getSwitches": _owned(
        "vSwitches",
        _VSWITCH,
        ("*vswitch*",),
        {"nameRegex": ("regex", "vswitchName"), "vswitchName": ("exact", "vswitchName")},
    ),
    "alicloud:vpc/getNatGateways:getNatGateways": _owned(
        "NAT gateways",
        "alicloud:vpc/natGateway:NatGateway",
        ("*natgateway*", "*snat*", "*forward*"),
        {"nameRegex": ("regex", "natGatewayName"), "natGatewayName": ("exact", "natGatewayName")},
    ),
    "alicloud:vpc/getRouteTables:getRouteTables": _owned(
        "route tables",
        "alicloud:vpc/routeTable:RouteTable",
        ("*routetable*",),
        {"nameRegex": ("regex", "routeTableName"), "routeTableName": ("exact", "routeTableName")},
    ),
    "alicloud:ecs/getEipAddresses:getEipAddresses": _owned(
        "EIPs",
        "alicloud:ecs/eipAddress:EipAddress",
        ("*eip*", "*allocation*", "*ipaddress*"),
        {"nameRegex": ("regex", "addressName"), "addressName": ("exact", "addressName")},
    ),
    "alicloud:ram/getRoles:getRoles": _owned(
        "RAM roles", "alicloud:ram/role:Role", ("*role*",), {"nameRegex": ("regex", "roleName")}
    ),
    "alicloud:ram/getPolicies:getPolicies": _owned(
        "RAM policies",
        "alicloud:ram/policy:Policy",
        ("*policy*", "*policies*"),
        {"nameRegex": ("regex", "policyName")},
        # Alibaba Cloud's own policies: a component's policies are Custom ones.
        excludes=lambda a: a.get("type") == "System",
    ),
    "alicloud:slb/getApplicationLoadBalancers:getApplicationLoadBalancers": _owned(
        "CLB load balancers",
        _SLB,
        ("*loadbalancer*", "*slb*"),
        {"nameRegex": ("regex", "loadBalancerName")},
    ),
    "alicloud:slb/getLoadBalancers:getLoadBalancers": _owned(
        "CLB load balancers",
        _SLB,
        ("*loadbalancer*", "*slb*"),
        {"nameRegex": ("regex", "loadBalancerName")},
    ),
    "alicloud:pvtz/getZones:getZones": _owned(
        "PrivateZone zones", "alicloud:pvtz/zone:Zone", ("*zone*",), {}
    ),
    **{
        token: _owned(
            "ACK clusters",
            "alicloud:cs/managedKubernetes:ManagedKubernetes",
            ("*cluster*",),
            _CLUSTER_NAMES,
        )
        for token in (
            "alicloud:cs/getManagedKubernetesClusters:getManagedKubernetesClusters",
            "alicloud:cs/getKubernetesClusters:getKubernetesClusters",
            "alicloud:cs/getServerlessKubernetesClusters:getServerlessKubernetesClusters",
        )
    },
}

#: A service's availability zones (the pvtz service's getZones lists DNS zones: in LISTED).
_SERVICE_ZONES = re.compile(r"alicloud:[a-z0-9]+/getZones:getZones")


def listed(token: str) -> Listed | None:
    found = LISTED.get(token)
    if found is None and _SERVICE_ZONES.fullmatch(token):
        return _ZONES
    return found


@dataclass(frozen=True)
class Verdict:
    """What one unanswered invoke could return."""

    token: str
    listed: Listed | None
    #: None: it cannot return what a cluster owns; else why it may (or does).
    doubt: str | None
    #: Whether it does find what a cluster owns (by its tags, IDs or names), not only may.
    finds: bool = False

    @property
    def cleared(self) -> bool:
        return self.doubt is None

    def fits(self, name: str) -> bool:
        return self.listed is None or self.listed.fits(name)

    def describe(self) -> str:
        return f"the lookup {self.token}" + (f" ({self.doubt})" if self.doubt else "")


def _owned_names(own: Any, type_: str, key: str) -> list[tuple[Any, str | None]]:
    """The owned resources of `type_` with their name under `key` (None: unknown here)."""
    from .owners import has_unknown, plain

    types = CLUSTER_TYPES if type_ in CLUSTER_TYPES else frozenset({type_})
    found: list[tuple[Any, str | None]] = []
    for owned in own.owned.values():
        if owned.resource.resource_type not in types:
            continue
        props = plain(owned.resource.props)
        name = props.get(key) if isinstance(props, Mapping) else None
        found.append((owned, None if has_unknown(name) else str(name or "")))
    for values in own.identities.values():  # what other stacks export they own
        for identity in values:
            res = identity.owned.resource if identity.owned is not None else None
            if (
                res is not None
                and not isinstance(res, PolicyResource)
                and res.resource_type in types
                and identity.field == key
            ):
                found.append((identity.owned, identity.value))
    return found


def judge(token: str, args: Mapping[str, Any], own: Any) -> Verdict:
    """What an invoke nobody answered could have returned.

    Each filter of a lookup narrows it: the provider keeps only the items that pass every one
    (IDs, a name, a name pattern: terraform-provider-alicloud's data sources, e.g.
    data_source_alicloud_vswitches.go, apply `name_regex` to every item the API listed, with
    whatever `vpc_id` or `zone_id` said). So one known filter that no owned resource of the kind
    passes clears the lookup, whatever its other arguments are, unknown ones included (o59:
    vSwitches of a VPC found by another lookup, named `^shared-data-db`)."""
    from .owners import ACK_TAG, OWNERSHIP_TAG_PREFIX, has_unknown, strings_in

    what = listed(token)
    if what is None:
        return Verdict(token, None, "the gate does not know what it lists")
    if what.owned_type is None:
        return Verdict(token, what, None)
    tags = args.get("tags")
    if any(OWNERSHIP_TAG_PREFIX in t.lower() or ACK_TAG in t.lower() for t in strings_in(tags)):
        return Verdict(token, what, "it finds what a cluster owns by its ownership tags", True)
    if what.excludes is not None and what.excludes(args):
        return Verdict(token, what, None)
    some_unknown = has_unknown(args)
    doubts: list[str] = []
    hits: list[str] = []
    ids = args.get("ids")
    if isinstance(ids, Sequence) and not isinstance(ids, str) and ids and not has_unknown(ids):
        named = [
            identity.owned
            for rid in ids
            for identity in own.known_by(str(rid))
            if identity.owned is not None
        ]
        if not named:
            # A literal ID names a resource that exists already: none of those a component
            # owns (their IDs are known in this mode, or still to be given by the cloud).
            return Verdict(token, what, None)
        hits.append(f"it names by ID {_describe(named[0])}")
    for arg, (how, key) in (what.names or {}).items():
        wanted = args.get(arg)
        if wanted in (None, ""):
            continue
        if has_unknown(wanted):
            doubts.append(f"its {arg} is {unknown_here()}")
            continue
        hit: str | None = None
        doubt: str | None = None
        for owned, name in _owned_names(own, what.owned_type, key):
            if name is None:
                doubt = doubt or (
                    f"its {arg} may match {what.kind} a cluster owns, whose names are "
                    f"{unknown_here()}"
                )
                continue
            matched = name == str(wanted) if how == "exact" else go_search(str(wanted), name)
            if matched is None:
                doubt = (
                    f"its {arg} is not a pattern the gate reads as the provider does (Go's "
                    "regexp): keep to its common syntax, without Unicode classes, octal "
                    "escapes or the U flag"
                )
                break
            if matched and hit is None:
                hit = f"its {arg} matches {_describe(owned)}"
        if hit is None and doubt is None:
            return Verdict(token, what, None)  # no owned resource of the kind passes it
        if hit is not None:
            hits.append(hit)
        if doubt is not None:
            doubts.append(doubt)
    if hits:
        if some_unknown:  # another filter, unknown here, may still leave it out
            return Verdict(token, what, f"{hits[0]} (its other arguments are {unknown_here()})")
        return Verdict(token, what, hits[0], True)
    if doubts:
        return Verdict(token, what, "; ".join(doubts))
    if some_unknown:
        return Verdict(token, what, f"its arguments are {unknown_here()}")
    return Verdict(
        token,
        what,
        f"it lists every one of the account's {what.kind} (no IDs or name narrow it), those "
        "a cluster owns among them",
    )


def _describe(owned: Any) -> str:
    from .drift import describe

    return describe(owned)


_CACHE: dict[int, tuple[Sequence[PolicyResource], list[Verdict]]] = {}


def verdicts(resources: Sequence[PolicyResource], own: Any) -> list[Verdict]:
    """A verdict for each invoke the offline cloud could not answer (none under the engine)."""
    hit = _CACHE.get(id(resources))
    if hit is not None and hit[0] is resources:
        return hit[1]
    from . import seen as seen_inputs
    from .owners import plain

    found: list[Verdict] = []
    for res in resources:
        if res.resource_type != UNANSWERED:
            continue
        if res.provider is not None or seen_inputs.seen(res.urn) is not None:
            # The program's own resource (or read) of that type, not the engine's record: a
            # program cannot vouch for its own values.
            continue
        props = plain(res.props)
        token = props.get("token") if isinstance(props, Mapping) else None
        args = props.get("args") if isinstance(props, Mapping) else None
        if isinstance(token, str):
            found.append(judge(token, args if isinstance(args, Mapping) else {}, own))
    _CACHE.clear()
    _CACHE[id(resources)] = (resources, found)
    return found


def _names(prop: str, value: Any) -> list[str]:
    """The property names an unknown in `value` sits under: the innermost key of each unknown's
    path, or the property itself."""
    from .owners import unknown_paths

    paths = list(unknown_paths(value)) or [""]
    return sorted({p.rsplit(".", 1)[-1] if p else prop for p in paths})


def explain(
    resources: Sequence[PolicyResource], own: Any, prop: str, value: Any
) -> tuple[bool, list[Verdict]]:
    """Whether the unknowns of property `prop` (holding `value`) are explained by lookups that
    cannot return what a cluster owns; if not, the lookups that are not cleared (none: nothing
    the offline cloud left unanswered explains it).

    Which lookup a value came from cannot be told (the SDK gives an invoke's result no
    dependencies), nor guessed from the name of the property it lands in (a dynamic provider's
    input, a custom resource's key, can be named anything: x03 put a security group's ID under
    `domain`). So while any lookup is not cleared, no value without a producer is explained,
    wherever it lands; when all are cleared, a value is explained where a lookup of its kind
    fits the property."""
    every = verdicts(resources, own)
    if not every:
        return False, []
    doubts = [v for v in every if not v.cleared]
    if doubts:
        return False, doubts
    for name in _names(prop, value):
        if not any(v.fits(name) for v in every):
            return False, []
    return True, []
