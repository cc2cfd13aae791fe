"""Network guard rails: private API servers, no world-open firewalls, strict SLB/ALB access."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from ._common import as_list, is_map, resource_rule, truthy

WORLD = {"0.0.0.0/0", "::/0"}
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


def _world_open(args: ResourceValidationArgs) -> Iterator[str]:
    p = args.props
    if p.get("type") != "ingress" or p.get("policy", "accept") == "drop":
        return
    if p.get("cidrIp") not in WORLD and p.get("ipv6CidrIp") not in WORLD:
        return
    protocol = p.get("ipProtocol")
    span = _ports(p.get("portRange", "-1/-1"))
    if protocol == "all" or span in (None, (-1, -1), (1, 65535)):
        yield f"{args.name} opens all ports to the whole internet"
        return
    if protocol == "tcp" and span is not None:
        for port, service in MANAGEMENT_PORTS.items():
            if span[0] <= port <= span[1]:
                yield f"{args.name} opens {service} (port {port}) to the whole internet"


security_group_no_world_open_ingress = resource_rule(
    "security-group-no-world-open-ingress",
    description="Security group rules do not open SSH, RDP or all ports to 0.0.0.0/0.",
    types=["alicloud:ecs/securityGroupRule:SecurityGroupRule"],
    check=_world_open,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Name the source range (office, VPN or bastion) instead of 0.0.0.0/0; reach nodes "
    "with the ACK console's terminal or a bastion host.",
    tags=["security", "network", "CKV_ALI_2", "CKV_ALI_3"],
)


def _alb_acl(args: ResourceValidationArgs) -> Iterator[str]:
    entries = [args.props.get("entry")]
    entries += [e.get("entry") for e in as_list(args.props.get("entries")) if is_map(e)]
    if any(e in WORLD for e in entries):
        yield f"{args.name} adds 0.0.0.0/0 to an ALB access control list, which restricts nothing"


alb_acl_restricts_access = resource_rule(
    "alb-acl-restricts-access",
    description="ALB access control lists do not contain 0.0.0.0/0.",
    types=["alicloud:alb/aclEntryAttachment:AclEntryAttachment"],
    check=_alb_acl,
    severity=Severity.MEDIUM,
    remediation="List the client ranges that need access, or drop the ACL if the listener is "
    "meant to be public.",
    tags=["security", "network", "CKV_ALI_29"],
)


def _tls(args: ResourceValidationArgs) -> Iterator[str]:
    weak = sorted({"TLSv1.0", "TLSv1.1"} & set(as_list(args.props.get("tlsVersions"))))
    if weak:
        yield f"{args.name} allows {', '.join(weak)}"


slb_tls_cipher_policy_secure = resource_rule(
    "slb-tls-cipher-policy-secure",
    description="SLB TLS cipher policies allow TLS 1.2 or later only.",
    types=["alicloud:slb/tlsCipherPolicy:TlsCipherPolicy"],
    check=_tls,
    severity=Severity.MEDIUM,
    remediation="Set tls_versions to ['TLSv1.2', 'TLSv1.3'].",
    tags=["security", "network", "CKV_ALI_33"],
)
