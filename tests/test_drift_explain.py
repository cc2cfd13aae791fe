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


URN = "urn:pulumi:s::p::alicloud:ecs/securityGroupRule:SecurityGroupRule::r"
STACK_STEP = {"op": "same", "urn": "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"}


def _digest(*steps, **top) -> str:
    """A finished preview's digest (json.go: the stack's step, a changeSummary) with `steps`."""
    return json.dumps(
        {"steps": [STACK_STEP, *steps], "changeSummary": {"same": 1, "update": 1}, **top}
    )


def _update(**fields) -> dict:
    return {"op": "update", "urn": URN, "detailedDiff": {"cidrIp": {"kind": "update"}}, **fields}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "{}",
        '{"steps": {}}',
        '{"steps": [], "changeSummary": {}}',
        # No changeSummary: the preview never reached its summary event (cancelled, crashed).
        json.dumps({"steps": [STACK_STEP]}),
        json.dumps({"steps": [STACK_STEP], "changeSummary": []}),
        _digest({"op": "update"}),
        _digest({"op": "teleport", "urn": "urn:pulumi:s::p::a:b:C::n"}),
        _digest({"op": "update", "urn": "not-a-urn"}),
        _digest(_update(detailedDiff=[])),
        # A preview that reported an error did not complete: its steps are not the whole story.
        _digest(diagnostics=[{"severity": "error", "message": "error: program failed"}]),
        _digest(_update(), diagnostics=[{"severity": "error", "message": "boom"}]),
        _digest(diagnostics="error"),
        _digest(diagnostics=["error"]),
        _digest(maybeCorrupt=True),
        # Values of the wrong shape, in every part of a step that is read.
        _digest(_update(oldState=[])),
        _digest(_update(oldState={"inputs": [1]})),
        _digest(_update(newState={"outputs": "x"})),
        _digest({**_update(), "op": "refresh", "newState": {"outputs": "x"}}),
        _digest(_update(oldState={"outputs": 3})),
        _digest(_update(newState={"parent": 7})),
        _digest(_update(newState={"parent": "not-a-urn"})),
        _digest(_update(diffReasons="cidrIp")),
        _digest(_update(diffReasons=[1])),
        _digest({**_update(), "op": "replace", "replaceReasons": "cidrIp"}),
        _digest({**_update(), "op": "replace", "replaceReasons": [{}]}),
    ],
)
def test_input_it_cannot_read_is_exit_2(tmp_path, capsys, text):
    f = tmp_path / "preview.json"
    f.write_text(text)
    assert explain.main([str(f)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "cannot read" in out.err
    assert len(out.err.splitlines()) == 1 and "Traceback" not in out.err


def test_the_shapes_checked_are_those_of_a_finished_preview():
    """Each refusal above is its own: a digest with a warning and an info diagnostic and
    without maybeCorrupt, with the same step well formed, is read (exit 1: drift)."""
    doc = json.loads(
        _digest(
            _update(
                oldState={"inputs": {"cidrIp": "0.0.0.0/0"}, "outputs": {}, "parent": None},
                newState={"inputs": {"cidrIp": "10.0.0.0/8"}},
                diffReasons=["cidrIp"],
                replaceReasons=None,
            ),
            diagnostics=[
                {"severity": "warning", "message": "a deprecated input"},
                {"severity": "info", "message": "hello from the program"},
            ],
            maybeCorrupt=False,
        )
    )
    r = explain.explain(doc)
    ((drift,),) = r.by_cluster.values()
    assert [(f.path, f.cloud, f.code) for f in drift.fields] == [
        ("cidrIp", "0.0.0.0/0", "10.0.0.0/8")
    ]
    clean = json.loads(_digest())
    assert not explain.explain(clean).drifted


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from ack_offline.explain import console; console()"]
    return subprocess.run([*cmd, *args], input=stdin, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    "stdin",
    [
        "{}",
        '{"diagnostics": [{"severity": "error", "message": "error: preview failed"}]}',
        "[" * 100_000 + "]" * 100_000,
        '{"steps": ' + "[" * 100_000 + "]" * 100_000 + "}",
        _digest(_update(oldState={"inputs": [1]})),
        _digest(_update(newState={"outputs": "x"})),
    ],
    ids=["empty", "error-diagnostic", "deep", "deep-steps", "inputs-list", "outputs-string"],
)
def test_the_console_script_says_no_verdict_in_one_line_never_no_drift(stdin):
    done = _run("-", stdin=stdin)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("ack-drift-explain: ")


def test_anything_else_that_fails_is_no_verdict(monkeypatch, tmp_path, capsys):
    f = tmp_path / "preview.json"
    f.write_text((DATA / "console-edits.json").read_text())

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(explain, "explain", broken)
    assert explain.main([str(f)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "no verdict" in out.err and "KeyError" in out.err


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


def _outside_code_spans(markdown: str) -> str:
    """The text of `markdown` outside its code spans, by CommonMark's rule (0.31, 6.1): a run of
    n backticks opens a span that the next run of exactly n backticks closes; a run with no
    such closer is literal text."""
    out, i = [], 0
    while i < len(markdown):
        if markdown[i] != "`":
            out.append(markdown[i])
            i += 1
            continue
        j = i
        while j < len(markdown) and markdown[j] == "`":
            j += 1
        n, k = j - i, j
        close = -1
        while k < len(markdown):
            if markdown[k] == "`":
                m = k
                while m < len(markdown) and markdown[m] == "`":
                    m += 1
                if m - k == n:
                    close = m
                    break
                k = m
            else:
                k += 1
        if close < 0:
            out.append(markdown[i:j])
            i = j
        else:
            out.append(" ")
            i = close
    return "".join(out)


HOSTILE = [
    "a` <b>[phish](https://evil.example)</b> `",
    "** [click](https://evil.example) <img src=https://evil.example/a.png> @org/admins",
    "``` <script>x</script> ``",
    "`",
    " ` ",
    "<!-- -->&amp; https://evil.example www.evil.example",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_text_from_the_cloud_is_never_live_markdown_in_the_summary(hostile):
    """The old state is what a console user set: a value, a name, a path, a cluster tag and
    the stack's name cannot close their code span, so no link, image, tag, autolink or
    @mention in them reaches the job summary live."""
    doc = copy.deepcopy(EDITS)
    step = next(s for s in doc["steps"] if s["urn"].endswith("::prod-nat-eip-cn-hangzhou-j"))
    step["urn"] += hostile
    step["oldState"]["inputs"]["bandwidth"] = hostile
    step["detailedDiff"][hostile] = {"kind": "update"}
    step["oldState"]["inputs"]["tags"][explain.CLUSTER_TAG] = hostile
    text = explain.render(explain.explain(doc), stack=hostile)
    assert hostile.strip() in text  # shown, as text
    plain = _outside_code_spans(text)
    for live in ("<", "](", "@org", "evil.example", "&amp;", "**" + "[", "<!--"):
        assert live not in plain, (live, plain)
    assert plain.count("**") == 2 * sum(1 for line in text.splitlines() if line.startswith("- "))


@pytest.mark.parametrize("hostile", [*HOSTILE, "", "x", "``", "a  b"])
def test_a_code_span_shows_exactly_its_text(hostile):
    from ack_offline.text import markdown_code

    code = markdown_code(hostile)
    n = len(code) - len(code.lstrip("`"))
    inner = code[n:-n]
    assert code.endswith("`" * n) and not code.endswith("`" * (n + 1))
    # CommonMark strips one space each side when both are there and the text is not all spaces.
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
        inner = inner[1:-1]
    assert inner == (hostile or " ")
    assert _outside_code_spans(code) == " "


def test_a_secret_is_never_shown():
    doc = copy.deepcopy(EDITS)
    step = next(s for s in doc["steps"] if s["urn"].endswith("::prod-nat-eip-cn-hangzhou-j"))
    step["oldState"]["inputs"]["bandwidth"] = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": "hunter2",
    }
    text = explain.render(explain.explain(doc))
    assert "hunter2" not in text and "cloud `[secret]`" in text


def _field(type_: str, name: str, old, new) -> explain.FieldDrift:
    urn = f"urn:pulumi:s::p::{type_}::r"
    step = {
        "op": "update",
        "urn": urn,
        "oldState": {"inputs": {} if old is None else {name: old}},
        "newState": {"inputs": {} if new is None else {name: new}},
        "detailedDiff": {name: {"kind": "update"}},
    }
    r = explain.explain(json.loads(_digest(step)))
    ((drift,),) = r.by_cluster.values()
    (f,) = drift.fields
    return f


def test_a_changed_secret_is_drift_though_both_sides_show_secret(tmp_path):
    """The CLI shows every secret as "[secret]" (json.go, massagePropertyValue): a secret the
    console changed differs only in the provider's detailedDiff. Drift, exit 1: never a crash,
    never "no change"."""
    f = _field("alicloud:ecs/eipAddress:EipAddress", "description", "[secret]", "[secret]")
    assert "does not show what differs" in f.fix
    p = tmp_path / "preview.json"
    step = _update(
        oldState={"inputs": {"cidrIp": "[secret]"}}, newState={"inputs": {"cidrIp": "[secret]"}}
    )
    p.write_text(_digest(step))
    done = _run(str(p))
    assert done.returncode == 1 and "does not show what differs" in done.stdout


def test_each_effect_of_the_provider_facts_is_told_as_it_is():
    eip = "alicloud:ecs/eipAddress:EipAddress"
    # Optional+Computed and left out of the code: the cloud's value stays.
    kept = _field(eip, "bandwidth", "200", None)
    assert kept.fix.startswith("`pulumi up` keeps the cloud's value") and "eip_address.go:50" in (
        kept.fix
    )
    # RRSA turned on in the console, off in the code: the provider's Update errors.
    mk = "alicloud:cs/managedKubernetes:ManagedKubernetes"
    rrsa = _field(mk, "enableRrsa", True, False)
    assert "cannot put it back: it fails" in rrsa.fix and "disable RRSA" in rrsa.fix
    # A rule of the provider's Update code says why it is never applied.
    window = _field(mk, "maintenanceWindow", {"enable": True}, None)
    assert "never sends it (an empty block is never sent)" in window.fix
    assert _field(eip, "bandwidth", "200", "100").fix.startswith("`pulumi up` puts it back")


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_file_that_is_not_a_regular_one_is_no_verdict_at_once(tmp_path, kind):
    """`ack-drift-explain /dev/zero` grew to 2.4 GB in 2 s, and a FIFO hung it for ever."""
    import os
    import subprocess
    import sys

    path = "/dev/zero"
    if kind == "fifo":
        path = str(tmp_path / "fifo")
        os.mkfifo(path)
    done = subprocess.run(
        [sys.executable, "-c", "from ack_offline.explain import console; console()", path],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr
