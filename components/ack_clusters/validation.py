"""Validators every concept shares: the strict model base, logical names, CIDRs, zones, ECS
instance types and tags. Pure: nothing here touches Pulumi.

Values that shape the resource graph (zones, CIDRs, pool names, NAT strategy) are plain values,
not ``Input``s, so the graph is known at preview time and every check runs before the first
resource registers. Values that only fill a resource's input (an existing VPC or vSwitch ID, a
KMS key, a key pair, a log project, a resource group, tag values) may also be *deferred*: a
``pulumi.Output`` or other awaitable, from another resource or a StackReference. Such a value is
checked by the same rule when it becomes known (:class:`Later`; the component wires the check).
"""

from __future__ import annotations

import base64
import difflib
import inspect
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol, runtime_checkable

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, SecretStr

from . import facts
from .naming import OWNERSHIP_TAG_PREFIX
from .redaction import HIDDEN

#: Logical names users choose (node pools, clusters): they become part of URNs and cloud names,
#: so they follow the strictest rule among the resources they name (DNS-label style).
NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$"
NAME_HELP = "1-40 characters: lowercase letters, digits and hyphens, starting with a letter"
#: The RFC 1918 ranges. ACK accepts other custom VPC ranges, but a public range in a VPC breaks
#: reachability of that range from the cluster, so the library only plans private ones.
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
#: ACK uses this range for its control plane and cloud services; it must stay free.
CONTROL_PLANE_RANGE = ipaddress.IPv4Network("100.64.0.0/10")
K8S_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
#: A zone ID: its region's ID and "-<letter>", or the letter alone after a region ending in a
#: digit (cn-hangzhou-i, cn-hangzhou-finance-b, ap-southeast-1a).
_ZONE_PATTERN = re.compile(
    r"^(?P<region>[a-z]{2}(-[a-z]+)+)-[a-z]$|^(?P<numbered>[a-z]{2}(-[a-z]+)+-\d+)[a-z]$"
)
#: Alibaba allows 20 tags per resource; the library adds OWNERSHIP_TAG_COUNT of its own.
TAG_LIMIT = 20
OWNERSHIP_TAG_COUNT = 2


class StrictModel(BaseModel):
    """Strict base: unknown keys are errors (a typo in config must not be silently ignored)."""

    # defer_build: a model builds its validator on first use, so importing the library does not
    # pay for the forms (and nested models) a program never uses.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )


def parse_network(value: str, *, what: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a valid {what} in CIDR notation with host bits clear "
            f"(for example '10.0.0.0/16'): {exc}"
        ) from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"{value!r}: only IPv4 ranges are supported for the {what}")
    return net


def require_private(net: ipaddress.IPv4Network, *, what: str) -> None:
    if not any(net.subnet_of(r) for r in PRIVATE_RANGES):
        raise ValueError(
            f"{net} is not a private range: the {what} must lie inside 10.0.0.0/8, "
            "172.16.0.0/12 or 192.168.0.0/16"
        )


def require_prefix(net: ipaddress.IPv4Network, low: int, high: int, *, what: str) -> None:
    if not low <= net.prefixlen <= high:
        raise ValueError(
            f"{net} has a /{net.prefixlen} mask; Alibaba Cloud accepts /{low} to /{high} "
            f"for a {what}"
        )


def zone_region(zone: str) -> str | None:
    """The region a zone ID belongs to, or None if it is not a zone ID."""
    m = _ZONE_PATTERN.match(zone)
    return None if m is None else m["region"] or m["numbered"]


def zone_id(value: str) -> str:
    region = zone_region(value)
    if region is None:
        raise ValueError(
            f"{value!r} is not an Alibaba Cloud zone ID: the region ID and a zone letter, "
            "for example 'cn-hangzhou-i' or 'ap-southeast-1a'"
        )
    found = region_problem(region)
    if found is not None and found[0] == "error":
        close = _close_region(region)
        fix = f"; did you mean {value.replace(region, close, 1)!r}?" if close else ""
        raise ValueError(f"{value!r} is not a zone: {region!r} is not a region{fix}")
    return value


def _close_region(region: str) -> str | None:
    """The known region `region` is probably a typo of, if any.

    Alibaba Cloud numbers the regions of a family (`ap-southeast-1` ... `ap-southeast-7`,
    `us-east-1`): a new member differs from a known one by its number alone, so it is a region
    the list does not know yet (a warning), never a typo of its sibling."""
    numbered = re.fullmatch(r"(.+-)\d+", region)
    if numbered and any(re.fullmatch(re.escape(numbered[1]) + r"\d+", r) for r in facts.REGIONS):
        return None
    close = difflib.get_close_matches(region, sorted(facts.REGIONS), n=1, cutoff=0.85)
    return close[0] if close else None


def zone_notice(zone: str) -> str | None:
    """A warning for a zone whose letter its region did not have when the list was made (a
    stale fact: zones open and close)."""
    region = zone_region(zone)
    letters = facts.ZONE_LETTERS.get(region or "")
    if letters is None or zone[-1] in letters:
        return None
    known = ", ".join(
        f"{region}-{x}" if region and region[-1].isalpha() else f"{region}{x}" for x in letters
    )
    return (
        f"zone {zone}: {region} had the zones {known} on {facts.CHECKED}; a new zone may be "
        "missing from ack_clusters/facts.py, otherwise check the spelling"
    )


def placement_problems(
    region: str, zones: list[str], *, region_key: str, zones_key: str
) -> tuple[list[tuple[str, str]], list[str]]:
    """The region a cluster's resources go to and its zones: the problems (a malformed or
    misspelt region, zones of another region), named from `region_key` and `zones_key`, and
    the warnings (a well-formed region the stale list does not know)."""
    found = region_problem(region)
    if found is not None and found[0] == "error":
        return [(region_key, found[1])], []
    problems = [
        (f"{zones_key}.{i}", f"{zone} is not a zone of region {region}")
        for i, zone in enumerate(zones)
        if zone_region(zone) != region
    ]
    return problems, [found[1]] if found is not None else []


def region_problem(region: str) -> tuple[str, str] | None:
    """("error" or "warning", message) for a region ID that is malformed, a likely typo, or not
    in the (stale) list of known regions; None for a known region."""
    if region in facts.REGIONS:
        return None
    if not re.fullmatch(facts.REGION, region):
        return "error", f"{region!r} is not an Alibaba Cloud region ID (for example 'cn-hangzhou')"
    close = _close_region(region)
    if close:
        return "error", f"{region!r} is not a region; did you mean {close!r}?"
    return "warning", (
        f"region {region!r} is not among the regions known on {facts.CHECKED}; if it is new, "
        "it builds with this warning (the library's list, ack_clusters/facts.py, predates it), "
        "otherwise check the spelling"
    )


def distinct(keys: list[str], what: str) -> None:
    """Refuse repeated keys, naming them all (linear: stack files can be large)."""
    repeated = sorted(k for k, n in Counter(keys).items() if n > 1)
    if repeated:
        raise ValueError(f"{what} must be distinct; repeated: {', '.join(repeated)}")


def check_tags(tags: dict[str, Any]) -> dict[str, Any]:
    """The tag map as a whole and its keys; each value is checked by :func:`tag_value` (now, or
    when known for an output)."""
    if len(tags) > TAG_LIMIT - OWNERSHIP_TAG_COUNT:
        raise ValueError(
            f"{len(tags)} tags given; at most {TAG_LIMIT - OWNERSHIP_TAG_COUNT} fit beside the "
            f"{OWNERSHIP_TAG_COUNT} ownership tags (Alibaba allows {TAG_LIMIT} per resource)"
        )
    for key in tags:
        if key.startswith(OWNERSHIP_TAG_PREFIX):
            raise ValueError(
                f"tag {key!r}: keys under {OWNERSHIP_TAG_PREFIX!r} are the library's ownership "
                "tags and are set by the component; choose another key"
            )
        if not 1 <= len(key) <= 128:
            raise ValueError(f"tag key {key!r} must be 1-128 characters")
        low = key.lower()
        if low.startswith(("aliyun", "acs:")) or "http://" in low or "https://" in low:
            raise ValueError(
                f"tag {key!r}: keys and values cannot start with 'aliyun' or 'acs:' "
                "nor contain 'http://' or 'https://'"
            )
    return tags


def instance_type(value: str) -> str:
    if not re.fullmatch(r"ecs\.[a-z0-9-]+\.[a-z0-9-]+", value):
        raise ValueError(f"{value!r} is not an ECS instance type such as 'ecs.g7.xlarge'")
    return value


InstanceType = Annotated[str, AfterValidator(instance_type)]
ZoneId = Annotated[str, AfterValidator(zone_id)]


# --- Kubernetes syntax -------------------------------------------------------------------------


def label_key(key: str) -> str:
    """A Kubernetes label key (also a taint key or selector key): [prefix/]name."""
    prefix, slash, name = key.rpartition("/")
    problems = []
    if not re.fullmatch(facts.LABEL_NAME, name):
        problems.append(
            f"name {name!r} must be 1-63 characters: letters, digits, '-', '_' and '.', "
            "beginning and ending with a letter or digit"
        )
    if slash and (
        len(prefix) > facts.LABEL_PREFIX_MAX or not re.fullmatch(facts.LABEL_PREFIX, prefix)
    ):
        problems.append(f"prefix {prefix!r} must be a DNS subdomain (lowercase, at most 253)")
    if problems:
        raise ValueError(f"{key!r} is not a Kubernetes label key: " + "; ".join(problems))
    return key


def label_value(value: str) -> str:
    if not re.fullmatch(facts.LABEL_VALUE, value):
        raise ValueError(
            f"{value!r} is not a Kubernetes label value: empty, or at most 63 characters of "
            "letters, digits, '-', '_' and '.', beginning and ending with a letter or digit"
        )
    return value


def node_label_key(key: str) -> str:
    """A label the kubelet will set on its node: the Kubernetes namespaces are refused except
    the keys and prefixes the kubelet allows."""
    label_key(key)
    prefix = key.rpartition("/")[0]
    reserved = any(
        prefix == ns or prefix.endswith("." + ns) for ns in facts.RESERVED_LABEL_NAMESPACES
    )
    allowed = key in facts.KUBELET_ALLOWED_LABELS or any(
        prefix == p or prefix.endswith("." + p) for p in facts.KUBELET_ALLOWED_LABEL_PREFIXES
    )
    if reserved and not allowed:
        raise ValueError(
            f"{key!r}: the kubelet refuses node labels in the kubernetes.io and k8s.io "
            "namespaces (except node.kubernetes.io/ and kubelet.kubernetes.io/ and a few "
            "well-known keys); use your own prefix, for example 'example.com/role'"
        )
    return key


LabelKey = Annotated[str, AfterValidator(label_key)]
LabelValue = Annotated[str, AfterValidator(label_value)]
NodeLabelKey = Annotated[str, AfterValidator(node_label_key)]


# --- Alibaba Cloud formats ----------------------------------------------------------------------


def kubernetes_version(value: str) -> str:
    if not re.fullmatch(facts.KUBERNETES_VERSION, value):
        raise ValueError(
            f"{value!r} is not an ACK Kubernetes version: give the full version ACK offers, "
            "for example '1.33.3-aliyun.1' (neither 'latest' nor a bare '1.33')"
        )
    return value


def kubernetes_version_notice(value: str | None) -> str | None:
    """A warning for a well-formed version whose minor ACK did not offer when the list was made."""
    m = re.fullmatch(facts.KUBERNETES_VERSION, value or "")
    if m is None or int(m[1]) in facts.KUBERNETES_MINORS:
        return None
    offered = ", ".join(f"1.{n}" for n in facts.KUBERNETES_MINORS)
    return (
        f"kubernetes_version {value}: ACK offered {offered} for new clusters on "
        f"{facts.CHECKED}; an older minor may no longer be offered, a newer one may be "
        "missing from ack_clusters/facts.py"
    )


def rfc3339(value: str) -> str:
    """An RFC 3339 date and time with an offset, as ACK's maintenance window takes it."""
    pattern = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})"
    try:
        if not re.fullmatch(pattern, value):
            raise ValueError
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an RFC 3339 time with an offset, for example "
            "'2025-01-02T03:00:00.000+08:00'"
        ) from None
    return value


def json_object(value: str) -> str:
    try:
        loaded = json.loads(value)
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(loaded, dict):
        raise ValueError('must be a JSON object, for example \'{"key": "value"}\'')
    return value


def kms_key_id(value: str) -> str:
    uuid = r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
    if not re.fullmatch(rf"key-[A-Za-z0-9]+|{uuid}", value):
        raise Refused(value, "is not a KMS key ID: 'key-' and letters or digits, or a UUID")
    return value


def key_pair_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9:_.-]{1,127}", value):
        raise Refused(
            value,
            "is not an ECS key pair name: 2-128 characters, starting with a letter, "
            "then letters, digits, ':', '_', '.' or '-'",
        )
    return value


def ecs_password(password: str) -> str:
    """An ECS login password as ECS takes it (facts: ECS_PASSWORD_*). The rule's words never
    quote the password, nor any character of it: :class:`Refused` with no value."""
    low, high = facts.ECS_PASSWORD_LENGTH
    allowed = set(facts.ECS_PASSWORD_SYMBOLS)
    source = "ECS API reference, RunInstances, Password"
    if any(not (c.isascii() and c.isalnum()) and c not in allowed for c in password):
        raise Refused(
            None,
            "password holds a character ECS does not allow (a space, a non-ASCII letter, or "
            f"a symbol other than {facts.ECS_PASSWORD_SYMBOLS}) ({source})",
        )
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if not low <= len(password) <= high or classes < 3:
        raise Refused(
            None,
            f"password must be {low}-{high} characters with three of: lowercase, uppercase, "
            f"digits, symbols ({source})",
        )
    return password


def user_data_script(script: str) -> str:
    """A node's user data as the user writes it (the component Base64-encodes it once). Never
    quoted: :class:`Refused` with no value."""
    size = len(script.encode())
    if size > facts.USER_DATA_MAX_BYTES:
        raise Refused(
            None,
            f"user_data is {size:,} bytes; ECS takes at most {facts.USER_DATA_MAX_BYTES:,} "
            "before Base64 encoding (ECS documentation, 'Instance user data'): fetch the rest "
            "from OSS in the script",
        )
    if _already_base64(script):
        raise Refused(
            None,
            "user_data is already Base64 (it decodes to text): give the script itself; the "
            "component encodes it, and ECS would otherwise run the encoded text",
        )
    return script


def _already_base64(text: str) -> bool:
    """Whether `text` is Base64 of some text (a script never is: it has spaces or line breaks,
    and '#!'; a short word that happens to be valid Base64 decodes to bytes that are not
    text)."""
    compact = "".join(text.split())
    if len(compact) < 8 or len(compact) % 4:
        return False
    try:
        decoded = base64.b64decode(compact, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in decoded)


KubernetesVersion = Annotated[str, AfterValidator(kubernetes_version)]


#: Ranges no packet from outside comes from, by what they are.
SPECIAL_RANGES = {
    "loopback": ipaddress.IPv4Network("127.0.0.0/8"),
    "link-local": ipaddress.IPv4Network("169.254.0.0/16"),
    "multicast": ipaddress.IPv4Network("224.0.0.0/4"),
    "reserved": ipaddress.IPv4Network("240.0.0.0/4"),
    "'this network'": ipaddress.IPv4Network("0.0.0.0/8"),
}
#: Address space that is not the public internet: private, ACK's shared range, special use.
NOT_PUBLIC = (*PRIVATE_RANGES, CONTROL_PLANE_RANGE, *SPECIAL_RANGES.values())


def source_range(net: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """A firewall source that can reach a node: never one of the SPECIAL_RANGES."""
    for kind, special in SPECIAL_RANGES.items():
        if net.prefixlen and net.subnet_of(special):
            raise ValueError(
                f"{net} is a {kind} range, from which no traffic reaches a node; "
                "name the range your clients really come from"
            )
    return net


def public_part(nets: list[ipaddress.IPv4Network]) -> list[ipaddress.IPv4Network]:
    """The public addresses among some ranges, as disjoint ranges."""
    parts = list(nets)
    for hole in NOT_PUBLIC:
        kept: list[ipaddress.IPv4Network] = []
        for net in parts:
            if net.subnet_of(hole):
                continue
            if hole.subnet_of(net):
                kept += list(net.address_exclude(hole))
            else:
                kept.append(net)
        parts = kept
    return list(ipaddress.collapse_addresses(parts))


# -- values other resources produce ------------------------------------------------------------


@runtime_checkable
class Deferred(Protocol):
    """A value another resource or stack produces: a ``pulumi.Output`` (named by its ``apply``,
    so that this pure module never imports Pulumi)."""

    def apply(self, func: Any, /) -> Any: ...


def is_deferred(value: object) -> bool:
    """Whether a value is an output or another awaitable, not a value yet."""
    return isinstance(value, Deferred) or inspect.isawaitable(value)


class Refused(ValueError):
    """A value a rule refuses, in words that can leave the value out: the message quotes it
    (``'vpc-X!' is not a VPC ID``), :meth:`without_value` says the same with
    :data:`~ack_clusters.redaction.HIDDEN` in its place, for a value that is a secret. The value
    is formatted only when the message is asked for, never by :meth:`without_value`."""

    def __init__(self, value: str | None, rule: str) -> None:
        """`rule`: the words after the quoted value; with no `value`, the whole message, which
        then names no value."""
        super().__init__(rule)
        self.rule = rule
        self._value = value

    def __str__(self) -> str:
        return self.rule if self._value is None else f"{self._value!r} {self.rule}"

    def without_value(self) -> str:
        return self.rule if self._value is None else f"{HIDDEN} {self.rule}"


@dataclass(frozen=True)
class Later:
    """Marks an argument that may be deferred, with the rule its value follows: a string is
    checked when the arguments are validated, a deferred value when it is known (the cluster
    component applies ``check`` then, naming the field). ``check`` raises :class:`Refused`, so
    that a secret value is refused without being quoted (:mod:`ack_clusters.later`)."""

    check: Callable[[str], str]
    what: str
    #: A secret (a password, a script): taken as given, never stripped, and kept as a
    #: ``SecretStr`` when given as text; an output of one stays an output (the component
    #: keeps it secret, whether or not it came as one).
    secret: bool = False

    def validate(self, value: object) -> object:
        if isinstance(value, SecretStr) and self.secret:
            value = value.get_secret_value()
        if isinstance(value, str):
            if self.secret:
                return SecretStr(self.check(value))
            return self.check(value.strip())
        if is_deferred(value):
            return value
        kind = "a secret string" if self.secret else "a string"
        raise ValueError(f"expected {self.what}: {kind}, or an output that gives one")


def _pattern(regex: str, what: str, example: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.fullmatch(regex, value):
            raise Refused(value, f"is not {what} ({example})")
        return value

    return check


def sls_project(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", value):
        raise Refused(
            value,
            "is not an SLS project name: 3-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit",
        )
    return value


def tag_value(value: str) -> str:
    if len(value) > 128:
        raise Refused(None, "a tag value must be at most 128 characters")
    low = value.lower()
    if low.startswith(("aliyun", "acs:")) or "http://" in low or "https://" in low:
        raise Refused(
            None,
            "a tag value cannot start with 'aliyun' or 'acs:' nor contain 'http://' or 'https://'",
        )
    return value


_VPC = Later(_pattern(r"vpc-[a-z0-9]+", "a VPC ID", "vpc-..."), "a VPC ID")
_VSWITCH = Later(_pattern(r"vsw-[a-z0-9]+", "a vSwitch ID", "vsw-..."), "a vSwitch ID")
_KMS = Later(kms_key_id, "a KMS key ID")
_KEY_PAIR = Later(key_pair_name, "an ECS key pair name")
_SLS = Later(sls_project, "an SLS project name")
_RESOURCE_GROUP = Later(
    _pattern(r"rg-[a-z0-9]+", "a resource group ID", "rg-..."), "a resource group ID"
)
_TAG_VALUE = Later(tag_value, "a tag value")
_CEN = Later(_pattern(r"cen-[a-z0-9]+", "a CEN instance ID", "cen-..."), "a CEN instance ID")
_TRANSIT_ROUTER = Later(
    _pattern(r"tr-[a-z0-9]+", "a transit router ID", "tr-..."), "a transit router ID"
)
_TR_ROUTE_TABLE = Later(
    _pattern(r"vtb-[a-z0-9]+", "a transit router route table ID", "vtb-..."),
    "a transit router route table ID",
)
_OIDC_ISSUER = Later(
    _pattern(r"https://[^\s/]+(/\S*)?", "an OIDC issuer URL", "https://..."), "an OIDC issuer URL"
)
_OIDC_PROVIDER = Later(
    _pattern(
        r"acs:ram::\d+:oidc-provider/[A-Za-z0-9._-]+",
        "a RAM OIDC provider ARN",
        "acs:ram::<account>:oidc-provider/<name>",
    ),
    "a RAM OIDC provider ARN",
)

#: Arguments that may come from other resources: ``str``, or an output of one.
VpcIdInput = Annotated[str | Deferred, PlainValidator(_VPC.validate), _VPC]
VSwitchIdInput = Annotated[str | Deferred, PlainValidator(_VSWITCH.validate), _VSWITCH]
KmsKeyIdInput = Annotated[str | Deferred, PlainValidator(_KMS.validate), _KMS]
KeyPairNameInput = Annotated[str | Deferred, PlainValidator(_KEY_PAIR.validate), _KEY_PAIR]
SlsProjectInput = Annotated[str | Deferred, PlainValidator(_SLS.validate), _SLS]
ResourceGroupIdInput = Annotated[
    str | Deferred, PlainValidator(_RESOURCE_GROUP.validate), _RESOURCE_GROUP
]
TagValueInput = Annotated[str | Deferred, PlainValidator(_TAG_VALUE.validate), _TAG_VALUE]
CenIdInput = Annotated[str | Deferred, PlainValidator(_CEN.validate), _CEN]
TransitRouterIdInput = Annotated[
    str | Deferred, PlainValidator(_TRANSIT_ROUTER.validate), _TRANSIT_ROUTER
]
TransitRouterRouteTableIdInput = Annotated[
    str | Deferred, PlainValidator(_TR_ROUTE_TABLE.validate), _TR_ROUTE_TABLE
]
OidcIssuerInput = Annotated[str | Deferred, PlainValidator(_OIDC_ISSUER.validate), _OIDC_ISSUER]
OidcProviderArnInput = Annotated[
    str | Deferred, PlainValidator(_OIDC_PROVIDER.validate), _OIDC_PROVIDER
]
_PASSWORD = Later(ecs_password, "an ECS login password", secret=True)


def alert_url(url: str) -> str:
    """A guard's alert URL (it holds a token): HTTPS, one word. Its kind's own rules are
    ack_clusters.guard.plan.alert_url_problem's."""
    if not re.fullmatch(r"https://\S+", url):
        raise Refused(None, "an alert URL is an https:// URL with no spaces (it carries a token)")
    return url


def signing_secret(secret: str) -> str:
    """A DingTalk robot's signing secret, as DingTalk shows it (SEC and letters or digits)."""
    if not re.fullmatch(r"SEC[0-9A-Za-z]+", secret):
        raise Refused(None, "a DingTalk signing secret is SEC followed by letters and digits")
    return secret


_ALERT_URL = Later(alert_url, "an alert URL", secret=True)
_SIGNING_SECRET = Later(signing_secret, "a DingTalk signing secret", secret=True)
_USER_DATA = Later(user_data_script, "a user data script", secret=True)
#: Secrets: a string (kept as a ``SecretStr``) or an output, ``Config.require_secret()``'s
#: included; checked when known, without quoting them.
PasswordInput = Annotated[SecretStr | Deferred, PlainValidator(_PASSWORD.validate), _PASSWORD]
UserDataInput = Annotated[SecretStr | Deferred, PlainValidator(_USER_DATA.validate), _USER_DATA]
AlertUrlInput = Annotated[SecretStr | Deferred, PlainValidator(_ALERT_URL.validate), _ALERT_URL]
SigningSecretInput = Annotated[
    SecretStr | Deferred, PlainValidator(_SIGNING_SECRET.validate), _SIGNING_SECRET
]


def revealed(value: SecretStr | Deferred) -> str | Deferred:
    """A secret argument as a resource input: its text, or its output (which the component
    marks secret)."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


#: User tags: plain keys (they are checked against the ownership tags), values that may be
#: deferred.
Tags = Annotated[dict[str, TagValueInput], AfterValidator(check_tags), Field(default_factory=dict)]
