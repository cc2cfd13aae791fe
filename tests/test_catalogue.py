"""Every entry of the catalogue of mistakes is refused as documented, and the document is true."""

from __future__ import annotations

import pytest

from ack_clusters import InvalidArguments
from ack_clusters.testing import FakeAlibabaCloud, run_program

from .catalogue import (
    CATALOGUE,
    ROOT,
    WARNED,
    Mistake,
    Warned,
    build,
    render,
    stack_error,
    warnings_of,
)

COMPONENT_CASES = [m for m in CATALOGUE if m.form != "config"]
CONFIG_CASES = [m for m in CATALOGUE if m.form == "config"]


@pytest.mark.parametrize("m", COMPONENT_CASES, ids=[f"{m.id} {m.what}" for m in COMPONENT_CASES])
def test_mistake_is_refused_with_its_path_and_nothing_registers(m: Mistake):
    caught: list[InvalidArguments] = []

    def program():
        exc = build(m)
        if exc is not None:
            caught.append(exc)

    result = run_program(program, mock=FakeAlibabaCloud(), config=m.config, stack="test")
    assert result.resources == [], "a refused input must register nothing"
    assert caught, f"{m.id} was not refused"
    assert any(p == m.path and m.text in msg for p, msg in caught[0].problems), caught[0].problems
    # Messages never echo secrets given in the input.
    for secret in ("Sup3r-Secret!", "weakpass", "Sup3r Secret!", "Sup3r-Secret\u00a7", "/Sup3r"):
        assert secret not in str(caught[0])


@pytest.mark.parametrize("w", WARNED, ids=[f"{w.id} {w.what}" for w in WARNED])
def test_a_stale_fact_warns_with_its_date_and_does_not_block(w: Warned):
    from ack_clusters import facts

    said = [s for s in warnings_of(w) if w.text in s]
    assert said, f"{w.id} did not warn"
    if w.id != "W4":  # no region is not a stale fact: nothing to date
        assert facts.CHECKED in said[0]


@pytest.mark.parametrize("m", CONFIG_CASES, ids=[f"{m.id} {m.what}" for m in CONFIG_CASES])
def test_stack_config_mistake_is_exit_2_naming_key_and_file(m: Mistake):
    rc, err = stack_error(m)
    assert rc == 2
    assert m.text in err
    assert m.path in err
    if m.id != "C5":  # a YAML error names the file and line instead
        assert "Pulumi.demo.yaml" in err


def test_several_mistakes_in_one_input_are_reported_together():
    m = Mistake(
        "X",
        "several",
        "managed",
        {
            "cluster_spec": "ack.mega",
            "service_cidr": "nope",
            "node_pools": {"Bad_Name": {}},
            "tags": {"aliyun:x": "y"},
        },
        "",
        "",
        name="Bad_Name",
    )
    exc = build(m)
    assert exc is not None
    paths = {p for p, _ in exc.problems}
    assert {"name", "cluster_spec", "service_cidr", "node_pools.Bad_Name.[key]", "tags"} <= paths


def test_catalogue_covers_the_mistakes_issue_6_lists():
    assert len(CATALOGUE) >= 45
    assert {m.form for m in CATALOGUE} == {"managed", "serverless", "dedicated", "guard", "config"}


def test_the_document_is_generated_from_the_catalogue():
    doc = (ROOT / "docs" / "BAD-INPUTS.md").read_text()
    assert doc == render() + "\n", "regenerate: python -m tests.catalogue > docs/BAD-INPUTS.md"


def test_the_readme_counts_the_catalogue():
    from .docs_text import user_docs

    assert f"lists {len(CATALOGUE)} refused mistakes" in user_docs()
