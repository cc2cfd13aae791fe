"""Shared helpers: run programs on the fake cloud, build valid arguments, inspect graphs."""

from __future__ import annotations

import copy
import importlib
import inspect
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.testing import FakeAlibabaCloud, run_program
from components.testing.recorder import ProgramRun, RecordedResource

ROOT = Path(__file__).resolve().parent.parent

BASE_ARGS: dict[str, Any] = {
    "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
    "node_pools": {
        "general": {
            "instance_types": ["ecs.g7.xlarge"],
            "autoscaling": {"min_size": 1, "max_size": 5},
            "key_name": "ops",
        }
    },
}


def args(**overrides: Any) -> dict[str, Any]:
    """Valid ManagedCluster arguments, with top-level keys replaced by ``overrides``."""
    out = copy.deepcopy(BASE_ARGS)
    out.update(copy.deepcopy(overrides))
    return out


def run(program: Callable[[], object], *, preview: bool = False, stack: str = "test") -> ProgramRun:
    return run_program(
        program, mock=FakeAlibabaCloud(preview=preview), preview=preview, stack=stack
    )


@cache
def takes_tags(type_token: str) -> bool:
    """Whether the provider class behind a type token accepts `tags` (read from the SDK)."""
    pkg, mod, cls = type_token.split(":")
    if pkg != "alicloud":
        return False
    module = importlib.import_module(f"pulumi_alicloud.{mod.split('/')[0]}")
    init = getattr(module, cls)._internal_init
    return "tags" in inspect.signature(init).parameters


def ancestors(run_: ProgramRun, res: RecordedResource) -> list[RecordedResource]:
    urns = {r.urn: r for r in run_.resources}
    chain = []
    parent = res.parent
    while parent in urns:
        chain.append(urns[parent])
        parent = urns[parent].parent
    return chain


@pytest.fixture
def fake_cloud() -> FakeAlibabaCloud:
    return FakeAlibabaCloud()
