"""What a change does to the graph: which inputs differ, and which of them the cloud takes only
at creation. Changing such an input either replaces the resource ("identity" fields) or is
silently not applied ("docstring" fields the provider documents as create-only), so code and
cloud disagree from then on.

Use it in tests of your own stacks: build the graph before and after a change with
``run_program`` and assert ``create_only_changes(before, after) == []``.
"""

from __future__ import annotations

from .recorder import ProgramRun

#: Inputs the cloud takes only at creation. "docstring": the provider's SDK docs say so ("Only
#: works for Create Operation", "immutable", "cannot be modified"); a change is not applied.
#: "identity": fields that identify the resource in the provider schema; a change replaces it.
CREATE_ONLY: dict[str, dict[str, str]] = {
    "alicloud:cs/managedKubernetes:ManagedKubernetes": {
        "addons": "docstring",
        "isEnterpriseSecurityGroup": "docstring",
        "newNatGateway": "docstring",
        "podVswitchIds": "docstring",
        "serviceCidr": "docstring",
        "slbInternetEnabled": "docstring",
        "zoneIds": "docstring",
        "podCidr": "identity",
        "nodeCidrMask": "identity",
        "profile": "identity",
    },
    "alicloud:cs/kubernetes:Kubernetes": {
        "addons": "docstring",
        "isEnterpriseSecurityGroup": "docstring",
        "newNatGateway": "docstring",
        "podVswitchIds": "docstring",
        "serviceCidr": "docstring",
        "slbInternetEnabled": "docstring",
        "podCidr": "identity",
        "nodeCidrMask": "identity",
        "masterVswitchIds": "identity",
    },
    "alicloud:cs/nodePool:NodePool": {"securityGroupIds": "docstring"},
    "alicloud:vpc/natGateway:NatGateway": {
        "natType": "docstring",
        "networkType": "docstring",
        "vswitchId": "docstring",
    },
    "alicloud:vpc/switch:Switch": {
        "cidrBlock": "identity",
        "zoneId": "identity",
        "vpcId": "identity",
    },
    "alicloud:ecs/securityGroup:SecurityGroup": {
        "vpcId": "identity",
        "securityGroupType": "identity",
    },
    "alicloud:ecs/securityGroupRule:SecurityGroupRule": {
        f: "identity"
        for f in (
            "securityGroupId",
            "type",
            "ipProtocol",
            "portRange",
            "cidrIp",
            "policy",
            "priority",
            "nicType",
        )
    },
    "alicloud:vpc/snatEntry:SnatEntry": {
        "snatTableId": "identity",
        "sourceVswitchId": "identity",
        "sourceCidr": "identity",
    },
    "alicloud:ecs/eipAssociation:EipAssociation": {
        "allocationId": "identity",
        "instanceId": "identity",
        "instanceType": "identity",
    },
    "alicloud:vpc/routeEntry:RouteEntry": {
        f: "identity" for f in ("routeTableId", "destinationCidrblock", "nexthopType", "nexthopId")
    },
    "alicloud:vpc/routeTableAttachment:RouteTableAttachment": {
        "routeTableId": "identity",
        "vswitchId": "identity",
    },
    "alicloud:ram/role:Role": {"roleName": "identity"},
    "alicloud:ram/policy:Policy": {"policyName": "identity"},
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": {
        "addressType": "identity",
        "vswitchId": "identity",
    },
}


def changed_inputs(before: ProgramRun, after: ProgramRun) -> dict[str, set[str]]:
    """Inputs that differ, per URN present in both graphs."""
    old = {r.urn: r for r in before.resources}
    out: dict[str, set[str]] = {}
    for r in after.resources:
        if r.urn in old:
            a, b = old[r.urn].inputs, r.inputs
            diff = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
            if diff:
                out[r.urn] = diff
    return out


def create_only_changes(before: ProgramRun, after: ProgramRun) -> list[tuple[str, str]]:
    """(URN, input) pairs where a change touches an input the cloud takes only at creation."""
    types = {r.urn: r.type for r in after.resources}
    return sorted(
        (urn, field)
        for urn, fields in changed_inputs(before, after).items()
        for field in fields
        if field in CREATE_ONLY.get(types[urn], {})
    )
