"""ack-drift-explain: per cluster, which owned resource changed outside code, which fields, and
how to put it back; exit 2 on anything it cannot read (never "no drift" for it)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from ack_offline import explain

from .conftest import ROOT

DATA = ROOT / "tests" / "data" / "drift"
EDITS = json.loads((DATA / "console-edits.json").read_text())


def report(doc=EDITS) -> dict[str, dict[str, explain.Drift]]:
    r = explain.explain(doc)
    return {c: {d.name: d for d in ds} for c, ds in r.by_cluster.items()}


def test_changes_are_grouped_by_the_cluster_that_owns_them():
    r = report()
    assert set(r) == {"prod", explain.NOT_OWNED}
    assert set(r["prod"]) == {
        "prod-https",
        "prod-nat-eip-cn-hangzhou-j",
        "prod-nat",
        "prod-snat-cn-hangzhou-j",
        "prod",
        "prod-web",
    }
    assert set(r[explain.NOT_OWNED]) == {"logs"}


def test_each_field_says_cloud_code_and_how_to_put_it_back():
    prod = report()["prod"]
    (bw,) = prod["prod-nat-eip-cn-hangzhou-j"].fields
    assert (bw.path, bw.cloud, bw.code) == ("bandwidth", "200", "100")
    assert bw.fix.startswith("`pulumi up` puts it back") and "eip_address.go" in bw.fix
    (cidr,) = prod["prod-https"].fields
    assert "replaces the resource" in cidr.fix and "security_group_rule.go" in cidr.fix
    nat = {f.path: f for f in prod["prod-nat"].fields}
    assert "cannot put it back" in nat["networkType"].fix
    assert (nat["tags.ack.pulumi.io/cluster"].cloud, nat["tags.ack.pulumi.io/cluster"].code) == (
        "(none)",
        "prod",
    )
    assert "tags" not in nat  # covered by its detailed path


def test_a_field_the_code_does_not_manage_is_reported_as_kept():
    web = report()["prod"]["prod-web"]
    assert web.op == "refresh" and "keeps the cloud's value" in web.summary
    assert [(f.path, f.cloud, f.fix) for f in web.fields] == [("desiredSize", "7", "kept")]


def test_a_resource_deleted_in_the_console_is_recreated():
    snat = report()["prod"]["prod-snat-cn-hangzhou-j"]
    assert snat.op == "create" and "creates it" in snat.summary


def test_the_kubernetes_providers_fresh_credential_is_not_drift():
    r = explain.explain(json.loads((DATA / "clean.json").read_text()))
    assert not r.drifted
    assert "No change outside code" in explain.render(r)


def test_a_refresh_followed_by_an_update_is_reported_once():
    doc = copy.deepcopy(EDITS)
    eip = next(s for s in doc["steps"] if s["urn"].endswith("prod-nat-eip-cn-hangzhou-j"))
    doc["steps"].insert(0, {**copy.deepcopy(eip), "op": "refresh"})
    assert (
        len(
            [
                d
                for d in explain.explain(doc).by_cluster["prod"]
                if d.name == eip["urn"].split("::")[-1]
            ]
        )
        == 1
    )


def test_ownership_without_parents_falls_back_to_the_tag():
    doc = copy.deepcopy(EDITS)
    for s in doc["steps"]:
        for k in ("oldState", "newState"):
            if s.get(k):
                s[k].pop("parent", None)
    r = report(doc)
    # The EIP carries the ownership tag; the security group rule and SNAT entry carry none (no
    # tags input), and their URNs say only that some cluster owns them.
    assert "prod-nat-eip-cn-hangzhou-j" in r["prod"]
    assert set(r[explain.UNNAMED]) == {"prod-https", "prod-snat-cn-hangzhou-j"}
    assert set(r[explain.NOT_OWNED]) == {"logs"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"steps": {}}',
        '{"steps": [{"op": "update"}]}',
        '{"steps": [{"op": "teleport", "urn": "urn:pulumi:s::p::a:b:C::n"}]}',
        '{"steps": [{"op": "update", "urn": "not-a-urn"}]}',
        '{"steps": [{"op": "update", "urn": "urn:pulumi:s::p::a:b:C::n", "detailedDiff": []}]}',
    ],
)
def test_input_it_cannot_read_is_exit_2(tmp_path, capsys, text):
    f = tmp_path / "preview.json"
    f.write_text(text)
    assert explain.main([str(f)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "cannot read" in out.err


def test_the_console_script_exits_1_on_drift_and_0_without(tmp_path):
    cmd = [sys.executable, "-c", "from ack_offline.explain import console; console()"]
    drift = subprocess.run(
        [*cmd, str(DATA / "console-edits.json"), "--stack", "prod"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert drift.returncode == 1 and "### cluster `prod`" in drift.stdout
    clean = subprocess.run(
        [*cmd, str(DATA / "clean.json")], capture_output=True, text=True, check=False
    )
    assert clean.returncode == 0
    missing = subprocess.run(
        [*cmd, str(tmp_path / "none.json")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2


def test_names_chosen_by_a_program_cannot_forge_report_lines():
    doc = copy.deepcopy(EDITS)
    doc["steps"][-1]["urn"] += "\n### cluster `fake`"
    text = explain.render(explain.explain(doc))
    assert "\n### cluster `fake`" not in text
