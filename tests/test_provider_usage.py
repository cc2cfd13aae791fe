"""The library uses the provider as it is today: no deprecated class, no deprecated argument.

Checked against the installed SDK itself: pulumi-alicloud marks each deprecated property getter
with ``_pulumi_deprecated_callable`` and has each deprecated class warn "<Class> is deprecated" in
its constructor. (Run-time warnings cannot be relied on: deprecated fields passed as keyword
arguments to a resource do not warn.)
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import pulumi_alicloud as alicloud
import pytest

from ack_offline.project import find_project, run_stack
from ack_offline.recorder import RecordedResource

from .conftest import ROOT, run

STACKS = find_project(ROOT).stacks()


def _provider_class(type_token: str) -> Any:  # a class looked up by name
    _, mod, cls = type_token.split(":")
    return getattr(importlib.import_module(f"pulumi_alicloud.{mod.split('/')[0]}"), cls)


def deprecated_usage(res: RecordedResource) -> list[str]:
    if not res.type.startswith("alicloud:"):
        return []
    cls = _provider_class(res.type)
    found = []
    if f"{cls.__name__} is deprecated" in inspect.getsource(cls._internal_init):
        found.append(f"{res.type} is a deprecated class")
    for key in res.inputs:
        prop = getattr(cls, re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower(), None)
        if isinstance(prop, property) and "_pulumi_deprecated_callable" in prop.fget.__dict__:
            found.append(f"{res.type}.{key} is deprecated")
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_stack_uses_no_deprecated_class_or_argument(stack):
    result = run_stack(find_project(ROOT), stack, preview=False)
    assert [d for r in result.resources for d in deprecated_usage(r)] == []


def test_the_checker_flags_deprecated_classes_and_arguments():
    result = run(
        lambda: (
            alicloud.vpc.NatGateway("n", vpc_id="vpc-1", name="old-style"),
            alicloud.ecs.Eip("e"),
        )
    )
    flagged = [d for r in result.resources for d in deprecated_usage(r)]
    assert "alicloud:vpc/natGateway:NatGateway.name is deprecated" in flagged
    assert "alicloud:ecs/eip:Eip is a deprecated class" in flagged
