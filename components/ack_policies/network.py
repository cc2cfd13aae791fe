"""Network guard rails: private API servers, no world-open firewalls, strict SLB/ALB access."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from . import seen as seen_inputs
from ._common import as_list, is_map, resource_rule, stack_rule, truthy, undecided

MANAGEMENT_PORTS = {22: "SSH", 3389: "RDP"}


def _public_api_server(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == "alicloud:cs/serverlessKubernetes:ServerlessKubernetes":
        public = truthy(args.props.get("endpointPublicAccessEnabled"))  # provider default: false
    else:
        # The provider creates an internet SLB for the API server unless told not to.
        value = args.props.get("slbInternetEnabled")
        public = True if value is None else truthy(value)
    if public:
        yield f"{args.name} exposes its API server on the internet"


api_server_not_public = resource_rule(
    "ack-api-server-not-public",
    description="ACK API servers are reachable only from the VPC unless the policy config "
    "allows the cluster.",
    types=[
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "alicloud:cs/kubernetes:Kubernetes",
        "alicloud:cs/serverlessKubernetes:ServerlessKubernetes",
    ],
    check=_public_api_server,
    severity=Severity.HIGH,
    mandatory=True,
    remediation="Keep public_api_server false and reach the API server over VPN, Express Connect "
    "or a bastion. If the cluster must be public, add its URN pattern to this rule's `allow` "
    "list in the policy config.",
    tags=["security", "network"],
)


def _ports(port_range: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(-?\d+)/(-?\d+)", port_range or "-1/-1")
    return (int(m[1]), int(m[2])) if m else None


#: What must never be open to a wide public range: every port, or a management port.
EXPOSURES: tuple[tuple[int | None, str], ...] = ((None, "all ports"), (22, "SSH"), (3389, "RDP"))
#: The Checkov check each exposure stands for (the rule carries both IDs; a message names its).
CHECKOV = {None: "CKV_ALI_2, CKV_ALI_3", 22: "CKV_ALI_2", 3389: "CKV_ALI_3"}
#: Address space that is not the public internet: private, shared (ACK's control plane),
#: loopback, link-local, multicast, reserved, "this network".
NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "0.0.0.0/8",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "::1/128",
    )
)
#: Default of `widestPublicSource`: the largest public range, as a prefix length, that the
#: rules of one security group may open a management port (or every port) to, together.
WIDEST_PUBLIC_SOURCE = {4: 16, 6: 48}

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _covers(props: Any, port: int | None) -> bool:
    protocol = props.get("ipProtocol")
    span = _ports(props.get("portRange", "-1/-1"))
    everything = protocol == "all" or span in (None, (-1, -1), (1, 65535))
    if port is None:
        return everything
    return everything or (protocol == "tcp" and span is not None and span[0] <= port <= span[1])


PREFIX_LIST = "alicloud:ecs/ecsPrefixList:EcsPrefixList"
#: What a message says in place of what a secret input decides (ack_clusters.redaction.HIDDEN;
#: the pack is self-contained, tests/test_secret_messages.py checks they agree).
HIDDEN = "[secret]"
#: The inputs of a rule that decide the ranges it admits, and the ports it opens.
SOURCE_INPUTS = frozenset({"cidrIp", "ipv6CidrIp", "prefixListId", "sourceSecurityGroupId"})
PORT_INPUTS = frozenset({"ipProtocol", "portRange", "type", "policy"})


def _secret(res: PolicyResource, names: frozenset[str]) -> bool:
    """Whether any of `names` of a resource's inputs is secret, or cannot be known not to be
    (no Analyze call of it was recorded)."""
    marked = seen_inputs.secret_inputs(res.urn)
    return marked is None or bool(marked & names)


def _secret_sources(rule: PolicyResource) -> bool:
    """Whether the ranges a rule admits come from a secret: its own source inputs, or the
    entries of a prefix list it takes them from."""
    if _secret(rule, SOURCE_INPUTS):
        return True
    lists = rule.property_dependencies.get("prefixListId", [])
    return any(_secret(d, frozenset({"entries"})) for d in lists if d.resource_type == PREFIX_LIST)


class _Unjudged(Exception):
    """A rule whose source ranges the program does not hold: a prefix list declared elsewhere."""

    def __init__(self, rule: PolicyResource) -> None:
        try:
            shown = HIDDEN if _secret(rule, SOURCE_INPUTS) else rule.props.get("prefixListId")
            named = f"prefix list {shown}"
        except UnknownValueError:
            named = "a prefix list unknown at preview"  # derived, say, by an invoke
        super().__init__(
            f"{rule.name} admits {named}, which this program does not declare: its ranges "
            "cannot be judged. Declare the list in the stack (ecs.EcsPrefixList), or name the "
            "source range"
        )
        self.rule = rule


def _sets(rule: PolicyResource, name: str) -> bool:
    """Whether a rule sets `name`. A value another resource produces is unknown at preview,
    but its dependency already says it is set (a group or a list the program creates); an
    unknown value with no resource behind it raises UnknownValueError (undecided)."""
    return bool(rule.property_dependencies.get(name)) or bool(rule.props.get(name))


def _sources(rule: PolicyResource) -> list[Net]:
    """The address ranges an ingress rule admits. A rule with no source at all admits
    everything (Checkov's reading too); a source group admits its members, no raw range; a
    prefix list admits its entries, read from the list the rule depends on (a list the program
    does not declare cannot be judged: _Unjudged)."""
    props = rule.props
    given = [props.get("cidrIp"), props.get("ipv6CidrIp")]
    if _sets(rule, "sourceSecurityGroupId"):
        return []
    if _sets(rule, "prefixListId"):
        lists = [
            d
            for d in rule.property_dependencies.get("prefixListId", [])
            if d.resource_type == PREFIX_LIST
        ]
        if not lists:
            raise _Unjudged(rule)
        given = [
            entry.get("cidr")
            for found in lists
            for entry in as_list(found.props.get("entries"))
            if is_map(entry)
        ]
    elif not any(given):
        return [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    out = []
    for cidr in given:
        if cidr:
            try:
                out.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError:
                continue  # the provider refuses it; not this rule's concern
    return out


def _public(nets: list[Net], version: int) -> list[Net]:
    """The public part of some ranges of one IP version, as disjoint ranges."""
    parts: list[Net] = [n for n in nets if n.version == version]
    for hole in (h for h in NOT_PUBLIC if h.version == version):
        kept: list[Net] = []
        for net in parts:
            if net.overlaps(hole):
                if net.subnet_of(hole):  # type: ignore[arg-type]
                    continue
                if hole.subnet_of(net):  # type: ignore[arg-type]
                    kept += list(net.address_exclude(hole))  # type: ignore[arg-type]
                    continue
            kept.append(net)
        parts = kept
    return list(ipaddress.collapse_addresses(parts))  # type: ignore[type-var]


def _group(rule: PolicyResource) -> str:
    """Which security group a rule belongs to: the resource it depends on for the group (known
    at preview), else the group ID, else the rule alone."""
    deps = rule.property_dependencies.get("securityGroupId") or []
    if deps:
        return deps[0].urn
    return str(rule.props.get("securityGroupId") or rule.urn)


def _world_open(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    config = args.get_config()
    widest = {
        # Config numbers arrive as JSON numbers (floats) over the analyzer protocol.
        4: int(config.get("widestPublicSource", WIDEST_PUBLIC_SOURCE[4])),
        6: WIDEST_PUBLIC_SOURCE[6],
    }
    groups: dict[str, list[PolicyResource]] = {}
    for rule in args.resources:
        if rule.resource_type != "alicloud:ecs/securityGroupRule:SecurityGroupRule":
            continue
        try:
            p = rule.props
            if p.get("type") != "ingress" or p.get("policy", "accept") == "drop":
                continue
            groups.setdefault(_group(rule), []).append(rule)
        except UnknownValueError as error:
            yield rule.urn, undecided(rule.name, error)
    unjudged: set[str] = set()
    said: set[tuple[str, str]] = set()
    for rules in groups.values():
        # What a secret decides is not printed in any form, for any rule of its group (their
        # findings are judged together): a secret source hides the ranges and their count
        # (sub-ranges, normalised forms, the public part of a range all spell it), a secret
        # protocol or port which exposures it opens, and so which rules each one counts.
        hide_sources = any(_secret_sources(r) for r in rules)
        hide_ports = any(_secret(r, PORT_INPUTS) for r in rules)
        for port, service in EXPOSURES:
            hits: list[tuple[PolicyResource, list[Net]]] = []
            for r in rules:
                # A rule that cannot be judged is reported once, whichever ports it opens; the
                # group's other rules are still judged together.
                try:
                    if _covers(r.props, port):
                        hits.append((r, _sources(r)))
                except UnknownValueError as error:
                    if r.urn not in unjudged:
                        unjudged.add(r.urn)
                        yield r.urn, undecided(r.name, error)
                except _Unjudged as blind:
                    if r.urn not in unjudged:
                        unjudged.add(r.urn)
                        yield r.urn, str(blind)
            for version in (4, 6):
                public = _public([n for _, nets in hits for n in nets], version)
                exposed = sum(n.num_addresses for n in public)
                limit = 1 << ((32 if version == 4 else 128) - widest[version])
                if exposed <= limit:
                    continue
                shown = ", ".join(str(n) for n in public[:4]) + (" ..." if len(public) > 4 else "")
                checkov, opens = CHECKOV[port], service
                if hide_ports:
                    checkov, opens = CHECKOV[None], "a management port or every port"
                for rule, nets in hits:
                    if _public(nets, version):
                        alone = len(rules if hide_ports else hits) == 1
                        together = "" if alone else " together with the group's other rules"
                        if hide_sources or hide_ports:
                            # Not even which IP version: a /48 would say the range is IPv6.
                            # Which rules a secret port counts changes the count and ranges.
                            secret = "a source" if hide_sources else "a protocol or port"
                            what = (
                                f"more public addresses than allowed ({HIDDEN}: {secret} is "
                                f"secret){together}; at most a /{widest[4]} of IPv4 or a "
                                f"/{widest[6]} of IPv6 is allowed"
                            )
                        else:
                            what = (
                                f"{exposed:,} public addresses ({shown}){together}; at most a "
                                f"/{widest[version]} is allowed"
                            )
                        finding = (rule.urn, f"[{checkov}] {rule.name} opens {opens} to {what}")
                        if finding not in said:
                            said.add(finding)
                            yield finding


security_group_no_world_open_ingress = stack_rule(
    "security-group-no-world-open-ingress",
    description="The ingress rules of a security group, together, do not open SSH, RDP or all "
    "ports to more public addresses than a /16 (configurable: widestPublicSource); a rule with "
    "no source at all counts as 0.0.0.0/0, a prefix list as its entries.",
    check=_world_open,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Name the source range (office, VPN or bastion) instead of the internet; reach "
    "nodes with the ACK console's terminal or a bastion host. Splitting 0.0.0.0/0 into smaller "
    "ranges does not help: the rules of one group are judged together.",
    tags=["security", "network", "CKV_ALI_2", "CKV_ALI_3"],
    config={
        "widestPublicSource": {
            "type": "integer",
            # Config may only narrow: a prefix longer than the default, never a wider range.
            "minimum": WIDEST_PUBLIC_SOURCE[4],
            "maximum": 32,
            "description": "The widest public IPv4 range, as a prefix length, that one security "
            "group may open a management port (or every port) to: 16 (the default) or a "
            "narrower one.",
        }
    },
)


def _alb_acl(args: ResourceValidationArgs) -> Iterator[str]:
    entries = [args.props.get("entry")]
    for listed in ("entries", "aclEntries"):  # an attachment's, or an ACL's own inline entries
        entries += [e.get("entry") for e in as_list(args.props.get(listed)) if is_map(e)]
    if any(_everywhere(e) for e in entries):
        yield f"{args.name} adds 0.0.0.0/0 to an ALB access control list, which restricts nothing"


def _everywhere(entry: Any) -> bool:
    """Whether an ACL entry names every address, however written (`0.0.0.0/0`, `::/0`,
    `0.0.0.0/0.0.0.0`, host bits set)."""
    try:
        return ipaddress.ip_network(str(entry).strip(), strict=False).prefixlen == 0
    except ValueError:
        return False  # not an address range: the provider refuses it


alb_acl_restricts_access = resource_rule(
    "alb-acl-restricts-access",
    description="ALB access control lists do not contain 0.0.0.0/0.",
    types=["alicloud:alb/aclEntryAttachment:AclEntryAttachment", "alicloud:alb/acl:Acl"],
    check=_alb_acl,
    severity=Severity.MEDIUM,
    remediation="List the client ranges that need access, or drop the ACL if the listener is "
    "meant to be public.",
    tags=["security", "network", "CKV_ALI_29"],
)


#: The protocol versions a TLS policy may allow (compared ignoring case); anything else, an older
#: TLS, SSL or a value this rule does not know, is reported.
STRONG_TLS = frozenset({"tlsv1.2", "tlsv1.3"})


def _tls(args: ResourceValidationArgs) -> Iterator[str]:
    versions = {str(v) for v in as_list(args.props.get("tlsVersions"))}
    weak = sorted(v for v in versions if v.lower() not in STRONG_TLS)
    if weak:
        yield f"{args.name} allows {', '.join(weak)}"


slb_tls_cipher_policy_secure = resource_rule(
    "slb-tls-cipher-policy-secure",
    description="SLB TLS cipher policies (CLB, and ALB and NLB security policies) allow TLS 1.2 "
    "or later only.",
    types=[
        "alicloud:slb/tlsCipherPolicy:TlsCipherPolicy",
        "alicloud:alb/securityPolicy:SecurityPolicy",
        "alicloud:nlb/securityPolicy:SecurityPolicy",
    ],
    check=_tls,
    severity=Severity.MEDIUM,
    remediation="Set tls_versions to ['TLSv1.2', 'TLSv1.3'].",
    tags=["security", "network", "CKV_ALI_33"],
)
