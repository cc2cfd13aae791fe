"""Adoption by import, predicted: the engine refuses an import `pulumi up` would refuse (a
declared input the provider never reads back), and every form declares adopted clusters so
that their import can match."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import facts
from ack_offline import provider
from ack_offline.preview import main

from .conftest import CLASSES, ROOT, form_args, run

CLUSTER_ID = "c" + "0" * 31 + "1"
TABLE = json.loads((ROOT / "components" / "ack_offline" / "provider_facts.json").read_text())
CLUSTER_TYPES = {
    "managed": "alicloud:cs/managedKubernetes:ManagedKubernetes",
    "serverless": "alicloud:cs/managedKubernetes:ManagedKubernetes",
    "dedicated": "alicloud:cs/kubernetes:Kubernetes",
}


def adopting(kind: str, **extra: Any) -> dict[str, Any]:
    args = form_args(kind, adopt={"cluster_id": CLUSTER_ID}, **extra)
    return args


@pytest.mark.parametrize("kind", sorted(CLASSES))
@pytest.mark.parametrize("preview", [True, False])
def test_each_form_adopts_a_cluster_the_import_can_match(kind, preview):
    overrides: dict[str, Any] = {"addons": [{"name": "ack-node-problem-detector"}]}
    if kind == "dedicated":
        overrides = {**overrides, "key_name": None, "password": "Xy-1234567890"}
    result = run(lambda: CLASSES[kind]("c", adopting(kind, **overrides)), preview=preview)
    cluster = result.one(CLUSTER_TYPES[kind])
    assert cluster.import_id == CLUSTER_ID
    unread = {name for name, _ in provider.not_read_back(cluster.type, cluster.inputs)}
    assert unread, "the adopted cluster sets inputs the provider never reads back"
    assert unread <= set(cluster.ignore_changes)
    assert provider.import_mismatches(cluster.type, cluster.inputs, cluster.ignore_changes) == []


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_a_cluster_the_component_creates_ignores_nothing(kind):
    result = run(lambda: CLASSES[kind]("c", form_args(kind)))
    assert result.one(CLUSTER_TYPES[kind]).ignore_changes == []


def test_the_librarys_list_is_the_providers():
    """Everything the library ignores on adoption is never read back and never updated (so
    ignoring it hides nothing)."""
    for type_, names in facts.NOT_READ_BACK.items():
        inputs = TABLE["resources"][type_]["inputs"]
        for name in names:
            assert inputs[name]["read_back"] is False, (type_, name)
            assert inputs[name]["updatable"] is False, (type_, name)


def imported_cluster(ignore: list[str] | None) -> None:
    alicloud.cs.ManagedKubernetes(
        "legacy",
        name="legacy",
        vswitch_ids=["vsw-1"],
        addons=[alicloud.cs.ManagedKubernetesAddonArgs(name="terway-eniip")],
        opts=pulumi.ResourceOptions(import_=CLUSTER_ID, ignore_changes=ignore),
    )


def test_an_import_that_cannot_match_is_refused():
    with pytest.raises(provider.ImportMismatch, match=r"(?s)importing .*addons: the provider"):
        run(lambda: imported_cluster(None), preview=True)
    run(lambda: imported_cluster(["addons"]), preview=True)


def test_ack_preview_names_the_inputs_an_import_cannot_match(tmp_path: Path, capsys):
    (tmp_path / "Pulumi.yaml").write_text("name: i\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
            f"""
            import pulumi, pulumi_alicloud as alicloud
            alicloud.cs.ManagedKubernetes(
                "legacy", name="legacy", vswitch_ids=["vsw-1"], new_nat_gateway=True,
                slb_internet_enabled=True,
                opts=pulumi.ResourceOptions(import_="{CLUSTER_ID}"),
            )
            """
        )
    )
    assert main(["dev", "--program", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "importing" in err and "newNatGateway" in err and "slbInternetEnabled" in err
    assert "resource_alicloud_cs_managed_kubernetes.go:" in err
