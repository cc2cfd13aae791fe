"""Drift scenarios: a cluster plus a loose resource attaching to each kind of resource it owns.
Programs run in preview mode (every ID unknown) and update mode, through the real policy pack;
each loose change must be blocked, and the same change made through the component's typed
arguments must pass."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import ManagedCluster, ServerlessCluster
from ack_clusters.cluster.component import ClusterComponent
from ack_clusters.ingress.component import LB_ID_ANNOTATION
from ack_offline.gate import Violation
from ack_offline.recorder import ProgramRun, RecordedResource

from .conftest import AUTOSCALED_POOL, POOL, args, form_args, found, run

DRIFT = "ack-no-loose-attachments-to-cluster-resources"


def cluster(**overrides) -> ManagedCluster:
    base = {"ingress": {}, "node_pools": {"general": AUTOSCALED_POOL}}
    return ManagedCluster("demo", args(**{**base, **overrides}))


def serverless() -> ServerlessCluster:
    return ServerlessCluster("demo", form_args("serverless", ingress={}))


def _foreign_pool(name: str, **group: Any) -> alicloud.cs.NodePool:
    """A node pool of another cluster, in the security group(s) given."""
    return alicloud.cs.NodePool(
        name,
        cluster_id="c-elsewhere",
        node_pool_name="elsewhere",
        instance_types=["ecs.g7.large"],
        vswitch_ids=["vsw-elsewhere"],
        desired_size="1",
        key_name="k",
        **group,
    )


def instance_with_interface(
    name: str, group_ids: Any, vswitch_id: Any = "vsw-elsewhere"
) -> alicloud.ecs.Instance:
    """An instance in a group of its own and a vSwitch, with one more network interface
    declared inside it, in the security groups given."""
    return alicloud.ecs.Instance(
        name,
        security_groups=["sg-mine"],
        vswitch_id=vswitch_id,
        instance_type="ecs.g7.large",
        image_id="aliyun_3_x64_20G_alibase_20240819.vhd",
        system_disk_encrypted=True,
        network_interfaces=alicloud.ecs.InstanceNetworkInterfacesArgs(
            vswitch_id=vswitch_id, security_group_ids=group_ids
        ),
    )


LOOSE: dict[str, Callable[[Any, str], object]] = {
    "rule on its security group": lambda c, name: alicloud.ecs.SecurityGroupRule(
        name,
        security_group_id=c.security_group_id,
        type="ingress",
        ip_protocol="tcp",
        port_range="8443/8443",
        cidr_ip="10.9.0.0/16",
        nic_type="intranet",
    ),
    "instance in its security group": lambda c, name: alicloud.ecs.Instance(
        name,
        security_groups=[c.security_group_id],
        instance_type="ecs.g7.large",
        image_id="aliyun_3_x64_20G_alibase_20240819.vhd",
        system_disk_encrypted=True,
    ),
    "route table in its VPC": lambda c, name: alicloud.vpc.RouteTable(
        name, vpc_id=c.vpc_id, route_table_name="loose"
    ),
    "route in its VPC's route table": lambda c, name: alicloud.vpc.RouteEntry(
        name,
        # the VPC's system route table: its ID comes with the VPC
        route_table_id=c.vpc_id.apply(lambda vpc: f"vtb-of-{vpc}"),
        destination_cidrblock="10.50.0.0/16",
        nexthop_type="Instance",
        nexthop_id="i-123",
    ),
    "route table on its vSwitch": lambda c, name: alicloud.vpc.RouteTableAttachment(
        name,
        route_table_id="vtb-elsewhere",
        vswitch_id=c.vswitch_ids.apply(lambda ids: ids[0]),
    ),
    "another vSwitch bound to its VPC's route table": lambda c, name: (
        alicloud.vpc.RouteTableAttachment(
            name,
            route_table_id=c.vpc_id.apply(lambda vpc: f"vtb-of-{vpc}"),
            vswitch_id="vsw-elsewhere",
        )
    ),
    "route table association of its CEN attachment": lambda c, name: (
        alicloud.cen.TransitRouterRouteTableAssociation(
            name,
            # the component exposes no attachment ID: a program derives it from the VPC's
            transit_router_attachment_id=c.vpc_id.apply(lambda vpc: f"tr-attach-of-{vpc}"),
            transit_router_route_table_id="vtb-tr-elsewhere",
        )
    ),
    "its node role attached to other instances": lambda c, name: alicloud.ram.RoleAttachment(
        name, role_name=c.node_role_name, instance_ids=["i-1"]
    ),
    "network interface in its security group": lambda c, name: alicloud.ecs.EcsNetworkInterface(
        name,
        vswitch_id="vsw-elsewhere",
        security_group_ids=[c.security_group_id],
        network_interface_name="loose",
    ),
    "listener on its ingress load balancer": lambda c, name: alicloud.slb.Listener(
        name,
        load_balancer_id=c.ingress_load_balancer_id,
        frontend_port=8080,
        backend_port=8080,
        protocol="tcp",
        bandwidth=-1,
    ),
    "listener on its API server load balancer": lambda c, name: alicloud.slb.Listener(
        name,
        load_balancer_id=c.api_server_slb_id,
        frontend_port=9443,
        backend_port=6443,
        protocol="tcp",
        bandwidth=-1,
    ),
    "SNAT entry on its NAT gateway": lambda c, name: alicloud.vpc.SnatEntry(
        name,
        snat_table_id=c.nat_gateway_id.apply(lambda _: "stb-lookedup"),
        source_cidr="10.200.0.0/16",
        snat_ip="47.1.1.1",
    ),
    "DNAT entry on its NAT gateway": lambda c, name: alicloud.vpc.ForwardEntry(
        name,
        forward_table_id=c.nat_gateway_id.apply(lambda _: "ftb-lookedup"),
        external_ip="47.1.1.1",
        external_port="80",
        internal_ip="10.0.32.10",
        internal_port="80",
        ip_protocol="tcp",
    ),
    "EIP association to its NAT gateway": lambda c, name: alicloud.ecs.EipAssociation(
        name,
        allocation_id="eip-mine",
        instance_id=c.nat_gateway_id,
        instance_type="Nat",
    ),
    "its NAT EIP associated elsewhere": lambda c, name: alicloud.ecs.EipAssociation(
        name,
        # the component exposes no EIP ID: a program derives it from the NAT gateway's
        allocation_id=c.nat_gateway_id.apply(lambda nat: f"eip-of-{nat}"),
        instance_id="i-mine",
        instance_type="EcsInstance",
    ),
    "policy attached to its node role": lambda c, name: alicloud.ram.RolePolicyAttachment(
        name,
        role_name=c.node_role_name,
        policy_name="AliyunOSSReadOnlyAccess",
        policy_type="System",
    ),
    "scaling rule on a node pool's scaling group": lambda c, name: alicloud.ess.ScalingRule(
        name,
        scaling_group_id=c.node_pools["general"].scaling_group_id,
        adjustment_type="QuantityChangeInCapacity",
        adjustment_value=2,
    ),
    "alarm on a node pool's scaling group": lambda c, name: alicloud.ess.Alarm(
        name,
        scaling_group_id=c.node_pools["general"].scaling_group_id,
        alarm_actions=["ari-1"],
        metric_name="CpuUtilization",
        threshold="80",
    ),
    "vSwitch in its VPC": lambda c, name: alicloud.vpc.Switch(
        name,
        vpc_id=c.vpc_id,
        zone_id="cn-hangzhou-k",
        cidr_block="10.0.192.0/22",
    ),
    "node pool on its cluster": lambda c, name: alicloud.cs.NodePool(
        name,
        cluster_id=c.cluster_id,
        node_pool_name="extra",
        instance_types=["ecs.g7.large"],
        vswitch_ids=c.vswitch_ids,
        desired_size="1",
        key_name="k",
    ),
    "addon on its cluster": lambda c, name: alicloud.cs.KubernetesAddon(
        name,
        cluster_id=c.cluster_id,
        name="ack-node-problem-detector",
        version="1.2.20",
    ),
    "RBAC grant on its cluster": lambda c, name: alicloud.cs.KubernetesPermission(
        name,
        uid="200000000000000",
        permissions=[
            alicloud.cs.KubernetesPermissionPermissionArgs(
                cluster=c.cluster_id, role_type="cluster", role_name="admin"
            )
        ],
    ),
    "network ACL on its vSwitches": lambda c, name: alicloud.vpc.NetworkAcl(
        name,
        vpc_id="vpc-elsewhere",
        network_acl_name="loose",
        resources=c.vswitch_ids.apply(
            lambda ids: [{"resourceId": v, "resourceType": "VSwitch"} for v in ids]
        ),
    ),
    "DHCP options on its VPC": lambda c, name: alicloud.vpc.DhcpOptionsSetAttachment(
        name, vpc_id=c.vpc_id, dhcp_options_set_id="dopt-1"
    ),
    "secondary CIDR on its VPC": lambda c, name: alicloud.vpc.Ipv4CidrBlock(
        name, vpc_id=c.vpc_id, secondary_cidr_block="10.200.0.0/16"
    ),
    "PrivateZone bound to its VPC": lambda c, name: alicloud.pvtz.ZoneAttachment(
        name, zone_id="zone-1", vpc_ids=[c.vpc_id]
    ),
    "PrivateZone bound to its VPC by region": lambda c, name: alicloud.pvtz.ZoneAttachment(
        name,
        zone_id="zone-1",
        vpcs=[alicloud.pvtz.ZoneAttachmentVpcArgs(vpc_id=c.vpc_id, region_id="cn-hangzhou")],
    ),
    "CEN attachment of its VPC": lambda c, name: alicloud.cen.InstanceAttachment(
        name,
        instance_id="cen-1",
        child_instance_id=c.vpc_id,
        child_instance_type="VPC",
        child_instance_region_id="cn-hangzhou",
    ),
    "CEN transit router attachment of its VPC": lambda c, name: (
        alicloud.cen.TransitRouterVpcAttachment(
            name, cen_id="cen-1", vpc_id=c.vpc_id, zone_mappings=[]
        )
    ),
    "peering of its VPC": lambda c, name: alicloud.vpc.PeerConnection(
        name,
        vpc_id=c.vpc_id,
        accepting_ali_uid=1,
        accepting_region_id="cn-shanghai",
        accepting_vpc_id="vpc-elsewhere",
    ),
    "peering into its VPC": lambda c, name: alicloud.vpc.PeerConnection(
        name,
        vpc_id="vpc-elsewhere",
        accepting_ali_uid=1,
        accepting_region_id="cn-hangzhou",
        accepting_vpc_id=c.vpc_id,
    ),
    "VPN gateway in its VPC": lambda c, name: alicloud.vpn.Gateway(
        name, vpc_id=c.vpc_id, bandwidth=10, vpn_gateway_name="loose"
    ),
    "VPN gateway in its vSwitch": lambda c, name: alicloud.vpn.Gateway(
        name,
        vpc_id="vpc-elsewhere",
        vswitch_id=c.vswitch_ids.apply(lambda ids: ids[0]),
        bandwidth=10,
        vpn_gateway_name="loose",
    ),
    "IPv6 gateway in its VPC": lambda c, name: alicloud.vpc.Ipv6Gateway(name, vpc_id=c.vpc_id),
    "HA VIP in its vSwitch": lambda c, name: alicloud.vpc.HAVip(
        name, vswitch_id=c.vswitch_ids.apply(lambda ids: ids[0]), ha_vip_name="loose"
    ),
    "HA VIP in its vSwitch (the newer resource)": lambda c, name: alicloud.vpc.HaVipv2(
        name, vswitch_id=c.vswitch_ids.apply(lambda ids: ids[0]), ha_vip_name="loose"
    ),
    "IPv4 gateway in its VPC": lambda c, name: alicloud.vpc.Ipv4Gateway(
        name, vpc_id=c.vpc_id, ipv4_gateway_name="loose", enabled=True
    ),
    "secondary IPv6 CIDR on its VPC": lambda c, name: alicloud.vpc.Ipv6CidrBlock(
        name, vpc_id=c.vpc_id, ipv6_cidr_mask=56
    ),
    "CIDR reservation in its vSwitch": lambda c, name: alicloud.vpc.VswitchCidrReservation(
        name, vswitch_id=c.vswitch_ids.apply(lambda ids: ids[0]), cidr_reservation_mask="28"
    ),
    "VPC route in its route table": lambda c, name: alicloud.vpc.VPCRouteEntry(
        name,
        route_table_id=c.vpc_id.apply(lambda vpc: f"vtb-of-{vpc}"),
        destination_cidr_block="10.50.0.0/16",
        nexthop_type="Instance",
        nexthop_id="i-123",
    ),
    "gateway on its route table": lambda c, name: alicloud.vpc.GatewayRouteTableAttachment(
        name,
        route_table_id=c.vpc_id.apply(lambda vpc: f"vtb-of-{vpc}"),
        ipv4_gateway_id="ipv4gw-1",
    ),
    "address range on its NAT gateway": lambda c, name: alicloud.vpc.NatIpCidr(
        name,
        nat_gateway_id=c.nat_gateway_id,
        nat_ip_cidr="192.168.0.0/24",
        nat_ip_cidr_name="loose",
    ),
    "NAT EIP in a shared bandwidth package": lambda c, name: (
        alicloud.vpc.CommonBandwithPackageAttachment(
            name,
            bandwidth_package_id="cbwp-1",
            # the component exposes no EIP ID: a program derives it from the NAT gateway's
            instance_id=c.nat_gateway_id.apply(lambda nat: f"eip-of-{nat}"),
        )
    ),
    "scaling configuration in its security group": lambda c, name: (
        alicloud.ess.ScalingConfiguration(
            name,
            scaling_group_id="asg-elsewhere",
            security_group_id=c.security_group_id,
            instance_type="ecs.g7.large",
            image_id="aliyun_3_x64_20G_alibase_20240819.vhd",
        )
    ),
    "scaling configuration in its security groups": lambda c, name: (
        alicloud.ess.ScalingConfiguration(
            name,
            scaling_group_id="asg-elsewhere",
            security_group_ids=[c.security_group_id],
            instance_type="ecs.g7.large",
            image_id="aliyun_3_x64_20G_alibase_20240819.vhd",
        )
    ),
    # Joining its security group, other than by an instance, an ENI or ESS.
    "network interface in its security group (old spelling)": lambda c, name: (
        alicloud.ecs.EcsNetworkInterface(
            name, vswitch_id="vsw-elsewhere", security_groups=[c.security_group_id]
        )
    ),
    "VPC network interface in its security group": lambda c, name: alicloud.vpc.NetworkInterface(
        name, vswitch_id="vsw-elsewhere", security_groups=[c.security_group_id]
    ),
    "VPC network interface in its security groups": lambda c, name: alicloud.vpc.NetworkInterface(
        name, vswitch_id="vsw-elsewhere", security_group_ids=[c.security_group_id]
    ),
    "instance set in its security group": lambda c, name: alicloud.ecs.EcsInstanceSet(
        name,
        amount=2,
        image_id="aliyun_3_x64_20G_alibase_20240819.vhd",
        instance_type="ecs.g7.large",
        vswitch_id="vsw-elsewhere",
        security_group_ids=[c.security_group_id],
    ),
    "launch template for its security group": lambda c, name: alicloud.ecs.EcsLaunchTemplate(
        name, launch_template_name="loose", security_group_id=c.security_group_id
    ),
    "launch template for its security groups": lambda c, name: alicloud.ecs.LaunchTemplate(
        name, security_group_ids=[c.security_group_id]
    ),
    "ECI container group in its security group": lambda c, name: alicloud.eci.ContainerGroup(
        name,
        container_group_name="loose",
        security_group_id=c.security_group_id,
        vswitch_id="vsw-elsewhere",
        containers=[alicloud.eci.ContainerGroupContainerArgs(name="app", image="nginx:1.27")],
    ),
    "another cluster's node pool in its security group": lambda c, name: _foreign_pool(
        name, security_group_ids=[c.security_group_id]
    ),
    "another cluster's node pool in its security group (old spelling)": lambda c, name: (
        _foreign_pool(name, security_group_id=c.security_group_id)
    ),
    "network load balancer in its security group": lambda c, name: alicloud.nlb.LoadBalancer(
        name,
        address_type="Intranet",
        load_balancer_type="Network",
        vpc_id="vpc-elsewhere",
        zone_mappings=[
            alicloud.nlb.LoadBalancerZoneMappingArgs(
                vswitch_id="vsw-elsewhere", zone_id="cn-hangzhou-i"
            ),
            alicloud.nlb.LoadBalancerZoneMappingArgs(
                vswitch_id="vsw-elsewhere-2", zone_id="cn-hangzhou-j"
            ),
        ],
        security_group_ids=[c.security_group_id],
    ),
    # ... or by a network interface declared inside the resource.
    "instance with a network interface in its security group": lambda c, name: (
        instance_with_interface(name, [c.security_group_id])
    ),
    "launch template with a network interface in its security group": lambda c, name: (
        alicloud.ecs.EcsLaunchTemplate(
            name,
            launch_template_name="loose-eni",
            security_group_id="sg-mine",
            network_interfaces=alicloud.ecs.EcsLaunchTemplateNetworkInterfacesArgs(
                name="eni", vswitch_id="vsw-elsewhere", security_group_id=c.security_group_id
            ),
        )
    ),
    "scaling configuration with a network interface in its security group": lambda c, name: (
        alicloud.ess.ScalingConfiguration(
            name,
            scaling_group_id="asg-elsewhere",
            security_group_id="sg-mine",
            instance_type="ecs.g7.large",
            image_id="aliyun_3_x64_20G_alibase_20240819.vhd",
            network_interfaces=[
                alicloud.ess.ScalingConfigurationNetworkInterfaceArgs(
                    instance_type="Secondary", security_group_ids=[c.security_group_id]
                )
            ],
        )
    ),
    "endpoint of a service in its security group": lambda c, name: alicloud.privatelink.VpcEndpoint(
        name,
        vpc_id="vpc-elsewhere",
        service_name="com.aliyuncs.privatelink.cn-hangzhou.epsrv-elsewhere",
        security_group_ids=[c.security_group_id],
    ),
    "DNS resolver endpoint in its security group": lambda c, name: alicloud.pvtz.Endpoint(
        name,
        endpoint_name="loose",
        vpc_id="vpc-elsewhere",
        vpc_region_id="cn-hangzhou",
        security_group_id=c.security_group_id,
        ip_configs=[
            alicloud.pvtz.EndpointIpConfigArgs(
                cidr_block="10.60.0.0/24", vswitch_id="vsw-elsewhere", zone_id="cn-hangzhou-i"
            ),
            alicloud.pvtz.EndpointIpConfigArgs(
                cidr_block="10.60.1.0/24", vswitch_id="vsw-elsewhere-2", zone_id="cn-hangzhou-j"
            ),
        ],
    ),
    "NAS mount target in its security group": lambda c, name: alicloud.nas.MountTarget(
        name,
        file_system_id="fs-elsewhere",
        vswitch_id="vsw-elsewhere",
        security_group_id=c.security_group_id,
    ),
    "SAE application in its security group": lambda c, name: alicloud.sae.Application(
        name,
        app_name="loose",
        package_type="Image",
        image_url="registry.cn-hangzhou.aliyuncs.com/acme/app:1.0",
        replicas=1,
        vpc_id="vpc-elsewhere",
        vswitch_id="vsw-elsewhere",
        security_group_id=c.security_group_id,
    ),
    "bastion host in its security group": lambda c, name: alicloud.bastionhost.Instance(
        name,
        description="loose",
        bandwidth="5",
        license_code="bhah_ent_50_asset",
        plan_code="cloudbastion",
        storage="5",
        period=1,
        vswitch_id="vsw-elsewhere",
        security_group_ids=[c.security_group_id],
    ),
    "Kafka instance in its security group": lambda c, name: alicloud.alikafka.Instance(
        name, deploy_type=5, vswitch_id="vsw-elsewhere", security_group=c.security_group_id
    ),
    "EMR cluster in its security group": lambda c, name: alicloud.emr.Cluster(
        name,
        cluster_type="HADOOP",
        emr_ver="EMR-3.22.0",
        zone_id="cn-hangzhou-i",
        vswitch_id="vsw-elsewhere",
        security_group_id=c.security_group_id,
    ),
    "E-HPC cluster in its security group": lambda c, name: alicloud.ehpc.Cluster(
        name,
        cluster_name="loose",
        compute_count=1,
        compute_instance_type="ecs.g7.large",
        login_count=1,
        login_instance_type="ecs.g7.large",
        manager_instance_type="ecs.g7.large",
        os_tag="CentOS_7.6_64",
        vswitch_id="vsw-elsewhere",
        security_group_id=c.security_group_id,
    ),
    "E-HPC cluster (v2) in its security group": lambda c, name: alicloud.ehpc.ClusterV2(
        name,
        cluster_credentials=alicloud.ehpc.ClusterV2ClusterCredentialsArgs(password="x"),
        shared_storages=[],
        security_group_id=c.security_group_id,
    ),
    "elastic accelerator in its security group": lambda c, name: alicloud.eais.Instance(
        name,
        instance_type="eais.ei-a6.2xlarge",
        vswitch_id="vsw-elsewhere",
        security_group_id=c.security_group_id,
    ),
    "DMS Airflow in its security group": lambda c, name: alicloud.dms.Airflow(
        name,
        airflow_name="loose",
        app_spec="SMALL",
        description="loose",
        oss_bucket_name="bucket",
        oss_path="/airflow",
        vpc_id="vpc-elsewhere",
        vswitch_id="vsw-elsewhere",
        zone_id="cn-hangzhou-i",
        worker_serverless_replicas=1,
        workspace_id="86208",
        security_group_id=c.security_group_id,
    ),
    "cloud phone in its security group": lambda c, name: alicloud.ecp.Instance(
        name,
        image_id="android_9_0_0_release_2851157_20211201.vhd",
        instance_type="ecp.ce.large",
        vswitch_id="vsw-elsewhere",
        security_group_id=c.security_group_id,
    ),
    "database host in its security group": lambda c, name: alicloud.cddc.DedicatedPropreHost(
        name,
        ecs_class_lists=[
            alicloud.cddc.DedicatedPropreHostEcsClassListArgs(
                instance_type="ecs.g7.large", sys_disk_capacity=40, sys_disk_type="cloud_essd"
            )
        ],
        ecs_zone_id="cn-hangzhou-i",
        engine="mysql",
        payment_type="Subscription",
        vpc_id="vpc-elsewhere",
        vswitch_id="vsw-elsewhere",
        security_group_id=c.security_group_id,
    ),
    "RDS Custom instance in its security group": lambda c, name: alicloud.rds.Custom(
        name,
        instance_type="mysql.x4.xlarge.6cm",
        vswitch_id="vsw-elsewhere",
        security_group_ids=[c.security_group_id],
    ),
    # Through a VPC access block: in its VPC and vSwitch (not drift alone), and its group.
    "functions with ENIs in its security group": lambda c, name: _function(
        c, name, c.security_group_id
    ),
    "function (FC 3.0) with ENIs in its security group": lambda c, name: alicloud.fc.V3Function(
        name,
        handler="index.handler",
        runtime="python3.10",
        vpc_config=alicloud.fc.V3FunctionVpcConfigArgs(
            vpc_id=c.vpc_id,
            vswitch_ids=c.vswitch_ids,
            security_group_id=c.security_group_id,
        ),
    ),
    "service mesh in its security group": lambda c, name: alicloud.servicemesh.ServiceMesh(
        name,
        network=alicloud.servicemesh.ServiceMeshNetworkArgs(
            vpc_id=c.vpc_id,
            vswitche_list=c.vswitch_ids.apply(lambda ids: ids[0]),
            security_group_id=c.security_group_id,
        ),
    ),
    "ACK One fleet in its security group": lambda c, name: alicloud.ackone.Cluster(
        name,
        network=alicloud.ackone.ClusterNetworkArgs(
            vpc_id=c.vpc_id, vswitches=c.vswitch_ids, security_group_ids=[c.security_group_id]
        ),
    ),
    "EventBridge connection in its security group": lambda c, name: alicloud.eventbridge.Connection(
        name,
        connection_name="loose",
        network_parameters=alicloud.eventbridge.ConnectionNetworkParametersArgs(
            network_type="PrivateNetwork",
            vpc_id=c.vpc_id,
            vswitche_id=c.vswitch_ids.apply(lambda ids: ids[0]),
            security_group_id=c.security_group_id,
        ),
    ),
    "API Gateway VPC integration in its security group": lambda c, name: (
        alicloud.apigateway.Instance(
            name,
            instance_name="loose",
            instance_spec="api.s1.small",
            instance_type="vpc_connect",
            https_policy="HTTPS2_TLS1_2",
            payment_type="PayAsYouGo",
            instance_cidr="192.168.0.0/16",
            user_vpc_id=c.vpc_id,
            zone_vswitch_security_groups=[
                alicloud.apigateway.InstanceZoneVswitchSecurityGroupArgs(
                    zone_id="cn-hangzhou-i",
                    vswitch_id=c.vswitch_ids.apply(lambda ids: ids[0]),
                    cidr_block="192.168.0.0/24",
                    security_group=c.security_group_id,
                )
            ],
        )
    ),
    "RocketMQ instance in its security group": lambda c, name: _rocketmq(
        c, name, c.security_group_id
    ),
    "EMR (v2) nodes in its security group": lambda c, name: _emr(c, name, c.security_group_id, []),
    "EMR (v2) node group in its security group": lambda c, name: _emr(
        c, name, "sg-emr", [c.security_group_id]
    ),
    "load balancer joined to its security group": lambda c, name: (
        alicloud.nlb.LoadBalancerSecurityGroupAttachment(
            name, load_balancer_id="nlb-elsewhere", security_group_id=c.security_group_id
        )
    ),
    "Service bound to its ingress load balancer": lambda c, name: _service(
        c, name, c.ingress_load_balancer_id, force=False
    ),
    "Service on its API server's load balancer": lambda c, name: _service(
        c, name, c.api_server_slb_id, force=False
    ),
    "Service overriding its ingress load balancer's listeners": lambda c, name: _service(
        c, name, c.ingress_load_balancer_id, force=True
    ),
}


def _function(c: Any, name: str, group: Any) -> alicloud.fc.Service:
    """A Function Compute service whose functions reach into the cluster's VPC and vSwitches."""
    return alicloud.fc.Service(
        name,
        vpc_config=alicloud.fc.ServiceVpcConfigArgs(
            vpc_id=c.vpc_id, vswitch_ids=c.vswitch_ids, security_group_id=group
        ),
    )


def _rocketmq(c: Any, name: str, group: Any) -> alicloud.rocketmq.RocketMQInstance:
    """A RocketMQ 5 instance in the cluster's VPC and vSwitch, in `group` (two blocks deep)."""
    return alicloud.rocketmq.RocketMQInstance(
        name,
        payment_type="PayAsYouGo",
        series_code="standard",
        service_code="rmq",
        sub_series_code="cluster_ha",
        product_info=alicloud.rocketmq.RocketMQInstanceProductInfoArgs(
            msg_process_spec="rmq.s2.2xlarge"
        ),
        network_info=alicloud.rocketmq.RocketMQInstanceNetworkInfoArgs(
            internet_info=alicloud.rocketmq.RocketMQInstanceNetworkInfoInternetInfoArgs(
                flow_out_type="uninvolved", internet_spec="disable"
            ),
            vpc_info=alicloud.rocketmq.RocketMQInstanceNetworkInfoVpcInfoArgs(
                vpc_id=c.vpc_id,
                vswitch_id=c.vswitch_ids.apply(lambda ids: ids[0]),
                security_group_ids=group,
            ),
        ),
    )


def _emr(c: Any, name: str, group: Any, additional: list[Any]) -> alicloud.emrv2.Cluster:
    """An EMR on ECS cluster in the cluster's VPC and vSwitches: its nodes join `group`, and
    its node group also the `additional` groups."""
    return alicloud.emrv2.Cluster(
        name,
        cluster_name="loose",
        cluster_type="DATALAKE",
        release_version="EMR-5.10.0",
        applications=["HDFS"],
        node_attributes=[
            alicloud.emrv2.ClusterNodeAttributeArgs(
                key_pair_name="ops",
                ram_role="AliyunECSInstanceForEMRRole",
                security_group_id=group,
                vpc_id=c.vpc_id,
                zone_id="cn-hangzhou-i",
            )
        ],
        node_groups=[
            alicloud.emrv2.ClusterNodeGroupArgs(
                node_group_type="MASTER",
                node_group_name="master",
                node_count=1,
                instance_types=["ecs.g7.xlarge"],
                vswitch_ids=c.vswitch_ids,
                system_disk=alicloud.emrv2.ClusterNodeGroupSystemDiskArgs(
                    category="cloud_essd", size=80
                ),
                data_disks=[
                    alicloud.emrv2.ClusterNodeGroupDataDiskArgs(category="cloud_essd", size=80)
                ],
                additional_security_group_ids=additional,
            )
        ],
    )


def _service(c: Any, name: str, lb_id: Any, *, force: bool) -> object:
    import pulumi_kubernetes as k8s

    annotations = {LB_ID_ANNOTATION: lb_id.apply(str)}
    if force:
        annotations[LB_ID_ANNOTATION.replace("-id", "-force-override-listeners")] = "true"
    return k8s.core.v1.Service(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(annotations=annotations),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="LoadBalancer", ports=[k8s.core.v1.ServicePortArgs(port=80)]
        ),
        opts=pulumi.ResourceOptions(provider=c.provider),
    )


#: Loose kinds that need nodes (a node role, node pools' scaling groups).
NODE_KINDS = {
    "its node role attached to other instances",
    "policy attached to its node role",
    "scaling rule on a node pool's scaling group",
    "alarm on a node pool's scaling group",
}
CASES = [("managed", k) for k in LOOSE] + [("serverless", k) for k in LOOSE if k not in NODE_KINDS]


def case_name(kind: str) -> str:
    """The loose resource's logical name: its case, so the cases of a form share one program."""
    return "loose-" + re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")


@cache
def loose_result(form: str, preview: bool = True) -> ProgramRun:
    """One program per form and mode holding every loose case of that form, each its own
    resource on the same cluster (the rule judges each resource on its own; the tests below
    also hold that nothing but the loose resources is blocked)."""

    def program():
        target: ClusterComponent = cluster() if form == "managed" else serverless()
        for form_, kind in CASES:
            if form_ == form:
                LOOSE[kind](target, case_name(kind))

    return run(program, preview=preview)


_VERDICTS: dict[tuple[str, bool], list[Violation]] = {}


def loose_verdict(gate: Any, form: str, preview: bool) -> list[Violation]:
    """The pack's verdict on that program (default configuration), asked once per worker."""
    if (form, preview) not in _VERDICTS:
        _VERDICTS[form, preview] = gate(loose_result(form, preview))
    return _VERDICTS[form, preview]


def loose_in(result: ProgramRun, kind: str) -> RecordedResource:
    return next(r for r in result.resources if r.name == case_name(kind))


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize(("form", "kind"), CASES, ids=[f"{f}: {k}" for f, k in CASES])
def test_loose_attachment_is_blocked(gate, form, kind, preview):
    """Blocked with IDs unknown (preview) and known (update), by the drift rule alone."""
    result = loose_result(form, preview)
    loose = loose_in(result, kind)
    mine = [v for v in loose_verdict(gate, form, preview) if v.urn == loose.urn]
    assert {v.policy for v in mine if v.enforcement == "mandatory"} == {DRIFT}
    message = next(v.message for v in mine if v.policy == DRIFT)
    assert "owned by cluster 'demo'" in message and "instead" in message


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("form", ["managed", "serverless"])
def test_nothing_but_the_loose_resources_is_blocked(gate, form, preview):
    """The cluster and everything it owns pass beside the loose cases: the rule blames the
    attachment, never what it attaches to."""
    result = loose_result(form, preview)
    blocked = {v.urn for v in loose_verdict(gate, form, preview) if v.enforcement == "mandatory"}
    loose = {r.urn for r in result.resources if r.name.startswith("loose-")}
    assert blocked <= loose


def test_every_case_is_its_own_resource():
    """The shared program holds one resource per case, so no case hides behind another."""
    for form in ("managed", "serverless"):
        names = [r.name for r in loose_result(form).resources if r.name.startswith("loose-")]
        assert sorted(names) == sorted(case_name(k) for f, k in CASES if f == form)


THROUGH_ARGS: dict[str, dict[str, Any]] = {
    "rule on its security group": {
        "security": {
            "extra_ingress": [
                {
                    "description": "admin API",
                    "protocol": "tcp",
                    "port_range": "8443/8443",
                    "cidr": "10.9.0.0/16",
                }
            ]
        }
    },
    "node pool on its cluster": {"node_pools": {"general": AUTOSCALED_POOL, "extra": POOL}},
    "addon on its cluster": {"addons": [{"name": "ack-node-problem-detector"}]},
    "vSwitch in its VPC": {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]}
    },
    "egress through per-zone NAT": {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"], "nat": "per_zone"}
    },
    "ingress service bound to its load balancer": {"ingress": {"bind_service": True}},
    "scaling bounds of a node pool": {
        "node_pools": {
            "general": {**AUTOSCALED_POOL, "autoscaling": {"min_size": 2, "max_size": 9}}
        }
    },
}


@pytest.mark.parametrize("change", list(THROUGH_ARGS), ids=list(THROUGH_ARGS))
def test_the_same_change_through_typed_arguments_passes(gate, change):
    result = run(lambda: cluster(**THROUGH_ARGS[change]), preview=True)
    assert found(gate(result), "mandatory") == set()


def test_the_components_own_ingress_service_is_not_drift(gate):
    """The Service the component binds to its ingress load balancer is the intended use."""
    result = run(lambda: cluster(ingress={"bind_service": True}), preview=True)
    assert found(gate(result), "mandatory") == set()


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_letting_its_security_group_in_elsewhere_is_not_drift(gate, preview):
    """Naming the cluster's security group as a *source* changes nothing the cluster owns: a
    database that takes the group into its whitelist, or a rule on another group admitting it,
    lets the nodes in. Only joining the group (EDGES) is drift."""

    def program() -> None:
        c = cluster()
        own = alicloud.ecs.SecurityGroup("db-group", vpc_id="vpc-elsewhere")
        alicloud.ecs.SecurityGroupRule(
            "db-from-nodes",
            security_group_id=own.id,
            source_security_group_id=c.security_group_id,
            type="ingress",
            ip_protocol="tcp",
            port_range="3306/3306",
            nic_type="intranet",
        )
        alicloud.rds.Instance(
            "orders-db",
            engine="MySQL",
            engine_version="8.0",
            instance_type="mysql.n2.medium.1",
            instance_storage=20,
            vswitch_id="vsw-elsewhere",
            security_group_ids=[c.security_group_id],
        )
        alicloud.kvstore.Instance(
            "cache",
            instance_class="redis.master.small.default",
            vswitch_id="vsw-elsewhere",
            security_group_id=c.security_group_id,
        )

    result = run(program, preview=preview)
    drift = [v for v in gate(result) if v.policy == DRIFT]
    assert drift == []
    # Each does depend on the cluster's security group: the rule saw it, and let it pass.
    group = next(
        r.urn
        for r in result.resources
        if r.type == "alicloud:ecs/securityGroup:SecurityGroup" and r.name.startswith("demo")
    )
    for name, prop in (
        ("db-from-nodes", "sourceSecurityGroupId"),
        ("orders-db", "securityGroupIds"),
        ("cache", "securityGroupId"),
    ):
        loose = next(r for r in result.resources if r.name == name)
        assert group in loose.property_dependencies[prop], name


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_an_interface_in_its_vswitch_but_another_group_is_not_drift(gate, preview):
    """A network interface declared inside a loose instance may sit in a cluster's vSwitch, as
    the instance itself may: only its security group decides (the edge's nested field)."""

    def program() -> None:
        c = cluster()
        instance_with_interface("bastion", ["sg-mine"], c.vswitch_ids.apply(lambda ids: ids[0]))

    result = run(program, preview=preview)
    bastion = next(r for r in result.resources if r.name == "bastion")
    assert bastion.property_dependencies["networkInterfaces"]  # the rule did see the vSwitch
    assert [v for v in gate(result) if v.policy == DRIFT] == []


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_function_in_its_vpc_with_a_group_of_its_own_is_not_drift(gate, preview):
    """Reaching into a cluster's VPC and vSwitches is not drift; only the group decides, one
    the program creates or one named by its ID."""

    def program() -> None:
        c = cluster()
        own = alicloud.ecs.SecurityGroup("functions", vpc_id=c.vpc_id)
        _function(c, "created", own.id)
        _function(c, "named", "sg-functions")
        _rocketmq(c, "queue", own.id)
        _rocketmq(c, "named-queue", "sg-queue")  # beside a VPC ID unknown at preview

    result = run(program, preview=preview)
    block = {
        "created": "vpcConfig",
        "named": "vpcConfig",
        "queue": "networkInfo",
        "named-queue": "networkInfo",
    }
    functions = [r for r in result.resources if r.name in block]
    for function in functions:  # the rule did see the cluster's VPC and vSwitches
        assert len(function.property_dependencies[block[function.name]]) >= 2
    assert {v.urn for v in gate(result) if v.policy == DRIFT} & {f.urn for f in functions} == set()


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_functions_group_an_invoke_found_in_its_vpc_is_blocked(gate, preview):
    """In a block that names the VPC beside the group, a group ID an invoke derived from the
    cluster's VPC is unknown at preview with nothing behind it (not proven), and in an update is
    the cluster's own group, which the lookup finds in its VPC (it was a known limit when the
    fake cloud answered lookups with an invented group)."""

    def program() -> None:
        c = cluster()
        # After the cluster's resources exist, as in a preview of a deployed stack.
        after = pulumi.InvokeOutputOptions(depends_on=[c])
        found = alicloud.ecs.get_security_groups_output(vpc_id=c.vpc_id, opts=after).ids[0]
        _function(c, "loose", found)
        _rocketmq(c, "loose-queue", found)  # the group two blocks deep

    result = run(program, preview=preview)
    loose = [r.urn for r in result.resources if r.name in ("loose", "loose-queue")]
    blocked = {v.urn: v.message for v in gate(result) if v.policy == DRIFT}
    assert len(loose) == 2
    for urn in loose:
        assert urn in blocked
        if not preview:
            assert (
                "its security group (alicloud:ecs/securityGroup:SecurityGroup 'demo-sg'"
                in (blocked[urn])
            )


def test_loose_cluster_and_spoofed_ownership_are_blocked(gate):
    def program():
        cluster()
        alicloud.cs.ManagedKubernetes(
            "shadow",
            vswitch_ids=["vsw-1"],
            slb_internet_enabled=False,
            deletion_protection=True,
        )
        alicloud.vpc.Network(
            "claims", cidr_block="10.9.0.0/16", tags={"ack.pulumi.io/cluster": "demo"}
        )

    result = run(program, preview=True)
    assert found(gate(result), "mandatory") == {
        ("ack-cluster-resources-declared-through-components", "shadow"),
        ("ack-cluster-resources-declared-through-components", "claims"),
    }


def test_ignore_changes_added_to_owned_resources_by_a_transformation_is_blocked(gate):
    def hide_tags(a: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        if a.type_ == "alicloud:ecs/securityGroup:SecurityGroup":
            opts = pulumi.ResourceOptions.merge(
                a.opts, pulumi.ResourceOptions(ignore_changes=["tags"])
            )
            return pulumi.ResourceTransformationResult(a.props, opts)
        return pulumi.ResourceTransformationResult(a.props, a.opts)

    def program():
        ManagedCluster("demo", args(), opts=pulumi.ResourceOptions(transformations=[hide_tags]))

    result = run(program, preview=True)
    sg = result.one("alicloud:ecs/securityGroup:SecurityGroup")
    assert sg.ignore_changes == ["tags"]
    assert found(gate(result), "mandatory") == {
        ("ack-owned-resources-ignore-only-component-fields", "demo-sg"),
        # An old-style transformation runs before the component can seal what it registers.
        ("ack-cluster-ownership-proven", "demo"),
    }


def test_an_accepted_exception_passes_by_urn_pattern(gate):
    def program():
        LOOSE["listener on its ingress load balancer"](cluster(), "loose")

    result = run(program, preview=True)
    urn = "urn:pulumi:test::project::alicloud:slb/listener:Listener::loose"
    config = {DRIFT: {"allow": [{"urn": urn, "reason": "moves into ingress next quarter"}]}}
    assert found(gate(result, config=config), "mandatory") == set()


def test_turning_deletion_protection_off_needs_an_exception(gate):
    result = run(lambda: cluster(deletion_protection=False), preview=True)
    blocked = found(gate(result), "mandatory")
    assert {p for p, _ in blocked} == {"ack-stateful-resources-deletion-protected"}
    assert {n for _, n in blocked} == {"demo", "demo-vpc", "demo-nat-egress", "demo-eip-egress"}


def test_an_id_typed_in_by_hand_is_drift_once_the_id_is_known(gate):
    """An ID copied from the console carries no dependency, but it is the owned group's ID:
    in an update (and a preview of a deployed stack) it is known and blocked. A preview of a
    new stack cannot know it, and an ID typed there cannot name a group still to be created."""
    owned_id = run(cluster).one("alicloud:ecs/securityGroup:SecurityGroup").id

    def program(group_id: str) -> Callable[[], None]:
        def build() -> None:
            cluster()
            alicloud.ecs.SecurityGroupRule(
                "by-hand",
                security_group_id=group_id,
                type="ingress",
                ip_protocol="tcp",
                port_range="8443/8443",
                cidr_ip="10.9.0.0/16",
            )

        return build

    by_hand = found(gate(run(program(owned_id), preview=False)), "mandatory")
    assert by_hand == {(DRIFT, "by-hand")}
    assert found(gate(run(program(owned_id), preview=True)), "mandatory") == set()
    assert found(gate(run(program("sg-0123456789"), preview=False)), "mandatory") == set()
