"""The examples run as documented, offline, with the gate."""

from __future__ import annotations

import json

import pytest

from ack_offline.preview import main as ack_preview

from .conftest import ROOT

SHARED = ROOT / "examples" / "shared-network"


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_cluster_stack_on_the_shared_network_stack(tmp_path, capsys, mode):
    assert (
        ack_preview(["prod", "--program", str(SHARED / "network"), "--mode", "update", "--json"])
        == 0
    )
    network = tmp_path / "network.json"
    network.write_text(capsys.readouterr().out)
    outputs = json.loads(network.read_text())["outputs"]
    args = ["prod", "--program", str(SHARED / "cluster"), "--mode", mode, "--json"]
    args += ["--policy-pack", str(ROOT / "policies")]
    args += ["--stack-reference", f"acme/shared-network/prod={network}"]
    assert ack_preview(args) == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    (cluster,) = [
        r for r in doc["resources"] if r["type"].endswith("managedKubernetes:ManagedKubernetes")
    ]
    assert cluster["inputs"]["vswitchIds"] == list(outputs["node_vswitches"].values())
    assert cluster["inputs"]["podVswitchIds"] == list(outputs["pod_vswitches"].values())
    types = {r["type"] for r in doc["resources"]}
    assert "alicloud:vpc/network:Network" not in types  # referenced, not created
    assert "alicloud:vpc/natGateway:NatGateway" not in types  # the network stack owns egress
    assert doc["summary"]["mandatory"] == 0
