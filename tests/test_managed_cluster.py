"""ManagedCluster on the fake cloud: the graph users get, its defaults, ownership and ordering."""

from __future__ import annotations

import json

import pulumi
import pytest

from ack_clusters import InvalidArguments, ManagedCluster
from ack_clusters.naming import CLUSTER_TAG, MANAGED_BY_TAG
from ack_offline.recorder import SECRET, UNKNOWN_TEXT

from .conftest import args, assert_owned_and_tagged, run, takes_tags

CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
SNAT = "alicloud:vpc/snatEntry:SnatEntry"
EIP_ASSOC = "alicloud:ecs/eipAssociation:EipAssociation"
POOL_TYPE = "alicloud:cs/nodePool:NodePool"


def build(name: str = "demo", **overrides):
    def program():
        c = ManagedCluster(name, args(**overrides))
        pulumi.export("kubeconfig", c.kubeconfig)
        pulumi.export("endpoint", c.api_server_endpoint)
        pulumi.export("nat", c.nat_gateway_id)
        pulumi.export("ingress", c.ingress_load_balancer_id)
        pulumi.export("pools", {n: p.scaling_group_id for n, p in c.node_pools.items()})
        pulumi.export("vswitches", c.vswitch_ids)

    return program


def test_default_graph_has_the_whole_resource_layer():
    r = run(build())
    counts: dict[str, int] = {}
    for res in r.resources:
        counts[res.type] = counts.get(res.type, 0) + 1
    assert counts == {
        "ack:index:ManagedCluster": 1,
        "ack:index:ClusterNetwork": 1,
        "ack:index:ClusterSecurityGroup": 1,
        "ack:index:NodeRole": 1,
        "ack:index:NodePool": 1,
        "alicloud:vpc/network:Network": 1,
        "alicloud:vpc/switch:Switch": 4,  # node + Terway pod vSwitch in each of 2 zones
        "alicloud:vpc/natGateway:NatGateway": 1,
        "alicloud:ecs/eipAddress:EipAddress": 1,
        EIP_ASSOC: 1,
        SNAT: 4,
        "alicloud:ecs/securityGroup:SecurityGroup": 1,
        "alicloud:ecs/securityGroupRule:SecurityGroupRule": 5,
        "alicloud:ram/role:Role": 1,
        "alicloud:ram/policy:Policy": 1,
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": 1,
        CLUSTER: 1,
        POOL_TYPE: 1,
        "pulumi:providers:kubernetes": 1,
    }


def test_every_resource_is_owned_and_tagged():
    r = run(build(tags={"team": "platform"}))
    assert_owned_and_tagged(r, "ack:index:ManagedCluster", "demo")
    taggable = [res for res in r.resources if res.custom and takes_tags(res.type)]
    assert len(taggable) >= 12
    assert all(res.inputs["tags"]["team"] == "platform" for res in taggable)


@pytest.mark.parametrize("key", [CLUSTER_TAG, MANAGED_BY_TAG, "ack.pulumi.io/anything"])
def test_user_tags_cannot_spoof_ownership(key):
    """A user tag in the ownership namespace is refused, not silently overridden: it would make
    the console and the policy pack disagree with the code about who owns a resource."""
    with pytest.raises(InvalidArguments) as caught:
        run(build(tags={key: "someone-else"}))
    assert [p for p, _ in caught.value.problems] == ["tags"]
    assert "ownership" in str(caught.value)


def test_ownership_tags_are_set_by_the_component():
    r = run(build(tags={"team": "platform"}))
    assert r.one(CLUSTER).inputs["tags"][CLUSTER_TAG] == "demo"
    assert r.one(CLUSTER).inputs["tags"]["team"] == "platform"


def test_safe_defaults_private_api_protected_and_egress_owned_by_us():
    r = run(build())
    cluster = r.one(CLUSTER).inputs
    assert cluster["newNatGateway"] is False
    assert cluster["slbInternetEnabled"] is False
    assert cluster["deletionProtection"] is True
    assert cluster["enableRrsa"] is True
    assert cluster["skipSetCertificateAuthority"] is True
    assert cluster["profile"] == "Default"
    assert cluster["clusterSpec"] == "ack.pro.small"
    assert cluster["auditLogConfig"] == {"enabled": True}
    assert cluster["controlPlaneLogTtl"] == "30"
    assert [a["name"] for a in cluster["addons"]] == ["terway-eniip"]
    assert r.one("alicloud:vpc/network:Network").protect is True
    assert r.one("alicloud:vpc/natGateway:NatGateway").inputs["deletionProtection"] is True
    assert r.one("alicloud:ecs/eipAddress:EipAddress").inputs["deletionProtection"] is True


def test_public_api_server_only_when_asked_and_endpoint_follows():
    private = run(build())
    public = run(build(public_api_server=True))
    assert public.one(CLUSTER).inputs["slbInternetEnabled"] is True
    assert private.stack_outputs["endpoint"].startswith("https://10.")
    assert public.stack_outputs["endpoint"].startswith("https://47.")


def test_kubeconfig_is_secret_fresh_and_feeds_the_kubernetes_provider():
    r = run(build())
    assert r.stack_outputs["kubeconfig"] == SECRET
    assert r.invokes == ["alicloud:cs/getClusterCredential:getClusterCredential"]
    provider = r.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == SECRET
    dumped = json.dumps([x.inputs for x in r.resources]) + json.dumps(r.stack_outputs)
    assert "client-key-data" not in dumped


def test_node_pools_wait_for_every_egress_resource():
    r = run(build(network={"zones": ["cn-hangzhou-i", "cn-hangzhou-j"], "nat": "per_zone"}))
    pool = r.one(POOL_TYPE)
    egress = {x.urn for x in r.resources if x.type in (SNAT, EIP_ASSOC)}
    egress |= {x.urn for x in r.by_type("alicloud:vpc/routeEntry:RouteEntry")}
    egress |= {x.urn for x in r.by_type("alicloud:vpc/routeTableAttachment:RouteTableAttachment")}
    assert len(egress) == 4 + 2 + 2 + 4
    assert egress <= set(pool.dependencies)


def test_snat_entries_wait_for_the_eip_association():
    r = run(build())
    assoc = r.one(EIP_ASSOC).urn
    for snat in r.by_type(SNAT):
        assert assoc in snat.dependencies


def test_cluster_depends_on_its_security_group_and_vswitches():
    r = run(build())
    deps = r.one(CLUSTER).property_dependencies
    sg = r.one("alicloud:ecs/securityGroup:SecurityGroup").urn
    switches = {s.urn for s in r.by_type("alicloud:vpc/switch:Switch")}
    assert deps["securityGroupId"] == [sg]
    assert set(deps["vswitchIds"]) | set(deps["podVswitchIds"]) == switches


def test_per_zone_nat_routes_each_zone_through_its_own_gateway():
    zones = ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]
    r = run(build(network={"zones": zones, "nat": "per_zone"}))
    assert len(r.by_type("alicloud:vpc/natGateway:NatGateway")) == 3
    routes = r.by_type("alicloud:vpc/routeEntry:RouteEntry")
    assert {x.inputs["destinationCidrblock"] for x in routes} == {"0.0.0.0/0"}
    assert {x.inputs["nexthopType"] for x in routes} == {"NatGateway"}
    assert len(r.by_type("alicloud:vpc/routeTableAttachment:RouteTableAttachment")) == 6


def test_no_nat_means_no_gateway_and_none_output():
    r = run(build(network={"zones": ["cn-hangzhou-i"], "nat": "none"}))
    assert r.by_type("alicloud:vpc/natGateway:NatGateway") == []
    assert r.stack_outputs.get("nat") is None


def test_flannel_uses_pod_cidr_and_no_pod_vswitches():
    r = run(build(network_plugin="flannel"))
    c = r.one(CLUSTER).inputs
    assert c["podCidr"] == "172.20.0.0/16"
    assert "podVswitchIds" not in c
    assert [a["name"] for a in c["addons"]] == ["flannel"]
    assert len(r.by_type("alicloud:vpc/switch:Switch")) == 2


def test_existing_vpc_creates_no_network_but_still_owns_egress():
    r = run(
        build(
            network={
                "zones": ["cn-hangzhou-i"],
                "existing_vpc": {
                    "id": "vpc-existing1",
                    "cidr": "10.50.0.0/16",
                    "node_vswitches": {
                        "cn-hangzhou-i": {"id": "vsw-node1", "cidr": "10.50.0.0/20"}
                    },
                    "pod_vswitches": {"cn-hangzhou-i": {"id": "vsw-pod1", "cidr": "10.50.64.0/18"}},
                },
            }
        )
    )
    assert r.by_type("alicloud:vpc/network:Network") == []
    assert r.by_type("alicloud:vpc/switch:Switch") == []
    c = r.one(CLUSTER).inputs
    assert c["vswitchIds"] == ["vsw-node1"] and c["podVswitchIds"] == ["vsw-pod1"]
    nat = r.one("alicloud:vpc/natGateway:NatGateway").inputs
    assert nat["vpcId"] == "vpc-existing1" and nat["vswitchId"] == "vsw-node1"


def test_node_pool_maps_arguments_to_the_provider():
    pool = {
        "instance_types": ["ecs.g7.xlarge", "ecs.g6.xlarge"],
        "autoscaling": {"min_size": 2, "max_size": 9},
        "desired_size": 3,
        "ignore_scaling_changes": True,
        "spot": True,
        "labels": {"tier": "web"},
        "taints": [{"key": "dedicated", "value": "web", "effect": "NoExecute"}],
        "data_disks": [{"size": 200}],
        "key_name": "ops",
    }
    r = run(build(node_pools={"web": pool}))
    rec = r.one(POOL_TYPE)
    i = rec.inputs
    assert rec.name == "demo-web" and i["nodePoolName"] == "web"
    assert i["scalingConfig"] == {"enable": True, "minSize": 2, "maxSize": 9, "type": "spot"}
    assert i["desiredSize"] == "3"  # the provider types it as a string
    assert rec.ignore_changes == ["desiredSize"]
    assert i["spotStrategy"] == "SpotAsPriceGo"
    assert i["labels"] == [{"key": "tier", "value": "web"}]
    assert i["taints"] == [{"key": "dedicated", "value": "web", "effect": "NoExecute"}]
    assert i["systemDiskEncrypted"] is True
    assert i["dataDisks"][0]["encrypted"] == "true"
    assert i["management"]["autoRepair"] is True and i["management"]["enable"] is True
    role = r.one("alicloud:ram/role:Role")
    assert rec.property_dependencies["ramRoleName"] == [role.urn]
    assert len(i["securityGroupIds"]) == 1


def test_fixed_pools_ignore_nothing():
    r = run(
        build(
            node_pools={
                "fixed": {"instance_types": ["ecs.g7.large"], "desired_size": 2, "key_name": "ops"}
            }
        )
    )
    assert r.one(POOL_TYPE).ignore_changes == []


def test_node_password_is_secret_everywhere():
    pool = {
        "instance_types": ["ecs.g7.large"],
        "desired_size": 1,
        "password": "Sup3r-Secret-pw",
        "auto_repair": False,
        "auto_upgrade": False,
    }
    r = run(build(node_pools={"legacy": pool}))
    assert r.one(POOL_TYPE).inputs["password"] == SECRET
    everything = json.dumps([x.to_json() for x in r.resources]) + json.dumps(r.stack_outputs)
    assert "Sup3r-Secret-pw" not in everything


def test_pools_are_keyed_by_name_so_removing_one_keeps_the_others():
    two = {
        "a": {"instance_types": ["ecs.g7.large"], "desired_size": 1, "key_name": "ops"},
        "b": {"instance_types": ["ecs.g7.large"], "desired_size": 1, "key_name": "ops"},
    }
    both = {x.urn for x in run(build(node_pools=two)).resources}
    only_b = {x.urn for x in run(build(node_pools={"b": two["b"]})).resources}
    assert only_b < both
    assert {u.rsplit("::", 1)[1] for u in both - only_b} == {"demo-a"}


def test_ingress_load_balancer_and_bound_service():
    r = run(build(ingress={"bind_service": True, "public": False}))
    lb = r.one("alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer")
    assert lb.inputs["addressType"] == "intranet"
    assert lb.inputs["deleteProtection"] == "on"
    assert lb.inputs["modificationProtectionStatus"] == "ConsoleProtection"
    assert r.stack_outputs["ingress"].startswith("lb-")
    svc = r.one("kubernetes:core/v1:Service")
    annotations = svc.inputs["metadata"]["annotations"]
    assert (
        annotations["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"]
        == r.stack_outputs["ingress"]
    )
    assert svc.inputs["spec"]["type"] == "LoadBalancer"
    provider = r.one("pulumi:providers:kubernetes")
    assert svc.provider.startswith(provider.urn + "::")
    # The Service waits for nodes that can run the ingress controller.
    # (depends_on a component expands to the cloud resources inside it)
    assert r.one(POOL_TYPE).urn in svc.dependencies


def test_without_ingress_no_load_balancer_and_none_output():
    r = run(build())
    assert r.by_type("alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer") == []
    assert r.stack_outputs.get("ingress") is None


def test_pro_features_map_to_the_cluster():
    r = run(
        build(
            secrets_encryption_kms_key_id="key-abc",
            maintenance_window={"weekly_period": "Monday"},
            auto_upgrade_channel="stable",
        )
    )
    c = r.one(CLUSTER).inputs
    assert c["encryptionProviderKey"] == "key-abc" and c["disableEncryption"] is False
    assert c["maintenanceWindow"]["enable"] is True
    assert c["operationPolicy"] == {"clusterAutoUpgrade": {"enabled": True, "channel": "stable"}}


def test_security_group_has_no_world_open_rule_and_admits_the_control_plane():
    r = run(build())
    rules = r.by_type("alicloud:ecs/securityGroupRule:SecurityGroupRule")
    assert all(x.inputs["cidrIp"] != "0.0.0.0/0" for x in rules)
    by_name = {x.name: x.inputs for x in rules}
    assert by_name["demo-sg-control-plane"]["cidrIp"] == "100.64.0.0/10"
    assert by_name["demo-sg-kubelet-cn-hangzhou-i"]["portRange"] == "10250/10250"


def test_node_role_trusts_ecs_only_and_is_not_an_administrator():
    r = run(build())
    trust = json.loads(r.one("alicloud:ram/role:Role").inputs["assumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": ["ecs.aliyuncs.com"]}
    policy = json.loads(r.one("alicloud:ram/policy:Policy").inputs["policyDocument"])
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert "*" not in actions and not any(a.endswith(":*") for a in actions)
    attachment = r.one("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert attachment["policyType"] == "Custom"


def test_invalid_arguments_register_nothing():
    registered = []

    def program():
        try:
            ManagedCluster(
                "demo", args(cluster_spec="ack.standard", secrets_encryption_kms_key_id="key-1")
            )
        except InvalidArguments as exc:
            registered.append(exc)

    r = run(program)
    assert r.resources == []
    assert registered and "Pro cluster_spec" in str(registered[0])


@pytest.mark.parametrize("preview", [True, False])
def test_outputs_are_unknown_in_preview_and_known_in_update(preview):
    r = run(build(), preview=preview)
    if preview:
        assert r.stack_outputs["pools"]["general"] == UNKNOWN_TEXT
        assert r.invokes == []  # the credential cannot be fetched for a cluster not yet created
    else:
        assert r.stack_outputs["pools"]["general"].startswith("asg-")
        assert r.stack_outputs["nat"].startswith("ngw-")


@pytest.mark.parametrize("preview", [True, False])
def test_kubernetes_provider_is_ordered_after_the_cluster_in_both_modes(preview):
    r = run(build(), preview=preview)
    provider = r.one("pulumi:providers:kubernetes")
    assert provider.property_dependencies["kubeconfig"] == [r.one(CLUSTER).urn]
