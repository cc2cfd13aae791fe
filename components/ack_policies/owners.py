"""Who owns what in a stack, read from the records the library's components register
(:mod:`ack_policies.record`), and what each owned resource is known by.

An owner is a component of this library (a cluster form, or a ServiceAccountRole) whose record
the gate can read; it owns exactly the URNs its record lists. What an owned resource is known by
(its *identities*) is its URN, its ID once the cloud gave one, and the names, ARNs and addresses
other resources use to reach it (:data:`IDENTITY_FIELDS`), read from its outputs: unknown at a
preview of a new stack, known at a preview of a deployed one and in an update.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, _is_unknown

from . import record as rec
from . import seen as seen_inputs
from ._common import CLUSTER_TAG
from .lookups import UNKNOWN_FIELD, unknown_here
from .references import block_entry, outside
from .speed import LazyProperties

#: Tag ACK puts on what it creates for a cluster (its API server load balancer, say).
ACK_TAG = "ack.aliyun.com"
#: The prefix of the tags this library puts on what a component owns.
OWNERSHIP_TAG_PREFIX = "ack.pulumi.io/"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
_SLB = "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer"

IDENTITY_FIELDS = rec.IDENTITY_FIELDS
#: The identity fields of a cluster that are its API server's load balancer.
API_SERVER_LB_FIELDS = frozenset({"slbId", "slbIntranet", "slbInternet", "connections"})
#: Shorter values are too common to be an identity (a zone letter, a port).
_SHORTEST = 6
#: What separates an identity from the text around it: a value is found only as a whole token
#: (``vpc-1`` is not in ``vpc-12``; a role name is in a role's ARN).
_TOKEN = r"[a-z0-9_.\-]"
#: A RAM role named by a pattern in a policy document's Resource (`acs:ram::*:role/demo-*`).
_ROLE_PATTERN = re.compile(r"role/([A-Za-z0-9.@_*?-]*[*?][A-Za-z0-9.@_*?-]*)", re.IGNORECASE)
#: The fewest letters a role pattern names beside its wildcards to aim at particular roles
#: (`role/*` and `role/a*` aim at none in particular; `role/*-node-role` does).
_PATTERN_LETTERS = 3
_ACK_TAG_TOKEN = re.compile(f"(?<!{_TOKEN}){re.escape(ACK_TAG)}(?!{_TOKEN})")


#: Plain forms of the proxies already converted in this analysis (by id, with the proxy kept
#: so that the id stays its own); the rules read them many times, and never change them.
_PLAIN: dict[int, tuple[Any, Any]] = {}


def plain(value: Any) -> Any:
    """A value pulumi-policy hands a rule (proxies that raise on unknowns), as plain dicts and
    lists with the unknown markers left in place. Not to be changed: a proxy's plain form is
    shared by every rule of the analysis."""
    if isinstance(value, LazyProperties):
        return value.raw  # a stack resource's properties, never made a proxy
    if _is_proxy(value):
        hit = _PLAIN.get(id(value))
        if hit is None or hit[0] is not value:
            hit = (value, _plain(value))
            _PLAIN[id(value)] = hit
        return hit[1]
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        target = value["__target"] if _is_proxy(value) else value
        return {k: _plain(v) for k, v in target.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        target = value["__target"] if _is_proxy(value) else value  # type: ignore[call-overload]
        return [_plain(v) for v in target]
    return value


def _is_proxy(value: Any) -> bool:
    return type(value).__module__ == "pulumi_policy.proxy"


def has_unknown(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return _is_unknown(value) or value == UNKNOWN_STRING_VALUE


def unknown_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """The dotted paths (list items share their list's path) of the unknown values in one."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from unknown_paths(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from unknown_paths(item, prefix)
    elif has_unknown(value):
        yield prefix


def strings_in(value: Any, *, keys: bool = True) -> Iterator[str]:
    """Every text in a value, object keys included unless `keys` is false (a tag key can
    target resources)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if keys:
                yield str(key)
            yield from strings_in(item, keys=keys)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item, keys=keys)
    elif isinstance(value, str) and not _is_unknown(value):
        yield value
    elif isinstance(getattr(value, "text", None), str):
        yield value.text  # a text asset (a Helm release's inline value file)


@dataclass(eq=False)
class Owner:
    component: PolicyResource
    #: "cluster" or "service account role"
    kind: str
    record: Mapping[str, Any] | None
    #: Why its record cannot be read, if it cannot.
    problem: str | None = None
    #: An owner of another stack, known by the identities that stack exports (`component` is
    #: the stack reference that reads them, `foreign` its owner's name there).
    foreign: str | None = None

    @property
    def name(self) -> str:
        return self.foreign or self.component.name

    def describe(self) -> str:
        if self.foreign is not None:
            return f"{self.foreign} of stack '{self.component.name}'"
        return f"{self.kind} '{self.name}'"


@dataclass(frozen=True)
class Elsewhere:
    """A resource another stack owns, as a stack reference exports what it is known by."""

    resource_type: str
    name: str
    urn: str


@dataclass(frozen=True, eq=False)
class Owned:
    resource: PolicyResource
    owner: Owner


@dataclass(frozen=True)
class Identity:
    value: str
    #: The output that holds it ("id", "roleName", ...); "tag" for an ownership tag key.
    field: str
    owned: Owned | None


@dataclass(frozen=True, eq=False)
class Reached:
    """What one property of a resource reaches that an owner owns, or cannot be proven not to."""

    owned: Owned | None
    #: How: through a dependency, a read, or a value found in the property.
    how: str
    #: The identity field a value matched, if it was found by value.
    field: str | None = None
    #: Why it cannot be decided, when it cannot (and `owned` is then None).
    unproven: str | None = None


@dataclass
class Ownership:
    """The owners of one stack and what they own."""

    resources: Sequence[PolicyResource]
    owners: list[Owner] = field(default_factory=list)
    owned: dict[str, Owned] = field(default_factory=dict)
    #: Each identity value (lowered), with every owned resource known by it (one, unless two
    #: owners hold the same cloud resource).
    identities: dict[str, list[Identity]] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None

    @classmethod
    def of(cls, resources: Sequence[PolicyResource]) -> Ownership:
        found = cls(resources)
        for res in resources:
            if res.resource_type in rec.OWNER_TYPES:
                found._add_owner(res)
        for owned in list(found.owned.values()):
            for identity in _identities_of(owned):
                found.identities.setdefault(identity.value.lower(), []).append(identity)
        for res in resources:
            if res.resource_type == STACK_REFERENCE:
                for identity in found._exported_by(res):
                    found.identities.setdefault(identity.value.lower(), []).append(identity)
        values = sorted(found.identities, key=len, reverse=True)
        if values:
            alternatives = "|".join(re.escape(v) for v in values)
            found._pattern = re.compile(
                f"(?<!{_TOKEN})(?:{alternatives})(?!{_TOKEN})", re.IGNORECASE
            )
        return found

    def _add_owner(self, component: PolicyResource) -> None:
        kind = (
            "cluster"
            if component.resource_type in rec.CLUSTER_COMPONENT_TYPES
            else ("service account role")
        )
        raw = plain(component.props).get(rec.RECORD_OUTPUT)
        owner = Owner(component, kind, None)
        self.owners.append(owner)
        if raw is None:
            owner.problem = (
                f"has no ownership record ({rec.RECORD_OUTPUT}): it was not built by "
                "pulumi-ack-clusters, or by a version before records"
            )
            return
        if has_unknown(raw):
            owner.problem = "has an ownership record still unknown at preview"
            return
        if not isinstance(raw, Mapping) or raw.get("format") != rec.FORMAT:
            owner.problem = f"has an ownership record of another format than {rec.FORMAT}"
            return
        if raw.get("owner") != component.urn:
            owner.problem = f"has the ownership record of another component ({raw.get('owner')})"
            return
        children = raw.get("children")
        if not isinstance(children, Mapping):
            owner.problem = "has an ownership record without its children"
            return
        by_urn = {r.urn: r for r in self.resources}
        allowed_types = rec.OWNED_TYPES.get(component.resource_type, frozenset())
        for urn in children:
            res = by_urn.get(urn)
            if res is None:
                continue  # not registered in this run (a targeted update, say)
            if not _descends_from(res, component):
                owner.problem = (
                    f"has an ownership record that lists {urn}, which is not one of its "
                    "children: a record names only what its component registered"
                )
                return
            if res.resource_type not in allowed_types:
                owner.problem = (
                    f"has an ownership record that lists a {res.resource_type} ('{res.name}'), "
                    f"which a {component.resource_type.rsplit(':', 1)[-1]} never registers"
                )
                return
        owner.record = raw
        for urn in children:
            res = by_urn.get(urn)
            if res is not None and urn not in self.owned:
                self.owned[urn] = Owned(res, owner)

    def _exported_by(self, reference: PolicyResource) -> Iterator[Identity]:
        """The identities a referenced stack exports (`owned_identities`): what its components
        own, with their types, so that this stack is judged by them as by its own."""
        outputs = plain(reference.props).get("outputs")
        if has_unknown(outputs):
            return
        owners: dict[str, Owner] = {}
        for item in _exports_in(outputs):
            owner_name = str(item[rec.EXPORT_MARKER])
            owner = owners.get(owner_name)
            if owner is None:
                owner = Owner(reference, "cluster", None, foreign=owner_name)
                owners[owner_name] = owner
                self.owners.append(owner)
            type_, field_, value = str(item["type"]), str(item["field"]), str(item["value"])
            stand_in: Any = Elsewhere(type_, value, f"{reference.urn}#{type_}#{value}")
            for named in _named(value) if field_ == "connections" else [value]:
                if len(named) >= _SHORTEST:
                    yield Identity(named, field_, Owned(stand_in, owner))

    # -- questions ------------------------------------------------------------------------------

    def owner_of(self, res: PolicyResource) -> Owned | None:
        """What owns `res`: its component's record, or itself for an owner (a component's own
        inputs name what it owns)."""
        found = self.owned.get(res.urn)
        if found is None:
            owner = next(
                (o for o in self.owners if o.foreign is None and o.component.urn == res.urn),
                None,
            )
            if owner is not None and owner.record is not None:
                return Owned(res, owner)
        return found

    def is_component(self, res: PolicyResource) -> bool:
        """A component: what it takes does not reach the cloud, what its children take does
        (also those it registers later, inside an apply). The engine gives every resource a
        provider, its package's default if it names none, and a component none (a remote one
        is registered by its provider as a component of its own, its objects as resources);
        a resource made the parent of another stays a resource, judged by what it takes.
        Offline, where a remote component's objects are not built, the gate gives it a
        provider, so that what it takes is judged."""
        return res.provider is None and not res.resource_type.startswith("pulumi:providers:")

    def claimed_by(self, res: PolicyResource) -> Owner | None:
        """The nearest owner among a resource's ancestors."""
        by_component = {o.component.urn: o for o in self.owners if o.foreign is None}
        parent = res.parent
        while parent is not None:
            if parent.urn in by_component:
                return by_component[parent.urn]
            parent = parent.parent
        return None

    def known_by(self, value: str, mine: Owned | None = None) -> list[Identity]:
        """The owned resources known by `value`; none when one of them is `mine`'s owner's own
        (a component's resources name each other)."""
        found = self.identities.get(value.lower(), [])
        if mine is not None and any(
            i.owned is not None and i.owned.owner is mine.owner for i in found
        ):
            return []
        return found

    def found_in(self, value: Any, mine: Owned | None = None) -> Iterator[Reached]:
        """The owned identities a value names (as whole tokens, in any case), and ownership
        tags it names."""
        for text in strings_in(value):
            lowered = text.lower()
            token = _ACK_TAG_TOKEN.search(lowered)
            if OWNERSHIP_TAG_PREFIX in lowered or token:
                # Only the tag's own text is quoted, never what surrounds it: the value may be a
                # secret longer than any redaction of it in a quote (a shortened copy leaked).
                tag = OWNERSHIP_TAG_PREFIX if OWNERSHIP_TAG_PREFIX in lowered else token.group(0)  # type: ignore[union-attr]
                yield Reached(None, f" (it names the ownership tag '{tag}')", "tag")
            if self._pattern is None:
                continue
            for match in self._pattern.finditer(text):
                for identity in self.known_by(match.group(0), mine):
                    yield Reached(
                        identity.owned,
                        f" (by its {identity.field} '{match.group(0)}')",
                        identity.field,
                    )
            yield from self._roles_matching(text, mine)

    def _roles_matching(self, text: str, mine: Owned | None) -> Iterator[Reached]:
        """Owned RAM roles a wildcard names (`role/demo-*`, `role/*-node-role`): a pattern with
        letters of its own aims at the roles it matches (`role/*` aims at none in particular)."""
        for pattern in _ROLE_PATTERN.findall(text):
            if len(pattern.replace("*", "").replace("?", "")) < _PATTERN_LETTERS:
                continue
            for value in self.identities:
                if not fnmatch.fnmatchcase(value, pattern.lower()):
                    continue
                for identity in self.known_by(value, mine):
                    if identity.field == "roleName" and identity.owned is not None:
                        yield Reached(
                            identity.owned,
                            f" (its roleName '{value}' matches 'role/{pattern}')",
                            identity.field,
                        )

    def reached_by(
        self, res: PolicyResource, prop: str, value: Any, mine: Owned | None = None
    ) -> Iterator[Reached]:
        """What property `prop` of `res` reaches that an owner owns: through its dependencies
        (an owned resource, or a read of one), by the values in it, or, when it holds a value
        unknown at preview that no resource produced, what cannot be proven."""
        deps = res.property_dependencies.get(prop, [])
        explained = False  # a dependency on a resource of the program's own may explain unknowns
        for dep in deps:
            reached = list(self._through(dep, mine))
            explained = explained or not reached
            yield from reached
        yield from self.found_in(value, mine)
        entry = block_entry(res.resource_type, prop)
        if entry is not None and not explained:
            unexplained = outside(entry, list(unknown_paths(value)))
            if unexplained:
                yield Reached(
                    None,
                    "",
                    UNKNOWN_FIELD,
                    unproven=f"at {', '.join(sorted(set(unexplained)))} a value "
                    f"{unknown_here()} that nothing but what a cluster owns stands behind (an "
                    "invoke on its values, say)",
                )
        if not deps and has_unknown(value):
            yield Reached(
                None,
                "",
                UNKNOWN_FIELD,
                unproven=f"a value {unknown_here()} that no resource in the program produced "
                "(an invoke on values still to be created, or an output rebuilt without its "
                "resources)",
            )

    def _through(self, dep: PolicyResource, mine: Owned | None = None) -> Iterator[Reached]:
        owned = self.owned.get(dep.urn)
        if owned is not None:
            yield Reached(owned, "")
            return
        props = plain(dep.props)
        rid = props.get("id")
        known = isinstance(rid, str) and not has_unknown(rid)
        same = self.identities.get(str(rid).lower(), []) if known else []
        if same:
            # A read of an owned resource, or a second resource imported from it.
            for identity in self.known_by(str(rid), mine):
                yield Reached(identity.owned, f" (as '{dep.name}', {identity.field} '{rid}')")
            return
        if seen_inputs.seen(dep.urn) is not None or self.is_component(dep):
            return  # a resource the program declares itself, or its own component
        # A read (`.get`) or a stack reference: what it names decides.
        if dep.resource_type == STACK_REFERENCE:
            if has_unknown(props.get("outputs")):
                yield Reached(
                    None,
                    f" (through stack reference '{dep.name}')",
                    unproven=f"outputs of stack reference '{dep.name}', unknown here (give them "
                    "to ack-preview with --stack-reference)",
                )
            return
        tags = props.get("tags")
        if rid is None or has_unknown(rid):
            yield Reached(
                None,
                f" (read as '{dep.name}')",
                unproven=f"{dep.resource_type} '{dep.name}', a read whose identity is "
                f"{unknown_here()} (a read of a resource still to be created, or of what an "
                "invoke found)",
            )
            return
        if isinstance(tags, Mapping) and (CLUSTER_TAG in tags or ACK_TAG in tags):
            owner = next((o for o in self.owners if o.name == tags.get(CLUSTER_TAG)), None)
            found = next(
                (
                    o
                    for o in self.owned.values()
                    if (owner is None or o.owner is owner)
                    and o.resource.resource_type == dep.resource_type
                ),
                None,
            )
            yield Reached(found, f" (read as '{dep.name}', tagged as a cluster's)", "tag")


def _identities_of(owned: Owned) -> Iterator[Identity]:
    res = owned.resource
    props = plain(res.props)
    for key in ("id", *IDENTITY_FIELDS.get(res.resource_type, ())):
        for text in strings_in(props.get(key), keys=False):
            # An endpoint names its address; the RRSA issuer's host is its region's, shared.
            for value in _named(text) if key == "connections" else [text]:
                if len(value) >= _SHORTEST:
                    yield Identity(value, key, owned)


def _descends_from(res: PolicyResource, component: PolicyResource) -> bool:
    parent = res.parent
    while parent is not None:
        if parent.urn == component.urn:
            return True
        parent = parent.parent
    return False


def _exports_in(value: Any) -> Iterator[Mapping[str, Any]]:
    """The exported identities in a stack's outputs, wherever its program put them."""
    if isinstance(value, Mapping):
        if rec.EXPORT_MARKER in value and {"type", "field", "value"} <= set(value):
            yield value
            return
        for item in value.values():
            yield from _exports_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _exports_in(item)


def _named(text: str) -> Iterator[str]:
    """A value, and the host of a URL (an endpoint names its address)."""
    yield text
    if "://" in text:
        host = urlsplit(text).hostname
        if host:
            yield host


_CACHE: dict[int, tuple[Sequence[PolicyResource], Ownership]] = {}


def ownership(resources: Sequence[PolicyResource]) -> Ownership:
    """The stack's ownership, built once per stack analysis (every stack rule of a call gets
    the same list of resources from the pack's server)."""
    hit = _CACHE.get(id(resources))
    if hit is not None and hit[0] is resources:
        return hit[1]
    _PLAIN.clear()  # another analysis: the proxies of the last one are gone
    built = Ownership.of(resources)
    _CACHE.clear()
    _CACHE[id(resources)] = (resources, built)
    return built
