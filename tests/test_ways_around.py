"""The ways around the old deny list that issue 27 reproduced, each as a program this project's
components never build: resource kinds no list named, identity without a dependency, Kubernetes
routes to what a cluster owns, other spellings of RAM. Each must be blocked, through the real
analyzer server, in preview (IDs unknown) and in update mode (IDs known), except where a mode
cannot see it (named in the case)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s
import pytest

from ack_clusters import ManagedCluster
from ack_clusters.ingress.component import LB_ID_ANNOTATION
from ack_offline.recorder import ProgramRun

from .conftest import AUTOSCALED_POOL, ROOT, args, run

DRIFT = "ack-no-loose-attachments-to-cluster-resources"
MODES = pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])


def cluster() -> ManagedCluster:
    return ManagedCluster("demo", args(ingress={}, node_pools={"general": AUTOSCALED_POOL}))


def _api_server_address(c: ManagedCluster) -> pulumi.Output[str]:
    return c.api_server_endpoint.apply(lambda url: urlsplit(url).hostname or "")


def _after(c: ManagedCluster) -> pulumi.InvokeOutputOptions:
    """Invoke options for a lookup made once the cluster's resources exist."""
    return pulumi.InvokeOutputOptions(depends_on=[c])


def _ssm_run_command(tag: Any) -> Any:
    return alicloud.oos.Execution(
        "loose",
        template_name="ACS-ECS-BulkyRunCommand",
        parameters=pulumi.Output.from_input(tag).apply(
            lambda t: json.dumps(
                {
                    "commandContent": "systemctl stop kubelet",
                    "targets": {"Type": "Tags", "Tags": [{"Key": t, "Value": "demo"}]},
                }
            )
        ),
    )


class _Echo(pulumi.dynamic.ResourceProvider):
    def create(self, props: Any) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult("echo", props)


class Echo(pulumi.dynamic.Resource):
    """A dynamic provider's resource: whatever it does is code the gate cannot read."""

    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__(_Echo(), name, props)


def _owned(c: ManagedCluster, type_: str, field: str = "id") -> pulumi.Output[str]:
    """The value an owned resource is known by, from the cluster's `owned_identities`."""
    return c.owned_identities.apply(
        lambda ids: next(i["value"] for i in ids if i["type"] == type_ and i["field"] == field)
    )


def _parent_of_another(c: ManagedCluster) -> object:
    """A resource with a child of its own looks like a component to a rule that tells one by
    its children; a resource has a provider, a component of the program's own has none."""
    loose = alicloud.ecs.SecurityGroupRule(
        "loose",
        security_group_id=c.security_group_id,
        type="ingress",
        ip_protocol="tcp",
        port_range="8443/8443",
        cidr_ip="10.9.0.0/16",
    )
    alicloud.log.Project(
        "loose-child", project_name="loose-logs", opts=pulumi.ResourceOptions(parent=loose)
    )
    return loose


def _pass_role(resource: str) -> alicloud.ram.Policy:
    """A policy that lets whoever holds it pass the roles `resource` names."""
    statement = {"Effect": "Allow", "Action": "ram:PassRole", "Resource": resource}
    return alicloud.ram.Policy(
        "loose",
        policy_name="pass-roles",
        policy_document=json.dumps({"Version": "1", "Statement": [statement]}),
    )


#: Each way around: builds the loose resource named "loose" on cluster `c`.
WAYS: dict[str, Callable[[ManagedCluster], object]] = {
    # --- kinds no list named -------------------------------------------------------------------
    "a flow log on its VPC": lambda c: alicloud.vpc.FlowLog(
        "loose",
        resource_id=c.vpc_id,
        resource_type="VPC",
        traffic_type="All",
        project_name="logs",
        log_store_name="flows",
    ),
    "an NLB server aimed at its API server's address": lambda c: (
        alicloud.nlb.ServerGroupServerAttachment(
            "loose",
            server_group_id="sgp-elsewhere",
            server_id=_api_server_address(c),
            server_ip=_api_server_address(c),
            server_type="Ip",
            port=6443,
        )
    ),
    "a PrivateLink service fronting its API server's load balancer": lambda c: (
        alicloud.privatelink.VpcEndpointServiceResource(
            "loose",
            service_id="epsrv-elsewhere",
            resource_id=c.api_server_slb_id,
            resource_type="slb",
        )
    ),
    "a router interface on its VPC's router": lambda c: alicloud.vpc.RouterInterface(
        "loose",
        router_id=alicloud.vpc.Network.get("read-vpc", c.vpc_id).router_id,
        router_type="VRouter",
        role="InitiatingSide",
        specification="Large.2",
        opposite_region="cn-shanghai",
    ),
    "a PrivateZone forwarding rule bound to its VPC": lambda c: alicloud.pvtz.RuleAttachment(
        "loose",
        rule_id="rule-elsewhere",
        vpcs=[alicloud.pvtz.RuleAttachmentVpcArgs(vpc_id=c.vpc_id, region_id="cn-hangzhou")],
    ),
    "DHCP options bound through the set's own associate_vpcs": lambda c: (
        alicloud.vpc.DhcpOptionsSet(
            "loose",
            domain_name="corp.example",
            associate_vpcs=[alicloud.vpc.DhcpOptionsSetAssociateVpcArgs(vpc_id=c.vpc_id)],
        )
    ),
    "a Cloud Firewall NAT firewall on its NAT gateway": lambda c: (
        alicloud.cloudfirewall.NatFirewall(
            "loose",
            nat_gateway_id=c.nat_gateway_id,
            proxy_name="loose",
            region_no="cn-hangzhou",
            vpc_id=c.vpc_id,
            nat_route_entry_lists=[],
        )
    ),
    "a ROS stack whose template names its VPC": lambda c: alicloud.ros.Stack(
        "loose",
        stack_name="loose",
        template_body=c.vpc_id.apply(
            lambda vpc: json.dumps(
                {
                    "ROSTemplateFormatVersion": "2015-09-01",
                    "Resources": {
                        "Switch": {
                            "Type": "ALIYUN::ECS::VSwitch",
                            "Properties": {"VpcId": vpc, "CidrBlock": "10.0.250.0/24"},
                        }
                    },
                }
            )
        ),
    ),
    "a Cloud Control resource in its VPC": lambda c: alicloud.cloudcontrol.Resource(
        "loose",
        product="VPC",
        resource_code="VSwitch",
        desire_attributes=c.vpc_id.apply(
            lambda vpc: json.dumps({"VpcId": vpc, "CidrBlock": "10.0.250.0/24"})
        ),
    ),
    "a dynamic provider's resource given its security group": lambda c: Echo(
        "loose", {"group": c.security_group_id}
    ),
    "an OOS run-command aimed at the nodes by ACK's tag": lambda c: _ssm_run_command(
        "ack.aliyun.com"
    ),
    "an OOS run-command aimed at what it owns by its ownership tag": lambda c: _ssm_run_command(
        "ack.pulumi.io/cluster"
    ),
    "a rule made the parent of another resource, to pass for a component": _parent_of_another,
    "a pod given its NAT EIP by Terway's pod EIP annotation": lambda c: k8s.core.v1.Pod(
        "loose",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="egress",
            namespace="app",
            annotations={
                "k8s.aliyun.com/pod-eip-instanceid": _owned(c, "alicloud:ecs/eipAddress:EipAddress")
            },
        ),
        spec=k8s.core.v1.PodSpecArgs(
            containers=[k8s.core.v1.ContainerArgs(name="app", image="registry/app:1")]
        ),
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "an ECI pod given its node role by annotation": lambda c: k8s.core.v1.Pod(
        "loose",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="runner",
            namespace="ci",
            annotations={"k8s.aliyun.com/eci-ram-role-name": c.node_role_name},
        ),
        spec=k8s.core.v1.PodSpecArgs(
            containers=[k8s.core.v1.ContainerArgs(name="app", image="registry/app:1")]
        ),
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a Service bound to its API server's load balancer by the older annotation": lambda c: (
        k8s.core.v1.Service(
            "loose",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="api",
                namespace="app",
                annotations={
                    "service.beta.kubernetes.io/alicloud-loadbalancer-id": c.api_server_slb_id
                },
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer", ports=[k8s.core.v1.ServicePortArgs(port=443)]
            ),
            opts=pulumi.ResourceOptions(provider=c.provider),
        )
    ),
    "Endpoints putting its API server behind a Service of one's own": lambda c: (
        k8s.core.v1.Endpoints(
            "loose",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="api-public", namespace="app"),
            subsets=[
                k8s.core.v1.EndpointSubsetArgs(
                    addresses=[k8s.core.v1.EndpointAddressArgs(ip=_api_server_address(c))],
                    ports=[k8s.core.v1.EndpointPortArgs(port=6443)],
                )
            ],
            opts=pulumi.ResourceOptions(provider=c.provider),
        )
    ),
    # --- identity without a dependency ---------------------------------------------------------
    "a rule on a group an invoke found by the ownership tags": lambda c: (
        alicloud.ecs.SecurityGroupRule(
            "loose",
            security_group_id=alicloud.ecs.get_security_groups_output(
                tags={"ack.pulumi.io/cluster": "demo"}, opts=_after(c)
            ).ids[0],
            type="ingress",
            ip_protocol="tcp",
            port_range="8443/8443",
            cidr_ip="10.9.0.0/16",
        )
    ),
    "a rule on an output rebuilt without its resources": lambda c: alicloud.ecs.SecurityGroupRule(
        "loose",
        security_group_id=pulumi.Output(
            set(),
            c.security_group_id.future(),
            c.security_group_id.is_known(),
            c.security_group_id.is_secret(),
        ),
        type="ingress",
        ip_protocol="tcp",
        port_range="8443/8443",
        cidr_ip="10.9.0.0/16",
    ),
    "a policy attached to its node role by the name it is known to have": lambda c: (
        alicloud.ram.RolePolicyAttachment(
            "loose",
            role_name="demo-node-role",
            policy_name="AliyunOSSFullAccess",
            policy_type="System",
        )
    ),
    # --- Kubernetes ----------------------------------------------------------------------------
    "a ConfigMapPatch of the network addon's configuration in kube-system": lambda c: (
        k8s.core.v1.ConfigMapPatch(
            "loose",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name="kube-flannel-cfg", namespace="kube-system"
            ),
            data={"net-conf.json": "{}"},
            opts=pulumi.ResourceOptions(provider=c.provider),
        )
    ),
    "an object in kube-system through its provider's default namespace": lambda c: (
        k8s.core.v1.ConfigMap(
            "loose",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="kube-flannel-cfg"),
            data={"net-conf.json": "{}"},
            opts=pulumi.ResourceOptions(
                provider=k8s.Provider(
                    "loose-provider", kubeconfig=c.kubeconfig, namespace="kube-system"
                )
            ),
        )
    ),
    "a chart moved into kube-system by its namespaceOverride value": lambda c: k8s.helm.v3.Release(
        "loose",
        chart="coredns",
        namespace="app",
        values={"namespaceOverride": "kube-system"},
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a subchart moved into kube-system by its namespaceOverride": lambda c: k8s.helm.v3.Release(
        "loose",
        chart="kube-prometheus-stack",
        namespace="monitoring",
        values={"kube-state-metrics": {"namespaceOverride": "kube-system"}},
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a chart moved into kube-system by an inline value file": lambda c: k8s.helm.v3.Release(
        "loose",
        chart="coredns",
        namespace="app",
        value_yaml_files=[pulumi.StringAsset("namespaceOverride: kube-system\n")],
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "an object in a namespace computed from what it owns": lambda c: k8s.core.v1.ConfigMap(
        "loose",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="kube-flannel-cfg", namespace=c.cluster_id.apply(lambda _: "kube-system")
        ),
        data={"net-conf.json": "{}"},
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a YAML group's object in kube-system": lambda c: k8s.yaml.v2.ConfigGroup(
        "loose",
        objs=[
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "kube-flannel-cfg", "namespace": "kube-system"},
                "data": {"net-conf.json": "{}"},
            }
        ],
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a Helm release binding its chart's Service to the API server's load balancer": lambda c: (
        k8s.helm.v3.Release(
            "loose",
            chart="ingress-nginx",
            values={
                "controller": {"service": {"annotations": {LB_ID_ANNOTATION: c.api_server_slb_id}}}
            },
            opts=pulumi.ResourceOptions(provider=c.provider),
        )
    ),
    "a YAML ConfigGroup binding a Service to its ingress load balancer": lambda c: (
        k8s.yaml.v2.ConfigGroup(
            "loose",
            yaml=c.ingress_load_balancer_id.apply(
                lambda lb: (
                    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
                    f"  annotations:\n    {LB_ID_ANNOTATION}: {lb}\n"
                    "spec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n"
                )
            ),
            opts=pulumi.ResourceOptions(provider=c.provider),
        )
    ),
    # --- RAM -----------------------------------------------------------------------------------
    "its node role given a policy through Resource Manager": lambda c: (
        alicloud.resourcemanager.PolicyAttachment(
            "loose",
            policy_name="AliyunECSFullAccess",
            policy_type="System",
            principal_name=c.node_role_name,
            principal_type="IMSRole",
            resource_group_id="rg-elsewhere",
        )
    ),
    "an instance launched with its node role": lambda c: alicloud.ecs.Instance(
        "loose",
        role_name=c.node_role_name,
        security_groups=["sg-mine"],
        vswitch_id="vsw-elsewhere",
        instance_type="ecs.g7.large",
        image_id="aliyun_3_x64_20G_alibase_20240819.vhd",
        system_disk_encrypted=True,
    ),
    "a policy that lets anyone pass its node role": lambda c: _pass_role(
        "acs:ram::*:role/demo-node-role"
    ),
    "a policy that lets anyone pass roles named like its node role": lambda c: _pass_role(
        "acs:ram::*:role/Demo-Node-*"
    ),
    "a policy that lets anyone pass roles ending like its node role": lambda c: _pass_role(
        "acs:ram::1234567890123456:role/*-node-role"
    ),
    "a policy naming its node role by a pattern in capitals": lambda c: _pass_role(
        "ACS:RAM::*:ROLE/DEMO-NODE-ROL?"
    ),
}


@MODES
@pytest.mark.parametrize("way", list(WAYS))
def test_a_way_around_is_blocked(gate, way, preview):
    def program() -> None:
        WAYS[way](cluster())

    result = run(program, preview=preview)
    (loose,) = [r for r in result.resources if r.name == "loose"]
    mandatory = [v for v in gate(result) if v.enforcement == "mandatory"]
    assert {v.urn for v in mandatory} == {loose.urn}, [v.message for v in mandatory]
    # (A rule on a group unknown at preview is also undecided for the world-open rule.)
    assert DRIFT in {v.policy for v in mandatory}


def test_a_v1_yaml_group_binding_a_service_to_its_load_balancer_is_blocked(gate):
    """`yaml.ConfigGroup` (v1) parses its YAML through the provider and registers each object
    in the program: the Service is judged like one declared by hand (an ID typed in, so an
    update decides)."""
    lb = run(cluster).one("alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer").id

    def program() -> None:
        c = cluster()
        k8s.yaml.ConfigGroup(
            "loose",
            yaml=[
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: app\n"
                f"  annotations:\n    {LB_ID_ANNOTATION}: {lb}\n"
                "spec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n"
            ],
            opts=pulumi.ResourceOptions(provider=c.provider),
        )

    result = run(program, preview=False)
    (service,) = [
        r for r in result.resources if r.type == "kubernetes:core/v1:Service" and "web" in r.name
    ]
    mandatory = [v for v in gate(result) if v.enforcement == "mandatory"]
    assert {(v.policy, v.urn) for v in mandatory} == {(DRIFT, service.urn)}


def in_namespace(namespace: str) -> Callable[[str], str]:
    """A kubeconfig with its current context's namespace set to `namespace`."""
    import yaml

    def edit(kubeconfig: str) -> str:
        doc = yaml.safe_load(kubeconfig)
        for item in doc["contexts"]:
            if item["name"] == doc["current-context"]:
                item["context"]["namespace"] = namespace
        return yaml.safe_dump(doc)

    return edit


def test_an_object_in_kube_system_by_its_kubeconfigs_context_is_blocked(gate):
    """The provider takes an object's namespace from its kubeconfig's current context when it
    names none itself. Unknown at a preview of a new stack; an update decides."""

    def program() -> None:
        c = cluster()
        provider = k8s.Provider(
            "context", kubeconfig=c.kubeconfig.apply(in_namespace("kube-system"))
        )
        k8s.core.v1.ConfigMap(
            "loose",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="kube-flannel-cfg"),
            data={"net-conf.json": "{}"},
            opts=pulumi.ResourceOptions(provider=provider),
        )

    result = run(program, preview=False)
    (loose,) = [r for r in result.resources if r.name == "loose"]
    mandatory = [v for v in gate(result) if v.enforcement == "mandatory"]
    assert {(v.policy, v.urn) for v in mandatory} == {(DRIFT, loose.urn)}
    assert "writes into 'kube-system'" in mandatory[0].message


def test_a_resource_registered_inside_an_apply_is_judged_by_its_value():
    """A preview of a new stack never runs the apply (its input is unknown), so the resource
    does not exist there; in an update it does, with a plain ID, and the value decides. This is
    why the pull-request gate judges both modes (ack-fleet gate)."""
    from ack_offline.gate import PolicyPackProcess

    from .conftest import CONTEXT, PACK_DIR

    def program() -> None:
        c = cluster()
        c.security_group_id.apply(
            lambda group: alicloud.ecs.SecurityGroupRule(
                "loose",
                security_group_id=group,
                type="ingress",
                ip_protocol="tcp",
                port_range="8443/8443",
                cidr_ip="10.9.0.0/16",
            )
        )

    assert not [r for r in run(program, preview=True).resources if r.name == "loose"]
    update = run(program, preview=False)
    (loose,) = [r for r in update.resources if r.name == "loose"]
    assert loose.property_dependencies.get("securityGroupId", []) == []
    pack = PolicyPackProcess(PACK_DIR, CONTEXT)
    try:
        pack.configure({}, CONTEXT)
        blocked = {v.urn for v in pack.analyze(update) if v.policy == DRIFT}
    finally:
        pack.close()
    assert blocked == {loose.urn}


@MODES
def test_a_stack_reference_to_its_own_outputs_is_judged_by_value(gate, preview):
    """An output of a stack read back through a StackReference carries no dependency on the
    cluster: unknown (not given) it cannot be proven; known, its value decides."""
    group = run(cluster).one("alicloud:ecs/securityGroup:SecurityGroup").id
    references = None if preview else {"acme/platform/test": {"security_group_id": group}}

    def program() -> None:
        cluster()
        ref = pulumi.StackReference("acme/platform/test")
        alicloud.ecs.SecurityGroupRule(
            "loose",
            security_group_id=ref.get_output("security_group_id"),
            type="ingress",
            ip_protocol="tcp",
            port_range="8443/8443",
            cidr_ip="10.9.0.0/16",
        )

    from ack_clusters.testing import FakeAlibabaCloud, run_program

    result = run_program(
        program,
        mock=FakeAlibabaCloud(preview=preview, stack_references=references),
        preview=preview,
        stack="test",
    )
    (loose,) = [r for r in result.resources if r.name == "loose"]
    found = [v for v in gate(result) if v.policy == DRIFT and v.urn == loose.urn]
    assert found
    if preview:
        assert "outputs of stack reference 'acme/platform/test'" in found[0].message
    else:
        assert "owned by cluster 'demo'" in found[0].message


# --- another stack's cluster, through a stack reference -----------------------------------------

APP_STACK = """
import pulumi, pulumi_alicloud as alicloud

platform = pulumi.StackReference("acme/platform/prod")
alicloud.ecs.SecurityGroupRule(
    "loose",
    security_group_id=platform.get_output("security_group_id"),
    type="ingress", ip_protocol="tcp", port_range="8443/8443", cidr_ip="10.9.0.0/16",
)
alicloud.rds.Instance(
    "orders-db", engine="MySQL", engine_version="8.0", instance_type="mysql.n2.medium.1",
    instance_storage=20, vswitch_id=platform.get_output("vswitch_ids").apply(lambda v: v[0]),
    security_group_ids=[platform.get_output("security_group_id")],
)
"""


def test_another_stacks_cluster_is_judged_by_the_identities_it_exports(tmp_path, capsys):
    """A stack with no cluster of its own that takes another stack's outputs: the cluster stack
    exports what its cluster owns is known by (`owned_identities`, each with its type), and the
    referencing stack is judged by it: a rule on that cluster's security group is drift, a
    database in its vSwitch whitelisting its group is not."""
    from ack_offline.preview import main

    exported = tmp_path / "platform.json"
    assert main(["managed-dev", "--program", str(ROOT), "--mode", "update", "--json"]) == 0
    outputs = json.loads(capsys.readouterr().out)["outputs"]
    # The platform stack's outputs (its secrets given as values, as --stack-reference takes them).
    outputs = {k: ("secret" if v == "[secret]" else v) for k, v in outputs.items()}
    exported.write_text(json.dumps(outputs))
    app = tmp_path / "app"
    app.mkdir()
    (app / "Pulumi.yaml").write_text("name: app\nruntime: python\n")
    (app / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (app / "__main__.py").write_text(APP_STACK)
    argv = ["dev", "--program", str(app), "--json", "--policy-pack", str(ROOT / "policies")]
    reference = ["--stack-reference", f"acme/platform/prod={exported}"]
    assert main([*argv, "--mode", "update", *reference]) == 1
    doc = json.loads(capsys.readouterr().out)
    blocked = {v["urn"].rsplit("::", 1)[-1]: v["message"] for v in doc["violations"]}
    assert set(blocked) == {"loose"}
    assert "cluster 'dev' of stack 'acme/platform/prod'" in blocked["loose"]
    # Without the referenced stack's outputs, at preview: not proven.
    assert main([*argv, "--mode", "preview"]) == 1
    doc = json.loads(capsys.readouterr().out)
    messages = [v["message"] for v in doc["violations"] if v["enforcement"] == "mandatory"]
    assert any("outputs of stack reference 'acme/platform/prod'" in m for m in messages)


# --- Kubernetes: objects given as files (review of issue 27, finding 4) -------------------------

SYSTEM_CONFIGMAP = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\n"
    'data: {Corefile: ".:53 { forward . 8.8.8.8 }"}\n'
)
APP_CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\n"
SYSTEM_VALUES = "namespaceOverride: kube-system\n"


def _files(folder: Any, **texts: str) -> Any:
    for name, text in texts.items():
        path = folder / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def _file_objects(c: ManagedCluster, folder: Any, way: str) -> object:
    """The resource `way` names, reading what `folder` holds (absolute paths)."""
    p = pulumi.ResourceOptions(provider=c.provider)
    if way == "yaml.v2.ConfigFile":
        return k8s.yaml.v2.ConfigFile("loose", file=str(folder / "objects.yaml"), opts=p)
    if way == "yaml.v2.ConfigGroup files (a glob)":
        return k8s.yaml.v2.ConfigGroup("loose", files=[str(folder / "*.yaml")], opts=p)
    if way == "kustomize.v2.Directory":
        return k8s.kustomize.v2.Directory("loose", directory=str(folder / "kus"), opts=p)
    if way == "helm.v3.Release value file":
        return k8s.helm.v3.Release(
            "loose",
            chart="ingress-nginx",
            namespace="edge",
            value_yaml_files=[pulumi.FileAsset(str(folder / "values.yaml"))],
            opts=p,
        )
    assert way == "helm.v4.Chart value file"
    return k8s.helm.v4.Chart(
        "loose",
        chart="ingress-nginx",
        namespace="edge",
        value_yaml_files=[pulumi.FileAsset(str(folder / "values.yaml"))],
        opts=p,
    )


FILE_WAYS = [
    "yaml.v2.ConfigFile",
    "yaml.v2.ConfigGroup files (a glob)",
    "kustomize.v2.Directory",
    "helm.v3.Release value file",
    "helm.v4.Chart value file",
]


def _mandatory(gate: Any, result: ProgramRun) -> list[Any]:
    return [v for v in gate(result) if v.enforcement == "mandatory"]


@MODES
@pytest.mark.parametrize("way", FILE_WAYS)
def test_objects_given_as_files_are_read_like_inline_text(gate, tmp_path, way, preview):
    """What a file holds is judged as if given inline: into kube-system is drift; the same
    resource reading a file of an app's own namespace passes."""
    blocked = _files(
        tmp_path / "blocked",
        **{"objects.yaml": SYSTEM_CONFIGMAP, "kus__kustomization.yaml": "resources: [sys.yaml]\n"},
        **{"kus__sys.yaml": SYSTEM_CONFIGMAP, "values.yaml": SYSTEM_VALUES},
    )
    ordinary = _files(
        tmp_path / "ordinary",
        **{"objects.yaml": APP_CONFIGMAP, "kus__kustomization.yaml": "resources: [app.yaml]\n"},
        **{"kus__app.yaml": APP_CONFIGMAP, "values.yaml": "replicaCount: 2\n"},
    )
    for folder, expected in ((blocked, True), (ordinary, False)):

        def program(f: Any = folder) -> None:
            _file_objects(cluster(), f, way)

        result = run(program, preview=preview)
        (loose,) = [r for r in result.resources if r.name == "loose"]
        mandatory = _mandatory(gate, result)
        if expected:
            assert {(v.policy, v.urn) for v in mandatory} == {(DRIFT, loose.urn)}
            assert "writes into 'kube-system'" in mandatory[0].message
        else:
            assert mandatory == [], [v.message for v in mandatory]


def test_a_kustomization_setting_kube_system_as_its_namespace_is_blocked(gate, tmp_path):
    folder = _files(
        tmp_path, **{"kus__kustomization.yaml": "namespace: kube-system\nresources: [a.yaml]\n"}
    )
    _files(tmp_path, **{"kus__a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    result = run(lambda: _file_objects(cluster(), folder, "kustomize.v2.Directory"))
    assert ["writes into 'kube-system'" in v.message for v in _mandatory(gate, result)] == [True]


def test_a_kustomization_moving_upstream_kube_system_objects_elsewhere_passes(gate, tmp_path):
    """kustomize's `namespace` moves every namespaced object: upstream manifests written for
    kube-system (metrics-server's, say) installed into a namespace of one's own pass."""
    folder = _files(
        tmp_path,
        **{"kus__kustomization.yaml": "namespace: monitoring\nresources: [sys.yaml]\n"},
        **{"kus__sys.yaml": SYSTEM_CONFIGMAP},
    )
    result = run(lambda: _file_objects(cluster(), folder, "kustomize.v2.Directory"))
    assert _mandatory(gate, result) == []


def test_a_files_cluster_scoped_objects_are_judged_like_typed_ones(gate, tmp_path):
    _files(
        tmp_path,
        **{
            "objects.yaml": "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
            "metadata: {name: alicloud-disk-essd}\nprovisioner: diskplugin.csi.alibabacloud.com\n"
        },
    )
    result = run(lambda: _file_objects(cluster(), tmp_path, "yaml.v2.ConfigFile"))
    (message,) = [v.message for v in _mandatory(gate, result)]
    assert "alicloud-disk-essd" in message


def test_a_value_file_handing_its_load_balancer_to_a_chart_is_blocked(gate, tmp_path):
    """Update mode: the file names the ingress load balancer's ID under a key of the chart's."""
    lb = run(cluster).one("alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer").id
    _files(tmp_path, **{"values.yaml": f"service:\n  existingLoadBalancer: {lb}\n"})
    result = run(lambda: _file_objects(cluster(), tmp_path, "helm.v3.Release value file"))
    (message,) = [v.message for v in _mandatory(gate, result)]
    assert "its ingress load balancer" in message and "the files it reads" in message


@pytest.mark.parametrize(
    ("way", "files", "why"),
    [
        ("a remote file", {}, "a remote URL"),
        ("kustomization with patches", {"kus__kustomization.yaml": "patches: []\n"}, "patches"),
        ("a remote base", {"kus__kustomization.yaml": "resources: [https://x/y]\n"}, "remote"),
        ("a missing file", {}, "cannot be read"),
        ("a relative path, no folder told", {}, "ACK_PROGRAM_DIR"),
    ],
)
def test_files_that_cannot_be_read_offline_are_not_proven(gate, tmp_path, way, files, why):
    _files(tmp_path, **files)

    def program() -> None:
        c = cluster()
        p = pulumi.ResourceOptions(provider=c.provider)
        if way == "a remote file":
            k8s.yaml.v2.ConfigFile("loose", file="https://example.com/sys.yaml", opts=p)
        elif way == "a missing file":
            k8s.yaml.v2.ConfigFile("loose", file=str(tmp_path / "none.yaml"), opts=p)
        elif way == "a relative path, no folder told":
            k8s.yaml.v2.ConfigFile("loose", file="manifests/app.yaml", opts=p)
        else:
            k8s.kustomize.v2.Directory("loose", directory=str(tmp_path / "kus"), opts=p)

    result = run(program)
    (message,) = [v.message for v in _mandatory(gate, result)]
    assert why in message and "cannot be proven" in message and "Render it" in message


@pytest.mark.parametrize("kind", ["a pipe", "a file over the size bound"])
def test_the_pack_reads_only_bounded_regular_files(gate, tmp_path, kind):
    """The pack runs in its own process: a pipe (which would block it) or a file too large is
    not read, and not proven; a symbolic link is followed, as the provider follows it."""
    import os

    from ack_policies.drift import MAX_FILE_BYTES

    target = tmp_path / "objects.yaml"
    if kind == "a pipe":
        os.mkfifo(target)
    else:
        target.write_text(APP_CONFIGMAP + "#" * MAX_FILE_BYTES)
    result = run(lambda: _file_objects(cluster(), tmp_path, "yaml.v2.ConfigFile"))
    (message,) = [v.message for v in _mandatory(gate, result)]
    assert "not a regular file" in message or "larger than" in message


def test_a_symbolic_link_is_read_as_the_provider_reads_it(gate, tmp_path):
    _files(tmp_path, **{"real__sys.yaml": SYSTEM_CONFIGMAP})
    (tmp_path / "objects.yaml").symlink_to(tmp_path / "real" / "sys.yaml")
    result = run(lambda: _file_objects(cluster(), tmp_path, "yaml.v2.ConfigFile"))
    assert ["kube-system" in v.message for v in _mandatory(gate, result)] == [True]


def test_relative_paths_are_read_from_the_programs_folder(tmp_path):
    """ack-preview tells the pack the program's folder (ACK_PROGRAM_DIR): a relative path is
    read there, as the Kubernetes provider, started in that folder, reads it."""
    from ack_offline.gate import PolicyPackProcess, StackContext

    from .conftest import PACK_DIR

    _files(
        tmp_path, **{"manifests__sys.yaml": SYSTEM_CONFIGMAP, "manifests__app.yaml": APP_CONFIGMAP}
    )
    context = StackContext("project", "test", True, {}, {}, program_dir=str(tmp_path))
    pack = PolicyPackProcess(PACK_DIR, context)
    try:
        pack.configure({}, context)
        for name, expected in (("sys", 1), ("app", 0)):

            def program(name: str = name) -> None:
                c = cluster()
                k8s.yaml.v2.ConfigFile(
                    "loose",
                    file=f"manifests/{name}.yaml",
                    opts=pulumi.ResourceOptions(provider=c.provider),
                )

            found = [v for v in pack.analyze(run(program)) if v.enforcement == "mandatory"]
            assert len(found) == expected, [v.message for v in found]
    finally:
        pack.close()


@pytest.mark.parametrize("namespace", ["shop", "kube-system", None])
def test_without_the_programs_folder_the_objects_the_engine_registered_are_judged(gate, namespace):
    """Under `pulumi preview --policy-pack` the pack is not told the program's folder, and the
    provider expands a yaml/v2 component into its objects, registered as its children: those are
    judged (an app's ConfigMap passes, one in kube-system is drift); a component with no object
    under it and a relative path stays not proven."""

    def program() -> None:
        c = cluster()
        files = k8s.yaml.v2.ConfigFile(
            "manifests",
            file="manifests/objects.yaml",
            opts=pulumi.ResourceOptions(provider=c.provider),
        )
        if namespace is not None:
            k8s.core.v1.ConfigMap(
                "manifests:cfg",
                metadata={"name": "cfg", "namespace": namespace},
                opts=pulumi.ResourceOptions(parent=files, provider=c.provider),
            )

    found = [v.message for v in _mandatory(gate, run(program))]
    if namespace == "shop":
        assert found == []
    elif namespace == "kube-system":
        assert len(found) == 1 and "kube-system" in found[0], found
    else:
        assert len(found) == 1 and "not told" in found[0], found


# --- Kubernetes: cluster-scoped objects (finding 5) ---------------------------------------------


def _hook(selector: dict[str, Any] | None) -> Any:
    hook: dict[str, Any] = {
        "name": "m.example.com",
        "admission_review_versions": ["v1"],
        "side_effects": "None",
        "client_config": {"url": "https://hook.example.com/m"},
        "rules": [
            {
                "api_groups": ["*"],
                "api_versions": ["*"],
                "operations": ["CREATE"],
                "resources": ["*"],
            }
        ],
    }
    if selector is not None:
        hook["namespace_selector"] = selector
    return hook


def _api_service(name: str, **args: Any) -> object:
    """An APIService, registered under the typed resource's token
    (`kubernetes:apiregistration.k8s.io/v1:APIService`; the typed SDK module is left unchecked
    by mypy's skip list)."""
    return k8s.apiextensions.CustomResource(
        name, api_version="apiregistration.k8s.io/v1", kind="APIService", **args
    )


def _flow_schema(name: str, **args: Any) -> object:
    """A FlowSchema (`kubernetes:flowcontrol.apiserver.k8s.io/v1:FlowSchema`), likewise."""
    return k8s.apiextensions.CustomResource(
        name, api_version="flowcontrol.apiserver.k8s.io/v1", kind="FlowSchema", **args
    )


CLUSTER_SCOPED: dict[str, Callable[[pulumi.ResourceOptions], object]] = {
    "a StorageClassPatch of ACK's disk class": lambda p: k8s.storage.v1.StorageClassPatch(
        "loose",
        metadata={"name": "alicloud-disk-topology-alltype", "annotations": {"x": "y"}},
        opts=p,
    ),
    "a ClusterRoleBindingPatch of CoreDNS's binding": lambda p: k8s.rbac.v1.ClusterRoleBindingPatch(
        "loose",
        metadata={"name": "system:coredns"},
        subjects=[{"kind": "User", "name": "x", "api_group": "rbac.authorization.k8s.io"}],
        opts=p,
    ),
    "a ClusterRolePatch of a role of any name": lambda p: k8s.rbac.v1.ClusterRolePatch(
        "loose", metadata={"name": "admin"}, opts=p
    ),
    "a NodePatch": lambda p: k8s.core.v1.NodePatch(
        "loose", metadata={"name": "cn-hangzhou.192.168.0.10"}, spec={"unschedulable": True}, opts=p
    ),
    "a CRD patch of Terway's PodNetworking": lambda p: (
        k8s.apiextensions.v1.CustomResourceDefinitionPatch(
            "loose", metadata={"name": "podnetworkings.network.alibabacloud.com"}, opts=p
        )
    ),
    "a PriorityClassPatch": lambda p: k8s.scheduling.v1.PriorityClassPatch(
        "loose", metadata={"name": "system-node-critical"}, opts=p
    ),
    "a webhook configuration patch": lambda p: (
        k8s.admissionregistration.v1.ValidatingWebhookConfigurationPatch(
            "loose", metadata={"name": "ack-webhook"}, opts=p
        )
    ),
    "a webhook selecting kube-system by its name label": lambda p: (
        k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            "loose",
            metadata={"name": "mutate-system"},
            webhooks=[_hook({"match_labels": {"kubernetes.io/metadata.name": "kube-system"}})],
            opts=p,
        )
    ),
    "a webhook selecting kube-system by an In expression": lambda p: (
        k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            "loose",
            metadata={"name": "mutate-system"},
            webhooks=[
                _hook(
                    {
                        "match_expressions": [
                            {
                                "key": "kubernetes.io/metadata.name",
                                "operator": "In",
                                "values": ["app", "kube-system"],
                            }
                        ]
                    }
                )
            ],
            opts=p,
        )
    ),
    "an admission policy binding selecting kube-system by name": lambda p: (
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            "loose",
            metadata={"name": "deny-system"},
            spec={
                "policy_name": "deny-all",
                "validation_actions": ["Deny"],
                "match_resources": {
                    "namespace_selector": {
                        "match_labels": {"kubernetes.io/metadata.name": "kube-system"}
                    }
                },
            },
            opts=p,
        )
    ),
    "a ClusterRole under Kubernetes' system: names": lambda p: k8s.rbac.v1.ClusterRole(
        "loose", metadata={"name": "system:coredns"}, rules=[], opts=p
    ),
    "a StorageClass under ACK's name": lambda p: k8s.storage.v1.StorageClass(
        "loose",
        metadata={"name": "alicloud-disk-essd"},
        provisioner="diskplugin.csi.alibabacloud.com",
        opts=p,
    ),
    "a Node object": lambda p: k8s.core.v1.Node(
        "loose", metadata={"name": "cn-hangzhou.192.168.0.10"}, opts=p
    ),
    # Names Kubernetes keeps without a reserved prefix (second review, finding 6): an object of
    # one takes over the existing one.
    "a ClusterRoleBinding named cluster-admin": lambda p: k8s.rbac.v1.ClusterRoleBinding(
        "loose",
        metadata={"name": "cluster-admin"},
        role_ref={
            "api_group": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        subjects=[{"kind": "ServiceAccount", "name": "attacker", "namespace": "apps"}],
        opts=p,
    ),
    "a ClusterRole named view": lambda p: k8s.rbac.v1.ClusterRole(
        "loose",
        metadata={"name": "view"},
        rules=[{"api_groups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        opts=p,
    ),
    "a ClusterRole of ACK's cs: roles": lambda p: k8s.rbac.v1.ClusterRole(
        "loose", metadata={"name": "cs:ops"}, rules=[], opts=p
    ),
    "the metrics APIService pointed at an app's Service": lambda p: _api_service(
        "loose",
        metadata={"name": "v1beta1.metrics.k8s.io"},
        spec={
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
            "insecureSkipTLSVerify": True,
            "service": {"name": "evil", "namespace": "apps"},
        },
        opts=p,
    ),
    "an APIService of a built-in group": lambda p: _api_service(
        "loose",
        metadata={"name": "v1.apps"},
        spec={
            "group": "apps",
            "version": "v1",
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
            "service": {"name": "evil", "namespace": "apps"},
        },
        opts=p,
    ),
    "a CSIDriver of ACK's disk plugin": lambda p: k8s.storage.v1.CSIDriver(
        "loose", metadata={"name": "diskplugin.csi.alibabacloud.com"}, spec={}, opts=p
    ),
    "a FlowSchema of the API server's defaults": lambda p: _flow_schema(
        "loose",
        metadata={"name": "exempt"},
        spec={"priorityLevelConfiguration": {"name": "workload-low"}},
        opts=p,
    ),
}
OWN_CLUSTER_SCOPED: dict[str, Callable[[pulumi.ResourceOptions], object]] = {
    "a ClusterRole of one's own": lambda p: k8s.rbac.v1.ClusterRole(
        "mine",
        metadata={"name": "my-app"},
        rules=[{"api_groups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}],
        opts=p,
    ),
    "a StorageClass of one's own": lambda p: k8s.storage.v1.StorageClass(
        "mine",
        metadata={"name": "fast"},
        provisioner="diskplugin.csi.alibabacloud.com",
        parameters={"type": "cloud_essd"},
        opts=p,
    ),
    "a cluster-wide webhook (cert-manager's)": lambda p: (
        k8s.admissionregistration.v1.ValidatingWebhookConfiguration(
            "mine", metadata={"name": "cert-manager-webhook"}, webhooks=[_hook(None)], opts=p
        )
    ),
    "a webhook selecting by Istio's injection label": lambda p: (
        k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            "mine",
            metadata={"name": "istio-sidecar-injector"},
            webhooks=[
                _hook(
                    {
                        "match_expressions": [
                            {"key": "istio-injection", "operator": "In", "values": ["enabled"]}
                        ]
                    }
                )
            ],
            opts=p,
        )
    ),
    "a webhook leaving kube-system out": lambda p: (
        k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            "mine",
            metadata={"name": "policy"},
            webhooks=[
                _hook(
                    {
                        "match_expressions": [
                            {
                                "key": "kubernetes.io/metadata.name",
                                "operator": "NotIn",
                                "values": ["kube-system"],
                            }
                        ]
                    }
                )
            ],
            opts=p,
        )
    ),
    "an admission policy binding for namespaces of one's own": lambda p: (
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            "mine",
            metadata={"name": "require-labels"},
            spec={
                "policy_name": "require-labels",
                "validation_actions": ["Deny"],
                "match_resources": {"namespace_selector": {"match_labels": {"team": "shop"}}},
            },
            opts=p,
        )
    ),
    "a label on the default namespace": lambda p: k8s.core.v1.NamespacePatch(
        "mine", metadata={"name": "default", "labels": {"istio-injection": "enabled"}}, opts=p
    ),
    "a priority class of one's own": lambda p: k8s.scheduling.v1.PriorityClass(
        "mine", metadata={"name": "batch-low"}, value=100, opts=p
    ),
    "a binding of its own name to cluster-admin": lambda p: k8s.rbac.v1.ClusterRoleBinding(
        "mine",
        metadata={"name": "ci-deployer-admin"},
        role_ref={
            "api_group": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        subjects=[{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}],
        opts=p,
    ),
    "a ClusterRole named like a default one": lambda p: k8s.rbac.v1.ClusterRole(
        "mine",
        metadata={"name": "view-orders"},
        rules=[{"api_groups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        opts=p,
    ),
    "a CSI driver of Kubernetes' SIGs": lambda p: k8s.storage.v1.CSIDriver(
        "mine", metadata={"name": "nfs.csi.k8s.io"}, spec={"attach_required": False}, opts=p
    ),
    "an APIService of an API group of one's own": lambda p: _api_service(
        "mine",
        metadata={"name": "v1alpha1.orders.example.com"},
        spec={
            "group": "orders.example.com",
            "version": "v1alpha1",
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
            "service": {"name": "orders-api", "namespace": "orders"},
        },
        opts=p,
    ),
}


@MODES
@pytest.mark.parametrize("way", list(CLUSTER_SCOPED))
def test_a_change_to_the_clusters_own_cluster_scoped_objects_is_blocked(gate, way, preview):
    def program() -> None:
        CLUSTER_SCOPED[way](pulumi.ResourceOptions(provider=cluster().provider))

    result = run(program, preview=preview)
    (loose,) = [r for r in result.resources if r.name == "loose"]
    assert {(v.policy, v.urn) for v in _mandatory(gate, result)} == {(DRIFT, loose.urn)}


@MODES
@pytest.mark.parametrize("way", list(OWN_CLUSTER_SCOPED))
def test_cluster_scoped_objects_of_ones_own_pass(gate, way, preview):
    def program() -> None:
        OWN_CLUSTER_SCOPED[way](pulumi.ResourceOptions(provider=cluster().provider))

    mandatory = _mandatory(gate, run(program, preview=preview))
    assert mandatory == [], [v.message for v in mandatory]


def test_a_cluster_scoped_name_unknown_at_preview_is_not_proven(gate):
    """A ClusterRoleBinding named from a value unknown at preview that no resource of the
    program's own produced may be `cluster-admin`; named from a Namespace of its own, it passes
    (the update judges the name itself)."""

    def program(own: bool) -> None:
        c = cluster()
        p = pulumi.ResourceOptions(provider=c.provider)
        if own:
            ns = k8s.core.v1.Namespace("ci", metadata={"name": "ci"}, opts=p)
            name = ns.metadata.apply(lambda m: f"{m.name}-deployer")
        else:
            name = _bare(c.cluster_id).apply(lambda _: "cluster-admin")
        k8s.rbac.v1.ClusterRoleBinding(
            "loose",
            metadata={"name": name},
            role_ref={
                "api_group": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            subjects=[{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}],
            opts=p,
        )

    for own, expected in ((False, ["whose name is unknown at preview"]), (True, [])):

        def chosen(own: bool = own) -> None:
            program(own)

        found = [v.message for v in _mandatory(gate, run(chosen, preview=True))]
        assert [m for m in expected if any(m in f for f in found)] == expected, found
        assert bool(found) == bool(expected), found


# --- Kubernetes: files read as the provider reads them (second review, findings 4 and 8) -------

APP_CONFIGMAP_2 = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg2, namespace: shop}\n"


def _group(c: ManagedCluster, pattern: str) -> object:
    p = pulumi.ResourceOptions(provider=c.provider)
    return k8s.yaml.v2.ConfigGroup("loose", files=[pattern], opts=p)


@MODES
@pytest.mark.parametrize(
    ("pattern", "system_file"),
    [
        ("*.yaml", ".zz-sys.yaml"),  # Go's `*` matches a leading dot; Python's glob does not
        ("[^a]*.yaml", "zz-sys.yaml"),  # Go negates a class with `^`; Python reads `^` as text
        ("[!z]*.yaml", "zz-sys.yaml"),  # Go reads `!` as text; Python negates with it
        ("z?\\-sys.yaml", "zz-sys.yaml"),  # Go escapes with `\`; Python reads it as text
    ],
)
def test_a_glob_is_matched_as_go_matches_it(gate, tmp_path, pattern, system_file, preview):
    """yaml/v2 expands `files` with Go's filepath.Glob: the file Go's pattern names is judged
    (into kube-system: drift); the same pattern over an app's own files passes."""
    _files(tmp_path / "blocked", **{"app.yaml": APP_CONFIGMAP, system_file: SYSTEM_CONFIGMAP})
    _files(tmp_path / "ordinary", **{"app.yaml": APP_CONFIGMAP, system_file: APP_CONFIGMAP_2})
    for folder, expected in (("blocked", ["writes into 'kube-system'"]), ("ordinary", [])):

        def program(f: str = folder) -> None:
            _group(cluster(), str(tmp_path / f / pattern))

        result = run(program, preview=preview)
        found = [v.message for v in _mandatory(gate, result)]
        if expected:
            assert found and all(expected[0] in m for m in found), found
        else:
            assert found == [], found


def test_a_glob_go_would_refuse_is_not_proven(gate, tmp_path):
    _files(tmp_path, **{"app.yaml": APP_CONFIGMAP})
    result = run(lambda: _group(cluster(), str(tmp_path / "[]a].yaml")))
    (message,) = [v.message for v in _mandatory(gate, result)]
    assert "pattern whose meaning" in message and "cannot be proven" in message


LISTS = {
    "kind: List": "apiVersion: v1\nkind: List\nitems:\n- {ITEM}\n",
    "ConfigMapList (items without a kind)": (
        "apiVersion: v1\nkind: ConfigMapList\nitems:\n- {BARE}\n"
    ),
    "a List inside a List": "apiVersion: v1\nkind: List\nitems:\n"
    "- {apiVersion: v1, kind: List, items: [{ITEM}]}\n",
}


@MODES
@pytest.mark.parametrize("way", ["yaml.v2.ConfigFile", "kustomize.v2.Directory"])
@pytest.mark.parametrize("shape", list(LISTS))
def test_a_lists_items_are_judged_as_objects(gate, tmp_path, shape, way, preview):
    def text(namespace: str) -> str:
        metadata = f"metadata: {{name: coredns, namespace: {namespace}}}"
        return (
            LISTS[shape]
            .replace("{ITEM}", f"{{apiVersion: v1, kind: ConfigMap, {metadata}}}")
            .replace("{BARE}", f"{{{metadata}}}")
        )

    for namespace, expected in (("kube-system", True), ("shop", False)):
        folder = _files(
            tmp_path / namespace,
            **{"objects.yaml": text(namespace), "kus__kustomization.yaml": "resources: [l.yaml]\n"},
            **{"kus__l.yaml": text(namespace)},
        )

        def program(f: Any = folder) -> None:
            _file_objects(cluster(), f, way)

        result = run(program, preview=preview)
        found = [v.message for v in _mandatory(gate, result)]
        assert bool(found) == expected, found
        assert all("writes into 'kube-system'" in m for m in found)


@MODES
def test_a_typed_lists_items_are_judged_as_objects(gate, preview):
    for namespace, expected in (("kube-system", 1), ("shop", 0)):

        def program(namespace: str = namespace) -> None:
            c = cluster()
            k8s.core.v1.ConfigMapList(
                "loose",
                items=[{"metadata": {"name": "coredns", "namespace": namespace}}],
                opts=pulumi.ResourceOptions(provider=c.provider),
            )

        found = [v.message for v in _mandatory(gate, run(program, preview=preview))]
        assert len(found) == expected, found


CRB = (
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
    "metadata: {name: coredns}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n"
    "subjects: [{kind: ServiceAccount, name: attacker, namespace: apps}]\n"
)
STORAGE_CLASS = (
    "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: disk-topology-alltype}\n"
    "provisioner: example.com/evil\n"
)
VIEW_ROLE = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: view}\n"


@MODES
@pytest.mark.parametrize(
    ("kustomization", "objects", "reserved"),
    [
        ('namePrefix: "system:"\n', CRB, "system:coredns"),
        ("namePrefix: alicloud-\n", STORAGE_CLASS, "alicloud-disk-topology-alltype"),
        ("nameSuffix: ''\nnamePrefix: ''\n", VIEW_ROLE, "view"),
        (None, VIEW_ROLE, None),  # an inner kustomization's prefix: its own name
    ],
    ids=["system: prefix", "alicloud- prefix", "a default role's name", "a prefix of its own"],
)
def test_a_kustomizations_names_are_judged_as_it_sets_them(
    gate, tmp_path, kustomization, objects, reserved, preview
):
    """namePrefix and nameSuffix rename every object (those of included kustomizations too):
    the name kustomize gives is judged; a prefix of one's own makes a default name one's own."""
    if kustomization is None:
        _files(
            tmp_path,
            **{"kus__kustomization.yaml": "namePrefix: orders-\nresources: [inner]\n"},
            **{"kus__inner__kustomization.yaml": "resources: [o.yaml]\n"},
            **{"kus__inner__o.yaml": objects},
        )
    else:
        _files(
            tmp_path,
            **{"kus__kustomization.yaml": kustomization + "resources: [o.yaml]\n"},
            **{"kus__o.yaml": objects},
        )
    result = run(
        lambda: _file_objects(cluster(), tmp_path, "kustomize.v2.Directory"), preview=preview
    )
    found = [v.message for v in _mandatory(gate, result)]
    if reserved is None:
        assert found == []
    else:
        assert [f"'{reserved}', a name Kubernetes or ACK keep" in m for m in found] == [True]


SERVICE = (
    "apiVersion: v1\nkind: Service\nmetadata: {name: grab, namespace: shop}\n"
    "spec: {type: LoadBalancer, selector: {app: x}, ports: [{port: 80}]}\n"
)


def test_a_kustomizations_common_annotations_are_judged(gate, tmp_path):
    """Update mode: commonAnnotations put the ingress load balancer's ID on a Service; the
    same kustomization with annotations and labels of the app's own passes."""
    lb = run(cluster).one("alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer").id
    for folder, annotation, expected in (("blocked", lb, True), ("ordinary", "web", False)):
        _files(
            tmp_path / folder,
            **{
                "kus__kustomization.yaml": "resources: [svc.yaml]\ncommonLabels: {app: x}\n"
                "commonAnnotations:\n"
                f"  service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id: {annotation}\n"
            },
            **{"kus__svc.yaml": SERVICE},
        )

        def program(f: str = folder) -> None:
            _file_objects(cluster(), tmp_path / f, "kustomize.v2.Directory")

        result = run(program, preview=False)
        found = [v.message for v in _mandatory(gate, result)]
        assert bool(found) == expected, found
        assert all("its ingress load balancer" in m for m in found)


def _b64(value: pulumi.Output[str]) -> pulumi.Output[str]:
    import base64

    return value.apply(lambda v: base64.b64encode(v.encode()).decode())


def _bare(value: pulumi.Output[Any]) -> pulumi.Output[str]:
    """The value without the resources it came from (an ID copied from the console)."""
    return pulumi.Output(set(), value.future(), value.is_known())  # type: ignore[arg-type]


BASE64: dict[str, Callable[[ManagedCluster, pulumi.Output[str]], object]] = {
    "a Secret's data": lambda c, v: k8s.core.v1.Secret(
        "loose",
        metadata={"name": "ccm", "namespace": "apps"},
        data={"lb": _b64(v)},
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a ConfigMap's binaryData": lambda c, v: k8s.core.v1.ConfigMap(
        "loose",
        metadata={"name": "ccm", "namespace": "apps"},
        binary_data={"lb": _b64(v)},
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a Secret in a YAML group's text": lambda c, v: k8s.yaml.v2.ConfigGroup(
        "loose",
        yaml=_b64(v).apply(
            lambda b: (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: ccm, namespace: apps}\n"
                f"data: {{lb: {b}}}\n"
            )
        ),
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
}


@pytest.mark.parametrize("way", list(BASE64))
def test_base64_values_are_judged_decoded(gate, way):
    """Update mode: base64 of the ingress load balancer's ID (its dependencies dropped) is
    found; base64 of the cluster's ID, a reference, and of an app's own text pass."""
    for value, expected in (("lb", True), ("cluster", False), ("own", False)):

        def program(value: str = value) -> None:
            c = cluster()
            chosen = {
                "lb": c.ingress_load_balancer_id,
                "cluster": c.cluster_id,
                "own": pulumi.Output.from_input("s3cr3t-of-the-app"),
            }[value]
            BASE64[way](c, _bare(chosen))

        found = [v.message for v in _mandatory(gate, run(program, preview=False))]
        assert bool(found) == expected, (value, found)
        assert all("its ingress load balancer" in m and "decoded" in m for m in found)


# --- Kubernetes: owned identities handed by any route (finding 7) --------------------------------

EIP_TYPE = "alicloud:ecs/eipAddress:EipAddress"


def _service(name: str, annotations: dict[str, Any], c: ManagedCluster, **spec: Any) -> object:
    metadata: Any = {"name": name, "namespace": "shop", "annotations": annotations}
    service_spec: Any = {
        "type": "LoadBalancer",
        "selector": {"app": "web"},
        "ports": [{"port": 80}],
        **spec,
    }
    return k8s.core.v1.Service(
        name, metadata=metadata, spec=service_spec, opts=pulumi.ResourceOptions(provider=c.provider)
    )


HANDED: dict[str, Callable[[ManagedCluster], object]] = {
    "an NLB Service given its NAT EIP by ...-eip-ids": lambda c: _service(
        "loose",
        {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-eip-ids": _owned(c, EIP_TYPE)},
        c,
        load_balancer_class="alibabacloud.com/nlb",
    ),
    "a Service given its security group by ...-security-group-ids": lambda c: _service(
        "loose",
        {
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-security-group-ids": (
                c.security_group_id
            )
        },
        c,
    ),
    "Helm values naming its ingress load balancer under a chart's own key": lambda c: (
        k8s.helm.v3.Release(
            "loose",
            chart="./charts/edge",
            namespace="edge",
            values={"service": {"existingLoadBalancer": c.ingress_load_balancer_id}},
            opts=pulumi.ResourceOptions(provider=c.provider),
        )
    ),
    "a Terway PodEIP custom resource given its NAT EIP": lambda c: k8s.apiextensions.CustomResource(
        "loose",
        api_version="alibabacloud.com/v1beta1",
        kind="PodEIP",
        metadata={"name": "web-0", "namespace": "shop"},
        spec={"allocationID": _owned(c, EIP_TYPE), "allocationType": {"type": "Static"}},
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a cluster autoscaler of one's own given its scaling group": lambda c: k8s.core.v1.ConfigMap(
        "loose",
        metadata={"name": "autoscaler", "namespace": "ops"},
        data={
            "nodes": _owned(c, "alicloud:cs/nodePool:NodePool", "scalingGroupId").apply(
                lambda g: f"1:10:{g}"
            )
        },
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
}


@MODES
@pytest.mark.parametrize("way", list(HANDED))
def test_an_owned_identity_handed_to_a_controller_by_any_route_is_blocked(gate, way, preview):
    """Update mode: the value names the owned resource, whatever key or kind carries it. At
    preview it is unknown and comes from an owned resource: where a controller may read it
    (annotations, a chart's values, a custom resource), not proven; anywhere, when the owned
    resource has no reference-only identity (its security group, here from
    `owned_identities`)."""

    def program() -> None:
        HANDED[way](cluster())

    result = run(program, preview=preview)
    (loose,) = [r for r in result.resources if r.name == "loose"]
    mandatory = _mandatory(gate, result)
    assert {(v.policy, v.urn) for v in mandatory} == {(DRIFT, loose.urn)}


REFERENCES: dict[str, Callable[[ManagedCluster], object]] = {
    "a Service letting in its egress addresses": lambda c: _service(
        "mine",
        {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec": "slb.s1.small"},
        c,
        load_balancer_source_ranges=c.egress_addresses.apply(lambda a: [f"{x}/32" for x in a]),
    ),
    "a chart's load balancer placed in its vSwitch": lambda c: k8s.helm.v3.Release(
        "mine",
        chart="oci://registry.example.com/charts/orders",
        namespace="orders",
        values={
            "service": {
                "annotations": {
                    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": (
                        "intranet"
                    ),
                    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-vswitch-id": (
                        c.vswitch_ids[0]
                    ),
                }
            }
        },
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a ConfigMap naming the cluster and its egress addresses": lambda c: k8s.core.v1.ConfigMap(
        "mine",
        metadata={"name": "env", "namespace": "orders"},
        data={"CLUSTER": c.cluster_id, "EGRESS": c.egress_addresses.apply(",".join)},
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a deploy tool's secret holding its API server's address": lambda c: k8s.core.v1.Secret(
        "mine",
        metadata={"name": "argocd-cluster", "namespace": "argocd"},
        string_data={"server": _api_server_address(c)},
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
    "a Deployment on a node pool by its ID": lambda c: k8s.apps.v1.Deployment(
        "mine",
        metadata={"name": "web", "namespace": "shop"},
        spec={
            "selector": {"match_labels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "node_selector": {
                        "alibabacloud.com/nodepool-id": c.node_pool_ids.apply(
                            lambda ids: ids["general"]
                        )
                    },
                    "containers": [{"name": "web", "image": "nginx:1.27"}],
                },
            },
        },
        opts=pulumi.ResourceOptions(provider=c.provider),
    ),
}


@MODES
@pytest.mark.parametrize("way", list(REFERENCES))
def test_reference_only_uses_on_the_cluster_pass(gate, way, preview):
    def program() -> None:
        REFERENCES[way](cluster())

    mandatory = _mandatory(gate, run(program, preview=preview))
    assert mandatory == [], [v.message for v in mandatory]
