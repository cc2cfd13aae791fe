"""The core rule: nothing outside a component may take, and so attach to or change, what the
component owns; the only exceptions are the reviewed reference-only uses of
:mod:`ack_policies.references`.

What a component owns is what its record lists (:mod:`ack_policies.owners`). A resource reaches
an owned resource through any property:

- by a dependency: the property's value came from the owned resource (at preview, when IDs are
  unknown, this is what shows it), from a read of it, or from an invoke that took one of its
  values (the SDK records the invoke's dependencies);
- by value: the property names the owned resource's ID, a name or ARN of it, or an address it
  has (known in an update, in a preview of a deployed stack, and at once for names the program
  chose), or an ownership tag (a lookup of what a cluster owns by its tags);
- or it cannot be proven not to: a value unknown at preview that no resource produced (an
  invoke on values still to be created), a read whose ID is unknown, a stack reference whose
  outputs are not known; unless only lookups that cannot return an owned identity explain it
  (offline, where the fake cloud cannot answer what an account holds: :mod:`.lookups`).

The type of the resource does not matter: a ROS stack, a Cloud Control resource or a dynamic
provider's resource is judged like any other. What it reaches must be allowed, or it is drift.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from pulumi_policy import PolicyResource, Severity, StackValidationArgs

from . import lookups
from . import seen as seen_inputs
from ._common import CLUSTER_TYPES, every_text, load_document, stack_rule
from .owners import (
    OWNERSHIP_TAG_PREFIX,
    STACK_REFERENCE,
    Owned,
    Ownership,
    Reached,
    has_unknown,
    ownership,
    plain,
    unknown_paths,
)
from .references import (
    API_SERVER_LB_FIELDS,
    CONTROL_POLICY,
    EIP,
    ROLE,
    SLB,
    allowed,
    deny_only,
    missing_exemptions,
    read_only,
)
from .service_roles import NODE_ROLE_SUFFIX, is_ack_service_role

#: The Service annotation that hands a load balancer to the cloud controller manager.
LB_ID_ANNOTATION = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"
_NODE_POOL = "alicloud:cs/nodePool:NodePool"
_VPC = "alicloud:vpc/network:Network"
_VSWITCH = "alicloud:vpc/switch:Switch"
#: What a Kubernetes object may name of what a cluster owns, by owned type and identity field
#: (None: any of its identities), because no controller on the cluster can take the resource by
#: it: the cluster's own ID and its API server's addresses (where the object runs; a deploy
#: tool's secret), the NAT EIPs' addresses (`egress_addresses`, in a Service's source ranges),
#: the VPC and vSwitches (where a load balancer or pod of the object's own is placed:
#: `service.beta.kubernetes.io/alibaba-cloud-loadbalancer-vswitch-id`) and a node pool's ID (a
#: node selector, `alibabacloud.com/nodepool-id`). Everything else a cluster owns that a
#: Kubernetes object names, anywhere (an annotation, a chart's values or value files, a custom
#: resource's spec, a file it reads), is handed to whatever controller reads it: the cloud
#: controller manager binds load balancers, EIPs and security groups by their IDs
#: (`...-loadbalancer-id`, `...-eip-ids`, `...-security-group-ids`), Terway and ECI give pods
#: EIPs (`k8s.aliyun.com/pod-eip-instanceid`, a `PodEIP`'s `allocationID`) and RAM roles
#: (`k8s.aliyun.com/eci-ram-role-name`), a cluster autoscaler of one's own scales a scaling
#: group by its ID. Those are drift, however the controller spells it.
K8S_REFERENCES: dict[str, frozenset[str] | None] = {
    **{
        t: frozenset({"id", "slbIntranet", "slbInternet", "connections", "rrsaMetadata"})
        for t in CLUSTER_TYPES
    },
    EIP: frozenset({"ipAddress"}),
    _VPC: None,
    _VSWITCH: None,
    _NODE_POOL: frozenset({"id", "nodePoolId"}),
}
#: Kubernetes API groups of the built-in kinds (pulumi-kubernetes type tokens
#: `kubernetes:<group>/<version>:<Kind>`); any other group is a custom resource, which a
#: controller of its own reads (Terway's `PodEIP`, the ALB ingress controller's `AlbConfig`).
_BUILT_IN_GROUPS = frozenset(
    {"core", "apps", "batch", "autoscaling", "policy", "extensions", "meta", "events", "yaml"}
)
#: Remote components whose objects are given as text, files or chart values (offline they are
#: not built): whatever they say, a controller may read.
_TEXT_TYPES = (
    "kubernetes:helm.sh/",
    "kubernetes:yaml/",
    "kubernetes:kustomize/",
)
#: Kubernetes kinds whose addresses a load balancer fronts: an owned address in them puts what
#: the cluster owns (its API server, its load balancers) behind a load balancer of the object's.
_ENDPOINT_KINDS = ("Endpoints", "EndpointSlice")
#: Namespaces of ACK's own objects (its managed addons and control-plane components).
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})

#: What an owned resource of each type is to its owner, and the typed argument to use instead.
_OWNED: dict[str, tuple[str, str]] = {
    "alicloud:ecs/securityGroup:SecurityGroup": (
        "its security group",
        "security.extra_ingress; or a security group of your own, let in through "
        "security.extra_ingress",
    ),
    "alicloud:vpc/network:Network": (
        "its VPC",
        "network.zones for its vSwitches, or a VPC of your own given as network.existing_vpc "
        "where other resources share it",
    ),
    "alicloud:vpc/switch:Switch": (
        "a vSwitch of its",
        "network.zones, or a VPC of your own given as network.existing_vpc",
    ),
    "alicloud:vpc/natGateway:NatGateway": ("its NAT gateway", "network.nat"),
    "alicloud:ecs/eipAddress:EipAddress": ("its NAT EIP", "network.nat, network.nat_eip_bandwidth"),
    "alicloud:ecs/eipAssociation:EipAssociation": ("its NAT EIP's association", "network.nat"),
    "alicloud:vpc/snatEntry:SnatEntry": ("its SNAT entries", "network.nat"),
    "alicloud:vpc/routeTable:RouteTable": ("a route table of its", "network.nat"),
    "alicloud:vpc/routeEntry:RouteEntry": ("a route of its", "network.nat"),
    "alicloud:vpc/routeTableAttachment:RouteTableAttachment": ("its route tables", "network.nat"),
    SLB: ("its ingress load balancer", "ingress (bind_service)"),
    "alicloud:ram/role:Role": ("its RAM role", "the component's arguments (node_pools, policies)"),
    "alicloud:ram/policy:Policy": ("its RAM policy", "the component's arguments"),
    "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": (
        "its role's policies",
        "the component's arguments",
    ),
    "alicloud:cs/nodePool:NodePool": (
        "a node pool of its (and the ESS scaling group the pool owns)",
        "node_pools.<name> (autoscaling, sizes, labels, taints)",
    ),
    "alicloud:cs/kubernetesAddon:KubernetesAddon": ("an addon of its", "addons"),
    "alicloud:cs/autoscalingConfig:AutoscalingConfig": ("its autoscaler settings", "autoscaler"),
    "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment": (
        "its CEN attachment",
        "network.cen",
    ),
    "alicloud:cen/transitRouterRouteTableAssociation:TransitRouterRouteTableAssociation": (
        "its CEN route table association",
        "network.cen",
    ),
    "alicloud:cen/transitRouterRouteTablePropagation:TransitRouterRouteTablePropagation": (
        "its CEN route table propagation",
        "network.cen",
    ),
    "pulumi:providers:kubernetes": ("its Kubernetes provider", "ingress"),
    "kubernetes:core/v1:Service": ("its ingress Service", "ingress (bind_service)"),
    **{
        t: (
            "its cluster (or its API server's load balancer)",
            "node_pools, addons, autoscaler or ingress",
        )
        for t in CLUSTER_TYPES
    },
}
_SOMETHING = ("a resource it owns", "the component's typed arguments")
#: The typed home of what a loose resource of each type does, where the cluster has one
#: (ack_clusters.around): named before what the owned resource's own arguments are.
_HOMES: dict[str, str] = {
    "alicloud:cs/kubernetesPermission:KubernetesPermission": (
        "access.grants (one grant per RAM user or role, holding only this cluster's roles)"
    ),
    "alicloud:vpc/switch:Switch": (
        "app_subnets for a vSwitch of databases or apps in its VPC; or a VPC of your own, "
        "shared by several teams, given as network.existing_vpc"
    ),
    "alicloud:pvtz/zoneAttachment:ZoneAttachment": (
        "private_zones for a private zone bound to its VPC; a zone several VPCs share belongs "
        "to the stack that owns them, with a VPC of its own given as network.existing_vpc"
    ),
}


def describe(owned: Owned) -> str:
    what, _ = _OWNED.get(owned.resource.resource_type, _SOMETHING)
    return (
        f"{what} ({owned.resource.resource_type} '{owned.resource.name}', owned by "
        f"{owned.owner.describe()})"
    )


def instead(owned: Owned | None, loose_type: str | None = None) -> str:
    """The typed arguments to use instead: the home of what the loose resource does, if the
    cluster has one, else the owned resource's own arguments."""
    home = _HOMES.get(loose_type or "")
    if owned is None:
        return (
            f"the cluster's typed arguments ({home})" if home else "the cluster's typed arguments"
        )
    _, arguments = _OWNED.get(owned.resource.resource_type, _SOMETHING)
    kind = owned.owner.kind
    return f"the {kind}'s typed arguments ({home or arguments})"


def _loose_attachments(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    own = ownership(args.resources)
    if not own.owners and not any(r.resource_type == STACK_REFERENCE for r in args.resources):
        # Nothing here is owned, nor can a referenced stack's be; but ACK's service roles and
        # the ownership tags are account-wide: a stack of its own (an account's guard, say) can
        # break every cluster of the account through them.
        if seen_inputs.recording():
            yield from _account_wide(args)
        return
    if not seen_inputs.recording():
        yield (
            "",
            "The policy pack's server did not record what each resource was analyzed with, so "
            "nothing a component owns can be proven untouched: run the pack from its own entry "
            "point (policies/__main__.py, or a pack written by ack-policy-pack).",
        )
        return
    # Resources the engine registered children under (a Kubernetes provider's yaml/v2,
    # kustomize/v2 or Helm v4 component expands into its objects under `pulumi preview`).
    expanded = {r.parent.urn for r in args.resources if r.parent is not None}
    for res in args.resources:
        if own.is_component(res):
            continue  # what a component of the program's own takes, its children take
        found = seen_inputs.seen(res.urn)
        if found is None:
            continue  # a read, or a stack reference: it names what it reads, it attaches nothing
        mine = own.owner_of(res)
        inputs = found.inputs
        if (
            res.resource_type.startswith("kubernetes:")
            and any(o.kind == "cluster" for o in own.owners)
            and (_program_dir() is not None or res.urn not in expanded)
        ):
            # The files are read where the folder they are relative to is known (ack-preview
            # says it); without it, the objects the engine registered under the resource
            # are judged themselves, and a resource with none is not proven.
            inputs, unreadable = with_files(res, inputs)
            if unreadable is not None:
                yield res.urn, _unreadable_message(res, unreadable)
        yield from _service_role_policies(res, found.inputs)
        yield from _service_role_trust(res, found.inputs)
        if mine is None:
            yield from _all_clusters_permissions(own, res, found.inputs)
        for prop, value in inputs.items():
            reported: set[str] = (
                set()
            )  # one finding per owned resource (or doubt) a property reaches
            reaches = list(own.reached_by(res, prop, value, mine))
            if (
                res.resource_type == CONTROL_POLICY
                and deny_only(res.resource_type, prop, value)
                and any(not _own_wiring(r, mine, prop) for r in reaches)
            ):
                missing = missing_exemptions(value, _node_roles(own))
                if missing:
                    yield res.urn, _unexempt_message(res, missing)
                    continue
            for reached in reaches:
                if _own_wiring(reached, mine, prop):
                    continue
                if _allowed(res, prop, value, reached):
                    continue
                if reached.field == lookups.UNKNOWN_FIELD:
                    cleared, doubts = lookups.explain(args.resources, own, prop, value)
                    if cleared:
                        continue  # what lookups that cannot return an owned identity found
                    if doubts:
                        key = "lookups"
                        if key not in reported:
                            reported.add(key)
                            yield res.urn, _lookup_message(res, prop, doubts)
                        continue
                key = (
                    reached.owned.resource.urn
                    if reached.owned is not None
                    else reached.unproven or reached.how
                )
                if key not in reported:
                    reported.add(key)
                    yield res.urn, _message(res, prop, reached, value)
        yield from _kubernetes(own, res, inputs, mine)


def _account_wide(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    """In a stack that owns no cluster: a custom policy on one of ACK's service roles, and a
    deny-only control policy that names the library's ownership tags without exempting ACK's
    roles and every cluster's node role (`*-node-role`: which clusters it reaches, this stack
    cannot know)."""
    for res in args.resources:
        found = seen_inputs.seen(res.urn)
        if found is None:
            continue
        yield from _service_role_policies(res, found.inputs)
        yield from _service_role_trust(res, found.inputs)
        if res.resource_type != CONTROL_POLICY:
            continue
        for prop, value in found.inputs.items():
            if deny_only(res.resource_type, prop, value) and _names_ownership_tag(value):
                missing = missing_exemptions(value, {"": {f"any-cluster{NODE_ROLE_SUFFIX}"}})
                if missing:
                    yield res.urn, _unexempt_message(res, missing)


def _names_ownership_tag(value: Any) -> bool:
    """Whether a policy document names the library's ownership tags (or ACK's own), read as
    parsed JSON so that an escaped spelling (\\u0061ck.pulumi.io) names them too."""
    lowered = every_text(value)
    return OWNERSHIP_TAG_PREFIX in lowered or "ack.aliyun.com" in lowered


#: Where a cluster's owned resources name the role its nodes run as: its node role, and the
#: role each node pool is given (an adopted role's name, node_pools/component.py).
_NODE_ROLE_INPUTS = {ROLE: "roleName", "alicloud:cs/nodePool:NodePool": "ramRoleName"}


def _node_roles(own: Ownership) -> dict[str, set[str]]:
    """The node roles of the stack's clusters, by cluster name: the roles its node pools run as
    and the roles it owns; `<cluster>-node-role` (identity/component.py) where neither is known
    (a cluster of another stack)."""
    found: dict[str, set[str]] = {}
    for owned in own.owned.values():
        key = _NODE_ROLE_INPUTS.get(owned.resource.resource_type)
        if owned.owner.kind != "cluster" or key is None:
            continue
        props = plain(owned.resource.props)
        name = props.get(key) if isinstance(props, Mapping) else None
        if isinstance(name, str) and name and not has_unknown(name):
            found.setdefault(owned.owner.name, set()).add(name)
    for owner in own.owners:
        if owner.kind == "cluster" and not found.get(owner.name):
            found[owner.name] = {f"{owner.name}{NODE_ROLE_SUFFIX}"}
    return found


def _unexempt_message(res: PolicyResource, missing: list[str]) -> str:
    return (
        f"{res.resource_type} '{res.name}' is a Deny that names what a cluster owns, but does "
        f"not exempt {', '.join(missing)}: a control policy applies to every RAM identity of "
        "its targets, and ACK manages the clusters' resources with its service roles, as the "
        "nodes' own components (the cloud controller manager, CSI, Terway) do with the node "
        "roles, so the Deny would break the clusters. Exempt them in every statement with "
        '"StringNotLike": {"acs:PrincipalARN": [...]} as DriftGuard writes it '
        "(docs/CONSOLE-DRIFT.md), or use ack_clusters.DriftGuard's control_policy."
    )


#: Roles a program may create under one of ACK's service roles' names, with the inputs naming
#: the role and holding its trust (pulumi_alicloud ram.Role, resourcemanager.Role).
_ROLES = {
    ROLE: (("roleName", "name"), ("assumeRolePolicyDocument", "document")),
    "alicloud:resourcemanager/role:Role": (("roleName",), ("assumeRolePolicyDocument",)),
}


def _service_role_trust(
    res: PolicyResource, inputs: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """One of ACK's service roles created with a trust in anyone but an Alibaba Cloud service
    (another account, a user, an OIDC provider): whoever it names could act as ACK on every
    cluster of the account. A trust unknown at preview, or unreadable, is not proven."""
    keys = _ROLES.get(res.resource_type)
    if keys is None:
        return
    names, trusts = keys
    name = next((inputs[k] for k in names if k in inputs), None)
    if not isinstance(name, str) or not is_ack_service_role(name):
        return
    trust = next((inputs[k] for k in trusts if k in inputs), None)

    def why(who: str) -> str:
        return (
            f"{res.name} creates {name}, one of ACK's service roles, with a trust in {who}: "
            "whoever it names could act as ACK on every cluster of the account. Trust only the "
            'service (`"Principal": {"Service": ["cs.aliyuncs.com"]}`).'
        )

    if has_unknown(trust):
        yield res.urn, why(f"a document {lookups.unknown_here()} (not proven)")
        return
    try:
        doc = load_document(trust) if isinstance(trust, str) else trust
    except ValueError:
        yield res.urn, why("a document that cannot be read (or names a key twice)")
        return
    statements = doc.get("Statement") if isinstance(doc, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        yield res.urn, why("a document that cannot be read")
        return
    for st in statements:
        if st.get("Effect") == "Deny":
            continue
        principal = st.get("Principal")
        if not isinstance(principal, Mapping) or set(principal) - {"Service"}:
            yield res.urn, why(f"'{json.dumps(principal)[:120]}'")
            return


#: Where a program attaches a policy to a RAM role, and the inputs that name the role and the
#: policy's type: RAM's own attachment, and Resource Manager's (principal type `ServiceRole`,
#: the role named `<name>@role.<account>.onaliyunservice.com`; pulumi_alicloud's
#: resourcemanager.PolicyAttachment documents `principal_type` IMSUser, IMSGroup, ServiceRole).
_ROLE_POLICY_ATTACHMENTS: dict[str, tuple[str, str | None]] = {
    "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": ("roleName", None),
    "alicloud:resourcemanager/policyAttachment:PolicyAttachment": (
        "principalName",
        "principalType",
    ),
}
_NOT_ROLES = frozenset({"IMSUser", "IMSGroup"})


def _service_role_policies(
    res: PolicyResource, inputs: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """A policy other than one of Alibaba Cloud's System policies attached to one of ACK's
    service roles (ack_policies.service_roles), or to a role that cannot be proven not to be
    one. The System policy (`<role>Policy`) is how a program creates ACK's roles."""
    spelling = _ROLE_POLICY_ATTACHMENTS.get(res.resource_type)
    if spelling is None:
        return
    name_key, type_key = spelling
    if type_key is not None and inputs.get(type_key) in _NOT_ROLES:
        return  # a user or a group
    policy_type = inputs.get("policyType")
    if policy_type == "System":
        return
    role = inputs.get(name_key)
    subject = f"{res.resource_type} '{res.name}'"
    kind = (
        policy_type
        if isinstance(policy_type, str) and not has_unknown(policy_type)
        else ("unknown")
    )
    what = f"the {kind} policy '{inputs.get('policyName')}'"
    why = (
        "ACK manages the clusters' resources (nodes, scaling groups, load balancers) with its "
        "service roles, and a policy of your own on one (a Deny, say) breaks the clusters. "
        "Attach only Alibaba Cloud's System policy of the role (`<role>Policy`), with "
        "policyType System."
    )
    if isinstance(role, str) and not has_unknown(role):
        if is_ack_service_role(role.split("@", 1)[0]):
            yield (
                res.urn,
                f"{subject} attaches {what} to '{role}', one of ACK's service roles: {why}",
            )
        return
    if _declared_roles(res, name_key):
        return
    yield (
        res.urn,
        f"{subject} attaches {what} to a role {lookups.unknown_here()} that no role of the program "
        f"names: it cannot be proven not to be one of ACK's service roles. {why} Name the "
        "role, or take it from a ram.Role of your own.",
    )


def _declared_roles(res: PolicyResource, prop: str) -> bool:
    """Whether an unknown role name comes only from roles the program declares, none of them
    one of ACK's service roles (by its name, or by the name Pulumi derives from it)."""
    deps = res.property_dependencies.get(prop, [])
    if not deps:
        return False
    for dep in deps:
        if dep.resource_type != ROLE:
            return False
        found = seen_inputs.seen(dep.urn)
        inputs = found.inputs if found is not None else plain(dep.props)
        name = inputs.get("roleName") or inputs.get("name") if isinstance(inputs, Mapping) else None
        if name is None:
            name = dep.name  # named by Pulumi after the resource
        if not isinstance(name, str) or has_unknown(name) or is_ack_service_role(name):
            return False
    return True


#: The role type of an ACK access grant that holds on every cluster of the account
#: (pulumi_alicloud.cs.KubernetesPermission: "When `role_type` value is `all-clusters`, the
#: value of `cluster` must be `\"\"`").
ALL_CLUSTERS = "all-clusters"


def _all_clusters_permissions(
    own: Ownership, res: PolicyResource, inputs: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """A loose access grant on every cluster of the account (or of a role type unknown at
    preview), in a stack that owns a cluster: it grants on the owned clusters without naming
    them, so the reference check cannot see it."""
    if res.resource_type != "alicloud:cs/kubernetesPermission:KubernetesPermission" or not any(
        o.kind == "cluster" for o in own.owners
    ):
        return
    permissions = inputs.get("permissions")
    if permissions is None:
        return  # grants nothing
    items = permissions if isinstance(permissions, list) else [permissions]  # unknown: not proven
    for item in items:
        role_type = item.get("roleType") if isinstance(item, Mapping) else item
        if role_type == ALL_CLUSTERS or has_unknown(role_type) or not isinstance(role_type, str):
            how = (
                "on every cluster of the account"
                if role_type == ALL_CLUSTERS
                else f"with a role type {lookups.unknown_here()}, which cannot be proven not "
                "to be 'all-clusters'"
            )
            names = ", ".join(o.describe() for o in own.owners if o.kind == "cluster")
            yield (
                res.urn,
                f"{res.resource_type} '{res.name}' grants Kubernetes access {how}, the "
                f"clusters this stack owns included ({names}): that changes who can reach "
                "them outside their typed arguments. Grant access to each cluster through "
                "its access.grants (docs/AROUND-A-CLUSTER.md), and to other clusters with "
                "role_type 'cluster' naming each.",
            )
            return


def _own_wiring(reached: Reached, mine: Owned | None, prop: str) -> bool:
    """What a component's own resources take from each other, and the ownership tags it puts on
    them (a loose resource carrying those is the tag rule's)."""
    if reached.field == "tag" and (mine is not None or prop == "tags"):
        return True
    return mine is not None and reached.owned is not None and reached.owned.owner is mine.owner


def _allowed(res: PolicyResource, prop: str, value: Any, reached: Reached) -> bool:
    if deny_only(res.resource_type, prop, value):
        return True  # a Deny guards what a cluster owns; it cannot change it (DriftGuard)
    if read_only(res.resource_type, prop, value):
        return True  # reading what a cluster owns changes nothing of it
    target = reached.owned.resource.resource_type if reached.owned is not None else None
    if reached.unproven is not None:
        target = None
    if res.resource_type.startswith("kubernetes:"):
        return _kubernetes_reference(res, prop, value, reached, target)
    return allowed(res.resource_type, prop, target, reached.field) is not None


def _lookup_message(res: PolicyResource, prop: str, doubts: list[lookups.Verdict]) -> str:
    """A value no resource produced, which a lookup nobody could answer offline may have
    found among what a cluster owns (or does find there)."""
    subject = f"{res.resource_type} '{res.name}'"
    found = [v for v in doubts if v.finds]
    which = "; ".join(dict.fromkeys(v.describe() for v in (found or doubts)))
    # Which lookup a value came from cannot be told (the SDK gives an invoke's result no
    # dependencies): every lookup that is not cleared is named, wherever the value lands.
    if found:
        return (
            f"{subject} takes through '{prop}' a value no resource produced, and the program "
            f"has what a lookup finds among what a cluster owns: {which} (which lookup a value "
            "came from cannot be told, whatever the property is called). Nothing outside a "
            "component may attach to or change what it owns; change it through "
            f"{instead(None, res.resource_type)} instead, or look up only by IDs or names no "
            "owned resource has."
        )
    return (
        f"{subject} takes through '{prop}' a value {lookups.unknown_here()} that no resource "
        f"produced, and a lookup of the program could have found what a cluster owns: {which} "
        "(which lookup a value came from cannot be told, whatever the property is called). It "
        "cannot be proven not to be a resource a cluster owns. Look it up by IDs or a name "
        "that no owned resource has, or give it a value the program declares."
    )


def _kind(res: PolicyResource) -> str:
    return res.resource_type.rsplit(":", 1)[-1].removesuffix("Patch").removesuffix("List")


def _custom(res: PolicyResource) -> bool:
    """Whether a Kubernetes resource is a custom resource (its group is no built-in one)."""
    if res.resource_type.startswith(_TEXT_TYPES) or res.resource_type.count(":") != 2:
        return False
    group = res.resource_type.split(":")[1].split("/")[0]
    return not (group in _BUILT_IN_GROUPS or group.endswith((".k8s.io", ".kubernetes.io")))


def _handing_place(res: PolicyResource, prop: str, value: Any) -> bool:
    """Whether a value unknown at preview sits where a controller may take an identity from an
    object: its annotations, any input of a custom resource, a chart's values and a YAML or
    kustomize text or file. (An object's labels and name, a ConfigMap's data, a Service's
    source ranges are the workload's own: an update judges them by value.)"""
    if prop == "metadata":
        return any(p.split(".", 1)[0] in ("", "annotations") for p in unknown_paths(value))
    return _custom(res) or res.resource_type.startswith(_TEXT_TYPES)


def _kubernetes_reference(
    res: PolicyResource, prop: str, value: Any, reached: Reached, target: str | None
) -> bool:
    """Whether what a Kubernetes object takes of what a cluster owns is only a reference
    (:data:`K8S_REFERENCES`); anything else is handed to a controller, or cannot be proven
    not to be."""
    if target is None:
        if reached.field == "tag" or reached.unproven is None:
            return True  # an ownership tag's text: the tag rule's
        # A value unknown at preview that no resource produced: where a controller may read it,
        # it cannot be proven not to be an owned resource's ID; elsewhere it is a workload's.
        return not _handing_place(res, prop, value)
    if _kind(res) in _ENDPOINT_KINDS:
        return False  # an owned address behind a load balancer of the object's
    if reached.owned is not None and reached.owned.owner.kind == "service account role":
        # Its role is made to be named on the cluster (`service_account_annotations`), and its
        # trust admits only its service account's tokens: naming it elsewhere grants nothing.
        return True
    fields = K8S_REFERENCES.get(target, frozenset())
    if reached.field is not None:
        return fields is None or reached.field in fields  # found by value: the identity decides
    # Through a dependency: a type with no reference-only identity is handed whatever the value.
    if fields is not None and not fields:
        return False
    if not has_unknown(value) or fields is None:
        return True  # known (an update): the identities found in the value decide
    # Unknown at preview: which identity it is cannot be seen. Where a controller may read it,
    # it is not proven (an EIP's ID or its address; the cluster's API server load balancer or
    # its ID); in a workload's own inputs (a ConfigMap's data, a Service's source ranges) the
    # update decides, by value.
    return not _handing_place(res, prop, value)


def _message(res: PolicyResource, prop: str, reached: Reached, value: Any = None) -> str:
    subject = f"{res.resource_type} '{res.name}'"
    if reached.unproven is not None:
        return (
            f"{subject} takes through '{prop}' {reached.unproven}: it cannot be proven not to "
            "be a resource a cluster owns. Give it a value the program declares, or change it "
            f"through {instead(None, res.resource_type)} instead."
        )
    if reached.owned is None:
        return (
            f"{subject} targets what a cluster owns by its tags through '{prop}'{reached.how}. "
            f"Change it through {instead(None, res.resource_type)} instead."
        )
    if reached.field in API_SERVER_LB_FIELDS and reached.owned.resource.resource_type in (
        CLUSTER_TYPES
    ):
        what = (
            f"its API server's load balancer ({reached.owned.resource.resource_type} "
            f"'{reached.owned.resource.name}', owned by {reached.owned.owner.describe()})"
        )
    else:
        what = describe(reached.owned)
    if res.resource_type.startswith("kubernetes:"):
        fields = K8S_REFERENCES.get(reached.owned.resource.resource_type, frozenset())
        if reached.field is None and has_unknown(value) and fields:
            return (
                f"{subject} takes through '{prop}' a value unknown at preview from {what}, where "
                "a controller on the cluster may read it: it cannot be proven to be only what "
                f"an object may name of it ({', '.join(sorted(fields))}); the update decides by "
                "value. Name it where a workload reads it (a ConfigMap's data, a Service's "
                "source ranges), or hand nothing the cluster owns to a controller: change it "
                f"through {instead(reached.owned, res.resource_type)} instead."
            )
        return (
            f"{subject} takes {what} through '{prop}'{reached.how}: a Kubernetes object may "
            "name of what a cluster owns only references (its ID and API server addresses, "
            "its egress addresses, its VPC and vSwitches, a node pool's ID); anything else is "
            "handed to whatever controller reads it (the cloud controller manager, Terway, "
            f"ECI). Change it through {instead(reached.owned, res.resource_type)} instead."
        )
    return (
        f"{subject} takes {what} through '{prop}'{reached.how}: nothing outside the "
        f"component may attach to or change what it owns. Change it through "
        f"{instead(reached.owned, res.resource_type)} instead."
    )


# --- Kubernetes: ACK's system namespaces -------------------------------------------------------


def namespace_of(res: PolicyResource) -> str:
    """The namespace an object without one of its own lands in, as the Kubernetes provider
    chooses it: the provider's `namespace` input, else its kubeconfig's current context's
    namespace, else `default`. (A kubeconfig unknown at preview is taken to name none; an
    update decides.)"""
    provider = res.provider
    props = plain(provider.props) if provider is not None else {}
    if not isinstance(props, Mapping):
        return "default"
    found = props.get("namespace")
    if isinstance(found, str) and found:
        return found
    return _context_namespace(props.get("kubeconfig")) or "default"


def _context_namespace(kubeconfig: Any) -> str | None:
    """The namespace of a kubeconfig's current context (YAML or JSON text), if it names one."""
    if not isinstance(kubeconfig, str) or "namespace" not in kubeconfig:
        return None
    try:
        doc = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, Mapping):
        return None
    current = doc.get("current-context")
    for item in doc.get("contexts") or []:
        if isinstance(item, Mapping) and item.get("name") == current:
            context = item.get("context")
            namespace = context.get("namespace") if isinstance(context, Mapping) else None
            return namespace if isinstance(namespace, str) and namespace else None
    return None


#: The one object of ACK's system namespaces a cluster component writes: ACK's ingress
#: controller Service, bound to the cluster's own ingress load balancer (`ingress.bind_service`).
LIBRARY_SYSTEM_OBJECTS = frozenset({("kube-system", "Service", "nginx-ingress-lb")})
#: Remote components whose objects are given in their inputs or files (offline, they are not
#: built: their objects are read here as the Kubernetes provider reads them).
_OBJECT_GROUPS = (
    "kubernetes:yaml/v2:ConfigGroup",
    "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:kustomize/v2:Directory",
)
#: Cluster-scoped kinds of Kubernetes (`kubectl api-resources --namespaced=false`, v1.33): a
#: patch of one changes an object of the whole cluster that the program did not create.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterTrustBundle",
        "ComponentStatus",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "DeviceClass",
        "FlowSchema",
        "IngressClass",
        "IPAddress",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "ResourceSlice",
        "RuntimeClass",
        "ServiceCIDR",
        "StorageClass",
        "StorageVersion",
        "StorageVersionMigration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeAttributesClass",
    }
)
#: Names of cluster-scoped objects that Kubernetes or ACK keep for their own: `system:` (RBAC's
#: default roles and bindings, https://kubernetes.io/docs/reference/access-authn-authz/rbac/
#: "Default roles and role bindings"), `system-` (the built-in PriorityClasses; the API server
#: refuses others of that prefix), and ACK's StorageClasses and addons' objects (`alicloud-`,
#: https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/
#: disk-volume-overview). CRDs of the Kubernetes groups and Alibaba Cloud's are ACK's too.
_SYSTEM_NAME_PREFIXES = ("system:", "system-", "alicloud-", "cs:")
_SYSTEM_CRD_GROUPS = (".k8s.io", ".kubernetes.io", "alibabacloud.com", "aliyun.com", "aliyuncs.com")
#: Names without a reserved prefix that Kubernetes itself creates and keeps (its bootstrap
#: objects; an object of one of these names would take over the existing one):
#: - RBAC's user-facing roles and the super-user binding (kubernetes
#:   plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, ClusterRoles() and
#:   ClusterRoleBindings(); every other bootstrap role and binding is `system:`);
#: - API Priority and Fairness' mandatory and suggested FlowSchemas and priority levels
#:   (k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap/default.go), which the API server keeps
#:   up to date and which decide how the control plane's own requests are served.
#: ACK's own predefined RBAC roles are `cs:` (cs:admin, cs:ops, cs:dev, cs:restricted:
#: https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/
#: use-custom-rbac-to-restrict-resource-operations-in-a-cluster).
_RESERVED_NAMES: dict[str, frozenset[str]] = {
    "ClusterRole": frozenset({"cluster-admin", "admin", "edit", "view"}),
    "ClusterRoleBinding": frozenset({"cluster-admin"}),
    "FlowSchema": frozenset(
        {
            "exempt",
            "catch-all",
            "probes",
            "endpoint-controller",
            "workload-leader-election",
            "kube-controller-manager",
            "kube-scheduler",
            "kube-system-service-accounts",
            "service-accounts",
            "global-default",
        }
    ),
    "PriorityLevelConfiguration": frozenset(
        {
            "exempt",
            "catch-all",
            "system",
            "node-high",
            "leader-election",
            "workload-high",
            "workload-low",
            "global-default",
        }
    ),
}
#: API groups whose APIServices Kubernetes or ACK register (an APIService is named
#: `<version>.<group>`; the API server's autoregister controller keeps one for each built-in
#: group, `v1.` for the core group, and ACK's metrics-server serves `v1beta1.metrics.k8s.io`):
#: an APIService of one of them sends that API's requests to a Service of the program's.
_BUILT_IN_API_GROUPS = frozenset({"", "apps", "autoscaling", "batch", "policy", "extensions"})
_SYSTEM_API_GROUP_SUFFIXES = (
    ".k8s.io",
    ".kubernetes.io",
    "alibabacloud.com",
    "aliyun.com",
    "aliyuncs.com",
)
_WEBHOOK_KINDS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})
#: Admission policies (CEL) and their bindings, with the block naming what they select.
_ADMISSION_POLICY_KINDS = {
    "ValidatingAdmissionPolicy": "matchConstraints",
    "MutatingAdmissionPolicy": "matchConstraints",
    "ValidatingAdmissionPolicyBinding": "matchResources",
    "MutatingAdmissionPolicyBinding": "matchResources",
}
#: The label the API server puts on every namespace, its name (Kubernetes 1.22+).
_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _kubernetes(
    own: Ownership, res: PolicyResource, inputs: Mapping[str, Any], mine: Owned | None
) -> Iterator[tuple[str, str]]:
    """Objects written into ACK's system namespaces (its managed addons and components live
    there, and ACK's upgrades overwrite them), in a stack that has a cluster; a component's
    own objects too, but for the one the library writes there. And what changes the cluster's
    own cluster-scoped objects (a patch of one, a webhook aimed at ACK's namespaces)."""
    if not res.resource_type.startswith("kubernetes:") or not any(
        o.kind == "cluster" for o in own.owners
    ):
        return
    kind = _kind(res)
    metadata = inputs.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = metadata.get("name")
    written = [metadata.get("namespace") or inputs.get("namespace") or namespace_of(res)]
    if kind == "Namespace":
        written = [name]
    written += list(_overrides(inputs.get("values"))) + list(_overrides(inputs.get(_FILES)))
    docs = (
        _group_objects(inputs) if res.resource_type in _OBJECT_GROUPS else _typed_items(res, inputs)
    )
    written += list(_doc_namespaces(docs, inputs.get(_KUSTOMIZED_NAMESPACE)))
    if _typed_list(res) and has_unknown(inputs.get("items")) and not docs:
        written.append(inputs.get("items"))  # which objects, and where, is not known
    if any(has_unknown(w) for w in written) and not _explained(own, res):
        yield (
            res.urn,
            f"{res.resource_type} '{res.name}' is written to a namespace unknown at preview "
            "that nothing the program declares stands behind: it cannot be proven not to be "
            "ACK's own (kube-system). Name the namespace, or take it from a Namespace of "
            "your own.",
        )
        return
    for namespace in written:
        if namespace not in SYSTEM_NAMESPACES:
            continue
        if (
            mine is not None
            and mine.owner.kind == "cluster"
            and (namespace, kind, name) in LIBRARY_SYSTEM_OBJECTS
        ):
            continue
        yield (
            res.urn,
            f"{res.resource_type} '{res.name}' writes into '{namespace}', the namespace of "
            "ACK's own components (managed addons, the network plugin, CoreDNS), which ACK "
            "manages and overwrites on upgrade. Configure them through the cluster's addons "
            "(their config), and put your own objects in namespaces of your own.",
        )
        return
    if mine is not None:
        return  # a component's own objects are its record's
    subject = f"{res.resource_type} '{res.name}'"
    patch = res.resource_type.endswith("Patch")
    scoped = kind in CLUSTER_SCOPED_KINDS or (
        _custom(res) and not (metadata.get("namespace") or inputs.get("namespace"))
    )
    if patch and scoped and kind != "Namespace":
        yield (
            res.urn,
            f"{subject} patches the cluster-scoped {kind} '{name}', an object of the whole "
            "cluster that the program did not create (Kubernetes' or ACK's own, or another "
            "tool's): ACK manages and overwrites its own on upgrade, and a change to one "
            "changes every workload. Create an object of your own instead (a StorageClass or "
            "ClusterRole of your own name), or configure ACK's through the cluster's addons.",
        )
        return
    if (
        not docs
        and kind in CLUSTER_SCOPED_KINDS
        and kind != "Namespace"
        and has_unknown(name)
        and not _explained(own, res)
    ):
        yield (
            res.urn,
            f"{subject} declares a {kind} whose name is unknown at preview and comes from "
            "nothing the program declares of its own: it cannot be proven not to be a name "
            "Kubernetes or ACK keep (cluster-admin, system:..., alicloud-...), whose object it "
            "would take over. Name it in the program.",
        )
        return
    objects = docs or [{**inputs, "kind": kind, "metadata": metadata}]
    for obj in objects:
        problem = _system_object(obj) if isinstance(obj, Mapping) else None
        if problem:
            yield res.urn, f"{subject} {problem}"
            return


def _typed_list(res: PolicyResource) -> bool:
    """Whether a resource is a typed list of Kubernetes objects (`core/v1:ConfigMapList`)."""
    return not res.resource_type.startswith(_TEXT_TYPES) and res.resource_type.endswith("List")


def _typed_items(res: PolicyResource, inputs: Mapping[str, Any]) -> list[Any]:
    """The objects a typed list holds, judged each as an object of its own."""
    if not _typed_list(res) or not isinstance(inputs.get("items"), list):
        return []
    with contextlib.suppress(_Unreadable):
        return _expanded([{**inputs, "kind": res.resource_type.rsplit(":", 1)[-1]}])
    return list(inputs["items"])


def _system_object(obj: Mapping[str, Any]) -> str | None:
    """Why an object (a typed resource's inputs, or a document of a group) changes the
    cluster's own cluster-scoped objects, if it does."""
    kind = obj.get("kind")
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = metadata.get("name")
    if kind == "Node":
        return (
            "declares a Node: the cluster's nodes are its node pools' (node_pools), and a Node "
            "object of the program's would change one of them or register one of its own."
        )
    if (
        kind in CLUSTER_SCOPED_KINDS
        and kind != "Namespace"
        and isinstance(name, str)
        and _reserved(kind, name, obj.get("spec"))
    ):
        return (
            f"declares the {kind} '{name}', a name Kubernetes or ACK keep for their own "
            "(`system:`, `system-`, `alicloud-`, `cs:`, Kubernetes' default roles and "
            "bindings such as cluster-admin, admin, edit and view, its flow-control "
            "defaults, or an API group of Kubernetes or Alibaba Cloud): an object of that "
            "name takes over theirs. Give the object a name of your own."
        )
    if kind in _WEBHOOK_KINDS or kind in _ADMISSION_POLICY_KINDS:
        for hook in _selectors(obj, kind):
            # (A webhook or block unknown at preview as a whole is as undecided as its selector.)
            selector = hook.get("namespaceSelector") if isinstance(hook, Mapping) else hook
            if has_unknown(selector):
                return (
                    f"declares a {kind} whose namespaceSelector is unknown at preview: it "
                    "cannot be proven not to select ACK's system namespaces. Name it in the "
                    "program."
                )
            aimed = sorted(_selected_system_namespaces(selector))
            if aimed:
                return (
                    f"declares a {kind} whose namespaceSelector names {', '.join(aimed)} by "
                    f"its `{_NAMESPACE_NAME_LABEL}` label: it is aimed at ACK's own pods "
                    "(managed addons, the network plugin, CoreDNS), and can change or stop "
                    "them. Select namespaces of your own (a webhook for the whole cluster, "
                    "as cert-manager's or Istio's, is not aimed at them)."
                )
    return None


def _reserved(kind: str, name: str, spec: Any) -> bool:
    """Whether a cluster-scoped object's name is one Kubernetes or ACK keep for their own."""
    lowered = name.lower()
    if lowered.startswith(_SYSTEM_NAME_PREFIXES) or lowered in _RESERVED_NAMES.get(kind, ()):
        return True
    if kind == "CustomResourceDefinition":
        return lowered.endswith(_SYSTEM_CRD_GROUPS)
    if kind == "CSIDriver":
        # ACK's CSI plugins (diskplugin.csi.alibabacloud.com, nasplugin..., ossplugin...);
        # drivers of Kubernetes SIGs (nfs.csi.k8s.io) are installed by users, and pass.
        return lowered.endswith(_SYSTEM_API_GROUP_SUFFIXES[2:])
    if kind == "APIService":
        groups = [lowered.partition(".")[2]]
        if isinstance(spec, Mapping):
            group = spec.get("group")
            if has_unknown(group):
                return True  # not proven not to be one of theirs
            groups.append(group.lower() if isinstance(group, str) else "")
        return any(
            g in _BUILT_IN_API_GROUPS
            or g.endswith(_SYSTEM_API_GROUP_SUFFIXES)
            or g in {s.lstrip(".") for s in _SYSTEM_API_GROUP_SUFFIXES}
            for g in groups
        )
    return False


def _selectors(obj: Mapping[str, Any], kind: Any) -> list[Any]:
    """What holds the namespaceSelectors of an admission object: each webhook of a webhook
    configuration; an admission policy's `spec.matchConstraints`, a binding's
    `spec.matchResources`."""
    if kind in _WEBHOOK_KINDS:
        hooks = obj.get("webhooks")
        return hooks if isinstance(hooks, list) else [hooks] if hooks is not None else []
    spec = obj.get("spec")
    if has_unknown(spec) and not isinstance(spec, Mapping):
        return [spec]
    spec = spec if isinstance(spec, Mapping) else {}
    return [spec.get(_ADMISSION_POLICY_KINDS[kind])]


def _selected_system_namespaces(selector: Any) -> Iterator[str]:
    """ACK's system namespaces a namespaceSelector names by name (its `matchLabels`, or an
    `In` expression of its `matchExpressions`)."""
    if not isinstance(selector, Mapping):
        return
    labels = selector.get("matchLabels")
    if isinstance(labels, Mapping) and labels.get(_NAMESPACE_NAME_LABEL) in SYSTEM_NAMESPACES:
        yield str(labels[_NAMESPACE_NAME_LABEL])
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, Mapping):
            continue
        if expression.get("key") != _NAMESPACE_NAME_LABEL or expression.get("operator") != "In":
            continue
        for value in expression.get("values") or []:
            if value in SYSTEM_NAMESPACES:
                yield str(value)


def _overrides(values: Any) -> Iterator[Any]:
    """Every `namespaceOverride` in a chart's values, its subcharts' included (a chart's own
    convention for where its objects go)."""
    if isinstance(values, Mapping):
        for key, value in values.items():
            if key == "namespaceOverride":
                yield value
            else:
                yield from _overrides(value)
    elif isinstance(values, list):
        for item in values:
            yield from _overrides(item)


def _group_objects(inputs: Mapping[str, Any]) -> list[Any]:
    """The objects a YAML group, a YAML file or a kustomization is given: its `objs`, its `yaml`
    text, and the documents of the files it reads (:data:`_FILES`)."""
    docs: list[Any] = list(inputs.get("objs") or [])
    text = inputs.get("yaml")
    if isinstance(text, str) and not has_unknown(text):
        with contextlib.suppress(yaml.YAMLError):  # the provider refuses it: nothing is written
            docs += list(yaml.safe_load_all(text))
    read = inputs.get(_FILES)
    if isinstance(read, list):
        docs += read
    with contextlib.suppress(_Unreadable):  # nested too deep: judged as given
        return _expanded(docs)
    return docs


def _doc_namespaces(docs: list[Any], kustomized: Any = None) -> Iterator[Any]:
    """The namespaces documents are written to: a Namespace's own name, an object's namespace,
    and a kustomization's `namespace` (which it sets on every object)."""
    if kustomized:
        yield kustomized
    for doc in docs:
        if not isinstance(doc, Mapping):
            continue
        metadata = doc.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        if doc.get("kind") == "Namespace":
            yield metadata.get("name")
        elif metadata.get("namespace"):
            yield metadata.get("namespace")


# --- Kubernetes: objects and values given as files ---------------------------------------------

#: Where the rule puts what the files a resource names hold (documents of a YAML file or a
#: kustomization, a chart's value files), read as the Kubernetes provider reads them: judged as
#: if given inline.
_FILES = "the files it reads"
_KUSTOMIZED_NAMESPACE = "the namespace its kustomization sets"
#: The kustomizations a kustomize.v2.Directory reads, judged by value as a whole (an image, a
#: label or an annotation they set may name what a cluster owns).
_KUSTOMIZATIONS_READ = "the kustomizations it reads"
#: The base64 values of Secrets (`data`) and ConfigMaps (`binaryData`), decoded as the API
#: server stores them (Go's encoding/json reads a []byte field as standard base64): the
#: identities in what a controller reads are judged, whatever the encoding that carries them.
_DECODED = "the base64 values it holds, decoded"
_BASE64_FIELDS = {"Secret": "data", "ConfigMap": "binaryData"}
#: The environment variable that tells the pack the program's folder, against which the
#: Kubernetes provider (started there by the engine) resolves relative paths. ack-preview sets
#: it; under `pulumi preview --policy-pack`, the engine starts the pack in its own folder and
#: tells it nothing of the program's (pkg/resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer:
#: "the root directory and program directory are the location of the PulumiPolicy.yaml"), so
#: the deploy job sets it: `ACK_PROGRAM_DIR=$PWD pulumi preview --policy-pack ...`.
PROGRAM_DIR_ENV = "ACK_PROGRAM_DIR"
#: Bounds of what the pack reads (it runs in its own process, with the program's user's
#: rights; it prints nothing of what it reads but the namespaces and names it judges): regular
#: files only (no device, pipe or socket), each at most this many bytes, this many in all.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_FILES = 256
_KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
#: What a kustomization may say and still be read here: its resources (local files and
#: folders), the namespace it sets, and what renames or labels objects without moving them
#: (kustomize's Kustomization fields). Generators, patches, transformers, replacements,
#: components, Helm charts and remote bases are rendered by kustomize alone.
_KUSTOMIZE_READABLE = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "bases",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "commonLabels",
        "labels",
        "commonAnnotations",
        "images",
        "replicas",
        "buildMetadata",
        "sortOptions",
    }
)
_RENDER = (
    "Render it where it can be judged: inline documents (yaml.v2.ConfigGroup's `yaml` or "
    "`objs`), a file in the program's folder (yaml.v2.ConfigFile, kustomize.v2.Directory of "
    "local resources), or `kustomize build` / `helm template` output committed beside the "
    "program."
)


class _Unreadable(Exception):
    """A file the rule cannot read as the provider would (the message says why)."""


def _program_dir() -> str | None:
    found = os.environ.get(PROGRAM_DIR_ENV)
    return found if found and os.path.isabs(found) else None


def _remote(path: str) -> bool:
    return "://" in path or path.startswith(("git@", "github.com/", "gitlab.com/"))


def _resolve(path: Any) -> str:
    """The file a path names, as the provider resolves it (against the program's folder)."""
    if has_unknown(path) or not isinstance(path, str):
        raise _Unreadable("a path unknown at preview")
    if _remote(path):
        raise _Unreadable(f"'{path}', a remote URL the gate cannot read offline")
    if os.path.isabs(path):
        return path
    base = _program_dir()
    if base is None:
        raise _Unreadable(
            f"'{path}', a path relative to the program's folder, which the policy pack was not "
            f"told (set {PROGRAM_DIR_ENV} to it; ack-preview does)"
        )
    return os.path.join(base, path)


def _read(path: str, budget: list[int]) -> str:
    """A regular file's text, bounded. Symbolic links are followed, as the provider follows
    them: the pack reads what the provider would, with no more rights than the program's."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _Unreadable(f"more than {MAX_FILES} files")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _Unreadable(f"'{path}', which cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Unreadable(f"'{path}', which is not a regular file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _Unreadable(f"'{path}', larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unreadable(f"'{path}', which is not UTF-8 text") from None


def _documents(text: str, where: str) -> list[Any]:
    try:
        return _expanded([d for d in yaml.safe_load_all(text) if d is not None])
    except yaml.YAMLError:
        raise _Unreadable(f"'{where}', which is not YAML") from None


def _expanded(docs: list[Any], depth: int = 0) -> list[Any]:
    """Documents with each list (`kind: List`, or any `*List` kind whose `items` is a list)
    replaced by its items, as the provider (yaml/v2 decodes every document as unstructured and
    registers a list's items: provider/pkg/provider/yaml/v2/yaml.go) and kustomize read them.
    An item without a kind takes the list's (`ConfigMapList` holds ConfigMaps)."""
    out: list[Any] = []
    for doc in docs:
        kind = doc.get("kind") if isinstance(doc, Mapping) else None
        items = doc.get("items") if isinstance(doc, Mapping) else None
        if not (isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)):
            out.append(doc)
            continue
        if depth > 8:
            raise _Unreadable("lists nested more than 8 deep")
        inner = kind.removesuffix("List")
        out += _expanded(
            [
                {"kind": inner, **item} if isinstance(item, Mapping) and inner else item
                for item in items
            ],
            depth + 1,
        )
    return out


#: Go's path/filepath pattern characters (filepath.Match, on a system whose separator is `/`).
_GO_GLOB_META = "*?[\\"


def _class_char(pattern: str, i: int, bad: Exception) -> tuple[str, int]:
    """The character of a class at `i` (`\\x` is `x`) and where the class goes on."""
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise bad
    return pattern[i], i + 1


def _go_pattern(pattern: str, where: str) -> re.Pattern[str]:
    """A regular expression matching one path element as Go's filepath.Match matches it:
    `*` and `?` match any characters but `/` (a leading dot too: Go has no hidden files), a
    class is negated by `^` (never by `!`), and `\\` escapes the next character. A pattern Go
    would refuse (ErrBadPattern), or one whose meaning here is in doubt, is not read."""
    bad = _Unreadable(f"'{where}', a pattern whose meaning the gate cannot be sure of")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            if i + 1 >= len(pattern):
                raise bad
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            i += 1
            negated = i < len(pattern) and pattern[i] == "^"
            i += 1 if negated else 0
            ranges: list[str] = []
            while True:
                if i >= len(pattern):
                    raise bad
                if pattern[i] == "]" and ranges:
                    break
                if pattern[i] in "-]" or pattern[i] == "/":
                    raise bad
                lo, i = _class_char(pattern, i, bad)
                hi = lo
                if i < len(pattern) and pattern[i] == "-":
                    i += 1
                    if i >= len(pattern) or pattern[i] in "-]":
                        raise bad
                    hi, i = _class_char(pattern, i, bad)
                if hi < lo:
                    raise bad
                ranges.append(f"{re.escape(lo)}-{re.escape(hi)}")
            out.append(f"[{'^' if negated else ''}{''.join(ranges)}]")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _go_glob(path: str, root: str = "") -> list[str]:
    """The files a pattern names, as Go's filepath.Glob finds them (the Kubernetes provider's
    yaml/v2 reads `file` and `files` with it: provider/pkg/provider/yaml/v2/yaml.go): element
    by element, each directory's names matched (dotfiles included) and sorted; a pattern
    without pattern characters names its file if it exists. A relative pattern is matched
    under `root` (the program's folder), whose own name is no pattern."""
    if not any(c in path for c in _GO_GLOB_META):
        return [os.path.join(root, path)] if os.path.lexists(os.path.join(root, path)) else []
    found = ["/"] if path.startswith("/") else [root]
    for element in [e for e in path.split("/") if e]:
        if not any(c in element for c in _GO_GLOB_META):
            found = [os.path.join(f, element) for f in found]
            found = [f for f in found if os.path.lexists(f)]
            continue
        matcher = _go_pattern(element, path)
        matched: list[str] = []
        for folder in found:
            try:
                names = sorted(os.listdir(folder or "."))
            except OSError:
                continue  # Go's Glob ignores I/O errors (a folder it cannot read matches nothing)
            matched += [os.path.join(folder, n) for n in names if matcher.fullmatch(n)]
        found = matched
    return found


def _manifests(pattern: Any, budget: list[int]) -> list[Any]:
    """The documents of a YAML file or glob (yaml.v2's `file`, `files`)."""
    path = _resolve(pattern)
    relative = isinstance(pattern, str) and not os.path.isabs(pattern)
    names = _go_glob(pattern, _program_dir() or "") if relative else _go_glob(path)
    if not names:
        raise _Unreadable(f"'{pattern}', which matches no file")
    docs: list[Any] = []
    for name in names:
        docs += _documents(_read(name, budget), name)
    return docs


#: Kinds whose names kustomize's namePrefix/nameSuffix leave as they are (kustomize
#: plugin/builtin/prefixtransformer/PrefixTransformer.go, `prefixFieldSpecsToSkip`, and its
#: suffix twin).
_KUSTOMIZE_UNRENAMED = frozenset({"CustomResourceDefinition", "APIService", "Namespace"})


def _kustomized(spec: Mapping[str, Any], docs: list[Any], found: str) -> list[Any]:
    """Documents as a kustomization's namePrefix, nameSuffix, commonAnnotations, commonLabels
    and labels leave them (kustomize applies them to every object of its resources, those of
    the kustomizations it includes too; an annotation or label it sets replaces the object's)."""
    prefix, suffix = spec.get("namePrefix") or "", spec.get("nameSuffix") or ""
    annotations = spec.get("commonAnnotations") or {}
    labels = spec.get("commonLabels") or {}
    entries = spec.get("labels") or []
    if not (
        isinstance(prefix, str)
        and isinstance(suffix, str)
        and isinstance(annotations, Mapping)
        and isinstance(labels, Mapping)
        and isinstance(entries, list)
        and all(
            isinstance(e, Mapping) and isinstance(e.get("pairs") or {}, Mapping) for e in entries
        )
    ):
        raise _Unreadable(f"'{found}', whose names, annotations or labels are not plain text")
    labels = {**labels, **{k: v for e in entries for k, v in (e.get("pairs") or {}).items()}}
    out: list[Any] = []
    for doc in docs:
        if not isinstance(doc, Mapping):
            out.append(doc)
            continue
        metadata = doc.get("metadata")
        metadata = dict(metadata) if isinstance(metadata, Mapping) else {}
        name = metadata.get("name")
        if isinstance(name, str) and doc.get("kind") not in _KUSTOMIZE_UNRENAMED:
            metadata["name"] = f"{prefix}{name}{suffix}"
        for key, extra in (("annotations", annotations), ("labels", labels)):
            if extra:
                have = metadata.get(key)
                metadata[key] = {**(have if isinstance(have, Mapping) else {}), **extra}
        out.append({**doc, "metadata": metadata})
    return out


def _kustomization(
    directory: Any, budget: list[int], depth: int = 0, specs: list[Any] | None = None
) -> tuple[list[Any], Any]:
    """The documents a kustomization's local resources hold, as it leaves them, and the
    namespace it sets. Each kustomization read is added to `specs` (all it says is judged)."""
    if depth > 8:
        raise _Unreadable("kustomizations nested more than 8 deep")
    folder = _resolve(directory)
    found = next(
        (
            os.path.join(folder, n)
            for n in _KUSTOMIZATIONS
            if os.path.isfile(os.path.join(folder, n))
        ),
        None,
    )
    if found is None:
        raise _Unreadable(f"'{directory}', a folder without a kustomization")
    (spec, *_) = _documents(_read(found, budget), found) or [{}]
    if not isinstance(spec, Mapping):
        raise _Unreadable(f"'{found}', which is not a kustomization")
    beyond = sorted(set(spec) - _KUSTOMIZE_READABLE)
    if beyond:
        raise _Unreadable(f"'{found}', whose {', '.join(beyond)} only kustomize can render")
    if specs is not None:
        specs.append(spec)
    docs: list[Any] = []
    namespaces: list[Any] = []
    for item in [*(spec.get("resources") or []), *(spec.get("bases") or [])]:
        if not isinstance(item, str) or _remote(item):
            raise _Unreadable(f"'{found}', whose resource '{item}' is remote")
        path = item if os.path.isabs(item) else os.path.join(folder, item)
        if os.path.isdir(path):
            inner, namespace = _kustomization(path, budget, depth + 1, specs)
            docs += inner
            namespaces.append(namespace)
        else:
            docs += _documents(_read(path, budget), path)
    docs = _kustomized(spec, docs, found)
    namespace = spec.get("namespace")
    if namespace:
        # kustomize sets it on every namespaced object, whatever the object said.
        for i, doc in enumerate(docs):
            if isinstance(doc, Mapping) and doc.get("kind") not in CLUSTER_SCOPED_KINDS:
                metadata = doc.get("metadata")
                metadata = metadata if isinstance(metadata, Mapping) else {}
                docs[i] = {**doc, "metadata": {**metadata, "namespace": namespace}}
        return docs, namespace
    if any(namespaces):
        docs += [{"metadata": {"namespace": n}} for n in namespaces if n]
    return docs, None


def _value_files(asset: Any, budget: list[int]) -> list[Any]:
    """The values of one of a chart's value files: a text asset, or a file asset's file."""
    text = asset.get("text") if isinstance(asset, Mapping) else getattr(asset, "text", None)
    if isinstance(text, str):
        try:
            return [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError:
            return []  # the provider refuses it: nothing is written
    path = asset.get("path") if isinstance(asset, Mapping) else getattr(asset, "path", None)
    if path is not None:
        return _manifests(path, budget)
    uri = asset.get("uri") if isinstance(asset, Mapping) else getattr(asset, "uri", None)
    raise _Unreadable(f"'{uri}', a remote value file" if uri else "a value file of no known kind")


def with_files(
    res: PolicyResource, inputs: Mapping[str, Any]
) -> tuple[Mapping[str, Any], str | None]:
    """A Kubernetes resource's inputs with what the files it names hold (:data:`_FILES`), as the
    Kubernetes provider would read them; or why they cannot be read here."""
    budget = [MAX_FILES]
    read: list[Any] = []
    extra: dict[str, Any] = {}
    try:
        if res.resource_type in ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup"):
            files = inputs.get("files")
            names = [inputs["file"]] if "file" in inputs else []
            if has_unknown(files):
                raise _Unreadable("files unknown at preview")
            names += list(files or []) if isinstance(files, list) else [files] if files else []
            for name in names:
                read += _manifests(name, budget)
        elif res.resource_type == "kubernetes:kustomize/v2:Directory":
            specs: list[Any] = []
            read, namespace = _kustomization(inputs.get("directory"), budget, specs=specs)
            extra[_KUSTOMIZATIONS_READ] = specs
            if namespace:
                extra[_KUSTOMIZED_NAMESPACE] = namespace
        elif res.resource_type.startswith("kubernetes:helm.sh/"):
            files = inputs.get("valueYamlFiles")
            if has_unknown(files):
                raise _Unreadable("value files unknown at preview")
            for asset in files or []:
                read += _value_files(asset, budget)
        else:
            return _with_decoded(res, inputs), None
    except _Unreadable as exc:
        return _with_decoded(res, inputs), str(exc)
    return _with_decoded(res, {**inputs, **extra, _FILES: read}), None


def _with_decoded(res: PolicyResource, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Inputs with the base64 values of the objects they declare decoded (:data:`_DECODED`)."""
    if res.resource_type in _OBJECT_GROUPS:
        docs = _group_objects(inputs)
    else:
        docs = _typed_items(res, inputs) or [{**inputs, "kind": _kind(res)}]
    decoded: list[str] = []
    for doc in docs:
        if not isinstance(doc, Mapping):
            continue
        values = doc.get(_BASE64_FIELDS.get(str(doc.get("kind")), ""))
        for value in values.values() if isinstance(values, Mapping) else []:
            if not isinstance(value, str) or has_unknown(value):
                continue  # unknown at preview: what it came from decides
            with contextlib.suppress(binascii.Error, ValueError):
                decoded.append(base64.b64decode(value).decode("utf-8", "replace"))
    return {**inputs, _DECODED: decoded} if decoded else inputs


def _unreadable_message(res: PolicyResource, why: str) -> str:
    return (
        f"{res.resource_type} '{res.name}' reads {why}: what it writes to the cluster cannot be "
        "read here, so it cannot be proven not to write into ACK's system namespaces or hand "
        f"a resource the cluster owns to a controller. {_RENDER}"
    )


def _explained(own: Ownership, res: PolicyResource) -> bool:
    """Whether an unknown value in an object's metadata comes from a resource the program
    declares of its own (a Namespace it creates), which the rule judges in its own right."""
    deps = [d for key in ("metadata", "namespace") for d in res.property_dependencies.get(key, [])]
    return any(
        seen_inputs.seen(d.urn) is not None and own.owner_of(d) is None and not own.is_component(d)
        for d in deps
    )


no_loose_attachments_to_cluster_resources = stack_rule(
    "ack-no-loose-attachments-to-cluster-resources",
    description="Resources declared outside a cluster component must not take, and so attach "
    "to or change, what the component owns, except by the reviewed reference-only uses.",
    check=_loose_attachments,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Move the change into the component's typed arguments (the message names "
    "which). If the team accepts this exception, add the resource's URN, with the reason, to "
    "this rule's `allow` list in the policy config.",
    tags=["ownership", "drift"],
)
