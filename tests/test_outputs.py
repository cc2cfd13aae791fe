"""Outputs are declared once (ack_clusters.cluster.outputs); everything else agrees with it: the
attributes each component sets, its typed Python declarations, what it registers, what the stack
program exports, the package classes (generated; tests/test_package.py) and the README table.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from ack_clusters.cluster.component import ClusterComponent
from ack_clusters.cluster.forms import CLUSTERS
from ack_clusters.cluster.outputs import FORMS, OUTPUTS, outputs_of, outputs_table
from ack_offline.project import find_project, run_stack
from ack_policies.record import RECORD_OUTPUT

from .conftest import CLASSES, ROOT, form_args, run

# With an ingress, so that no output is None (Pulumi registers no None-valued output).
ARGS = {kind: form_args(kind, ingress={}) for kind in FORMS}


def test_every_form_is_served_and_described():
    assert tuple(CLUSTERS) == FORMS
    for kind, cls in CLUSTERS.items():
        assert cls._form.kind == kind and cls.__name__ == cls._form.component
    for output in OUTPUTS:
        assert output.forms <= set(FORMS), output.name
        assert set(output.described_for) <= output.forms, output.name


def _typed_declarations(cls: type) -> dict[str, str]:
    """Annotations made for type checkers in `if TYPE_CHECKING:` blocks along the class chain."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        file = getattr(sys.modules.get(klass.__module__), "__file__", None) or ""
        if not file.startswith(str(ROOT / "components")):
            continue
        tree = ast.parse(Path(file).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == klass.__name__:
                for stmt in node.body:
                    if isinstance(stmt, ast.If) and ast.unparse(stmt.test) == "TYPE_CHECKING":
                        for ann in stmt.body:
                            assert isinstance(ann, ast.AnnAssign)
                            assert isinstance(ann.target, ast.Name)
                            found[ann.target.id] = ast.unparse(ann.annotation)
    return found


@pytest.mark.parametrize("kind", FORMS)
def test_typed_declarations_match_the_table(kind):
    declared = _typed_declarations(CLASSES[kind])
    assert set(declared) == {o.name for o in outputs_of(kind)}
    for output in outputs_of(kind):
        if output.schema_type is not None:
            assert declared[output.name] == f"pulumi.Output[{output.schema_type}]", output.name


@pytest.mark.parametrize("kind", FORMS)
def test_a_component_sets_registers_and_exports_what_the_table_says(kind):
    built: list[ClusterComponent[Any]] = []
    result = run(lambda: built.append(CLASSES[kind]("demo", ARGS[kind])))
    (component,) = built
    offered = outputs_of(kind)
    others = {o.name for o in OUTPUTS} - {o.name for o in offered}
    for output in offered:
        assert hasattr(component, output.name), output.name
    for name in others:
        assert not hasattr(component, name), name
    (urn,) = [r.urn for r in result.resources if r.type == CLASSES[kind]._form.type_token]
    registered = set(result.component_outputs[urn])
    # Beside the package's outputs, the record of what it owns, which the policy pack reads.
    assert registered == {o.name for o in offered if o.schema_type} | {RECORD_OUTPUT}
    assert set(component.stack_exports()) == {o.name for o in offered if o.exported}


@pytest.mark.parametrize("stack", find_project(ROOT).stacks())
def test_each_stack_exports_its_forms_outputs(stack):
    project = find_project(ROOT)
    kind = re.search(r"kind: (\w+)", project.stack_file(stack).read_text())
    assert kind is not None
    exported = {o.name: o for o in outputs_of(kind[1]) if o.exported}
    seen = set(run_stack(project, stack, preview=True).stack_outputs)
    assert seen <= set(exported)
    # What is missing was None (Pulumi exports no None value), which only those types allow.
    for name in set(exported) - seen:
        assert (exported[name].schema_type or "").endswith("| None"), name


def test_the_readme_table_is_the_generated_one():
    reference = (ROOT / "docs" / "REFERENCE.md").read_text()
    block = re.search(r"<!-- outputs:start[^>]*-->\n(.*?)\n<!-- outputs:end -->", reference, re.S)
    assert block is not None, "docs/REFERENCE.md lacks the generated outputs table"
    assert block[1] == outputs_table(), (
        "regenerate: python -c 'from ack_clusters.cluster.outputs import outputs_table; "
        "print(outputs_table())'"
    )
