"""Every rule of the policy pack, through the real analyzer server: a compliant case, then each
way to violate it, asserting the exact rule and resource."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from pulumi.runtime.proto import analyzer_pb2

from ack_clusters import naming
from ack_offline.gate import GateError, StackContext

from .conftest import CONTEXT, found, only, resource

MC = ("ack:index:ManagedCluster",)
MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"
SK = "alicloud:cs/serverlessKubernetes:ServerlessKubernetes"
POOL_TYPE = "alicloud:cs/nodePool:NodePool"
RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule"
DISK = "alicloud:ecs/ecsDisk:EcsDisk"
KEY = "alicloud:kms/key:Key"

GOOD_CLUSTER = {
    "slbInternetEnabled": False,
    "deletionProtection": True,
    "clusterSpec": "ack.pro.small",
    "encryptionProviderKey": "key-1",
    "auditLogConfig": {"enabled": True},
    "controlPlaneLogComponents": ["apiserver", "kcm"],
    "podCidr": "172.20.0.0/16",
    "addons": [{"name": "flannel"}],
}
GOOD_POOL = {
    "systemDiskEncrypted": True,
    "dataDisks": [{"encrypted": "true", "size": 100}],
    "management": {"enable": True, "autoRepair": True},
}
SCOPED_DOC = json.dumps(
    {"Statement": [{"Effect": "Allow", "Action": ["ecs:Describe*"], "Resource": "*"}]}
)


def doc(action: Any, resource: Any = "*", effect: str = "Allow") -> str:
    """A RAM policy document of one statement."""
    return json.dumps(
        {"Version": "1", "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]}
    )


STAR_LIST_DOC = json.dumps({"Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]})
GOOD_KEY = {"automaticRotation": "Enabled", "status": "Enabled", "deletionProtection": "Enabled"}


def except_c(reason: str) -> dict[str, str]:
    """An exception for the cluster resource `cluster()` builds, with its reason."""
    urn = f"urn:pulumi:test::project::{MC[0]}${MK}::c"
    return {"urn": urn, "reason": f"accepted: {reason}"}


def cluster(name="c", inside=MC, **changes):
    return resource(MK, name, {**GOOD_CLUSTER, **changes}, inside=inside)


def sg_rule(name, cidr="0.0.0.0/0", protocol="tcp", ports="22/22", **extra):
    props = {"type": "ingress", "ipProtocol": protocol, "portRange": ports, "cidrIp": cidr}
    return resource(RULE, name, {**props, **extra})


def prefix_listed(*rules: tuple[str, list[str], str]) -> list:
    """An SSH-style rule per (name, entries, ports), each admitting a prefix list of its own
    that the program declares (the rule's prefixListId depends on it)."""
    out = []
    for name, cidrs, ports in rules:
        listed = resource(
            "alicloud:ecs/ecsPrefixList:EcsPrefixList",
            f"{name}-list",
            {"addressFamily": "IPv4", "entries": [{"cidr": c} for c in cidrs]},
        )
        rule = sg_rule(name, cidr=None, ports=ports, prefixListId=f"pl-{name}")
        rule.property_dependencies = {"prefixListId": [listed.urn]}
        out += [listed, rule]
    return out


ROLE = "alicloud:ram/role:Role"
ESS_CONFIG = "alicloud:ess/scalingConfiguration:ScalingConfiguration"
INSTANCE_SET = "alicloud:ecs/ecsInstanceSet:EcsInstanceSet"
ENCRYPTED_SYSTEM = {"systemDiskEncrypted": True}
SUB = "system:serviceaccount:shop:orders"
ECS_TRUST = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": ["ecs.aliyuncs.com"]},
            }
        ],
    }
)


def rrsa_trust(sub: object = SUB, like: dict[str, str] | None = None) -> str:
    condition: dict[str, dict[str, object]] = {
        "StringEquals": {"oidc:aud": "sts.aliyuncs.com", "oidc:iss": "https://i/c1"}
    }
    if sub is not None:
        condition["StringEquals"]["oidc:sub"] = sub
    if like:
        condition["StringLike"] = dict(like)
    statement = {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"Federated": ["acs:ram::1:oidc-provider/ack-rrsa-c1"]},
        "Condition": condition,
    }
    return json.dumps({"Version": "1", "Statement": [statement]})


def shared_network_clusters():
    """Two Terway clusters whose node and pod vSwitch IDs all come from one StackReference: one
    dependency stands for every ID, so only the values can tell them apart."""
    ref = resource("pulumi:pulumi:StackReference", "network")
    terway = {"podCidr": None, "addons": [{"name": "terway-eniip"}]}
    apart = cluster("apart", vswitchIds=["vsw-n1"], podVswitchIds=["vsw-p1"], **terway)
    shares = cluster("shares", vswitchIds=["vsw-n1"], podVswitchIds=["vsw-n1"], **terway)
    for c in (apart, shares):
        c.property_dependencies = {"vswitchIds": [ref.urn], "podVswitchIds": [ref.urn]}
    return [ref, apart, shares]


@dataclass
class Case:
    rule: str
    id: str
    resources: list
    violating: set[str]  # names of the resources the rule must flag, exactly
    config: dict[str, Any] | None = None
    context: StackContext = field(default=CONTEXT)


def stack_with_zones(stack: str, zones: list[str]):
    switches = [
        resource("alicloud:vpc/switch:Switch", f"sw{i}", {"zoneId": z}, inside=MC, stack=stack)
        for i, z in enumerate(zones)
    ]
    c = resource(
        MK, "c", {**GOOD_CLUSTER, "vswitchIds": ["x"] * len(zones)}, inside=MC, stack=stack
    )
    c.property_dependencies = {"vswitchIds": [s.urn for s in switches]}
    return [*switches, c]


CASES = [
    # ownership
    Case(
        "ack-cluster-resources-declared-through-components",
        "cluster in component",
        [cluster()],
        set(),
    ),
    Case(
        "ack-cluster-resources-declared-through-components",
        "loose cluster",
        [cluster(inside=())],
        {"c"},
    ),
    Case(
        "ack-cluster-resources-declared-through-components",
        "loose resource claiming ownership",
        [resource("alicloud:vpc/network:Network", "v", {"tags": {naming.CLUSTER_TAG: "dev"}})],
        {"v"},
    ),
    Case(
        "ack-cluster-resources-declared-through-components",
        "loose untagged resource",
        [resource("alicloud:vpc/network:Network", "v", {"tags": {"team": "x"}})],
        set(),
    ),
    Case(
        "ack-owned-resources-ignore-only-component-fields",
        "autoscaler field",
        [
            resource(
                POOL_TYPE,
                "p",
                GOOD_POOL,
                inside=(*MC, "ack:index:NodePool"),
                ignore=("desiredSize",),
            )
        ],
        set(),
    ),
    Case(
        "ack-owned-resources-ignore-only-component-fields",
        "other pool field",
        [
            resource(
                POOL_TYPE,
                "p",
                GOOD_POOL,
                inside=(*MC, "ack:index:NodePool"),
                ignore=("instanceTypes",),
            )
        ],
        {"p"},
    ),
    Case(
        "ack-owned-resources-ignore-only-component-fields",
        "owned security group",
        [resource("alicloud:ecs/securityGroup:SecurityGroup", "sg", inside=MC, ignore=("tags",))],
        {"sg"},
    ),
    Case(
        "ack-owned-resources-ignore-only-component-fields",
        "loose resource is not judged",
        [resource("alicloud:ecs/securityGroup:SecurityGroup", "sg", ignore=("tags",))],
        set(),
    ),
    Case(
        "ack-stateful-resources-deletion-protected",
        "all protected",
        [
            resource("alicloud:vpc/network:Network", "vpc", inside=MC, protect=True),
            resource(
                "alicloud:vpc/natGateway:NatGateway", "nat", {"deletionProtection": True}, inside=MC
            ),
            resource(
                "alicloud:ecs/eipAddress:EipAddress", "eip", {"deletionProtection": True}, inside=MC
            ),
            resource(KEY, "key", GOOD_KEY),
            cluster(),
        ],
        set(),
    ),
    Case(
        "ack-stateful-resources-deletion-protected",
        "each unprotected",
        [
            resource("alicloud:vpc/network:Network", "vpc", inside=MC),
            resource(
                "alicloud:vpc/natGateway:NatGateway",
                "nat",
                {"deletionProtection": False},
                inside=MC,
            ),
            resource("alicloud:ecs/eipAddress:EipAddress", "eip", {}, inside=MC),
            resource(KEY, "key", {**GOOD_KEY, "deletionProtection": "Disabled"}),
            cluster(deletionProtection=False),
        ],
        {"vpc", "nat", "eip", "key", "c"},
    ),
    Case(
        "ack-stateful-resources-deletion-protected",
        "protect option suffices",
        [cluster(deletionProtection=False), resource(KEY, "key", {}, protect=True)],
        {"c"},
    ),
    Case(
        "ack-stateful-resources-deletion-protected",
        "loose VPC not judged",
        [resource("alicloud:vpc/network:Network", "vpc")],
        set(),
    ),
    Case(
        "ack-stateful-resources-deletion-protected",
        "decommissioning by allow-list",
        [cluster(deletionProtection=False)],
        set(),
        config={"ack-stateful-resources-deletion-protected": {"allow": [except_c("retired")]}},
    ),
    # network
    Case("ack-api-server-not-public", "private", [cluster()], set()),
    Case("ack-api-server-not-public", "public", [cluster(slbInternetEnabled=True)], {"c"}),
    Case(
        "ack-api-server-not-public",
        "provider default is public",
        [
            resource(
                MK,
                "c",
                {k: v for k, v in GOOD_CLUSTER.items() if k != "slbInternetEnabled"},
                inside=MC,
            )
        ],
        {"c"},
    ),
    Case(
        "ack-api-server-not-public",
        "serverless default private, explicit public",
        [resource(SK, "s1", {}), resource(SK, "s2", {"endpointPublicAccessEnabled": True})],
        {"s2"},
    ),
    Case(
        "ack-api-server-not-public",
        "allowed by config",
        [cluster(slbInternetEnabled=True)],
        set(),
        config={"ack-api-server-not-public": {"allow": [except_c("reached from the office")]}},
    ),
    Case(
        "security-group-no-world-open-ingress",
        "compliant rules",
        [
            sg_rule("https", ports="443/443"),
            sg_rule("ssh-office", cidr="10.0.0.0/8"),
            sg_rule("egress", protocol="all", ports="-1/-1", type="egress"),
            sg_rule("deny-ssh", policy="drop"),
        ],
        set(),
    ),
    Case(
        "security-group-no-world-open-ingress",
        "each world-open shape",
        [
            sg_rule("ssh"),
            sg_rule("rdp", ports="3389/3389"),
            sg_rule("range-over-ssh", ports="20/30"),
            sg_rule("all-tcp", ports="1/65535"),
            sg_rule("all", protocol="all", ports="-1/-1"),
            sg_rule("ssh-v6", cidr=None, ipv6CidrIp="::/0"),
        ],
        {"ssh", "rdp", "range-over-ssh", "all-tcp", "all", "ssh-v6"},
    ),
    Case(
        "security-group-no-world-open-ingress",
        "through a prefix list",
        [
            *prefix_listed(
                ("world", ["10.0.0.0/8", "0.0.0.0/0"], "22/22"),
                ("office", ["203.0.113.0/24"], "22/22"),
                ("world-https", ["0.0.0.0/0"], "443/443"),
            ),
            # A list the program does not declare: its ranges cannot be judged.
            sg_rule("elsewhere", cidr=None, prefixListId="pl-elsewhere"),
            sg_rule("elsewhere-https", cidr=None, ports="443/443", prefixListId="pl-elsewhere"),
        ],
        {"world", "elsewhere"},
    ),
    Case(
        "alb-acl-restricts-access",
        "entries",
        [
            resource(
                "alicloud:alb/aclEntryAttachment:AclEntryAttachment",
                "office",
                {"entry": "10.0.0.0/8"},
            ),
            resource(
                "alicloud:alb/aclEntryAttachment:AclEntryAttachment",
                "world",
                {"entry": "0.0.0.0/0"},
            ),
            # The ACL's own inline entries.
            resource(
                "alicloud:alb/acl:Acl", "inline-office", {"aclEntries": [{"entry": "10.0.0.0/8"}]}
            ),
            resource(
                "alicloud:alb/acl:Acl",
                "inline-world",
                {"aclEntries": [{"entry": "10.0.0.0/8"}, {"entry": "0.0.0.0/0"}]},
            ),
            # Every address written otherwise.
            resource(
                "alicloud:alb/aclEntryAttachment:AclEntryAttachment",
                "world-mask",
                {"entry": "0.0.0.0/0.0.0.0"},
            ),
            resource(
                "alicloud:alb/acl:Acl", "inline-world-v6", {"aclEntries": [{"entry": "::0/0"}]}
            ),
        ],
        {"world", "inline-world", "world-mask", "inline-world-v6"},
    ),
    Case(
        "slb-tls-cipher-policy-secure",
        "versions",
        [
            resource(
                "alicloud:slb/tlsCipherPolicy:TlsCipherPolicy",
                "modern",
                {"tlsVersions": ["TLSv1.2", "TLSv1.3"]},
            ),
            resource(
                "alicloud:slb/tlsCipherPolicy:TlsCipherPolicy",
                "legacy",
                {"tlsVersions": ["TLSv1.0", "TLSv1.2"]},
            ),
            # The same setting on ALB and NLB security policies.
            resource(
                "alicloud:alb/securityPolicy:SecurityPolicy",
                "alb-modern",
                {"tlsVersions": ["TLSv1.2", "TLSv1.3"]},
            ),
            resource(
                "alicloud:alb/securityPolicy:SecurityPolicy",
                "alb-legacy",
                {"tlsVersions": ["TLSv1.1", "TLSv1.2"]},
            ),
            resource(
                "alicloud:nlb/securityPolicy:SecurityPolicy",
                "nlb-legacy",
                {"tlsVersions": ["TLSv1.0"]},
            ),
            # Other spellings: case, and a protocol older than TLS.
            resource(
                "alicloud:nlb/securityPolicy:SecurityPolicy",
                "nlb-modern-lower",
                {"tlsVersions": ["tlsv1.2"]},
            ),
            resource(
                "alicloud:slb/tlsCipherPolicy:TlsCipherPolicy",
                "lower-legacy",
                {"tlsVersions": ["tlsv1.1", "TLSv1.2"]},
            ),
            resource(
                "alicloud:slb/tlsCipherPolicy:TlsCipherPolicy", "ssl", {"tlsVersions": ["SSLv3"]}
            ),
        ],
        {"legacy", "alb-legacy", "nlb-legacy", "lower-legacy", "ssl"},
    ),
    # identity
    Case(
        "ram-oidc-trust-names-a-service-account",
        "one service account, or a trust that is not RRSA's",
        [
            resource(ROLE, "sa", {"assumeRolePolicyDocument": rrsa_trust()}),
            resource(ROLE, "ecs", {"assumeRolePolicyDocument": ECS_TRUST}),
            resource(ROLE, "two", {"assumeRolePolicyDocument": rrsa_trust(sub=[SUB, SUB + "x"])}),
            # A CI deploy role trusted by GitHub Actions' OIDC provider: not RRSA's.
            resource(
                ROLE,
                "github-deploy",
                {
                    "assumeRolePolicyDocument": json.dumps(
                        {
                            "Version": "1",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "sts:AssumeRole",
                                    "Principal": {"Federated": ["acs:ram::1:oidc-provider/GitHub"]},
                                    "Condition": {
                                        "StringEquals": {
                                            "oidc:iss": "https://token.actions.githubusercontent.com",
                                            "oidc:aud": "sts.aliyuncs.com",
                                        },
                                        "StringLike": {"oidc:sub": "repo:acme/platform:*"},
                                    },
                                }
                            ],
                        }
                    )
                },
            ),
        ],
        set(),
    ),
    Case(
        "ram-oidc-trust-names-a-service-account",
        "any pod of the cluster, however it is spelled",
        [
            resource(ROLE, "no-sub", {"assumeRolePolicyDocument": rrsa_trust(sub=None)}),
            resource(ROLE, "ns-wide", {"assumeRolePolicyDocument": rrsa_trust(sub=SUB[:-6] + "*")}),
            resource(
                ROLE,
                "like",
                {
                    "assumeRolePolicyDocument": rrsa_trust(
                        like={"oidc:sub": "system:serviceaccount:*"}
                    )
                },
            ),
            resource(
                ROLE,
                "partial",
                {"assumeRolePolicyDocument": rrsa_trust(sub="system:serviceaccount:shop")},
            ),
            # The deprecated input, and a document given as an object, are the same trust.
            resource(ROLE, "old-input", {"document": rrsa_trust(sub=None)}),
        ],
        {"no-sub", "ns-wide", "like", "partial", "old-input"},
    ),
    Case(
        "ram-no-administrator-access",
        "least privilege",
        [
            resource(
                "alicloud:ram/policy:Policy",
                "p",
                {"policyDocument": SCOPED_DOC},
            ),
            resource(
                "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
                "a",
                {"policyName": "AliyunOSSReadOnlyAccess", "policyType": "System"},
            ),
        ],
        set(),
    ),
    Case(
        "ram-no-administrator-access",
        "each admin grant",
        [
            resource(
                "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
                "admin",
                {"policyName": "AdministratorAccess", "policyType": "System"},
            ),
            resource(
                "alicloud:ram/userPolicyAttachment:UserPolicyAttachment",
                "ramfull",
                {"policyName": "AliyunRAMFullAccess", "policyType": "System"},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "star",
                {"policyDocument": '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}'},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "star-list",
                {"policyDocument": STAR_LIST_DOC},
            ),
            # The same grants, spelled otherwise: all of RAM, and the wildcard ARN.
            resource("alicloud:ram/policy:Policy", "ram-star", {"policyDocument": doc("ram:*")}),
            resource(
                "alicloud:ram/policy:Policy",
                "star-arn",
                {"policyDocument": doc(["ecs:Describe*", "*"], "acs:*:*:*:*")},
            ),
            # Other spellings: case, `*:*`, all of RAM by its ARN, and an Allow by exclusion.
            resource("alicloud:ram/policy:Policy", "upper", {"policyDocument": doc("RAM:*")}),
            resource("alicloud:ram/policy:Policy", "star-colon", {"policyDocument": doc("*:*")}),
            resource(
                "alicloud:ram/policy:Policy",
                "ram-arn",
                {"policyDocument": doc("ram:*", "acs:ram:*:*:*")},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "not-action",
                {
                    "policyDocument": json.dumps(
                        {"Statement": [{"Effect": "Allow", "NotAction": "ecs:*", "Resource": "*"}]}
                    )
                },
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "not-resource",
                {
                    "policyDocument": json.dumps(
                        {
                            "Statement": [
                                {"Effect": "Allow", "Action": "*", "NotResource": "acs:oss:*"}
                            ]
                        }
                    )
                },
            ),
            # Resource Manager's resources for the same RAM policies.
            resource(
                "alicloud:resourcemanager/policyAttachment:PolicyAttachment",
                "rm-admin",
                {"policyName": "AdministratorAccess", "policyType": "System"},
            ),
            resource(
                "alicloud:resourcemanager/policy:Policy", "rm-star", {"policyDocument": doc("*")}
            ),
            resource(
                "alicloud:resourcemanager/policyVersion:PolicyVersion",
                "rm-version",
                {"policyDocument": doc("ram:*")},
            ),
            # Administrator in one step: attach a policy to oneself, rewrite one, take a role.
            resource(
                "alicloud:ram/policy:Policy",
                "attach-any",
                {"policyDocument": doc("ram:AttachPolicyTo*")},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "version-any",
                {"policyDocument": doc(["ram:CreatePolicyVersion", "ram:GetPolicy"])},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "trust-any-role",
                {"policyDocument": doc("ram:UpdateRole", "acs:ram::*:role/*")},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "keys-for-anyone",
                {"policyDocument": doc("ram:CreateAccessKey")},
            ),
        ],
        {
            "attach-any",
            "version-any",
            "trust-any-role",
            "keys-for-anyone",
            "admin",
            "ramfull",
            "star",
            "star-list",
            "ram-star",
            "star-arn",
            "upper",
            "star-colon",
            "ram-arn",
            "not-action",
            "not-resource",
            "rm-admin",
            "rm-star",
            "rm-version",
        },
    ),
    Case(
        "ram-no-administrator-access",
        "broad but not administrator",
        [
            resource("alicloud:ram/policy:Policy", "ecs-all", {"policyDocument": doc("ecs:*")}),
            resource("alicloud:ram/policy:Policy", "ram-read", {"policyDocument": doc("ram:Get*")}),
            resource(
                "alicloud:ram/policy:Policy",
                "star-on-one-bucket",
                {"policyDocument": doc("*", "acs:oss:*:*:logs/*")},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "denied",
                {"policyDocument": doc("*", effect="Deny")},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "ram-on-one-role",
                {"policyDocument": doc("ram:*", "acs:ram::1234567890123456:role/ci")},
            ),
            resource(
                "alicloud:resourcemanager/policyAttachment:PolicyAttachment",
                "rm-read",
                {"policyName": "AliyunECSReadOnlyAccess", "policyType": "System"},
            ),
            # The same actions on one principal: not everything.
            resource(
                "alicloud:ram/policy:Policy",
                "attach-to-ci",
                {"policyDocument": doc("ram:AttachPolicyToRole", "acs:ram::*:role/ci")},
            ),
            resource(
                "alicloud:ram/policy:Policy",
                "own-keys",
                {"policyDocument": doc("ram:CreateAccessKey", "acs:ram::*:user/${ram:username}")},
            ),
        ],
        set(),
    ),
    # encryption
    Case(
        "disks-encrypted",
        "encrypted",
        [
            resource(POOL_TYPE, "p", GOOD_POOL),
            resource(DISK, "d", {"encrypted": True}),
            resource(DISK, "from-snapshot", {"snapshotId": "s-1"}),
            resource("alicloud:ecs/instance:Instance", "i", {"systemDiskEncrypted": True}),
        ],
        set(),
    ),
    Case(
        "disks-encrypted",
        "each unencrypted disk",
        [
            resource(POOL_TYPE, "p-system", {**GOOD_POOL, "systemDiskEncrypted": False}),
            resource(POOL_TYPE, "p-data", {**GOOD_POOL, "dataDisks": [{"encrypted": "false"}]}),
            resource(DISK, "d", {"encrypted": False}),
            resource(
                "alicloud:ecs/ecsLaunchTemplate:EcsLaunchTemplate",
                "lt",
                {"dataDisks": [{"size": 40}]},
            ),
            resource("alicloud:ecs/instance:Instance", "i", {}),
            resource(ESS_CONFIG, "ess-system", {"dataDisks": [{"encrypted": True}]}),
            resource(ESS_CONFIG, "ess-data", {**ENCRYPTED_SYSTEM, "dataDisks": [{"size": 40}]}),
            resource(INSTANCE_SET, "set-data", {"dataDisks": [{"encrypted": False}]}),
        ],
        {"p-system", "p-data", "d", "lt", "i", "ess-system", "ess-data", "set-data"},
    ),
    Case(
        "disks-encrypted",
        "encrypted scaling configuration and instance set",
        [
            resource(ESS_CONFIG, "ess", {**ENCRYPTED_SYSTEM, "dataDisks": [{"encrypted": True}]}),
            resource(INSTANCE_SET, "set", {"dataDisks": [{"encrypted": True}]}),
        ],
        set(),
    ),
    Case(
        "disks-encrypted-with-customer-key",
        "cmk",
        [
            resource(DISK, "cmk", {"encrypted": True, "kmsKeyId": "key-1"}),
            resource(DISK, "default-key", {"encrypted": True}),
        ],
        {"default-key"},
    ),
    Case(
        "ack-pro-cluster-secrets-encrypted",
        "specs",
        [
            cluster("pro-kms"),
            cluster("pro-plain", encryptionProviderKey=None),
            cluster("standard", clusterSpec="ack.standard", encryptionProviderKey=None),
        ],
        {"pro-plain"},
    ),
    Case(
        "kms-key-rotation-enabled",
        "rotation",
        [
            resource(KEY, "rotating", GOOD_KEY),
            resource(KEY, "static", {**GOOD_KEY, "automaticRotation": "Disabled"}),
        ],
        {"static"},
    ),
    Case(
        "kms-key-enabled",
        "status",
        [
            resource(KEY, "on", GOOD_KEY),
            resource(KEY, "default", {"deletionProtection": "Enabled"}),
            resource(KEY, "off", {**GOOD_KEY, "status": "Disabled"}),
        ],
        {"off"},
    ),
    # reliability
    Case(
        "ack-node-pool-auto-repair",
        "management",
        [
            resource(POOL_TYPE, "repairing", GOOD_POOL),
            resource(
                POOL_TYPE, "off", {**GOOD_POOL, "management": {"enable": True, "autoRepair": False}}
            ),
            resource(
                POOL_TYPE, "unmanaged", {k: v for k, v in GOOD_POOL.items() if k != "management"}
            ),
        ],
        {"off", "unmanaged"},
    ),
    Case(
        "ack-cluster-audit-and-control-plane-logs",
        "logs",
        [
            cluster("logged"),
            cluster("no-audit", auditLogConfig={"enabled": False}),
            cluster("no-apiserver", controlPlaneLogComponents=["kcm"]),
        ],
        {"no-audit", "no-apiserver"},
    ),
    Case(
        "ack-cluster-uses-terway-or-flannel",
        "plugins",
        [
            cluster("flannel"),
            cluster(
                "terway", podCidr=None, podVswitchIds=["vsw-1"], addons=[{"name": "terway-eniip"}]
            ),
            cluster("no-pod-network", podCidr=None),
            cluster("no-addon", addons=[{"name": "csi-plugin"}]),
        ],
        {"no-pod-network", "no-addon"},
    ),
    Case(
        "ack-cluster-uses-terway-or-flannel",
        "vSwitch IDs from one stack reference are compared by value",
        shared_network_clusters(),
        {"shares"},
    ),
    Case(
        "ack-production-clusters-span-zones",
        "prod in two zones",
        stack_with_zones("prod-eu", ["a", "b"]),
        set(),
    ),
    Case(
        "ack-production-clusters-span-zones",
        "prod in one zone",
        stack_with_zones("prod-eu", ["a", "a"]),
        {"c"},
    ),
    Case(
        "ack-production-clusters-span-zones",
        "dev in one zone",
        stack_with_zones("dev", ["a"]),
        set(),
    ),
    Case(
        "ack-production-clusters-span-zones",
        "prod by stack tag",
        stack_with_zones("test", ["a"]),
        {"c"},
        context=StackContext("project", "test", True, {}, {"environment": "production"}),
    ),
    Case(
        "ack-production-clusters-span-zones",
        "prod by configured pattern",
        stack_with_zones("live-1", ["a"]),
        {"c"},
        config={"ack-production-clusters-span-zones": {"productionStacks": ["live-*"]}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}: {c.id}" for c in CASES])
def test_rule(gate, case: Case):
    violations = gate(only(*case.resources), config=case.config, context=case.context)
    flagged = {name for policy, name in found(violations) if policy == case.rule}
    assert flagged == case.violating


def test_a_fully_compliant_cluster_triggers_nothing(gate):
    assert gate(only(cluster(), resource(POOL_TYPE, "p", GOOD_POOL, inside=MC))) == []


def test_disk_findings_name_the_checkov_check_that_fired(gate):
    result = only(
        resource(DISK, "d", {"encrypted": False}),
        resource("alicloud:ecs/ecsLaunchTemplate:EcsLaunchTemplate", "lt", {"dataDisks": [{}]}),
        resource(POOL_TYPE, "p", {**GOOD_POOL, "systemDiskEncrypted": False}),
    )
    messages = {
        v.urn.rsplit("::", 1)[-1]: v.message for v in gate(result) if v.policy == "disks-encrypted"
    }
    assert "[CKV_ALI_7] d is not encrypted" in messages["d"]
    assert "[CKV_ALI_32] lt: data disk 0 is not encrypted" in messages["lt"]
    assert "CKV_ALI" not in messages["p"]  # a node pool is this pack's own extension


def test_one_resource_with_several_problems_gets_one_message_each(gate):
    v = gate(only(cluster(auditLogConfig={"enabled": False}, controlPlaneLogComponents=[])))
    logs = [x for x in v if x.policy == "ack-cluster-audit-and-control-plane-logs"]
    assert len(logs) == 2


# --- levels and configuration ----------------------------------------------------------------

MANDATORY = {
    "ack-cluster-resources-declared-through-components",
    "ack-cluster-ownership-proven",
    "ack-no-loose-attachments-to-cluster-resources",
    "ack-owned-resources-ignore-only-component-fields",
    "ack-stateful-resources-deletion-protected",
    "ack-api-server-not-public",
    "security-group-no-world-open-ingress",
    "ram-no-administrator-access",
    "ram-oidc-trust-names-a-service-account",
}


def test_pack_metadata_says_what_each_rule_requires(policy_pack):
    info = policy_pack.info
    assert info.name == "ack-guardrails"
    names = [p.name for p in info.policies]
    assert len(names) == len(set(names)) >= 18
    for p in info.policies:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", p.name), p.name
        assert p.description.endswith(".") and p.description[0].isupper(), p.name
        assert p.remediation_steps, p.name
        assert p.severity != analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED, p.name
        assert "allow" in json_props(p), p.name
    mandatory = {p.name for p in info.policies if p.enforcementLevel == analyzer_pb2.MANDATORY}
    assert mandatory == MANDATORY


def json_props(policy) -> dict:
    from google.protobuf import json_format

    return json_format.MessageToDict(policy.configSchema.properties)


def test_checkov_references_are_tagged(policy_pack):
    tags = {p.name: set(p.tags) for p in policy_pack.info.policies}
    assert {"CKV_ALI_2", "CKV_ALI_3"} <= tags["security-group-no-world-open-ingress"]
    assert {"CKV_ALI_7", "CKV_ALI_32"} <= tags["disks-encrypted"]
    assert "CKV_ALI_31" in tags["ack-node-pool-auto-repair"]
    assert "CKV_ALI_27" in tags["kms-key-rotation-enabled"]
    # As Checkov 3.3.x numbers them (each ID names one check there): KMS keys enabled is 28,
    # the Kubernetes network plugin check 26.
    assert "CKV_ALI_28" in tags["kms-key-enabled"] and "CKV_ALI_26" not in tags["kms-key-enabled"]
    assert "CKV_ALI_26" in tags["ack-cluster-uses-terway-or-flannel"]
    ids = [t for ts in tags.values() for t in ts if t.startswith("CKV_")]
    shared = {i for i in ids if ids.count(i) > 1}
    assert not shared, shared


def test_levels_may_be_raised_and_advisory_rules_turned_off(gate):
    public = only(cluster(slbInternetEnabled=True, encryptionProviderKey=None))
    assert found(gate(public), "mandatory") == {("ack-api-server-not-public", "c")}
    assert ("ack-pro-cluster-secrets-encrypted", "c") in found(gate(public), "advisory")
    raised = gate(public, config={"all": "mandatory"})
    assert ("ack-pro-cluster-secrets-encrypted", "c") in found(raised, "mandatory")
    off = gate(public, config={"ack-pro-cluster-secrets-encrypted": "disabled"})
    assert ("ack-pro-cluster-secrets-encrypted", "c") not in found(off)


@pytest.mark.parametrize(
    "config",
    [
        {"ack-api-server-not-public": "advisory"},
        {"ack-api-server-not-public": {"enforcementLevel": "disabled"}},
        {"all": "advisory"},
        {"all": "disabled", "disks-encrypted": "mandatory"},
    ],
    ids=["advisory", "disabled", "all advisory", "all disabled"],
)
def test_a_mandatory_rule_cannot_be_lowered_by_config(policy_pack, config):
    """Config may only narrow the pack (issue 27): an exception names resources instead."""
    with pytest.raises(GateError, match="may only narrow the pack"):
        policy_pack.configure(config, CONTEXT)
    policy_pack.configure({}, CONTEXT)


def test_the_pack_is_self_contained_but_agrees_with_the_library():
    import ack_policies._common as common

    assert common.CLUSTER_TAG == naming.CLUSTER_TAG
    assert naming.MANAGED_CLUSTER_TYPE in common.CLUSTER_COMPONENT_TYPES
