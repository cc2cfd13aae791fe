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
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource

from ._common import CLUSTER_TYPES

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


# --- the provider's regular expressions ------------------------------------------------------
#
# The provider compiles a lookup's `name_regex` with Go's `regexp` (RE2 syntax, Perl flags) and
# keeps the items whose name it finds (`regexp.Compile` then `MatchString`:
# terraform-provider-alicloud data_source_alicloud_ram_roles.go, ..._security_groups.go,
# ..._vswitches.go). Python's `re` reads some of the same text differently (`[[:alpha:]]` is a
# POSIX class in Go and a set of `[:alph` and a `]` in Python; `$` also matches before a final
# newline in Python; `\d`, `\w`, `\s` are ASCII in Go and Unicode in Python; `a{,3}` repeats in
# Python and is literal text in Go; `\1` is an octal escape attempt in Go and a backreference in
# Python). So a pattern is read here by Go's grammar (https://pkg.go.dev/regexp/syntax) and
# rewritten into a Python pattern that matches exactly the same texts; whatever is outside the
# part of the grammar written here (Unicode classes, octal escapes, the U flag, a case-folded
# match of a non-ASCII text) is not read at all, and a caller takes it as not proven.

_MAX_RUNE = 0x10FFFF
Ranges = list[tuple[int, int]]
#: Go's Perl classes (ASCII only; `\s` is `[\t\n\f\r ]`, without `\v`).
_PERL_CLASSES: dict[str, Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
#: Go's POSIX classes, `[[:name:]]` (regexp/syntax/perl_groups.go).
_POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_SIMPLE_ESCAPES = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
#: Characters outside ASCII whose case folds into it in Go (unicode.SimpleFold): the Kelvin sign
#: and the long s.
_FOLDS_INTO_ASCII = {0x212A: "k", 0x017F: "s"}
_REPEAT = re.compile(r"\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}")
_FLAGS = re.compile(r"\(\?([ims]*)(?:-([ims]*))?([:)])")
_GROUP_NAME = re.compile(r"\(\?P?<([A-Za-z0-9_]+)>")


class _NotRead(Exception):
    """A pattern outside the part of Go's grammar read here (or one Go refuses)."""


def _normal(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _negated(ranges: Ranges) -> Ranges:
    out: Ranges = []
    start = 0
    for lo, hi in _normal(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= _MAX_RUNE:
        out.append((start, _MAX_RUNE))
    return out


def _folded(ranges: Ranges) -> Ranges:
    """A class under the i flag, as far as an ASCII text can tell: each ASCII letter's other
    case, and the ASCII letters the Kelvin sign and the long s fold to."""
    extra: Ranges = []
    for lo, hi in ranges:
        for c in range(max(lo, 0x41), min(hi, 0x7A) + 1):
            ch = chr(c)
            if ch.isalpha():
                extra.append((ord(ch.swapcase()), ord(ch.swapcase())))
        for c, letter in _FOLDS_INTO_ASCII.items():
            if lo <= c <= hi:
                extra += [(ord(letter), ord(letter)), (ord(letter.upper()), ord(letter.upper()))]
    return _normal(ranges + extra)


def _emit(ranges: Ranges) -> str:
    ranges = _normal(ranges)
    if not ranges:
        return "(?!)"
    return (
        "["
        + "".join(f"\\U{lo:08X}" if lo == hi else f"\\U{lo:08X}-\\U{hi:08X}" for lo, hi in ranges)
        + "]"
    )


class _Go:
    """Reads one pattern by Go's grammar into a Python pattern that matches the same texts."""

    def __init__(self, text: str) -> None:
        self.t = text
        self.i = 0
        self.folds = False  # the i flag is on somewhere

    def read(self) -> str:
        out = self.alternation({"i": False, "m": False, "s": False})
        if self.i != len(self.t):
            raise _NotRead  # an unmatched ')'
        return out

    def alternation(self, flags: dict[str, bool]) -> str:
        parts = [self.sequence(flags)]
        while self.t.startswith("|", self.i):
            self.i += 1
            parts.append(self.sequence(flags))
        return "|".join(parts)

    def sequence(self, flags: dict[str, bool]) -> str:
        out: list[str] = []
        last: str | None = None  # the atom a repetition would apply to
        repeated = False
        while self.i < len(self.t) and self.t[self.i] not in "|)":
            c = self.t[self.i]
            repeat = self._repeat()
            if repeat is not None:
                if last is None or repeated:
                    raise _NotRead  # nothing to repeat, or a repetition of a repetition
                out[-1] = f"(?:{last}){repeat}"
                repeated = True
                continue
            flag = _FLAGS.match(self.t, self.i)
            if c == "(" and flag is not None and flag.group(3) == ")":
                self._set(flags, flag)
                self.i = flag.end()
                last, repeated = None, False
                continue
            atoms = self.atoms(flags)
            out += atoms
            last = atoms[-1] if atoms else None
            repeated = False
        return "".join(out)

    def _repeat(self) -> str | None:
        t, i = self.t, self.i
        if t[i] in "*+?":
            self.i += 1
            op = t[i]
        else:
            m = _REPEAT.match(t, i) if t[i] == "{" else None
            if m is None:
                return None
            low, comma, high = m.group(1), m.group(2), m.group(3)
            if int(low) > 1000 or (high is not None and not int(low) <= int(high) <= 1000):
                raise _NotRead  # Go refuses it
            self.i = m.end()
            op = "{" + low + ("," + (high or "") if comma else "") + "}"
        if self.t.startswith("?", self.i):
            self.i += 1
            op += "?"
        return op

    def _set(self, flags: dict[str, bool], m: re.Match[str]) -> None:
        on, off = m.group(1), m.group(2)
        if (off is not None and not off) or not (on or off):
            raise _NotRead  # `(?)`, `(?i-)`: Go refuses them
        for f in on:
            flags[f] = True
        for f in off or "":
            flags[f] = False

    def atoms(self, flags: dict[str, bool]) -> list[str]:
        t = self.t
        c = t[self.i]
        if c == "(":
            flag = _FLAGS.match(t, self.i)
            named = _GROUP_NAME.match(t, self.i)
            inner = dict(flags)
            if flag is not None:  # (?:...) or (?flags:...)
                if flag.group(1) or flag.group(2) is not None:
                    self._set(inner, flag)
                self.i = flag.end()
            elif named is not None:
                self.i = named.end()
            elif t.startswith("(?", self.i):
                raise _NotRead  # lookaround, comment, ...: not Go's
            else:
                self.i += 1
            body = self.alternation(inner)
            if not t.startswith(")", self.i):
                raise _NotRead
            self.i += 1
            return [f"(?:{body})"]
        self.i += 1
        if c == "[":
            return [self.char_class(flags)]
        if c == ".":
            return ["(?s:.)" if flags["s"] else "[^\\n]"]
        if c == "^":
            return ["(?:\\A|(?<=\\n))" if flags["m"] else "\\A"]
        if c == "$":
            return ["(?=\\n|\\Z)" if flags["m"] else "\\Z"]
        if c in "*+?":
            raise _NotRead  # nothing to repeat
        if c == "{" and _REPEAT.match(t, self.i - 1):
            raise _NotRead
        if c != "\\":
            return [self.literal(ord(c), flags)]
        if self.i >= len(t):
            raise _NotRead
        e = t[self.i]
        if e in "AzbB":
            self.i += 1
            return [{"A": "\\A", "z": "\\Z", "b": "\\b", "B": "\\B"}[e]]
        if e == "Q":
            end = t.find("\\E", self.i + 1)
            text = t[self.i + 1 :] if end < 0 else t[self.i + 1 : end]
            self.i = len(t) if end < 0 else end + 2
            return [self.literal(ord(ch), flags) for ch in text]
        if e.lower() in _PERL_CLASSES:
            self.i += 1
            return [_emit(self._perl(e, flags))]
        self.i -= 1
        return [self.literal(self.escape(), flags)]

    def _perl(self, e: str, flags: dict[str, bool]) -> Ranges:
        ranges = _PERL_CLASSES[e.lower()]
        if flags["i"]:
            self.folds = True
            ranges = _folded(ranges)
        return _negated(ranges) if e.isupper() else ranges

    def literal(self, code: int, flags: dict[str, bool]) -> str:
        if flags["i"]:
            self.folds = True
            return _emit(_folded([(code, code)]))
        return _emit([(code, code)])

    def escape(self) -> int:
        """One escaped character at a backslash (Go's parseEscape, but octal escapes)."""
        t = self.t
        self.i += 1
        if self.i >= len(t):
            raise _NotRead
        e = t[self.i]
        self.i += 1
        if e in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[e]
        if e == "x":
            m = re.compile(r"\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{2})").match(t, self.i)
            if m is None:
                raise _NotRead
            self.i = m.end()
            code = int(m.group(1) or m.group(2), 16)
            if code > _MAX_RUNE:
                raise _NotRead
            return code
        if e.isascii() and not e.isalnum():
            return ord(e)  # punctuation stands for itself
        raise _NotRead  # \p, \C, octal, a backreference, ...

    def char_class(self, flags: dict[str, bool]) -> str:
        t = self.t
        negate = t.startswith("^", self.i)
        if negate:
            self.i += 1
        ranges: Ranges = []
        first = True
        while True:
            if self.i >= len(t):
                raise _NotRead  # missing ']'
            c = t[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if t.startswith("[:", self.i):
                end = t.find(":]", self.i + 2)
                if end >= 0:
                    name = t[self.i + 2 : end]
                    group = _POSIX_CLASSES.get(name.removeprefix("^"))
                    if group is None:
                        raise _NotRead  # Go refuses an unknown class name
                    ranges += _negated(group) if name.startswith("^") else group
                    self.i = end + 2
                    continue
            if c == "\\" and self.i + 1 < len(t) and t[self.i + 1].lower() in _PERL_CLASSES:
                e = t[self.i + 1]
                group = _PERL_CLASSES[e.lower()]
                ranges += _negated(group) if e.isupper() else group
                self.i += 2
                continue
            low = self._class_char()
            high = low
            if t.startswith("-", self.i) and self.i + 1 < len(t) and t[self.i + 1] != "]":
                self.i += 1
                high = self._class_char()
                if high < low:
                    raise _NotRead
            ranges.append((low, high))
        if flags["i"]:
            self.folds = True
            ranges = _folded(ranges)
        return _emit(_negated(ranges) if negate else ranges)

    def _class_char(self) -> int:
        if self.i >= len(self.t):
            raise _NotRead
        if self.t[self.i] == "\\":
            return self.escape()
        self.i += 1
        return ord(self.t[self.i - 1])


@functools.lru_cache(maxsize=512)
def _go_pattern(pattern: str) -> tuple[re.Pattern[str], bool] | None:
    try:
        reader = _Go(pattern)
        text = reader.read()
        return re.compile(text, re.ASCII), reader.folds  # ASCII: Go's \b is ASCII's
    except (_NotRead, re.error, RecursionError):
        return None


def go_search(pattern: str, text: str) -> bool | None:
    """Whether Go's `regexp.MatchString(pattern, text)` holds (the provider's `name_regex`);
    None when this cannot tell: a pattern outside what is read here exactly as Go reads it, or
    Go refuses, or a case-folded match of a text outside ASCII."""
    read = _go_pattern(pattern)
    if read is None:
        return None
    compiled, folds = read
    if folds and not text.isascii():
        return None
    return compiled.search(text) is not None


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
