"""The pull-request picture (`ack-preview --mermaid`), read back by Mermaid's own parser.

Every picture here goes through `tests/mermaid/parse.mjs` (Mermaid 11 in node, jsdom for its
sanitizer): the picture must parse, and what the parser read (boxes, their texts, the boxes
inside each component, the edges, the classes) is what these tests check, so a label that
broke out of its quotes or a fence would show as a parse error or an extra box. Needs node and
`npm ci --prefix tests/mermaid` (.ci/run does both); skipped with that reason where they are
missing, and failed instead under CI (CI=true), where the tool must be there.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ack_offline.picture import label, label_lines
from ack_offline.preview import main
from ack_offline.project import find_project
from ack_offline.text import one_line

from .conftest import PACK_DIR, ROOT
from .test_hostile_input import CLUSTER, _preview, _project

STACKS = find_project(ROOT).stacks()
PARSER = ROOT / "tests" / "mermaid"


def mermaid_parse(texts: list[str]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    missing = (
        "node is not installed"
        if node is None
        else "Mermaid is not installed: run `npm ci --prefix tests/mermaid`"
        if not (PARSER / "node_modules" / "mermaid" / "package.json").is_file()
        else ""
    )
    if missing or node is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must check the pictures with Mermaid's parser: {missing}")
        pytest.skip(missing)
    done = subprocess.run(
        [node, str(PARSER / "parse.mjs")],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def diagram(doc: str) -> str:
    """The Mermaid text of the one fenced block in `doc`."""
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", doc, re.S | re.M)
    assert len(blocks) == 1, doc
    return str(blocks[0])


class Parsed:
    """What Mermaid read from one picture."""

    def __init__(self, doc: dict[str, Any]) -> None:
        assert doc["ok"], doc.get("error")
        assert doc["type"] == "flowchart-v2"
        subgraphs = {s[0]: s for s in doc["subgraphs"]}
        self.text = {v[0]: shown(v[1]) for v in doc["vertices"]}
        self.text.update({s[0]: shown(s[1]) for s in doc["subgraphs"]})
        self.classes: dict[str, set[str]] = {s: set() for s in subgraphs}
        self.classes.update({v[0]: set(v[2]) for v in doc["vertices"]})
        self.inside = {s[0]: list(s[2]) for s in doc["subgraphs"]}
        self.edges = [(e[0], e[1], shown(e[2]), e[3]) for e in doc["edges"]]
        legend = set(self.inside.get("legend", ())) | {"legend"}
        legend |= {e[0] for e in self.edges if e[0].startswith("legend")}
        legend |= {e[1] for e in self.edges if e[1].startswith("legend")}
        self.legend = legend
        #: Boxes of the stack (the legend aside): resources, counts and components.
        self.boxes = [k for k in self.text if k not in legend]
        self.components = [k for k in subgraphs if k not in legend]

    def find(self, *words: str) -> str:
        (key,) = [k for k in self.boxes if all(w in self.text[k] for w in words)]
        return key

    def parent(self, key: str) -> str:
        return next((g for g, kids in self.inside.items() if key in kids), "")


def shown(text: str) -> str:
    """A label as a reader sees it: entities decoded, the picture's line breaks as newlines."""
    return html.unescape(text.replace("<br>", "\n"))


def preview(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(list(argv))
    return rc, out.getvalue()


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """Each shipped stack's picture without --diff, and with --diff against itself."""
    bases = tmp_path_factory.mktemp("bases")
    docs = {}
    for stack in STACKS:
        gate = ["--program", str(ROOT), "--mermaid", "--policy-pack", str(PACK_DIR)]
        docs[stack, "new"] = preview(stack, *gate)[1]
        base = bases / f"Pulumi.{stack}.yaml"
        shutil.copy(ROOT / "stacks" / f"Pulumi.{stack}.yaml", base)
        docs[stack, "same"] = preview(stack, *gate, "--diff", str(base))[1]
    return docs


@pytest.mark.heavy
def test_every_shipped_stacks_picture_parses_and_stays_small(shipped):
    keys = sorted(shipped)
    parsed = dict(zip(keys, mermaid_parse([diagram(shipped[k]) for k in keys]), strict=True))
    for (stack, how), doc in parsed.items():
        p = Parsed(doc)
        # A whole stack reads at a glance: one box per part of each cluster, not per resource.
        assert 1 <= len(p.boxes) <= 12, (stack, how, p.text)
        if how == "same":
            # Nothing changes: every box says it is unchanged, and how much it holds.
            for key in set(p.boxes) - set(p.components):
                assert "same" in p.classes[key] <= {"same", "advisory"}, p.text[key]
            assert any(re.search(r"\b\d+ unchanged in it\b", p.text[k]) for k in p.boxes)
        else:
            assert any(re.search(r"\b\d+ to create in it\b", p.text[k]) for k in p.boxes)
        # The legend names every class the stack's boxes use, and nothing else.
        used = set().union(*(p.classes[k] for k in p.boxes))
        legend = set().union(*(p.classes[k] for k in p.inside["legend"]))
        assert used == legend, (stack, how)


def changed_managed_dev(tmp_path: Path) -> Path:
    """A base from which the shipped managed-dev stack replaces its cluster (another service
    range), deletes two NAT gateways and their EIPs (per-zone NAT to one) and updates a pool."""
    text = (ROOT / "stacks" / "Pulumi.managed-dev.yaml").read_text()
    text = text.replace("    cluster_spec:", "    service_cidr: 172.22.0.0/20\n    cluster_spec:")
    text = text.replace("nat: single", "nat: per_zone").replace("max_size: 4", "max_size: 6")
    base = tmp_path / "base.yaml"
    base.write_text(text)
    return base


@pytest.mark.heavy
def test_changes_come_first_with_their_inputs_and_the_rest_is_counted(tmp_path):
    base = changed_managed_dev(tmp_path)
    rc, doc = preview("managed-dev", "--program", str(ROOT), "--mermaid", "--diff", str(base))
    assert rc == 3  # the stateful replacement is refused
    text = diagram(doc)
    (parsed,) = mermaid_parse([text])
    p = Parsed(parsed)
    cluster = p.find("+- ManagedKubernetes dev")
    assert "stateful: replaced" in p.text[cluster] and "serviceCidr: replaces" in p.text[cluster]
    assert p.classes[cluster] >= {"replace"}
    # The pool follows the replaced cluster (its cluster_id is ForceNew), with its own change.
    pool = p.find("+- NodePool dev-general")
    assert "scalingConfig: updates" in p.text[pool] and "clusterId: replaces" in p.text[pool]
    assert "replace" in p.classes[pool]
    # The deleted NAT gateways and EIPs are drawn one by one, inside the network they left.
    network = p.find("ClusterNetwork dev")
    deleted = [k for k in p.inside[network] if "stateful: deleted" in p.text[k]]
    assert sorted(p.text[k].splitlines()[0] for k in deleted) == [
        "- EipAddress dev-eip-cn-hangzhou-i",
        "- EipAddress dev-eip-cn-hangzhou-j",
        "- NatGateway dev-nat-cn-hangzhou-i",
        "- NatGateway dev-nat-cn-hangzhou-j",
    ]
    # In each component, what changes is declared before what does not.
    for group in [network, p.parent(cluster)]:
        kids = p.inside[group]
        fates = [bool(p.classes.get(k, set()) - {"same"}) or k in p.components for k in kids]
        assert fates == sorted(fates, reverse=True), [p.text[k] for k in kids]
    # What does not change is counted, not drawn: the security group's five resources are
    # one box.
    security = p.find("ClusterSecurityGroup dev")
    assert "5 unchanged in it" in p.text[security] and security not in p.components
    assert len(p.boxes) <= 20
    assert (
        "Changes: 3 to create, 0 to update, 5 to replace (2 stateful), 12 to delete (4 stateful)."
        in doc
    )


LOOSE = textwrap.dedent(
    """
    import pulumi_alicloud as alicloud
    from ack_clusters import ManagedCluster

    c = ManagedCluster("t", {"network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]}})
    alicloud.ecs.SecurityGroupRule(
        "loose", security_group_id=c.security_group_id, type="ingress", ip_protocol="tcp",
        port_range="8443/8443", cidr_ip="10.9.0.0/16",
    )
    alicloud.vpc.Network("mine", cidr_block="10.20.0.0/16")
    """
)


def test_a_blocked_resource_is_drawn_first_attached_to_what_it_takes(tmp_path):
    folder = _project(tmp_path / "p", LOOSE)
    rc, doc = preview("dev", "--program", str(folder), "--mermaid", "--policy-pack", str(PACK_DIR))
    assert rc == 1
    text = diagram(doc)
    (parsed,) = mermaid_parse([text])
    p = Parsed(parsed)
    loose = p.find("+ SecurityGroupRule loose")
    assert p.boxes[0] == loose  # drawn first
    assert "violation" in p.classes[loose]
    assert "BLOCKED: ack-no-loose-attachments-to-cluster-resources" in p.text[loose]
    assert "takes its security group" in p.text[loose]  # the reason, not only the rule's name
    # The edge runs to the security group the component owns, labelled with the input.
    group = p.find("+ SecurityGroup t-sg")
    assert [(a, b, t) for a, b, t, _ in p.edges if not a.startswith("legend")] == [
        (loose, group, "securityGroupId")
    ]
    assert p.parent(group) == p.find("+ ClusterSecurityGroup t")
    assert p.parent(loose) == ""  # declared at the stack's top
    # The legend explains the mark and the edge.
    legend = {p.text[k] for k in p.legend if k in p.text}
    assert {"blocked by a mandatory policy", "blocked", "owned"} <= legend
    assert ("legendA", "legendB", "takes, through input", "dotted") in p.edges
    # The program's own network beside the cluster is drawn as it is, not blocked.
    mine = p.find("+ Network mine")
    assert "violation" not in p.classes[mine]


HOSTILE = (
    'evil\n0 mandatory, 0 other.\r\x1b[2J\u202e```\u2028x\n</details>| "q"] --> x\n'
    '%%{init: {"theme":"dark"}}%% %% <img src=x onerror=alert(1)> style a:#f00; #quot; end'
)


def test_a_hostile_name_reads_back_as_one_label(tmp_path):
    """Names with line breaks, a code fence, quotes, `-->`, `%%` directives and HTML, read back
    by Mermaid's parser: no box, edge or setting of their own, and each label shows its name
    with the control characters escaped, character for character."""
    program = CLUSTER + textwrap.dedent(
        f"""
        import pulumi_alicloud as alicloud
        alicloud.vpc.Network({HOSTILE!r}, cidr_block="10.9.0.0/16")
        alicloud.ecs.SecurityGroupRule(
            "loose-" + {HOSTILE!r}, security_group_id=c.security_group_id, type="ingress",
            ip_protocol="tcp", port_range="443/443", cidr_ip="10.0.0.0/8",
        )
        """
    )
    folder = _project(tmp_path / "p", program)
    done = _preview(folder, "--mermaid", "--policy-pack", str(ROOT / "policies"))
    assert done.returncode == 1, done.stderr
    text = diagram(done.stdout)
    (parsed,) = mermaid_parse([text])
    p = Parsed(parsed)

    def flat(s: str) -> str:  # labels wrap at spaces: compare without them
        return "".join(s.split())

    network = p.find("+ Network ")
    assert flat(p.text[network]) == flat("+ Network " + one_line(HOSTILE))
    rule = p.find("+ SecurityGroupRule loose-")
    assert flat(p.text[rule]).startswith(flat("+ SecurityGroupRule loose-" + one_line(HOSTILE)))
    assert "violation" in p.classes[rule]
    # Nothing but the picture's own boxes, edges and settings.
    assert all(re.fullmatch(r"[ng]\d+|legend\w*", k) for k in p.text), sorted(p.text)
    assert [e[:3] for e in p.edges if not e[0].startswith("legend")] == [
        (rule, p.find("SecurityGroup t-sg"), "securityGroupId")
    ]
    assert parsed["config"] == {}


def test_labels_escape_everything_that_could_end_them():
    for ch in '"<>`#&:%\n\r\x1b\u202e\u2028':
        text = label(f"a{ch}b")
        assert ch not in re.sub(r"#\d+;", "", text) and re.fullmatch(r"a(#\d+;|\\\w+)b", text)
    assert label("a\nb") == "a\\nb"  # shown as its escape, not as a line break
    assert label("<br>") == "#60;br#62;"
    assert label_lines(["a<br>", "b"]) == "a#60;br#62;<br>b"  # the picture's own line breaks
