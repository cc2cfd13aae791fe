"""The offline engine does what the real engine does where the mock engine does not: new-style
transforms are applied (resource, inherited and stack level), a duplicate URN is refused."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import ManagedCluster
from ack_offline.preview import main
from ack_offline.recorder import DuplicateUrn, Refusals

from .conftest import ACK_PREVIEW, PACK_DIR, form_args, run

NAT = "alicloud:vpc/natGateway:NatGateway"
MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"


TRANSFORMS = textwrap.dedent(
    """
    import pulumi
    import pulumi_alicloud as alicloud
    from ack_clusters import ManagedCluster

    def tag(label):
        def transform(args):
            if args.type_ in ("alicloud:vpc/natGateway:NatGateway", "alicloud:vpc/network:Network"):
                trail = str(args.props.get("description") or "")
                return pulumi.ResourceTransformResult(
                    {**args.props, "description": trail + label}, args.opts)
        return transform

    def nat_protection_off(args):
        if args.type_ == "alicloud:vpc/natGateway:NatGateway":
            return pulumi.ResourceTransformResult(
                {**args.props, "deletionProtection": False}, args.opts)

    def public_api_and_protect(args):
        if args.type_ == "alicloud:cs/managedKubernetes:ManagedKubernetes":
            opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True))
            return pulumi.ResourceTransformResult({**args.props, "slbInternetEnabled": True}, opts)

    pulumi.runtime.register_resource_transform(tag("stack"))
    pulumi.runtime.register_resource_transform(public_api_and_protect)
    ManagedCluster("a", {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"], "nat": "single"},
        "node_pools": {"p": {"instance_types": ["ecs.g7.large"], "desired_size": 2,
                             "key_name": "ops"}},
    }, opts=pulumi.ResourceOptions(transforms=[nat_protection_off, tag("component")]))

    outer = pulumi.ComponentResource("test:index:Outer", "outer",
                                     opts=pulumi.ResourceOptions(transforms=[tag("parent")]))
    alicloud.vpc.Network("loose", cidr_block="10.9.0.0/16", vpc_name="loose",
                         opts=pulumi.ResourceOptions(parent=outer, transforms=[tag("own")]))
    """
)


def project_with(tmp_path: Path, program: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(program)
    return tmp_path


def ack_preview(project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """ack-preview in a process of its own, as CI runs it. Programs with transforms start
    Pulumi's gRPC callback server, and a process that ran gRPC must not fork afterwards (this
    test process forks for every ack-preview run it makes in-process)."""
    command = [*ACK_PREVIEW, "dev", "--program", str(project)]
    return subprocess.run(
        [*command, *extra], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_transforms_are_applied_as_the_engine_applies_them(tmp_path, mode):
    done = ack_preview(project_with(tmp_path, TRANSFORMS), "--json", "--mode", mode)
    assert done.returncode == 0, done.stderr
    by_name = {(r["type"], r["name"]): r for r in json.loads(done.stdout)["resources"]}
    nat = by_name[(NAT, "a-nat-egress")]
    # A component's transform reaches its children.
    assert nat["inputs"]["deletionProtection"] is False
    # Stack transforms change properties and options.
    cluster = by_name[(MK, "a")]
    assert cluster["inputs"]["slbInternetEnabled"] is True and cluster["protect"] is True
    # The engine's order: own, then the ancestors', then the stack's; each sees the last.
    assert nat["inputs"]["description"].endswith("componentstack")
    loose = by_name[("alicloud:vpc/network:Network", "loose")]
    assert loose["inputs"]["description"] == "ownparentstack"


def test_a_transform_that_breaks_the_gate_is_caught(tmp_path: Path):
    program = textwrap.dedent(
        """
        import pulumi
        from ack_clusters import ManagedCluster

        def off(args):
            if args.type_ == "alicloud:vpc/natGateway:NatGateway":
                return pulumi.ResourceTransformResult(
                    {**args.props, "deletionProtection": False}, args.opts)

        pulumi.runtime.register_resource_transform(off)
        ManagedCluster("t", {
            "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
            "node_pools": {"p": {"instance_types": ["ecs.g7.large"], "desired_size": 2,
                                 "key_name": "ops"}},
        })
        """
    )
    done = ack_preview(project_with(tmp_path, program), "--json", "--policy-pack", str(PACK_DIR))
    assert done.returncode == 1, done.stderr
    assert any(
        v["policy"] == "ack-stateful-resources-deletion-protected" and NAT in v["urn"]
        for v in json.loads(done.stdout)["violations"]
    )


def test_two_resources_with_one_urn_are_refused():
    def program() -> None:
        alicloud.vpc.Network("net", cidr_block="10.0.0.0/16", vpc_name="a")
        alicloud.vpc.Network("net", cidr_block="10.1.0.0/16", vpc_name="b")

    with pytest.raises(DuplicateUrn, match=r"duplicate resource URN .*::net"):
        run(program)


def test_cluster_and_pool_names_that_collide_are_refused():
    """Cluster `a-b` with pool `c` and cluster `a` with pool `b-c` both name a pool `a-b-c`; a
    URN holds the parent's type, not its name, so the two are one URN to the engine."""
    args = form_args("managed")

    def program() -> None:
        ManagedCluster("a-b", {**args, "node_pools": {"c": args["node_pools"]["p"]}})
        ManagedCluster("a", {**args, "node_pools": {"b-c": args["node_pools"]["p"]}})

    with pytest.raises((DuplicateUrn, Refusals), match=r"duplicate resource URN .*NodePool::a-b-c"):
        run(program)


# --- StackReference and auto-naming ---------------------------------------------------------

READER = textwrap.dedent(
    """
    import pulumi
    net = pulumi.StackReference("org/network/prod")
    pulumi.export("vpc", net.require_output("vpc_id"))
    """
)


@pytest.fixture
def reader(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: r\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(READER)
    return tmp_path


def preview_json(capsys, project: Path, *extra: str) -> tuple[int, dict]:
    rc = main(["dev", "--program", str(project), "--json", *extra])
    out = capsys.readouterr().out
    return rc, json.loads(out) if rc == 0 else {}


def test_stack_reference_is_unknown_in_preview(capsys, reader):
    rc, doc = preview_json(capsys, reader)
    assert rc == 0 and doc["outputs"] == {"vpc": "[unknown]"}


def test_stack_reference_needs_its_outputs_in_an_update(capsys, reader):
    rc = main(["dev", "--program", str(reader), "--mode", "update"])
    err = capsys.readouterr().err
    assert rc == 2 and "--stack-reference org/network/prod=FILE" in err


@pytest.mark.parametrize("saved_graph", [False, True])
def test_stack_reference_reads_the_given_outputs(capsys, reader, tmp_path, saved_graph):
    outputs = {"vpc_id": "vpc-123"}
    doc = {"resources": [], "outputs": outputs} if saved_graph else outputs
    file = tmp_path / "net.json"
    file.write_text(json.dumps(doc))
    ref = f"org/network/prod={file}"
    for mode in ("preview", "update"):
        rc, out = preview_json(capsys, reader, "--mode", mode, "--stack-reference", ref)
        assert rc == 0 and out["outputs"] == {"vpc": "vpc-123"}


def test_a_masked_stack_reference_file_is_refused(capsys, reader, tmp_path):
    file = tmp_path / "net.json"
    file.write_text(json.dumps({"resources": [], "outputs": {"vpc_id": "[unknown]"}}))
    rc = main(["dev", "--program", str(reader), "--stack-reference", f"org/network/prod={file}"])
    assert rc == 2 and "masked or unknown" in capsys.readouterr().err


def test_kubernetes_objects_without_a_name_are_auto_named():
    import pulumi_kubernetes as k8s

    def program() -> None:
        cm = k8s.core.v1.ConfigMap("settings", data={"a": "b"})
        pulumi.export("name", cm.metadata.name)

    name = run(program).stack_outputs["name"]
    assert name.startswith("settings-") and len(name) == len("settings-") + 8
