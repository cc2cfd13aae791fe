"""Ownership: what a cluster owns is declared through its component, and stays protected."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from ._common import CLUSTER_TAG, CLUSTER_TYPES, in_cluster, is_map, resource_rule, truthy

#: Inputs the provider neither reads back nor updates on an ACK cluster (provider facts,
#: terraform-provider-alicloud v1.289.0): an adopted cluster ignores them so that its import
#: can match, and ignoring them hides nothing refresh or an update could have seen.
_NEVER_READ_CLUSTER_INPUTS = frozenset(
    {
        "addons",
        "newNatGateway",
        "password",
        "podVswitchIds",
        "skipSetCertificateAuthority",
        "slbInternetEnabled",
    }
)

#: Fields the components themselves ignore, by type (each has its reason in the component).
COMPONENT_IGNORES: dict[str, frozenset[str]] = {
    # The cluster autoscaler moves an autoscaled pool's desired size (opt-in per pool).
    "alicloud:cs/nodePool:NodePool": frozenset({"desiredSize"}),
    "alicloud:cs/managedKubernetes:ManagedKubernetes": _NEVER_READ_CLUSTER_INPUTS,
    "alicloud:cs/kubernetes:Kubernetes": _NEVER_READ_CLUSTER_INPUTS,
}


def _declared_through_components(args: ResourceValidationArgs) -> Iterator[str]:
    if in_cluster(args.urn):
        return
    if args.resource_type in CLUSTER_TYPES:
        yield (
            f"{args.name} is an ACK cluster declared loose in the stack: declare it with "
            "ManagedCluster (or adopt it into one with the import option), so the resources "
            "beneath it are owned and protected with it"
        )
        return
    tags = args.props.get("tags")
    if is_map(tags) and CLUSTER_TAG in tags:
        yield (
            # The tag's value is not repeated: the program set it, and it may be a secret
            # (pulumi-policy hands rules secrets unwrapped; only ack-preview redacts them).
            f"{args.name} carries the ownership tag {CLUSTER_TAG} but is not "
            "a child of a cluster component: only the component may create what it owns"
        )


cluster_resources_declared_through_components = resource_rule(
    "ack-cluster-resources-declared-through-components",
    description="ACK clusters, and resources tagged as owned by one, must be declared inside a "
    "cluster component.",
    types=None,
    check=_declared_through_components,
    severity=Severity.CRITICAL,
    mandatory=True,
    remediation="Declare the cluster with ManagedCluster and change what lies beneath it through "
    "its typed arguments; to adopt an existing cluster, import it into the component. Remove "
    "ownership tags from resources the component does not create.",
    tags=["ownership", "drift"],
)


def _ignores(args: ResourceValidationArgs) -> Iterator[str]:
    if not in_cluster(args.urn):
        return
    allowed = COMPONENT_IGNORES.get(args.resource_type, frozenset())
    hidden = sorted(set(args.opts.ignore_changes) - allowed)
    if hidden:
        yield (
            f"{args.name} ignores changes to {', '.join(hidden)}, which the component does not "
            "ignore: console edits to these fields would go unnoticed"
        )


owned_resources_ignore_only_component_fields = resource_rule(
    "ack-owned-resources-ignore-only-component-fields",
    description="Resources a cluster owns may ignore changes only to the fields the component "
    "itself ignores.",
    types=None,
    check=_ignores,
    severity=Severity.HIGH,
    mandatory=True,
    remediation="Remove the ignore_changes (or the transform that adds it). If the cloud really "
    "changes the field, change the component so it ignores it, with the reason.",
    tags=["ownership", "drift"],
)

#: Stateful resources and the cloud flag that protects each from deletion.
_PROTECTION_FLAGS = {
    "alicloud:vpc/network:Network": None,  # no cloud flag: Pulumi `protect` only
    "alicloud:vpc/natGateway:NatGateway": "deletionProtection",
    "alicloud:ecs/eipAddress:EipAddress": "deletionProtection",
    "alicloud:kms/key:Key": "deletionProtection",
    **{t: "deletionProtection" for t in CLUSTER_TYPES},
}
#: Checked wherever they are declared; the rest only when a cluster owns them.
_ALWAYS = frozenset({"alicloud:kms/key:Key", *CLUSTER_TYPES})


def _protected(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type not in _ALWAYS and not in_cluster(args.urn):
        return
    if args.opts.protect:
        return
    flag = _PROTECTION_FLAGS[args.resource_type]
    if flag is not None:
        value = args.props.get(flag)
        if value == "Enabled" or (value != "Disabled" and truthy(value)):
            return
    how = f"set {flag}" if flag else "set the protect option"
    yield f"{args.name} can be deleted by accident: {how} (the cluster's deletion_protection does)"


stateful_resources_deletion_protected = resource_rule(
    "ack-stateful-resources-deletion-protected",
    description="Clusters, KMS keys, and the VPC, NAT gateways and EIPs a cluster owns are "
    "protected against accidental deletion.",
    types=_PROTECTION_FLAGS,
    check=_protected,
    severity=Severity.HIGH,
    mandatory=True,
    remediation="Keep deletion_protection on (the default). To decommission a cluster on "
    "purpose, add its URN pattern to this rule's `allow` list in the policy config, turn "
    "deletion_protection off with `pulumi up`, then destroy.",
    tags=["ownership", "reliability"],
)
