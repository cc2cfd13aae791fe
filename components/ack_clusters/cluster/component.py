"""The one build path every cluster form runs: validate, plan, then register the foundation
(network, firewall, node role), the form's control plane, node pools, access, ingress and the
outputs.

What differs between the forms is data (:class:`ack_clusters.cluster.forms.ClusterForm`): the
argument model, the type token, the ``cs`` resource that is the control plane, a creation
notice, aliases. What runs the pods (ECS workers or ECI) comes from the argument model, and the
outputs each form offers from :mod:`ack_clusters.cluster.outputs`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from ..access.component import ClusterAccess
from ..around import component as around
from ..errors import InvalidArguments
from ..facts import PROVIDER_DEFAULT_REGION, REGION_ENVIRONMENT
from ..identity.component import NodeRole
from ..ingress.component import ClusterIngress
from ..later import check_when_known, given_tags, log_deferred
from ..network.component import ClusterNetwork
from ..node_pools.component import (
    NodePool,
    autoscaler_config,
    node_pool_ids,
    scaling_group_ids,
)
from ..ownership import RECORD_OUTPUT, Seals, identities_of, record_of, sealed
from ..security.component import ClusterSecurityGroup
from ..validation import placement_problems, zone_region
from .args import Adoption, BaseClusterArgs, Kind
from .outputs import outputs_of
from .plan import ClusterPlan, parse_args, plan_cluster

A = TypeVar("A", bound=BaseClusterArgs)
if TYPE_CHECKING:  # naming the classes at run time would load the provider's cs package
    #: The resource a form's control plane is: both expose `slb_id` and `connections`.
    ControlPlane = alicloud.cs.ManagedKubernetes | alicloud.cs.Kubernetes


@dataclass
class Foundation:
    network: ClusterNetwork
    security_group: ClusterSecurityGroup
    #: The RAM role node pools run as: the component's NodeRole, or an adopted existing role;
    #: None where pods run on ECI, without nodes.
    node_role_name: pulumi.Output[str] | None = None

    def node_vswitch_ids(
        self, plan: ClusterPlan, *, only: Sequence[str] | None = None
    ) -> list[pulumi.Output[str]]:
        """Cluster (node or ECI) vSwitch IDs in the order the user listed the zones; with
        `only`, of those zones (a pool's), still in the cluster's order."""
        return [
            self.network.node_vswitch_ids[z.zone]
            for z in plan.network.zones
            if only is None or z.zone in only
        ]

    def pod_vswitch_ids(self, plan: ClusterPlan) -> list[pulumi.Output[str]]:
        ids = self.network.pod_vswitch_ids
        return [ids[z.zone] for z in plan.network.zones if z.zone in ids]


@dataclass(frozen=True)
class ClusterForm(Generic[A]):
    """One cluster form, as data: everything the build path needs to know about it."""

    #: The stack config's `kind`, and the key of form-specific output descriptions.
    kind: Kind
    #: The component's class name, as users and the package see it.
    component: str
    type_token: str
    args_model: type[A]
    #: One paragraph for the package schema; a line break where the docstring breaks.
    summary: str
    #: Registers the form's control plane (the `cs` resource) under the component.
    control_plane: Callable[[pulumi.Resource, A, ClusterPlan, Foundation], ControlPlane]
    #: A warning to log when the component is built, if any (ACK closed creation).
    notice: Callable[[A], str | None] = lambda a: None
    #: Aliases for the component (children inherit them), e.g. after a form migration.
    aliases: Callable[[A], Sequence[pulumi.Alias]] = lambda a: ()


class ClusterComponent(pulumi.ComponentResource, Generic[A]):
    """Base of the cluster components: one constructor for every form, given as a class keyword
    (``class ManagedCluster(ClusterComponent[ManagedClusterArgs], form=MANAGED)``).

    Arguments are validated and the whole layer planned before anything is registered: a bad
    input raises :class:`ack_clusters.InvalidArguments` naming every bad field.

    The outputs are set from :mod:`ack_clusters.cluster.outputs`. Their Python types are
    declared for type checkers only (``TYPE_CHECKING``), and the form is kept as ``_form``:
    Pulumi's schema analyzer reads every public class-level annotation as a package output.
    tests/test_outputs.py holds these declarations to the outputs table."""

    _form: ClassVar[ClusterForm[Any]]

    if TYPE_CHECKING:
        cluster_id: pulumi.Output[str]
        vpc_id: pulumi.Output[str]
        vswitch_ids: pulumi.Output[list[str]]
        security_group_id: pulumi.Output[str]
        nat_gateway_id: pulumi.Output[str | None]
        nat_gateway_ids: dict[str, pulumi.Output[str]]
        egress_addresses: pulumi.Output[list[str]]
        api_server_slb_id: pulumi.Output[str]
        api_server_endpoint: pulumi.Output[str]
        ingress_load_balancer_id: pulumi.Output[str | None]
        kubeconfig: pulumi.Output[str]
        admin_kubeconfig: pulumi.Output[str]
        provider: k8s.Provider
        owned_identities: pulumi.Output[list[dict[str, str]]]
        app_subnet_ids: pulumi.Output[dict[str, str]]
        private_zone_ids: pulumi.Output[dict[str, str]]

    def __init_subclass__(cls, *, form: ClusterForm[Any] | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if form is not None:
            cls._form = form

    def __init__(
        self,
        name: str,
        args: A | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        form = self._form
        subject = f"{form.component} {name!r}"
        # Values from other resources (outputs) get their checks when known.
        self.args: A
        self.args, deferred = check_when_known(
            parse_args(form.args_model, subject, name, args), subject
        )
        self.plan: ClusterPlan = plan_cluster(subject, name, self.args)
        a, plan = self.args, self.plan
        provider = _alicloud_provider(opts)
        region_notes = [] if provider is not None else _configured_placement(subject, a)
        aliases = list(form.aliases(a))
        if aliases:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases))
        # What the component registers, it seals, before any transform of the program runs.
        self._seals = Seals()
        # Everything above is pure; nothing has been registered yet.
        super().__init__(form.type_token, name, None, sealed(opts, self._seals))
        for notice in [form.notice(a), *region_notes, *a.notices]:
            if notice is not None:
                pulumi.log.warn(notice, resource=self)
        log_deferred(deferred, self)
        if provider is not None:
            _check_provider_region(self, provider, subject, a.network.zones)

        foundation = self._foundation(plan, a)
        cluster = form.control_plane(self, a, plan, foundation)
        pools = self._node_pools(a, plan, foundation, cluster.id)
        self._addons(a, plan, cluster, after=list(pools.values()) or [cluster])
        if a.pools_autoscaler is not None:
            autoscaler_config(
                plan.name, a.pools_autoscaler, cluster_id=cluster.id, pools=pools, parent=self
            )
        endpoint = _endpoint(cluster, public=a.public_api_server)
        access = ClusterAccess(
            plan.name,
            cluster=cluster,
            endpoint=endpoint,
            region=str(zone_region(a.network.zones[0])),
            minutes=a.kubeconfig_minutes,
            parent=self,
        )
        ingress = (
            ClusterIngress(
                plan.name,
                a.ingress,
                private_vswitch_id=foundation.node_vswitch_ids(plan)[0],
                deletion_protection=a.deletion_protection,
                tags=given_tags(plan.tags),
                provider=access.provider,
                # The Service waits for what runs the ingress controller: the node pools, or
                # the cluster itself where pods run on ECI.
                service_depends_on=list(pools.values()) if a.workers == "ecs" else [cluster],
                parent=self,
            )
            if a.ingress is not None
            else None
        )
        network = foundation.network
        # What teams build around the cluster: owned, keyed by the names they chose.
        around.access_grants(plan.name, a.access.grants, cluster_id=cluster.id, parent=self)
        app_subnet_ids = around.app_subnets(
            plan.name,
            plan.app_subnets,
            vpc_id=network.vpc_id,
            tags=given_tags(plan.tags),
            parent=self,
        )
        private_zone_ids = around.private_zones(
            plan.name,
            a.private_zones,
            vpc_id=network.vpc_id,
            tags=given_tags(plan.tags),
            parent=self,
        )
        self._set_outputs(
            {
                "cluster_id": cluster.id,
                "vpc_id": network.vpc_id,
                "vswitch_ids": pulumi.Output.all(*foundation.node_vswitch_ids(plan)),
                "pod_vswitch_ids": pulumi.Output.all(*foundation.pod_vswitch_ids(plan)),
                "security_group_id": foundation.security_group.security_group_id,
                "nat_gateway_id": pulumi.Output.from_input(
                    next(iter(network.nat_gateway_ids.values()), None)
                ),
                "nat_gateway_ids": network.nat_gateway_ids,
                "egress_addresses": pulumi.Output.all(*network.egress_addresses),
                "api_server_slb_id": cluster.slb_id,
                "api_server_endpoint": endpoint,
                "node_role_name": foundation.node_role_name,
                "rrsa_oidc_issuer_url": _rrsa(cluster, "rrsa_oidc_issuer_url"),
                "rrsa_oidc_provider_arn": _rrsa(cluster, "ram_oidc_provider_arn"),
                "scaling_group_ids": scaling_group_ids(pools),
                "node_pool_ids": node_pool_ids(pools),
                "node_pools": pools,
                "ingress_load_balancer_id": (
                    ingress.load_balancer_id if ingress else pulumi.Output.from_input(None)
                ),
                "kubeconfig": access.kubeconfig,
                "admin_kubeconfig": access.admin_kubeconfig,
                "provider": access.provider,
                "owned_identities": identities_of(self, f"cluster '{name}'"),
                "app_subnet_ids": pulumi.Output.from_input(app_subnet_ids),
                "private_zone_ids": pulumi.Output.from_input(private_zone_ids),
            },
            # A stack exports each pool's group on its own, so a preview shows the pool names.
            exported_as={
                "scaling_group_ids": {n: p.scaling_group_id for n, p in pools.items()},
                "node_pool_ids": {n: p.node_pool_id for n, p in pools.items()},
            },
        )

    def _foundation(self, plan: ClusterPlan, a: BaseClusterArgs) -> Foundation:
        child = pulumi.ResourceOptions(parent=self)
        adopt = a.adopt or Adoption()
        network = ClusterNetwork(
            plan.name,
            plan.network,
            tags=given_tags(plan.tags),
            eip_bandwidth=a.network.nat_eip_bandwidth,
            deletion_protection=a.deletion_protection,
            vswitch_label=plan.vswitch_label,
            import_vpc_id=adopt.vpc_id,
            import_node_vswitch_ids=adopt.node_vswitch_ids,
            import_pod_vswitch_ids=adopt.pod_vswitch_ids,
            cen=a.network.cen,
            opts=child,
        )
        security_group = ClusterSecurityGroup(
            plan.name,
            vpc_id=network.vpc_id,
            rules=plan.rules,
            tags=given_tags(plan.tags),
            import_id=adopt.security_group_id,
            opts=child,
        )
        role_name: pulumi.Output[str] | None = None
        if a.workers == "ecs":
            role_name = (
                pulumi.Output.from_input(adopt.node_role_name)
                if adopt.node_role_name
                else NodeRole(plan.name, tags=given_tags(plan.tags), opts=child).role_name
            )
        return Foundation(network, security_group, role_name)

    def _node_pools(
        self, a: BaseClusterArgs, plan: ClusterPlan, foundation: Foundation, cluster_id: Any
    ) -> dict[str, NodePool]:
        adopt = a.adopt or Adoption()
        pools = {}
        for pool_name, pool in a.worker_pools.items():
            assert foundation.node_role_name is not None  # every form with pools has one
            pools[pool_name] = NodePool(
                f"{plan.name}-{pool_name}",
                pool_name=pool_name,
                args=pool,
                cluster_id=cluster_id,
                vswitch_ids=foundation.node_vswitch_ids(plan, only=pool.zones),
                security_group_id=foundation.security_group.security_group_id,
                ram_role_name=foundation.node_role_name,
                tags=given_tags(plan.tags),
                # Nodes boot and pull images right away: never before they have egress.
                depends_on=foundation.network.egress,
                import_id=(
                    f"{adopt.cluster_id}:{adopt.node_pool_ids[pool_name]}"
                    if pool_name in adopt.node_pool_ids
                    else None
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return pools

    def _addons(
        self,
        a: BaseClusterArgs,
        plan: ClusterPlan,
        cluster: ControlPlane,
        *,
        after: Sequence[pulumi.Resource],
    ) -> None:
        """One KubernetesAddon per installed addon, keyed by its name. Each waits for what runs
        its pods: the node pools, or the cluster itself where pods run on ECI."""
        for addon in a.addons:
            if addon.disabled:
                continue  # the cluster resource takes it (forms.addon_args)
            alicloud.cs.KubernetesAddon(
                f"{plan.name}-{addon.name}",
                cluster_id=cluster.id,
                name=addon.name,
                version=addon.version,
                config=addon.config,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
            )

    def _set_outputs(self, values: Mapping[str, Any], *, exported_as: Mapping[str, Any]) -> None:
        """Set the attributes of the outputs this form offers; register those the package
        serves; remember what a stack program exports (``exported_as`` where a stack exports
        another shape of the same value)."""
        offered = outputs_of(self._form.kind)
        for output in offered:
            setattr(self, output.name, values[output.name])
        self._exports: dict[str, Any] = {
            o.name: exported_as.get(o.name, values[o.name]) for o in offered if o.exported
        }
        self.register_outputs(
            {
                **{o.name: values[o.name] for o in offered if o.schema_type},
                # What it owns, for the policy pack (ack_policies.record).
                RECORD_OUTPUT: record_of(self, self._seals),
            }
        )

    def stack_exports(self) -> dict[str, Any]:
        """What a stack program exports for this cluster (see ack_clusters.cluster.outputs)."""
        return dict(self._exports)


class WorkerNodeOutputs:
    """The outputs of the forms whose pods run on ECS worker nodes, typed for type checkers
    (see ClusterComponent)."""

    if TYPE_CHECKING:
        pod_vswitch_ids: pulumi.Output[list[str]]
        node_role_name: pulumi.Output[str]
        scaling_group_ids: pulumi.Output[dict[str, str]]
        node_pool_ids: pulumi.Output[dict[str, str]]
        node_pools: dict[str, NodePool]


class ManagedControlPlaneOutputs:
    """The outputs of the forms whose control plane ACK manages, typed for type checkers."""

    if TYPE_CHECKING:
        rrsa_oidc_issuer_url: pulumi.Output[str | None]
        rrsa_oidc_provider_arn: pulumi.Output[str | None]


def _alicloud_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource | None:
    """The alicloud provider the component's resources will use when it is not the default
    one: given in `opts` (``provider``, ``providers``) or inherited from the parent."""
    if opts is None:
        return None
    given = [opts.provider] if opts.provider is not None else []
    providers = opts.providers
    given += list(providers.values()) if isinstance(providers, Mapping) else list(providers or [])
    for p in given:
        if isinstance(p, pulumi.ProviderResource) and p.package == "alicloud":
            return p
    if opts.parent is not None:
        return opts.parent.get_provider("alicloud:cs/managedKubernetes:ManagedKubernetes")
    return None


def _configured_placement(subject: str, a: BaseClusterArgs) -> list[str]:
    """With the default provider: the region it uses, as it finds it (the stack's
    `alicloud:region`, then the environment: facts.REGION_ENVIRONMENT), checked with the zones
    before anything is registered; the warnings to log. The config-driven program checks the
    same (ack_clusters.program); code-driven programs get the same checks here."""
    zones = list(a.network.zones)
    region, key = pulumi.Config("alicloud").get("region"), "alicloud:region"
    if region is None:
        region, key = _environment_region() or (None, key)
    if region is None:
        return [
            f"no region is set (alicloud:region, or {' or '.join(REGION_ENVIRONMENT)}): the "
            "provider then takes the aliyun CLI profile's region, else "
            f"{PROVIDER_DEFAULT_REGION} (terraform-provider-alicloud, providerConfigure), so "
            f"zones {', '.join(zones)} could not be checked against it: set alicloud:region to "
            f"{zone_region(zones[0])}"
        ]
    problems, warnings = placement_problems(
        region.strip(), zones, region_key=key, zones_key="network.zones"
    )
    if problems:
        raise InvalidArguments(subject, problems)
    return warnings


def _environment_region() -> tuple[str, str] | None:
    """The region the provider reads from the environment when it is given none, and where it
    was found (facts.REGION_ENVIRONMENT, in the provider's order), if any."""
    for variable in REGION_ENVIRONMENT:
        if os.environ.get(variable):
            return os.environ[variable], f"{variable} (environment)"
    return None


def _check_provider_region(
    component: pulumi.Resource, provider: pulumi.ProviderResource, subject: str, zones: list[str]
) -> None:
    """With an explicit provider, its region is an output: the zones are checked against it when
    it is known (the update fails naming the zones); unknown at preview, nothing fails."""
    region = getattr(provider, "region", None)
    if not isinstance(region, pulumi.Output):
        pulumi.log.info(
            "the alicloud provider's region is not known here: zones not checked against it",
            resource=component,
        )
        return

    def check(value: str | None) -> None:
        key = "provider.region"
        # A provider without a region takes it as the default provider does, from the
        # environment, then the CLI profile, then cn-beijing (provider.go, providerConfigure):
        # an explicit provider never reads the stack's alicloud:region.
        if not value:
            value, key = _environment_region() or (None, key)
        if not value:
            pulumi.log.warn(
                f"the resource's alicloud provider sets no region, and neither does "
                f"{' nor '.join(REGION_ENVIRONMENT)}: the provider then takes the aliyun CLI "
                f"profile's region, else {PROVIDER_DEFAULT_REGION} (terraform-provider-alicloud, "
                f"providerConfigure), not alicloud:region, so zones {', '.join(zones)} could not "
                f"be checked against it: give the provider region={zone_region(zones[0])!r}",
                resource=component,
            )
            return
        problems, warnings = placement_problems(
            value.strip(), zones, region_key=key, zones_key="network.zones"
        )
        for warning in warnings:
            pulumi.log.warn(warning, resource=component)
        if problems:
            raise InvalidArguments(
                subject, [(p, f"{m} (the region of the resource's provider)") for p, m in problems]
            )

    region.apply(check)
    pulumi.log.info(
        "zones are checked against the alicloud provider's region when it is known",
        resource=component,
    )


def _rrsa(cluster: ControlPlane, field: str) -> pulumi.Output[str | None]:
    """A field of the cluster's RRSA metadata, None while RRSA is off. (Only clusters with an
    ACK-managed control plane have the metadata; the dedicated form offers no RRSA output.)"""
    metadata = getattr(cluster, "rrsa_metadata", None)
    if metadata is None:
        return pulumi.Output.from_input(None)

    def pick(m: Any) -> str | None:
        if not m:
            return None
        get = m.get if isinstance(m, Mapping) else lambda k: getattr(m, k, None)
        enabled = get("enabled")
        value = get(field) or get(
            "".join(w.title() if i else w for i, w in enumerate(field.split("_")))
        )
        return str(value) if enabled and value else None

    return metadata.apply(pick)


def _endpoint(cluster: ControlPlane, *, public: bool) -> pulumi.Output[str]:
    # `connections` is a list of one in the provider's schema.
    return cluster.connections.apply(
        lambda cs: (cs[0].api_server_internet if public else cs[0].api_server_intranet) or ""
    )
