"""The program's collector setting: raised for the program's run, never leaked into the host."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from ack_clusters import package
from ack_clusters.process import PROGRAM_GC_THRESHOLD, tune_gc
from ack_clusters.testing import FakeAlibabaCloud
from ack_offline.project import find_project, run_stack

from .conftest import ROOT


@pytest.fixture(autouse=True)
def restore_collector() -> Iterator[None]:
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*thresholds)
    if enabled:
        gc.enable()


def test_raises_only_the_young_generation_threshold() -> None:
    gc.set_threshold(700, 11, 12)
    tune_gc()
    assert gc.get_threshold() == (PROGRAM_GC_THRESHOLD, 11, 12)


def test_never_lowers_a_threshold_the_program_raised_itself() -> None:
    gc.set_threshold(200_000, 10, 10)
    tune_gc()
    assert gc.get_threshold() == (200_000, 10, 10)


@pytest.mark.parametrize("off", ["disabled", "zero threshold"])
def test_leaves_automatic_collection_off_when_it_is_off(off: str) -> None:
    if off == "disabled":
        gc.disable()
        gc.set_threshold(700, 10, 10)
    else:
        gc.set_threshold(0, 10, 10)
    before = gc.get_threshold()
    tune_gc()
    assert gc.get_threshold() == before
    assert off != "disabled" or not gc.isenabled()


def test_rejects_a_threshold_that_would_turn_collection_off() -> None:
    with pytest.raises(ValueError, match="threshold must be at least 1, not 0"):
        tune_gc(0)


def test_stack_program_runs_with_the_raised_threshold_and_restores_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int, int]] = []
    original = FakeAlibabaCloud.new_resource

    def spy(self: FakeAlibabaCloud, args: Any) -> Any:
        seen.append(gc.get_threshold())
        return original(self, args)

    monkeypatch.setattr(FakeAlibabaCloud, "new_resource", spy)
    gc.set_threshold(700, 10, 10)
    run_stack(find_project(ROOT), "managed-dev", preview=True)
    assert seen and set(seen) == {(PROGRAM_GC_THRESHOLD, 10, 10)}
    assert gc.get_threshold() == (700, 10, 10)


def test_importing_the_library_leaves_the_collector_alone() -> None:
    code = "import gc; t = gc.get_threshold(); import ack_clusters; print(t == gc.get_threshold())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_the_component_provider_serves_with_the_raised_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    import pulumi.provider.server

    seen: list[tuple[int, int, int]] = []
    served: list[str] = []

    def main(provider: Any, args: list[str]) -> None:
        seen.append(gc.get_threshold())
        served.append(provider.schema)

    monkeypatch.setattr(pulumi.provider.server, "main", main)
    gc.set_threshold(700, 10, 10)
    package.serve()
    assert seen == [(PROGRAM_GC_THRESHOLD, 10, 10)]
    assert json.loads(served[0])["language"]["python"]["packageName"] == "pulumi_ack_clusters"
