"""NodePool: one ACK node pool, which owns its ESS scaling group of ECS workers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_alicloud as alicloud

from ..later import given
from ..naming import NODE_POOL_TYPE
from .args import Autoscaler, Disk, NodePoolArgs


def _data_disk(d: Disk) -> alicloud.cs.NodePoolDataDiskArgs:
    return alicloud.cs.NodePoolDataDiskArgs(
        category=d.category,
        size=d.size,
        performance_level=d.performance_level,
        encrypted="true" if d.encrypted else "false",  # the provider types it as a string
        kms_key_id=given(d.kms_key_id),
    )


class NodePool(pulumi.ComponentResource):
    node_pool_id: pulumi.Output[str]
    scaling_group_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        pool_name: str,
        args: NodePoolArgs,
        cluster_id: pulumi.Input[str],
        vswitch_ids: Sequence[pulumi.Input[str]],
        security_group_id: pulumi.Input[str],
        ram_role_name: pulumi.Input[str],
        tags: Mapping[str, pulumi.Input[str]],
        depends_on: Sequence[pulumi.Resource] = (),
        import_id: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(NODE_POOL_TYPE, name, None, opts)
        scaling = (
            alicloud.cs.NodePoolScalingConfigArgs(
                enable=True,
                min_size=args.autoscaling.min_size,
                max_size=args.autoscaling.max_size,
                type="spot" if args.spot else "cpu",
            )
            if args.autoscaling is not None
            else None
        )
        managed = args.managed
        spot_strategy = "NoSpot"
        if args.spot:
            spot_strategy = "SpotWithPriceLimit" if args.spot_price_limits else "SpotAsPriceGo"
        mix = args.spot_mix
        prepaid = args.prepaid
        ignore = []
        if args.ignore_scaling_changes:
            # The cluster autoscaler moves desired_size between min and max; without this,
            # every `pulumi up` would scale the pool back to the number in code.
            ignore.append("desired_size")
        pool = alicloud.cs.NodePool(
            name,
            node_pool_name=pool_name,
            cluster_id=cluster_id,
            vswitch_ids=list(vswitch_ids),
            instance_types=args.instance_types,
            security_group_ids=[security_group_id],
            ram_role_name=ram_role_name,
            desired_size=None if args.desired_size is None else str(args.desired_size),
            scaling_config=scaling,
            # ESS mixes pay-as-you-go and spot nodes by the cost-optimized policy only.
            multi_az_policy="COST_OPTIMIZED" if mix else "BALANCE",
            instance_charge_type="PrePaid" if prepaid else "PostPaid",
            period=prepaid.period if prepaid else None,
            period_unit="Month" if prepaid else None,
            auto_renew=prepaid.auto_renew if prepaid else None,
            auto_renew_period=prepaid.auto_renew_period if prepaid else None,
            spot_strategy=spot_strategy,
            spot_instance_remedy=True if args.spot else None,
            spot_price_limits=(
                [
                    alicloud.cs.NodePoolSpotPriceLimitArgs(instance_type=t, price_limit=str(p))
                    for t, p in args.spot_price_limits.items()
                ]
                if args.spot_price_limits
                else None
            ),
            on_demand_base_capacity=str(mix.on_demand_base_capacity) if mix else None,
            on_demand_percentage_above_base_capacity=(
                str(mix.on_demand_percentage_above_base_capacity) if mix else None
            ),
            compensate_with_on_demand=mix.compensate_with_on_demand if mix else None,
            spot_instance_pools=mix.spot_instance_pools if mix else None,
            scaling_policy=args.scaling_policy,
            resource_group_id=given(args.resource_group_id),
            runtime_name=args.runtime,
            runtime_version=args.runtime_version,
            # Secret whether the script came as a secret output, a plain output or text.
            user_data=(
                pulumi.Output.secret(args.encoded_user_data) if args.user_data is not None else None
            ),
            labels=[alicloud.cs.NodePoolLabelArgs(key=k, value=v) for k, v in args.labels.items()],
            taints=[
                alicloud.cs.NodePoolTaintArgs(key=t.key, value=t.value, effect=t.effect)
                for t in args.taints
            ],
            image_type=args.image_type,
            system_disk_category=args.system_disk.category,
            system_disk_size=args.system_disk.size,
            system_disk_performance_level=args.system_disk.performance_level,
            system_disk_encrypted=args.system_disk.encrypted,
            system_disk_kms_key=given(args.system_disk.kms_key_id),
            data_disks=[_data_disk(d) for d in args.data_disks],
            key_name=given(args.key_name),
            password=(
                pulumi.Output.secret(args.password_input) if args.password is not None else None
            ),
            management=alicloud.cs.NodePoolManagementArgs(
                enable=managed,
                auto_repair=args.auto_repair,
                auto_upgrade=args.auto_upgrade,
                max_unavailable=args.max_unavailable,
                auto_repair_policy=_policy(
                    alicloud.cs.NodePoolManagementAutoRepairPolicyArgs,
                    restart_node=args.repair_restarts_nodes,
                ),
                auto_upgrade_policy=_policy(
                    alicloud.cs.NodePoolManagementAutoUpgradePolicyArgs,
                    auto_upgrade_kubelet=args.upgrade_kubelet,
                ),
                # Sent false too: auto_vul_fix is Optional+Computed (node_pool.go:629), so
                # leaving it out would keep CVE patching on in the cloud once turned off.
                auto_vul_fix=args.fix_vulnerabilities,
                auto_vul_fix_policy=_policy(
                    alicloud.cs.NodePoolManagementAutoVulFixPolicyArgs,
                    restart_node=args.fix_restarts_nodes,
                    vul_level=(
                        ",".join(args.vulnerability_levels)
                        if args.vulnerability_levels is not None
                        else None
                    ),
                ),
            ),
            rolling_policy=(
                alicloud.cs.NodePoolRollingPolicyArgs(max_parallelism=args.upgrade_max_parallelism)
                if args.upgrade_max_parallelism is not None
                else None
            ),
            install_cloud_monitor=True,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(depends_on),
                ignore_changes=ignore or None,
                import_=import_id,  # "<cluster ID>:<node pool ID>" when adopting
            ),
        )
        self.node_pool_id = pool.node_pool_id
        self.scaling_group_id = pool.scaling_group_id
        self.register_outputs(
            {"node_pool_id": self.node_pool_id, "scaling_group_id": self.scaling_group_id}
        )


def _policy(cls: Any, **fields: Any) -> Any:
    """A management sub-policy with the fields the user set, or None when none is set (ACK's
    defaults then apply)."""
    given = {k: v for k, v in fields.items() if v is not None}
    return cls(**given) if given else None


def scaling_group_ids(pools: dict[str, NodePool]) -> pulumi.Output[dict[str, str]]:
    """Pool name -> ESS scaling group ID, as one output (the form other languages can read)."""
    if not pools:
        return pulumi.Output.from_input({})
    return pulumi.Output.all(**{name: pool.scaling_group_id for name, pool in pools.items()})


def autoscaler_config(
    name: str,
    settings: Autoscaler,
    *,
    cluster_id: pulumi.Input[str],
    pools: dict[str, NodePool],
    parent: pulumi.Resource,
) -> alicloud.cs.AutoscalingConfig:
    """The cluster autoscaler's settings (ACK keeps one per cluster). The provider resends them
    all on every update; deleting the resource leaves ACK's settings as they were."""
    groups: pulumi.Output[dict[str, str]] | None = None
    if settings.priorities:
        # ACK keys priorities by value, each naming its pools' scaling groups.
        ids = {n: pools[n].scaling_group_id for n in settings.priorities}
        groups = pulumi.Output.all(**ids).apply(
            lambda by_pool: {
                str(level): ",".join(
                    by_pool[n]
                    for n in sorted(settings.priorities)
                    if settings.priorities[n] == level
                )
                for level in sorted(set(settings.priorities.values()))
            }
        )
    return alicloud.cs.AutoscalingConfig(
        f"{name}-autoscaler",
        cluster_id=cluster_id,
        scan_interval=settings.scan_interval,
        scale_down_enabled=settings.scale_down_enabled,
        cool_down_duration=settings.cool_down_duration,
        unneeded_duration=settings.unneeded_duration,
        # Strings to the provider; "0.5", never "0.50", so that Read gives back what was sent.
        utilization_threshold=format(settings.utilization_threshold, "g"),
        gpu_utilization_threshold=format(settings.gpu_utilization_threshold, "g"),
        expander=settings.expander,
        priorities=groups,
        scaler_type=settings.scaler_type,
        # false is never sent for these (GetOk): declared only when they differ from ACK's.
        skip_nodes_with_local_storage=settings.skip_nodes_with_local_storage or None,
        daemonset_eviction_for_nodes=settings.daemonset_eviction_for_nodes or None,
        recycle_node_deletion_enabled=settings.recycle_node_deletion_enabled or None,
        max_graceful_termination_sec=settings.max_graceful_termination_sec,
        min_replica_count=settings.min_replica_count,
        # The pools' scaling groups exist before the autoscaler is told how to size them.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(pools.values())),
    )


def node_pool_ids(pools: dict[str, NodePool]) -> pulumi.Output[dict[str, str]]:
    """Pool name -> ACK node pool ID (np...), as one output."""
    if not pools:
        return pulumi.Output.from_input({})
    return pulumi.Output.all(**{name: pool.node_pool_id for name, pool in pools.items()})
