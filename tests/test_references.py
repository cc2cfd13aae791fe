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


def _every_whitelist(c: ManagedCluster, name: str) -> None:
    """The cluster's egress address in every IP whitelist of the SDK the allow list keeps
    (references.WHITELISTS), as each property is written: a list of ranges, a comma-separated
    text, an ACL entry; and placed in its network, an analytic database and a data warehouse."""
    vswitch = _first(c.vswitch_ids)
    ip = c.egress_addresses.apply(lambda addresses: addresses[0])
    cidr = ip.apply(lambda a: f"{a}/32")
    ranges = c.egress_addresses.apply(lambda a: [f"{x}/32" for x in a])
    text = c.egress_addresses.apply(lambda a: ",".join(a))
    n = name
    alicloud.rds.DdrInstance(
        f"{n}-ddr",
        engine="MySQL",
        engine_version="8.0",
        instance_storage=20,
        instance_type="mysql.n2.medium.1",
        payment_type="PayAsYouGo",
        restore_type="BackupSet",
        security_ips=ranges,
    )
    alicloud.rds.RdsCloneDbInstance(
        f"{n}-clone",
        db_instance_storage_type="cloud_essd",
        payment_type="PayAsYouGo",
        source_db_instance_id="rm-mine",
        security_ips=ranges,
    )
    alicloud.rds.RdsUpgradeDbInstance(
        f"{n}-upgrade",
        collect_stat_mode="After",
        db_instance_class="mysql.n2.medium.1",
        db_instance_storage=20,
        db_instance_storage_type="cloud_essd",
        instance_network_type="VPC",
        payment_type="PayAsYouGo",
        source_db_instance_id="pgm-mine",
        switch_over="false",
        target_major_version="14.0",
        security_ips=ranges,
    )
    alicloud.rds.WhitelistTemplate(f"{n}-template", template_name=n, ip_white_list=text)
    alicloud.redis.GlobalSecurityIpGroup(
        f"{n}-redis-global", global_ip_group_name="cluster", global_ip_list=text
    )
    alicloud.polardb.GlobalSecurityIpGroup(
        f"{n}-polardb-global", global_ip_group_name="cluster", global_ip_list=text
    )
    alicloud.mongodb.GlobalSecurityIpGroup(
        f"{n}-mongodb-global", global_ig_name="cluster", global_security_ip_list=text
    )
    alicloud.adb.Cluster(
        f"{n}-adb-old", db_cluster_category="Cluster", mode="flexible", security_ips=ranges
    )
    alicloud.adb.DBCluster(
        f"{n}-adb",
        db_cluster_category="MixedStorage",
        mode="flexible",
        compute_resource="8Core32GB",
        payment_type="PayAsYouGo",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_ips=ranges,
    )
    alicloud.adb.DBClusterLakeVersion(
        f"{n}-adb-lake",
        db_cluster_version="5.0",
        payment_type="PayAsYouGo",
        vpc_id="vpc-mine",
        vswitch_id="vsw-mine",
        zone_id=ZONES[0],
        security_ips=text,
    )
    warehouse = alicloud.gpdb.Instance(
        f"{n}-gpdb",
        db_instance_mode="StorageElastic",
        engine="gpdb",
        engine_version="6.0",
        vpc_id=c.vpc_id,
        vswitch_id=vswitch,
        security_ip_lists=ranges,
        ip_whitelists=[{"ip_group_name": "cluster", "security_ip_list": text}],
    )
    alicloud.gpdb.ElasticInstance(
        f"{n}-gpdb-elastic",
        engine="gpdb",
        engine_version="6.0",
        instance_spec="2C16G",
        seg_node_num=4,
        seg_storage_type="cloud_essd",
        storage_size=50,
        vswitch_id="vsw-mine",
        security_ip_lists=ranges,
    )
    alicloud.gpdb.DbInstanceIpArray(
        f"{n}-gpdb-array",
        db_instance_id=warehouse.id,
        db_instance_ip_array_name="cluster",
        security_ip_lists=ranges,
    )
    alicloud.clickhouse.DbCluster(
        f"{n}-clickhouse",
        category="Basic",
        db_cluster_class="S8",
        db_cluster_network_type="vpc",
        db_cluster_version="22.8.5.29",
        db_node_group_count=1,
        db_node_storage="100",
        payment_type="PayAsYouGo",
        storage_type="cloud_essd",
        vswitch_id="vsw-mine",
        db_cluster_access_white_lists=[
            {"db_cluster_ip_array_name": "cluster", "security_ip_list": text}
        ],
    )
    alicloud.selectdb.DbInstance(
        f"{n}-selectdb",
        cache_size=200,
        db_instance_class="selectdb.xlarge",
        db_instance_description=n,
        payment_type="PayAsYouGo",
        vpc_id="vpc-mine",
        vswitch_id="vsw-mine",
        zone_id=ZONES[0],
        desired_security_ip_lists=[{"group_name": "cluster", "security_ip_list": text}],
    )
    alicloud.hbase.Instance(
        f"{n}-hbase",
        core_instance_type="hbase.sn1.large",
        engine_version="2.0",
        master_instance_type="hbase.sn1.large",
        vswitch_id="vsw-mine",
        ip_white=text,
    )
    alicloud.cassandra.Cluster(
        f"{n}-cassandra",
        instance_type="cassandra.c.large",
        major_version="3.11",
        node_count=2,
        pay_type="PayAsYouGo",
        vswitch_id="vsw-mine",
        ip_white=text,
    )
    alicloud.lindorm.Instance(
        f"{n}-lindorm",
        disk_category="cloud_efficiency",
        payment_type="PayAsYouGo",
        vswitch_id="vsw-mine",
        ip_white_lists=ranges,
    )
    alicloud.alikafka.InstanceAllowedIpAttachment(
        f"{n}-kafka-allowed",
        allowed_ip=cidr,
        allowed_type="vpc",
        instance_id="alikafka-mine",
        port_range="9092/9092",
    )
    alicloud.rocketmq.RocketMQInstance(
        f"{n}-rocketmq",
        payment_type="PayAsYouGo",
        series_code="standard",
        service_code="rmq",
        sub_series_code="cluster_ha",
        network_info={
            "vpc_info": {"vpc_id": "vpc-mine", "vswitch_id": "vsw-mine"},
            "internet_info": {"internet_spec": "disable", "flow_out_type": "uninvolved"},
        },
        ip_whitelists=ranges,
    )
    alicloud.rocketmq.Acl(
        f"{n}-rocketmq-acl",
        actions=["Pub"],
        decision="Allow",
        instance_id="rmq-mine",
        resource_name_="orders",
        resource_type="Topic",
        username="app",
        ip_whitelists=ranges,
    )
    acl = alicloud.slb.Acl(f"{n}-partners", name=f"{n}-partners", ip_version="ipv4")
    # Provider 1.162.0 deprecated slb.Acl's entry_list for this attachment.
    alicloud.slb.AclEntryAttachment(f"{n}-slb-entry", acl_id=acl.id, entry=cidr, comment="egress")
    alicloud.alb.Acl(
        f"{n}-alb-acl", acl_name=n, acl_entries=[{"entry": cidr, "description": "egress"}]
    )
    alicloud.alb.AclEntryAttachment(
        f"{n}-alb-entries", acl_id="acl-mine", entries=[{"entry": cidr}]
    )
    ga_acl = alicloud.ga.Acl(
        f"{n}-ga-acl", address_ip_version="IPv4", acl_entries=[{"entry": cidr}]
    )
    alicloud.ga.AclEntryAttachment(f"{n}-ga-entry", acl_id=ga_acl.id, entry=cidr)
    api_acl = alicloud.apigateway.AccessControlList(
        f"{n}-api-acl", access_control_list_name=n, acl_entrys=[{"acl_entry_ip": cidr}]
    )
    alicloud.apigateway.AclEntryAttachment(f"{n}-api-entry", acl_id=api_acl.id, entry=cidr)
    alicloud.cr.EndpointAclPolicy(
        f"{n}-registry-acl", endpoint_type="internet", entry=cidr, instance_id="cri-mine"
    )
    alicloud.bastionhost.Instance(
        f"{n}-bastion-public",
        bandwidth="5",
        description="ops bastion",
        license_code="bhah_ent_50_asset",
        plan_code="cloudbastion",
        security_group_ids=["sg-mine"],
        storage="5",
        vswitch_id="vsw-mine",
        public_white_lists=ranges,
    )
    alicloud.nas.AccessRule(
        f"{n}-nas-rule", access_group_name="mine", source_cidr_ip=cidr, priority=1
    )
    alicloud.clickhouseenterprisedbcluster.SecurityIp(
        f"{n}-clickhouse-ee", db_instance_id="cc-mine", group_name="cluster", security_ip_list=text
    )
    alicloud.gpdb.SupabaseProject(
        f"{n}-supabase",
        account_password=pulumi.Output.secret("Correct-Horse-9"),
        project_name=n,
        project_spec="1C2G",
        vpc_id="vpc-mine",
        vswitch_id="vsw-mine",
        zone_id=ZONES[0],
        security_ip_lists=ranges,
    )
    alicloud.lindorm.InstanceV2(
        f"{n}-lindorm-v2",
        arch_version="1.0",
        engine_lists=[{"engine_type": "TABLE"}],
        instance_alias=n,
        payment_type="POSTPAY",
        vpc_id="vpc-mine",
        vswitch_id="vsw-mine",
        zone_id=ZONES[0],
        white_ip_lists=[{"group_name": "cluster", "ip_list": text}],
    )
    alicloud.maxcompute.Project(f"{n}-maxcompute", ip_white_list={"ip_list": text})
    alicloud.polardb.Application(
        f"{n}-polardb-app",
        application_type="supabase",
        architecture="x86",
        region_id="cn-hangzhou",
        security_ip_lists=ranges,
    )
    alicloud.cr.InternetEndpoint(
        f"{n}-registry-internet", instance_id="cri-mine", entries=[{"entry": cidr}]
    )
    alicloud.kms.NetworkRule(f"{n}-kms-rule", source_private_ips=ranges)
    alicloud.yundun.BastionHostInstance(
        f"{n}-bastion-old",
        bandwidth="5",
        description="ops bastion",
        license_code="bhah_ent_50_asset",
        plan_code="cloudbastion",
        security_group_ids=["sg-mine"],
        storage="5",
        vswitch_id="vsw-mine",
        public_white_lists=ranges,
    )
    alicloud.ddos.DomainResource(
        f"{n}-ddos",
        domain="www.example.com",
        instance_ids=["ddoscoo-mine"],
        proxy_types=[{"proxy_ports": [443], "proxy_type": "https"}],
        real_servers=["203.0.113.10"],
        rs_type=0,
        white_lists=[cidr],
    )
    alicloud.vpc.NetworkAcl(
        f"{n}-network-acl",
        vpc_id="vpc-mine",
        ingress_acl_entries=[
            {"source_cidr_ip": cidr, "policy": "accept", "protocol": "tcp", "port": "443/443"}
        ],
        egress_acl_entries=[
            {"destination_cidr_ip": cidr, "policy": "accept", "protocol": "all", "port": "-1/-1"}
        ],
    )
    policy = ip.apply(
        lambda a: json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["oss:GetObject"],
                        "Principal": ["*"],
                        "Resource": ["acs:oss:*:*:team-assets/*"],
                        "Condition": {"IpAddress": {"acs:SourceIp": [f"{a}/32"]}},
                    }
                ],
            }
        )
    )
    alicloud.oss.BucketPolicy(f"{n}-assets-policy", bucket="team-assets", policy=policy)
    alicloud.oss.Bucket(f"{n}-assets2", bucket="team-assets2", policy=policy)


def _monitoring(c: ManagedCluster, name: str) -> None:
    """CloudMonitor reading the metrics of what the cluster owns and alerting on them: an alarm
    on the API server's load balancer, a group rule and a monitor group of its nodes' scaling
    group, contacts named after the cluster, a site monitor probing its ingress, an event rule
    filtering the cluster's events."""
    n = name
    contacts = alicloud.cms.AlarmContactGroup(
        f"{n}-oncall",
        alarm_contact_group_name=c.cluster_id.apply(lambda i: f"oncall-{i}"),
        describe=c.cluster_id.apply(lambda i: f"on call for cluster {i}"),
    )
    alicloud.cms.AlarmContact(
        f"{n}-lead",
        alarm_contact_name="lead",
        describe=c.cluster_id.apply(lambda i: f"lead of cluster {i}"),
        channels_mail="lead@example.com",
    )
    alicloud.cms.Alarm(
        f"{n}-api-5xx",
        name=c.cluster_id.apply(lambda i: f"api-5xx-{i}"),
        project="acs_slb_dashboard",
        metric="StatusCode5xx",
        metric_dimensions=c.api_server_slb_id.apply(lambda i: json.dumps([{"instanceId": i}])),
        contact_groups=[contacts.alarm_contact_group_name],
        escalations_critical={
            "statistics": "Average",
            "comparison_operator": ">",
            "threshold": "10",
            "times": 3,
        },
    )
    group = alicloud.cms.MonitorGroup(
        f"{n}-nodes", monitor_group_name=c.cluster_id.apply(lambda i: f"nodes-{i}")
    )
    scaling = c.node_pools["general"].scaling_group_id
    alicloud.cms.MonitorGroupInstances(
        f"{n}-nodes-members",
        group_id=group.id,
        instances=[
            {
                "instance_id": scaling,
                "instance_name": "general",
                "region_id": "cn-hangzhou",
                "category": "ess",
            }
        ],
    )
    alicloud.cms.GroupMetricRule(
        f"{n}-nodes-cpu",
        group_id=group.id,
        group_metric_rule_name="nodes-cpu",
        rule_id="nodes-cpu",
        category="ecs",
        metric_name="cpu_total",
        namespace="acs_ecs_dashboard",
        dimensions=scaling.apply(lambda g: json.dumps([{"scalingGroupId": g}])),
        escalations={
            "critical": {
                "statistics": "Average",
                "comparison_operator": "GreaterThanThreshold",
                "threshold": "90",
                "times": 3,
            }
        },
    )
    alicloud.cms.SiteMonitor(
        f"{n}-probe",
        task_name=c.cluster_id.apply(lambda i: f"ingress-{i}"),
        task_type="HTTP",
        address=c.ingress_load_balancer_id.apply(lambda i: f"http://{i}.example.com/healthz"),
    )
    alicloud.cms.EventRule(
        f"{n}-events",
        rule_name="cluster-events",
        description=c.cluster_id.apply(lambda i: f"events of {i}"),
        event_pattern={
            "product": "CS",
            "event_type_lists": ["*"],
            "sql_filter": c.cluster_id.apply(lambda i: f"clusterId = '{i}'"),
        },
        contact_parameters=[
            {"contact_group_name": contacts.alarm_contact_group_name, "level": "3"}
        ],
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
    "its egress address in every IP whitelist, and databases in its network": _every_whitelist,
    "alarms, monitor groups, contacts, probes and event rules on what it owns": _monitoring,
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
    "an event rule whose target calls Auto Scaling on its scaling group": lambda c: (
        alicloud.cms.EventRule(
            "loose",
            rule_name="scale-to-zero",
            event_pattern={"product": "CS", "event_type_lists": ["*"]},
            open_api_parameters=[
                {
                    "open_api_parameters_id": "1",
                    "product": "Ess",
                    "action": "ModifyScalingGroup",
                    "version": "2014-08-28",
                    "region": "cn-hangzhou",
                    "arn": c.node_pools["general"].scaling_group_id.apply(
                        lambda g: f"acs:ess:cn-hangzhou:1234567890123456:scalinggroup/{g}"
                    ),
                    "role": "acs:ram::1234567890123456:role/aliyuncmsdefaultrole",
                }
            ],
        )
    ),
    "an alarm whose target acts on its scaling group": lambda c: alicloud.cms.Alarm(
        "loose",
        project="acs_ecs_dashboard",
        metric="cpu_total",
        contact_groups=["platform"],
        targets=[
            {
                "target_id": "1",
                "arn": c.node_pools["general"].scaling_group_id.apply(
                    lambda g: f"acs:ess:cn-hangzhou:1234567890123456:scalingrule/{g}"
                ),
            }
        ],
    ),
    "a CloudMonitor integration policy installing an agent into the cluster": lambda c: (
        alicloud.cms.IntegrationPolicy(
            "loose",
            workspace="default-cms-123-cn-hangzhou",
            policy_type="CS",
            integration_policy_name="k8s",
            entity_group={"cluster_id": c.cluster_id, "cluster_entity_type": "ManagedKubernetes"},
        )
    ),
    "a NAT gateway of one's own given its egress EIP's address to translate with": lambda c: (
        alicloud.vpc.SnatEntry(
            "loose",
            snat_table_id="stb-mine",
            source_cidr="10.1.0.0/24",
            snat_ip=c.egress_addresses.apply(lambda a: a[0]),
        )
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


@pytest.mark.parametrize(
    "whitelist",
    [
        lambda c, eip: alicloud.slb.AclEntryAttachment(
            "loose", acl_id="acl-mine", entry=c.egress_addresses.apply(lambda _: eip)
        ),
        lambda c, eip: alicloud.adb.DBCluster(
            "loose",
            db_cluster_category="MixedStorage",
            mode="flexible",
            vswitch_id="vsw-mine",
            security_ips=[eip],
        ),
    ],
    ids=["through its dependency", "as a literal"],
)
def test_its_egress_eip_by_allocation_id_in_a_whitelist_stays_drift(gate, whitelist):
    """A whitelist may name the EIP's address, never its allocation ID (by which it is bound and
    released): in an update, where the ID is known, that is drift."""
    from ack_offline.fake_cloud import FakeAlibabaCloud, _hex

    eip_type = "alicloud:ecs/eipAddress:EipAddress"
    (eip,) = [r for r in run(cluster, preview=False).resources if r.type == eip_type]
    eip_id = FakeAlibabaCloud.ID_PREFIXES[eip_type] + _hex(eip_type, eip.name)

    def program() -> None:
        whitelist(cluster(), eip_id)

    result = run(program, preview=False)
    assert eip_id in {r.id for r in result.resources if r.type == eip_type}
    (loose,) = [r for r in result.resources if r.name == "loose"]
    blocked = [v for v in gate(result) if (v.policy, v.urn) == (DRIFT, loose.urn)]
    assert blocked and "by its id" in blocked[0].message


@pytest.mark.parametrize(
    ("actions", "passes"),
    [
        (["cs:DescribeClusterUserKubeconfig", "cs:DescribeClusterDetail"], True),
        (["cs:Describe*", "cs:GetClusters", "cs:ListTagResources"], True),
        (["cs:DescribeClusterDetail", "cs:ModifyCluster"], False),
        (["cs:D*"], False),
        (["cs:*"], False),
    ],
)
def test_a_policy_that_only_reads_what_a_cluster_owns_passes(gate, actions, passes):
    """A CI role scoped to one cluster (its kubeconfig and details) was drift while the same
    grant on "*" passed, pushing teams to wider grants; a grant that can change it stays drift.
    (In an update: at preview the cluster's ID, hence the document, is not known yet.)"""
    import json

    import pulumi_alicloud as alicloud

    from ack_clusters import ManagedCluster

    from .conftest import args, run

    def program() -> None:
        c = ManagedCluster("demo", args())
        policy = alicloud.ram.Policy(
            "ci",
            policy_name="ci",
            policy_document=c.cluster_id.apply(
                lambda i: json.dumps(
                    {
                        "Version": "1",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": actions,
                                "Resource": [f"acs:cs:*:*:cluster/{i}"],
                            }
                        ],
                    }
                )
            ),
        )
        user = alicloud.ram.User("ci", name="ci-deployer")
        alicloud.ram.UserPolicyAttachment(
            "ci", user_name=user.name, policy_name=policy.policy_name, policy_type="Custom"
        )

    found = [v for v in gate(run(program, preview=False)) if v.enforcement == "mandatory"]
    assert (found == []) is passes, [v.message for v in found]
