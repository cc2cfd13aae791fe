"""The provider's facts (ack_offline/provider_facts.json), the checks the fake cloud makes with
them, and the library's own validation agreeing with them."""

from __future__ import annotations

import collections.abc
import importlib
import inspect
import json
import re
import textwrap
import typing
from pathlib import Path
from typing import Any

import pulumi
import pulumi._types as pulumi_types
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import DedicatedCluster, ManagedCluster, ServerlessCluster, facts
from ack_clusters.errors import InvalidArguments
from ack_offline import provider
from ack_offline.preview import main
from ack_offline.project import find_project, run_stack

from .conftest import ROOT, form_args, run

TABLE = json.loads((ROOT / "components" / "ack_offline" / "provider_facts.json").read_text())
RESOURCES: dict[str, Any] = TABLE["resources"]
STACKS = find_project(ROOT).stacks()

#: Inputs the pulumi-alicloud 4.0.0 SDK has that the facts' provider release (v1.289.0) does
#: not: the SDK is built from a slightly newer upstream. Unchecked by the fake cloud. A
#: regeneration from a newer release should empty this list.
NEWER_THAN_FACTS = {
    "alicloud:cs/nodePool:NodePool": {"resourcePoolOptions"},
    "alicloud:ecs/instance:Instance": {"enableNetworkEncryption", "instanceMetadataTags"},
}


def sdk_args(token: str) -> Any:
    """The SDK's arguments class of a type token."""
    mod, cls = token.split(":")[1].split("/")[0], token.split(":")[2]
    module = importlib.import_module(f"pulumi_alicloud.{mod}")
    return getattr(module, f"{cls}InitArgs", None) or getattr(module, f"{cls}Args")


def sdk_inputs(token: str) -> set[str]:
    return set(pulumi_types.input_type_py_to_pulumi_names(sdk_args(token)).values())


def live_inputs(token: str) -> set[str]:
    return {
        name
        for name, f in RESOURCES[token]["inputs"].items()
        if not f.get("removed") and (f.get("optional") or f.get("required"))
    }


# --- the table --------------------------------------------------------------------------------


def test_facts_name_their_provider_release_and_commit():
    prov = TABLE["provider"]
    assert prov["repository"] == "aliyun/terraform-provider-alicloud"
    assert re.fullmatch(r"v1\.\d+\.\d+", prov["tag"])
    assert re.fullmatch(r"[0-9a-f]{40}", prov["commit"])
    assert provider.version() == prov["tag"]


@pytest.mark.parametrize("token", sorted(RESOURCES))
def test_pulumi_names_of_the_facts_are_the_sdks(token):
    """The bridge's naming (camelCase, pluralised lists) is modelled right: every input the
    facts know is an input of the SDK class, and the SDK has no input the facts miss except the
    few newer than the facts' release."""
    sdk, known = sdk_inputs(token), live_inputs(token)
    assert known - sdk == set()
    assert sdk - known == NEWER_THAN_FACTS.get(token, set())


def sdk_takes_one_object(token: str, name: str) -> bool:
    """Whether the SDK types list input `name` (Pulumi name) as one object, not a sequence."""
    args = sdk_args(token)
    python = {v: k for k, v in pulumi_types.input_type_py_to_pulumi_names(args).items()}[name]
    hint = inspect.signature(args.__init__).parameters[python].annotation
    first = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Union else hint
    return typing.get_origin(first) is not collections.abc.Sequence


@pytest.mark.parametrize("token", sorted(RESOURCES))
def test_lists_are_one_object_exactly_where_the_sdk_says(token):
    """The bridge keeps a list input as one object in Pulumi's schema (MaxItemsOne) as it was
    first published, whatever upstream's MaxItems says today (an ECS instance's
    `network_interfaces` lost its MaxItems upstream and is still one object): the facts know
    each list's shape as the SDK types it, or the fake cloud would refuse valid programs."""
    for name, f in RESOURCES[token]["inputs"].items():
        if f.get("type") not in {"list", "set"} or name not in live_inputs(token):
            continue
        if name in NEWER_THAN_FACTS.get(token, set()):
            continue
        one = f.get("max_items_one", f.get("max_items") == 1)
        assert sdk_takes_one_object(token, name) == one, name


def test_an_instance_with_a_network_interface_is_accepted_as_the_sdk_sends_it():
    token = "alicloud:ecs/instance:Instance"
    base = {"instanceType": "ecs.g7.large", "imageId": "img", "securityGroups": ["sg-1"]}
    eni = {"vswitchId": "vsw-1", "securityGroupIds": ["sg-1"]}
    assert reasons(token, {**base, "networkInterfaces": eni}) == []
    # The fields inside are still checked.
    bad = {**eni, "networkInterfaceTrafficMode": "Turbo"}
    found = reasons(token, {**base, "networkInterfaces": bad})
    assert any("networkInterfaces.networkInterfaceTrafficMode" in r for r in found), found


@pytest.mark.parametrize("token", sorted(RESOURCES))
def test_every_fact_says_where_it_comes_from(token):
    res = RESOURCES[token]
    assert re.fullmatch(r"alicloud/resource_alicloud_\w+\.go", res["source"])

    def walk(fields: dict[str, Any]) -> None:
        for f in fields.values():
            assert isinstance(f["line"], int) and f["line"] > 0
            assert f["tf"] and re.fullmatch(r"[a-z0-9_]+", f["tf"])
            for key in ("update_code", "zero_code"):
                for at in f.get(key, []):
                    assert re.fullmatch(r"alicloud/\w+\.go:\d+", at)
            walk(f.get("fields", {}))

    walk(res["inputs"])


def test_every_type_the_stacks_register_has_facts():
    seen: set[str] = set()
    for stack in STACKS:
        result = run_stack(find_project(ROOT), stack, preview=False)
        seen |= {r.type for r in result.resources if r.custom and r.type.startswith("alicloud:")}
    assert seen and seen <= set(RESOURCES)


def test_the_facts_record_what_the_issue_found_in_the_provider():
    """Spot checks against the provider source, read by hand."""

    def f(token: str, name: str) -> dict[str, Any]:
        return RESOURCES[token]["inputs"][name]

    mk = "alicloud:cs/managedKubernetes:ManagedKubernetes"
    k = "alicloud:cs/kubernetes:Kubernetes"
    np = "alicloud:cs/nodePool:NodePool"
    assert f(mk, "vswitchIds")["max_items"] == 5
    assert f(mk, "serviceCidr")["force_new"] is True
    assert f(np, "securityGroupIds")["force_new"] is True
    assert f(np, "ramRoleName")["force_new"] is True
    assert f("alicloud:vpc/natGateway:NatGateway", "natType")["updatable"] is True
    # Sent on every update though never named in a HasChange: the autoscaler configuration is
    # resent whole, and a pool's upgrade and rolling policies ride along with every upgrade.
    auto = "alicloud:cs/autoscalingConfig:AutoscalingConfig"
    for name in ("coolDownDuration", "utilizationThreshold", "expander", "scaleDownEnabled"):
        assert f(auto, name)["updatable"] is True, name
    for name in ("upgradePolicy", "rollingPolicy"):
        assert f(np, name)["updatable"] is True, name
    # A dedicated cluster upgrades through a function of the managed cluster's file; the read of
    # `version` inside enable_rrsa's HasChange block (a support check) is not what counts.
    assert f(k, "version")["updatable"] is True
    assert f(k, "version")["update_code"] == [
        "alicloud/resource_alicloud_cs_managed_kubernetes.go:1512"
    ]
    for name in ("keyName", "masterInstanceTypes", "masterDiskSize", "masterDiskCategory"):
        assert f(k, name)["force_new"] is True
    # Never read back, so an import cannot match them.
    for name in ("addons", "newNatGateway", "skipSetCertificateAuthority"):
        assert f(k, name)["read_back"] is False
    for name in ("podVswitchIds", "slbInternetEnabled"):
        assert f(mk, name)["read_back"] is False
    # false is never sent on create: ACK's own default decides.
    for name in ("newNatGateway", "slbInternetEnabled"):
        assert f(mk, name)["zero_sent"] is False
    assert f(np, "dataDisks")["fields"]["size"]["validate"] == {"min": 40, "max": 32767}


# --- the library agrees with the provider -------------------------------------------------------


def test_library_limits_are_the_providers():
    mk = RESOURCES["alicloud:cs/managedKubernetes:ManagedKubernetes"]["inputs"]
    assert mk["vswitchIds"]["max_items"] == facts.MANAGED_MAX_ZONES
    size = RESOURCES["alicloud:cs/kubernetes:Kubernetes"]["inputs"]["masterDiskSize"]["validate"]
    assert (size["min"], size["max"]) == facts.MASTER_DISK_GIB
    disk = RESOURCES["alicloud:cs/nodePool:NodePool"]["inputs"]["dataDisks"]["fields"]["size"]
    assert (disk["validate"]["min"], disk["validate"]["max"]) == facts.DATA_DISK_GIB
    specs = RESOURCES["alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer"]["inputs"][
        "loadBalancerSpec"
    ]["validate"]["one_of"]
    # Every pay-by-spec size the provider knows, and nothing it does not.
    assert set(facts.SLB_SPECS) == {s for s in specs if s != "slb.lcu.elastic"}


@pytest.mark.parametrize("cls", [ManagedCluster, ServerlessCluster])
def test_managed_control_plane_refuses_a_sixth_zone(cls):
    kind = "managed" if cls is ManagedCluster else "serverless"
    zones = [f"cn-hangzhou-{z}" for z in "bghijk"]
    args = form_args(kind, network={"zones": zones, "vpc_cidr": "10.0.0.0/8"})
    with pytest.raises(InvalidArguments, match=r"network: .*at most 5"):
        run(lambda: cls("c", args))
    args["network"]["zones"] = zones[:5]
    run(lambda: cls("c", args))  # five are fine


def test_dedicated_cluster_is_not_held_to_the_managed_zone_limit():
    zones = [f"cn-hangzhou-{z}" for z in "bghijk"]
    args = form_args("dedicated", network={"zones": zones, "vpc_cidr": "10.0.0.0/8"})
    args["masters"] = {"zones": zones[:3]}
    run(lambda: DedicatedCluster("c", args))


@pytest.mark.parametrize(
    "spec", ["slb.s4.small", "slb.s1.large", "slb.lcu.elastic", "SLB.S2.SMALL"]
)
def test_ingress_spec_is_one_the_provider_accepts(spec):
    args = form_args("managed", ingress={"spec": spec})
    with pytest.raises(InvalidArguments, match=r"ingress.spec"):
        run(lambda: ManagedCluster("c", args))


@pytest.mark.parametrize("size, ok", [(39, False), (40, True), (500, True), (501, False)])
def test_master_disk_size_follows_the_provider(size, ok):
    args = form_args("dedicated", masters={"disk": {"size": size}})
    if ok:
        run(lambda: DedicatedCluster("c", args))
    else:
        with pytest.raises(InvalidArguments, match=r"masters.disk.size"):
            run(lambda: DedicatedCluster("c", args))


# --- the checks ---------------------------------------------------------------------------------

NP = "alicloud:cs/nodePool:NodePool"
POOL_INPUTS: dict[str, Any] = {
    "clusterId": "c1",
    "nodePoolName": "p",
    "vswitchIds": ["vsw-1"],
    "instanceTypes": ["ecs.g7.large"],
}


def reasons(token: str, inputs: dict[str, Any]) -> list[str]:
    return [str(r) for r in provider.check(token, inputs)]


def test_valid_inputs_pass():
    assert reasons(NP, POOL_INPUTS) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"dataDisks": [{"size": 20}]}, r"dataDisks\[0\]\.size: expected size to be in the range"),
        ({"dataDisks": [{"size": 32768}]}, r"range \(40 - 32767\), got 32768"),
        ({"systemDiskCategory": "cloud_bogus"}, r"expected system_disk_category to be one of"),
        ({"name": "p2"}, r"exactly one of `name, node_pool_name`.*more than one"),
        ({"keyName": "k", "password": "Pa55word!"}, r"conflicts with"),
        ({"clusterId": None}, r'The argument "cluster_id" is required'),
        ({"period": "monthly"}, r'period must be an integer, not "monthly"'),
        ({"scalingGroupId": "asg-1"}, r"computed by the provider"),
    ],
)
def test_inputs_the_provider_refuses(change, expected):
    found = reasons(NP, {**POOL_INPUTS, **change})
    assert found, f"{change} passed"
    assert any(re.search(expected, r) for r in found), found
    assert all("resource_alicloud_cs_kubernetes_node_pool.go:" in r for r in found)


def test_bridge_coercions_are_accepted():
    """The bridge sends a number given for a string input as its text (the SDK types
    `desired_size` as a string), and Terraform decodes a numeric string into a number."""
    assert reasons(NP, {**POOL_INPUTS, "desiredSize": 3}) == []
    assert reasons(NP, {**POOL_INPUTS, "dataDisks": [{"size": "120"}]}) == []
    assert reasons(NP, {**POOL_INPUTS, "dataDisks": [{"size": "lots"}]})


def test_a_rejection_never_repeats_a_secret_or_sensitive_value():
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    found = reasons(NP, {**POOL_INPUTS, "systemDiskCategory": {**secret, "value": "hush-1234"}})
    assert found and "hush-1234" not in " ".join(found) and "[secret]" in found[0]
    found = reasons(NP, {**POOL_INPUTS, "keyName": "k", "password": 12345678901})
    assert "12345678901" not in " ".join(found)


def test_unknown_values_are_not_judged():
    from pulumi.runtime.rpc import UNKNOWN

    assert reasons(NP, {**POOL_INPUTS, "dataDisks": [{"size": UNKNOWN}]}) == []
    assert reasons(NP, {**POOL_INPUTS, "clusterId": UNKNOWN}) == []


def test_the_readme_counts_the_checked_types():
    from .docs_text import user_docs

    docs = " ".join(user_docs().split())
    assert f"({len(provider.known_types())} types)" in docs


def test_types_without_facts_are_not_checked():
    assert provider.check("alicloud:oss/bucket:Bucket", {"anything": 1}) == []


def test_autoname_follows_the_bridge():
    # A resource with a `name` input gets one unless it or a conflicting peer is set.
    vpc = "alicloud:vpc/network:Network"
    assert provider.autoname(vpc, "net", {})["name"].startswith("net-")
    assert provider.autoname(vpc, "net", {"vpcName": "x"}) == {}  # vpc_name conflicts with name
    assert provider.autoname(NP, "p", {"nodePoolName": "p"}) == {}  # the peer names `name`
    assert provider.autoname(NP, "p", {"name": "q"}) == {}
    assert provider.autoname("alicloud:ecs/securityGroupRule:SecurityGroupRule", "r", {}) == {}


# --- in a program, and under ack-preview --------------------------------------------------------


def bad_pool() -> None:
    alicloud.cs.NodePool(
        "workers",
        cluster_id="c1",
        node_pool_name="workers",
        vswitch_ids=["vsw-1"],
        instance_types=["ecs.g7.large"],
        data_disks=[alicloud.cs.NodePoolDataDiskArgs(size=20, category="cloud_essd")],
    )


@pytest.mark.parametrize("preview", [True, False])
def test_a_program_with_a_refused_input_fails_naming_the_resource(preview):
    with pytest.raises(provider.ProviderRejected, match=r"(?s)NodePool 'workers'.*dataDisks\[0\]"):
        run(bad_pool, preview=preview)
    # and the next run in this process is not poisoned by the failed one
    run(lambda: pulumi.export("ok", 1), preview=preview)


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_ack_preview_exits_2_with_the_providers_reason(tmp_path: Path, capsys, mode):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
            """
            import pulumi_alicloud as alicloud
            alicloud.slb.ApplicationLoadBalancer(
                "lb", load_balancer_name="lb", address_type="intranet",
                vswitch_id="vsw-1", load_balancer_spec="slb.s9.huge",
            )
            """
        )
    )
    assert main(["dev", "--program", str(tmp_path), "--mode", mode]) == 2
    err = capsys.readouterr().err
    assert "ApplicationLoadBalancer 'lb'" in err
    assert "expected load_balancer_spec to be one of" in err
    assert "resource_alicloud_slb_load_balancer.go:" in err


def test_six_zones_would_have_reached_the_provider_without_the_librarys_check():
    """The defence in depth: with the library's zone limit bypassed, the checked engine still
    stops the cluster at the provider's MaxItems."""
    inputs = {"vswitchIds": [f"vsw-{i}" for i in range(6)], "name": "c"}
    found = reasons("alicloud:cs/managedKubernetes:ManagedKubernetes", inputs)
    assert any("5 item maximum, config has 6" in r for r in found)


#: Outputs of the stacks README examples reference, as `ack-preview --stack-reference` takes them.
README_STACK_OUTPUTS: dict[str, dict[str, Any]] = {
    "acme/network/prod": {
        "vpc_id": "vpc-shared1",
        "vswitches": {
            "cn-hangzhou-i": "vsw-node1",
            "cn-hangzhou-j": "vsw-node2",
            "pods-i": "vsw-pod1",
            "pods-j": "vsw-pod2",
        },
    }
}


def readme_examples() -> list[str]:
    from .docs_text import user_docs

    text = user_docs()
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_every_readme_example_passes_the_checked_engine(tmp_path: Path, capsys, mode):
    examples = readme_examples()
    assert examples
    for i, code in enumerate(examples):
        project = tmp_path / f"example{i}"
        project.mkdir()
        (project / "Pulumi.yaml").write_text("name: example\nruntime: python\n")
        region = re.search(r"cn-[a-z]+", code)
        config = f"config:\n  alicloud:region: {region.group(0) if region else 'cn-hangzhou'}\n"
        (project / "Pulumi.dev.yaml").write_text(config)
        (project / "__main__.py").write_text(code)
        references = []
        for name in re.findall(r'StackReference\("([^"]+)"\)', code):
            file = project / f"{name.replace('/', '-')}.json"
            file.write_text(json.dumps(README_STACK_OUTPUTS[name]))
            references += ["--stack-reference", f"{name}={file}"]
        rc = main(["dev", "--program", str(project), "--mode", mode, *references])
        assert rc == 0, capsys.readouterr().err
