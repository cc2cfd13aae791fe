"""The offline engine does what the real engine does where the mock engine does not: new-style
transforms are applied (resource, inherited and stack level), a duplicate URN is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import ManagedCluster
from ack_offline.preview import main
from ack_offline.recorder import DuplicateUrn, Refusals

from .conftest import PACK_DIR, form_args, run

NAT = "alicloud:vpc/natGateway:NatGateway"
MK = "alicloud:cs/managedKubernetes:ManagedKubernetes"


def nat_protection_off(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if args.type_ == NAT:
        return pulumi.ResourceTransformResult(
            {**args.props, "deletionProtection": False}, args.opts
        )
    return None


def public_api_and_protect(args: pulumi.ResourceTransformArgs):
    if args.type_ == MK:
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True))
        return pulumi.ResourceTransformResult({**args.props, "slbInternetEnabled": True}, opts)
    return None


@pytest.mark.parametrize("preview", [True, False])
def test_a_component_transform_reaches_its_children(preview):
    run_ = run(
        lambda: ManagedCluster(
            "m", form_args("managed"), opts=pulumi.ResourceOptions(transforms=[nat_protection_off])
        ),
        preview=preview,
    )
    assert run_.one(NAT).inputs["deletionProtection"] is False


def test_stack_transforms_change_properties_and_options():
    def program() -> None:
        pulumi.runtime.register_resource_transform(public_api_and_protect)
        ManagedCluster("m", form_args("managed"))

    cluster = run(program).one(MK)
    assert cluster.inputs["slbInternetEnabled"] is True
    assert cluster.protect is True


def test_transforms_run_in_the_engines_order():
    """Own first, then the parent's, then the stack's: each sees what the one before made."""
    seen: list[str] = []

    def tag(label: str):
        def transform(args: pulumi.ResourceTransformArgs):
            if args.type_ == NAT:
                seen.append(label)
                trail = str(args.props.get("description") or "")
                return pulumi.ResourceTransformResult(
                    {**args.props, "description": trail + label}, args.opts
                )
            return None

        return transform

    def program() -> None:
        pulumi.runtime.register_resource_transform(tag("stack"))
        ManagedCluster(
            "m", form_args("managed"), opts=pulumi.ResourceOptions(transforms=[tag("component")])
        )

    nat = run(program).one(NAT)
    assert nat.inputs["description"].endswith("componentstack")
    assert seen == ["component", "stack"]


def test_a_transform_that_breaks_the_gate_is_caught(tmp_path: Path):
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
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
    )
    # In a process of its own, as CI runs it: a transform starts Pulumi's gRPC callback server,
    # and this test process has run gRPC servers of its own before (no fork after that).
    command = [sys.executable, "-m", "ack_offline.preview", "dev", "--program", str(tmp_path)]
    done = subprocess.run(
        [*command, "--json", "--policy-pack", str(PACK_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    doc = json.loads(done.stdout)
    assert done.returncode == 1, done.stderr
    assert any(
        v["policy"] == "ack-stateful-resources-deletion-protected" and NAT in v["urn"]
        for v in doc["violations"]
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
