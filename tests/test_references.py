"""The drift rule's allow list (ack_policies/references.py) holds what ordinary programs do beside
a cluster: each entry is exercised here by a program a team would write, which must pass, in
preview and update mode, through the real analyzer server; and each entry's neighbour, the
same resource reaching further, is still blocked."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s
import pytest

from ack_clusters import ManagedCluster, ServiceAccountRole
from ack_offline.recorder import ProgramRun
from ack_policies.references import ALLOWED

from .conftest import AUTOSCALED_POOL, ZONES, args, run

DRIFT = "ack-no-loose-attachments-to-cluster-resources"
MODES = pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
IMAGE = "aliyun_3_x64_20G_alibase_20240819.vhd"


def cluster() -> ManagedCluster:
    return ManagedCluster(
        "demo",
        args(
            ingress={},
            rrsa=True,
            node_pools={"general": AUTOSCALED_POOL},
            private_zones={"internal": {"zone_name": "svc.internal"}},
        ),
    )


def _first(ids: pulumi.Output[list[str]]) -> pulumi.Output[str]:
    return ids.apply(lambda v: v[0])


def _own_group(c: ManagedCluster, name: str) -> alicloud.ecs.SecurityGroup:
    return alicloud.ecs.SecurityGroup(f"{name}-group", vpc_id=c.vpc_id)


def _kubernetes(c: ManagedCluster, name: str) -> None:
    provider = c.provider
    k8s.core.v1.ConfigMap(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(namespace="platform"),
        data={"vpc": c.vpc_id, "cluster": c.cluster_id},
        opts=pulumi.ResourceOptions(provider=provider),
    )
    k8s.apps.v1.Deployment(
        f"{name}-pinned",
        metadata=k8s.meta.v1.ObjectMetaArgs(namespace="platform"),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": "web"}),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels={"app": "web"}),
                spec=k8s.core.v1.PodSpecArgs(
                    node_selector={
                        "alibabacloud.com/nodepool-id": c.node_pools["general"].node_pool_id
                    },
                    containers=[k8s.core.v1.ContainerArgs(name="web", image="nginx:1.27")],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def _service_account(c: ManagedCluster, name: str) -> None:
    role = ServiceAccountRole.for_cluster(
        name,
        c,
        {
            "namespace": "platform",
            "service_account": "reader",
            "policies": [{"name": "AliyunOSSReadOnlyAccess", "type": "System"}],
        },
    )
    k8s.core.v1.ServiceAccount(
        f"{name}-account",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="reader", namespace="platform", annotations=role.service_account_annotations
        ),
        opts=pulumi.ResourceOptions(provider=c.provider),
    )


def _rrsa_role_by_hand(c: ManagedCluster, name: str) -> None:
    """An RRSA role written by hand, its trust from the cluster's outputs."""
    trust = pulumi.Output.all(c.rrsa_oidc_provider_arn, c.rrsa_oidc_issuer_url).apply(
        lambda v: json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Federated": [v[0]]},
                        "Condition": {
                            "StringEquals": {
                                "oidc:iss": v[1],
                                "oidc:aud": "sts.aliyuncs.com",
                                "oidc:sub": "system:serviceaccount:platform:writer",
                            }
                        },
                    }
                ],
            }
        )
    )
    alicloud.ram.Role(name, role_name="platform-writer", assume_role_policy_document=trust)


def _databases(c: ManagedCluster, name: str) -> None:
    vswitch = _first(c.vswitch_ids)
    db = alicloud.rds.Instance(
        name,
        engine="MySQL",
        engine_version="8.0",
        instance_type="mysql.n2.medium.1",
        instance_storage=20,
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_group_ids=[c.security_group_id],
    )
    alicloud.rds.ReadOnlyInstance(
        f"{name}-replica",
        master_db_instance_id=db.id,
        engine_version="8.0",
        instance_type="mysql.n2.medium.1",
        instance_storage=20,
        vswitch_id=vswitch,
    )
    alicloud.kvstore.Instance(
        f"{name}-cache",
        instance_class="redis.master.small.default",
        vswitch_id=vswitch,
        security_group_id=c.security_group_id,
    )
    alicloud.mongodb.Instance(
        f"{name}-documents",
        engine_version="4.4",
        db_instance_class="dds.mongo.mid",
        db_instance_storage=10,
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_group_id=c.security_group_id,
    )
    alicloud.polardb.Cluster(
        f"{name}-polar",
        db_type="MySQL",
        db_version="8.0",
        db_node_class="polar.mysql.x4.medium",
        pay_type="PostPaid",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_group_ids=[c.security_group_id],
    )


def _placed(c: ManagedCluster, name: str) -> None:
    """Resources of one's own, each with its own group, in the cluster's network."""
    vswitch = _first(c.vswitch_ids)
    group = _own_group(c, name)
    alicloud.ecs.Instance(
        f"{name}-bastion",
        vswitch_id=vswitch,
        security_groups=[group.id],
        instance_type="ecs.g7.large",
        image_id=IMAGE,
        system_disk_encrypted=True,
        network_interfaces=alicloud.ecs.InstanceNetworkInterfacesArgs(
            vswitch_id=vswitch, security_group_ids=[group.id]
        ),
    )
    alicloud.ecs.EcsInstanceSet(
        f"{name}-workers",
        amount=2,
        image_id=IMAGE,
        instance_type="ecs.g7.large",
        vswitch_id=vswitch,
        security_group_ids=[group.id],
        network_interfaces=[
            alicloud.ecs.EcsInstanceSetNetworkInterfaceArgs(
                vswitch_id=vswitch, security_group_id=group.id
            )
        ],
    )
    alicloud.ecs.EcsLaunchTemplate(
        f"{name}-template",
        launch_template_name=f"{name}-template",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_group_id=group.id,
        network_interfaces=alicloud.ecs.EcsLaunchTemplateNetworkInterfacesArgs(
            name="second", vswitch_id=vswitch, security_group_id=group.id
        ),
    )
    alicloud.ecs.EcsNetworkInterface(
        f"{name}-eni", vswitch_id=vswitch, security_group_ids=[group.id]
    )
    alicloud.vpc.NetworkInterface(f"{name}-vpc-eni", vswitch_id=vswitch, security_groups=[group.id])
    alicloud.slb.ApplicationLoadBalancer(
        f"{name}-clb",
        vswitch_id=vswitch,
        address_type="intranet",
        load_balancer_spec="slb.s1.small",
    )
    zones = [
        alicloud.alb.LoadBalancerZoneMappingArgs(vswitch_id=vswitch, zone_id="cn-hangzhou-i"),
        alicloud.alb.LoadBalancerZoneMappingArgs(
            vswitch_id=c.vswitch_ids.apply(lambda v: v[1]), zone_id="cn-hangzhou-j"
        ),
    ]
    alicloud.alb.LoadBalancer(
        f"{name}-alb",
        vpc_id=c.vpc_id,
        address_type="Intranet",
        load_balancer_edition="Standard",
        load_balancer_billing_config=alicloud.alb.LoadBalancerLoadBalancerBillingConfigArgs(
            pay_type="PayAsYouGo"
        ),
        zone_mappings=zones,
    )
    alicloud.nlb.LoadBalancer(
        f"{name}-nlb",
        vpc_id=c.vpc_id,
        address_type="Intranet",
        load_balancer_type="Network",
        zone_mappings=[
            alicloud.nlb.LoadBalancerZoneMappingArgs(vswitch_id=z.vswitch_id, zone_id=z.zone_id)
            for z in zones
        ],
        security_group_ids=[group.id],
    )
    alicloud.nas.MountTarget(
        f"{name}-nas",
        file_system_id="fs-mine",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_group_id=group.id,
    )
    endpoint = alicloud.privatelink.VpcEndpoint(
        f"{name}-endpoint",
        vpc_id=c.vpc_id,
        service_name="com.aliyuncs.privatelink.cn-hangzhou.epsrv-mine",
        security_group_ids=[group.id],
    )
    alicloud.privatelink.VpcEndpointZone(
        f"{name}-endpoint-zone",
        endpoint_id=endpoint.id,
        vswitch_id=vswitch,
        zone_id="cn-hangzhou-i",
    )
    alicloud.fc.Service(
        f"{name}-functions",
        vpc_config=alicloud.fc.ServiceVpcConfigArgs(
            vpc_id=c.vpc_id, vswitch_ids=c.vswitch_ids, security_group_id=group.id
        ),
    )
    alicloud.fc.V3Function(
        f"{name}-function",
        handler="index.handler",
        runtime="python3.10",
        vpc_config=alicloud.fc.V3FunctionVpcConfigArgs(
            vpc_id=c.vpc_id, vswitch_ids=c.vswitch_ids, security_group_id=group.id
        ),
    )
    alicloud.sae.Application(
        f"{name}-sae",
        app_name=f"{name}-sae",
        package_type="Image",
        image_url="registry.cn-hangzhou.aliyuncs.com/acme/app:1.0",
        replicas=1,
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_group_id=group.id,
    )
    alicloud.eci.ContainerGroup(
        f"{name}-eci",
        container_group_name=f"{name}-eci",
        security_group_id=group.id,
        vswitch_id=vswitch,
        containers=[alicloud.eci.ContainerGroupContainerArgs(name="app", image="nginx:1.27")],
    )
    alicloud.alikafka.Instance(
        f"{name}-kafka",
        deploy_type=5,
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_group=group.id,
    )
    alicloud.elasticsearch.Instance(
        f"{name}-search",
        version="7.10_with_X-Pack",
        data_node_amount=2,
        data_node_spec="elasticsearch.sn2ne.large",
        data_node_disk_size=20,
        data_node_disk_type="cloud_ssd",
        vswitch_id=vswitch,
        password="Offline-Secret-0",
    )
    alicloud.ess.ScalingGroup(
        f"{name}-ess", min_size=0, max_size=2, vswitch_ids=c.vswitch_ids, scaling_group_name=name
    )
    alicloud.cr.VpcEndpointLinkedVpc(
        f"{name}-registry",
        instance_id="cri-mine",
        module_name="Registry",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
    )
    alicloud.servicemesh.ServiceMesh(
        f"{name}-mesh",
        network=alicloud.servicemesh.ServiceMeshNetworkArgs(
            vpc_id=c.vpc_id, vswitche_list=vswitch, security_group_id=group.id
        ),
    )
    alicloud.ackone.Cluster(
        f"{name}-fleet",
        network=alicloud.ackone.ClusterNetworkArgs(
            vpc_id=c.vpc_id, vswitches=[vswitch], security_group_ids=[group.id]
        ),
    )
    alicloud.eventbridge.Connection(
        f"{name}-events",
        connection_name=f"{name}-events",
        network_parameters=alicloud.eventbridge.ConnectionNetworkParametersArgs(
            network_type="PrivateNetwork",
            vpc_id=c.vpc_id,
            vswitche_id=vswitch,
            security_group_id=group.id,
        ),
    )
    alicloud.rocketmq.RocketMQInstance(
        f"{name}-queue",
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
                vpc_id=c.vpc_id, vswitch_id=vswitch, security_group_ids=group.id
            ),
        ),
    )
    alicloud.emrv2.Cluster(
        f"{name}-emr",
        cluster_name=f"{name}-emr",
        cluster_type="DATALAKE",
        release_version="EMR-5.10.0",
        payment_type="PayAsYouGo",
        applications=["HADOOP-COMMON", "HDFS", "YARN"],
        node_attributes=[
            alicloud.emrv2.ClusterNodeAttributeArgs(
                key_pair_name="ops",
                ram_role="AliyunECSInstanceForEMRRole",
                security_group_id=group.id,
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
            )
        ],
    )


def _names_and_monitors(c: ManagedCluster, name: str) -> None:
    """DNS names for what the cluster serves, and alarms on what it owns."""
    ingress = alicloud.slb.ApplicationLoadBalancer.get(
        f"{name}-ingress-read", c.ingress_load_balancer_id.apply(lambda i: i or "")
    )
    alicloud.dns.AlidnsRecord(
        f"{name}-www", domain_name="example.com", rr="www", type="A", value=ingress.address
    )
    alicloud.dns.Record(
        f"{name}-www-old", name="example.com", host_record="www2", type="A", value=ingress.address
    )
    alicloud.pvtz.ZoneRecord(
        f"{name}-api",
        zone_id=c.private_zone_ids["internal"],  # a record in the cluster's own zone
        rr="kubernetes",
        type="A",
        value=c.api_server_endpoint.apply(lambda url: url.split("//")[-1].split(":")[0]),
    )
    alicloud.cms.Alarm(
        f"{name}-scaling-alarm",
        project="acs_ess_dashboard",
        metric="GroupTotalInstance",
        metric_dimensions=c.node_pools["general"].scaling_group_id.apply(
            lambda g: json.dumps([{"scalingGroup": g}])
        ),
        contact_groups=["platform"],
        escalations_critical=alicloud.cms.AlarmEscalationsCriticalArgs(
            statistics="Average", comparison_operator=">=", threshold="4", times=1
        ),
    )


def _neighbours_pass(c: ManagedCluster, name: str) -> None:
    """Letting the nodes in elsewhere: a rule on one's own group admitting the cluster's."""
    alicloud.ecs.SecurityGroupRule(
        name,
        security_group_id=_own_group(c, name).id,
        source_security_group_id=c.security_group_id,
        type="ingress",
        ip_protocol="tcp",
        port_range="5432/5432",
        nic_type="intranet",
    )
    k8s.Provider(f"{name}-provider", kubeconfig=c.kubeconfig)


def _whitelists_and_more_in_its_network(c: ManagedCluster, name: str) -> None:
    """Whitelists that admit the cluster's egress address, and services of one's own placed in
    its network (server groups, a Tair instance, a bastion host, a KMS instance)."""
    vswitch = _first(c.vswitch_ids)
    egress = c.egress_addresses.apply(lambda addresses: addresses[0])
    group = _own_group(c, name)
    alicloud.ecs.SecurityGroupRule(
        f"{name}-egress-in",
        security_group_id=group.id,
        cidr_ip=egress.apply(lambda ip: f"{ip}/32"),
        type="ingress",
        ip_protocol="tcp",
        port_range="443/443",
        nic_type="intranet",
    )
    db = alicloud.rds.Instance(
        f"{name}-db",
        engine="MySQL",
        engine_version="8.0",
        instance_type="mysql.n2.medium.1",
        instance_storage=20,
        vswitch_id="vsw-elsewhere",
        security_ips=[egress],
    )
    alicloud.rds.ReadOnlyInstance(
        f"{name}-db-replica",
        master_db_instance_id=db.id,
        engine_version="8.0",
        instance_type="mysql.n2.medium.1",
        instance_storage=20,
        vswitch_id="vsw-elsewhere",
        security_ips=[egress],
    )
    alicloud.kvstore.Instance(
        f"{name}-cache",
        instance_class="redis.master.small.default",
        vswitch_id="vsw-elsewhere",
        security_ips=[egress],
    )
    alicloud.redis.TairInstance(
        f"{name}-tair",
        instance_class="tair.rdb.2g",
        instance_type="tair_rdb",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        zone_id=ZONES[0],
        security_group_id=c.security_group_id,
        security_ips=egress,
    )
    alicloud.mongodb.Instance(
        f"{name}-documents",
        engine_version="4.4",
        db_instance_class="dds.mongo.mid",
        db_instance_storage=10,
        vswitch_id="vsw-elsewhere",
        security_ip_lists=[egress],
    )
    alicloud.polardb.Cluster(
        f"{name}-polar",
        db_type="MySQL",
        db_version="8.0",
        db_node_class="polar.mysql.x4.medium",
        pay_type="PostPaid",
        vswitch_id="vsw-elsewhere",
        security_ips=[egress],
        db_cluster_ip_arrays=[
            alicloud.polardb.ClusterDbClusterIpArrayArgs(
                db_cluster_ip_array_name="cluster", security_ips=[egress]
            )
        ],
    )
    alicloud.alb.ServerGroup(
        f"{name}-alb-backends",
        server_group_name=f"{name}-alb-backends",
        vpc_id=c.vpc_id,
        health_check_config=alicloud.alb.ServerGroupHealthCheckConfigArgs(
            health_check_enabled=True
        ),
    )
    alicloud.nlb.ServerGroup(
        f"{name}-nlb-backends", server_group_name=f"{name}-nlb-backends", vpc_id=c.vpc_id
    )
    alicloud.bastionhost.Instance(
        f"{name}-bastionhost",
        description="ops bastion",
        bandwidth="5",
        license_code="bhah_ent_50_asset",
        plan_code="cloudbastion",
        storage="5",
        vswitch_id=vswitch,
        slave_vswitch_id=_first(c.vswitch_ids.apply(lambda v: v[1:])),
        security_group_ids=[group.id],
    )
    alicloud.kms.Instance(
        f"{name}-kms",
        product_version="3",
        vpc_id=c.vpc_id,
        vswitch_ids=[vswitch],
        zone_ids=ZONES[:2],
        bind_vpcs=[
            alicloud.kms.InstanceBindVpcArgs(
                vpc_id=c.vpc_id, vswitch_id=vswitch, region_id="cn-hangzhou"
            )
        ],
    )


def _from_its_vpc(c: ManagedCluster, bucket: str) -> pulumi.Output[str]:
    """A bucket policy that lets in only requests from the cluster's VPC."""
    return c.vpc_id.apply(
        lambda vpc: json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["oss:GetObject"],
                        "Principal": ["*"],
                        "Resource": [f"acs:oss:*:*:{bucket}/*"],
                        "Condition": {"StringEquals": {"acs:SourceVpc": [vpc]}},
                    }
                ],
            }
        )
    )


def _more_whitelists_and_neighbours(c: ManagedCluster, name: str) -> None:
    """More of the same kind: load balancer ACLs, search and gateway whitelists of its egress
    address, a database proxy and a microservice gateway in its network, a bucket open only to
    its VPC, a Service whose source ranges admit its egress address, and a deploy tool's
    cluster secret naming its API server."""
    vswitch = _first(c.vswitch_ids)
    egress = c.egress_addresses.apply(lambda addresses: addresses[0])
    cidr = egress.apply(lambda ip: f"{ip}/32")
    alicloud.slb.Acl(
        f"{name}-acl",
        entry_lists=[alicloud.slb.AclEntryListArgs(entry=cidr, comment="cluster egress")],
    )
    alicloud.alb.AclEntryAttachment(f"{name}-alb-acl", acl_id="acl-mine", entry=cidr)
    alicloud.mongodb.ServerlessInstance(
        f"{name}-serverless-documents",
        account_password=pulumi.Output.secret("Correct-Horse-9"),
        capacity_unit=100,
        db_instance_storage=5,
        engine_version="4.2",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        zone_id=ZONES[0],
        security_ip_groups=[
            alicloud.mongodb.ServerlessInstanceSecurityIpGroupArgs(
                security_ip_group_name="cluster", security_ip_list=egress
            )
        ],
    )
    alicloud.elasticsearch.Instance(
        f"{name}-search",
        version="7.10_with_X-Pack",
        vswitch_id="vsw-elsewhere",
        public_whitelists=[cidr],
        private_whitelists=[cidr],
    )
    alicloud.mse.Cluster(
        f"{name}-gateway",
        cluster_specification="MSE_SC_1_2_60_c",
        cluster_type="Nacos-Ans",
        cluster_version="NACOS_2_0_0",
        instance_count=1,
        net_type="privatenet",
        pub_network_flow="1",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        acl_entry_lists=[cidr],
    )
    alicloud.rds.RdsDbProxy(
        f"{name}-db-proxy",
        instance_id="rm-mine",
        instance_network_type="VPC",
        db_proxy_instance_num=2,
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
    )
    alicloud.oss.BucketPolicy(
        f"{name}-bucket-policy", bucket="team-artifacts", policy=_from_its_vpc(c, "team-artifacts")
    )
    alicloud.oss.Bucket(f"{name}-bucket", bucket="team-logs", policy=_from_its_vpc(c, "team-logs"))
    provider = c.provider
    k8s.core.v1.Service(
        f"{name}-restricted",
        metadata=k8s.meta.v1.ObjectMetaArgs(namespace="platform"),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="LoadBalancer",
            selector={"app": "web"},
            ports=[k8s.core.v1.ServicePortArgs(port=443)],
            load_balancer_source_ranges=c.egress_addresses.apply(
                lambda ips: ["203.0.113.0/24", *[f"{ip}/32" for ip in ips]]
            ),
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    k8s.core.v1.Secret(
        f"{name}-argocd-cluster",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            namespace="argocd", labels={"argocd.argoproj.io/secret-type": "cluster"}
        ),
        string_data={"name": "demo", "server": c.api_server_endpoint},
        opts=pulumi.ResourceOptions(provider=provider),
    )


class _App(pulumi.ComponentResource):
    """A component of the team's own, given the cluster's VPC as its input."""

    def __init__(self, name: str, vpc_id: pulumi.Input[str]) -> None:
        super().__init__("team:index:App", name, {"vpcId": vpc_id})
        alicloud.ecs.SecurityGroup(
            f"{name}-group", vpc_id=vpc_id, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})


def _own_component_and_policies(c: ManagedCluster, name: str) -> None:
    """A component of one's own that takes the cluster's VPC (its children are judged), and
    RAM policies that name roles broadly or by a prefix of one's own."""
    _App(name, c.vpc_id)
    alicloud.ram.Policy(
        f"{name}-read-roles",
        policy_name=f"{name}-read-roles",
        policy_document=json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["ram:GetRole", "ram:ListPoliciesForRole"],
                        "Resource": ["acs:ram::*:role/*", "acs:ram::*:role/ci-*"],
                    }
                ],
            }
        ),
    )


#: Programs a team writes beside a cluster; each must pass.
LEGITIMATE: dict[str, Callable[[ManagedCluster, str], None]] = {
    "workloads that name what the cluster owns": _kubernetes,
    "a service account role and its ServiceAccount": _service_account,
    "databases in its network that let its nodes in": _databases,
    "resources of one's own in its network": _placed,
    "DNS names and alarms": _names_and_monitors,
    "a rule elsewhere admitting its group, and a provider of one's own": _neighbours_pass,
    "a component of one's own given its VPC, and broad RAM policies": _own_component_and_policies,
    "whitelists of its egress address, and services in its network": (
        _whitelists_and_more_in_its_network
    ),
    "ACLs and whitelists of its egress address, and more in its network": (
        _more_whitelists_and_neighbours
    ),
}


@cache
def legitimate(preview: bool) -> ProgramRun:
    def program() -> None:
        c = cluster()
        for i, build in enumerate(LEGITIMATE.values()):
            build(c, f"ok{i}")

    return run(program, preview=preview)


@MODES
def test_what_teams_build_beside_a_cluster_passes(gate, preview):
    result = legitimate(preview)
    mandatory = [v for v in gate(result) if v.enforcement == "mandatory"]
    assert [(v.urn.rsplit("::", 1)[-1], v.message.splitlines()[-1]) for v in mandatory] == []


@MODES
def test_an_rrsa_role_written_by_hand_is_judged_once_its_trust_is_known(gate, preview):
    """Its trust takes the cluster's RRSA outputs, which the drift rule allows; the RRSA rule
    cannot prove it names one service account while it is unknown (a preview of a new stack),
    and passes it once known. ServiceAccountRole writes that trust itself and passes both."""

    def program() -> None:
        _rrsa_role_by_hand(cluster(), "writer")

    violations = [v for v in gate(run(program, preview=preview)) if v.enforcement == "mandatory"]
    if preview:
        assert [(v.policy, v.urn.rsplit("::", 1)[-1]) for v in violations] == [
            ("ram-oidc-trust-names-a-service-account", "writer")
        ]
        assert "cannot be proven to name one service account" in violations[0].message
    else:
        assert violations == []


def test_every_reference_the_rule_allows_is_exercised():
    """Each entry of the allow list is used by a legitimate program above: a resource of its
    type takes something the cluster owns through its property (an entry without a case fails
    here, as does a case the rule no longer needs an entry for)."""
    result = legitimate(True)
    owned = {r.urn for r in result.resources if r.name.startswith("demo")}
    used = [
        (r.type, prop)
        for r in result.resources
        if not r.name.startswith("demo")
        for prop, deps in r.property_dependencies.items()
        if set(deps) & (owned | {x.urn for x in result.reads})
    ]
    for entry in ALLOWED:
        assert any(entry.covers(t, p) for t, p in used), entry.source


def test_the_readme_counts_the_reviewed_references():
    from .docs_text import user_docs

    docs = " ".join(user_docs().split())
    assert f"{len(ALLOWED)} reviewed reference-only uses" in docs


# --- neighbours: the same resources, reaching further, are blocked -----------------------------

NEIGHBOURS: dict[str, Callable[[ManagedCluster], Any]] = {
    "a database that joins the cluster's group and sits in its NAT's route": lambda c: (
        alicloud.rds.Instance(
            "loose",
            engine="MySQL",
            engine_version="8.0",
            instance_type="mysql.n2.medium.1",
            instance_storage=20,
            vswitch_id=_first(c.vswitch_ids),
            # Not a place, not a whitelist: its NAT gateway's ID.
            resource_group_id=c.nat_gateway_id,
        )
    ),
    "an instance in the cluster's group": lambda c: alicloud.ecs.Instance(
        "loose",
        vswitch_id=_first(c.vswitch_ids),
        security_groups=[c.security_group_id],
        instance_type="ecs.g7.large",
        image_id=IMAGE,
        system_disk_encrypted=True,
    ),
    "a Kafka instance in the cluster's group": lambda c: alicloud.alikafka.Instance(
        "loose",
        deploy_type=5,
        vpc_id=c.vpc_id,
        vswitch_id=_first(c.vswitch_ids),
        security_group=c.security_group_id,
    ),
    "a trust that names the node role": lambda c: alicloud.ram.Role(
        "loose",
        role_name="assumed-by-nodes",
        assume_role_policy_document=c.node_role_name.apply(
            lambda role: json.dumps(
                {
                    "Version": "1",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"RAM": [f"acs:ram::1234567890123456:role/{role}"]},
                        }
                    ],
                }
            )
        ),
    ),
    "a function in the cluster's group": lambda c: alicloud.fc.Service(
        "loose",
        vpc_config=alicloud.fc.ServiceVpcConfigArgs(
            vpc_id=c.vpc_id, vswitch_ids=c.vswitch_ids, security_group_id=c.security_group_id
        ),
    ),
}


@MODES
@pytest.mark.parametrize("kind", list(NEIGHBOURS))
def test_the_same_resources_reaching_further_are_blocked(gate, kind, preview):
    def program() -> None:
        NEIGHBOURS[kind](cluster())

    result = run(program, preview=preview)
    (loose,) = [r for r in result.resources if r.name == "loose"]
    assert (DRIFT, loose.urn) in {(v.policy, v.urn) for v in gate(result)}


def test_allow_entries_say_why():
    for entry in ALLOWED:
        assert entry.why.endswith(".") and len(entry.why) > 40, entry.source
        assert fnmatch.translate(entry.source)
