"""Shared helpers: run programs on the fake cloud, build valid arguments, inspect graphs."""

from __future__ import annotations

import atexit
import copy
import gc
import importlib
import inspect
import logging
import os
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ack_clusters import tune_gc
from ack_clusters.cluster.forms import CLUSTERS
from ack_clusters.testing import FakeAlibabaCloud, run_program
from ack_offline.recorder import ProgramRun, RecordedResource

# Nothing this suite runs writes bytecode: the gate digests its packs' packages, bytecode
# included (ack_offline.integrity), and a test process compiling them mid-run would look like a
# rewrite of the judge to a gate running beside it (in another worker).
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"


class _ReportedAlready(logging.Filter):
    """The suite runs programs that fail on purpose, each test asserting the failure; the SDK
    leaves futures holding the same error, which asyncio reports when they are collected:
    thousands of tracebacks of errors already asserted (90,000 lines of a CI log) and seconds
    of CPU. asyncio's other reports stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Future exception was never retrieved")


logging.getLogger("asyncio").addFilter(_ReportedAlready())

ROOT = Path(__file__).resolve().parent.parent
#: `ack-preview` in a process of its own, as users and CI run it: the console script's module
#: (ack_offline.cli, which tunes the collector first and skips interpreter shutdown).
ACK_PREVIEW = [sys.executable, "-m", "ack_offline.cli"]


def pytest_configure(config: pytest.Config) -> None:
    """Each test process runs hundreds of programs and keeps their modules: it gets the
    collector setting a program declaring many clusters gets (ack_clusters.tune_gc), so the
    suite's time goes to the tests rather than to rescanning what they keep.

    At exit the interpreter's last full collection walks all of that (about a second per
    worker, on the suite's critical path) only to free memory the process is about to give
    back; the handler runs after every test, report and fixture teardown, and freezing only
    exempts what is left from that walk."""
    tune_gc()
    atexit.register(gc.freeze)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``heavy`` (a second or more each) run first: a worker given one of them
    last would leave the other idle until it ends. Otherwise the order is the collection's."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


# --- builders: every test builds its clusters from these ------------------------------------

#: Three zones of cn-hangzhou (the region of the fake cloud's IDs), in the order tests list them.
ZONES = ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]
#: The smallest valid pool: fixed size, key pair login.
POOL: dict[str, Any] = {"instance_types": ["ecs.g7.large"], "desired_size": 2, "key_name": "ops"}
#: A pool the cluster autoscaler sizes.
AUTOSCALED_POOL: dict[str, Any] = {
    "instance_types": ["ecs.g7.large"],
    "autoscaling": {"min_size": 1, "max_size": 4},
    "key_name": "ops",
}
#: The component class of each form, by the stack config's `kind`.
CLASSES = CLUSTERS
#: The smallest valid arguments of each form: two zones (three for a dedicated cluster, whose
#: masters spread over three), one fixed pool "p" where there are nodes, master login.
MINIMAL_ARGS: dict[str, dict[str, Any]] = {
    "managed": {"network": {"zones": ZONES[:2]}, "node_pools": {"p": POOL}},
    "serverless": {"network": {"zones": ZONES[:2]}},
    "dedicated": {"network": {"zones": ZONES}, "node_pools": {"p": POOL}, "key_name": "ops"},
}


def form_args(kind: str, **overrides: Any) -> dict[str, Any]:
    """Valid arguments of a form, with top-level keys replaced by ``overrides``."""
    out = copy.deepcopy(MINIMAL_ARGS[kind])
    out.update(copy.deepcopy(overrides))
    return out


#: Valid ManagedCluster arguments most tests start from: two zones, one autoscaled pool.
BASE_ARGS: dict[str, Any] = {
    "network": {"zones": ZONES[:2]},
    "node_pools": {
        "general": {
            **AUTOSCALED_POOL,
            "instance_types": ["ecs.g7.xlarge"],
            "autoscaling": {"min_size": 1, "max_size": 5},
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


def assert_owned_and_tagged(run_: ProgramRun, component_type: str, cluster: str) -> None:
    """What the policy pack relies on: every resource descends from the cluster component,
    every cloud resource's direct parent is one of our components, and every taggable one
    carries the ownership tags."""
    from ack_clusters.naming import CLUSTER_TAG, MANAGED_BY_TAG

    top = run_.one(component_type)
    for res in run_.resources:
        if res is top:
            continue
        chain = ancestors(run_, res)
        assert chain and chain[-1].urn == top.urn, res.urn
        if res.custom:
            assert run_.get(res.parent).type.startswith("ack:index:"), res.urn
            if takes_tags(res.type):
                tags = res.inputs.get("tags") or {}
                assert tags.get(CLUSTER_TAG) == cluster, res.urn
                assert tags.get(MANAGED_BY_TAG) == "pulumi-ack-clusters", res.urn


# --- policy pack ------------------------------------------------------------------------------

from ack_offline.gate import PolicyPackProcess, StackContext, Violation  # noqa: E402
from ack_offline.recorder import RecordedResource as _Rec  # noqa: E402

PACK_DIR = ROOT / "policies"
CONTEXT = StackContext(project="project", stack="test", dry_run=True, config={}, tags={})


@pytest.fixture(scope="session")
def policy_pack():
    pack = PolicyPackProcess(PACK_DIR, CONTEXT)
    pack.configure({}, CONTEXT)
    yield pack
    pack.close()


@pytest.fixture
def gate(policy_pack):
    """analyze(run, config=None, context=CONTEXT) -> violations, through the running pack.
    The pack's configuration is restored to its defaults after each test."""
    configured = []

    def analyze(run_: ProgramRun, config=None, context: StackContext = CONTEXT) -> list[Violation]:
        if config is not None or context is not CONTEXT:
            policy_pack.configure(config or {}, context)
            configured.append(True)
        return policy_pack.analyze(run_)

    yield analyze
    if configured:
        policy_pack.configure({}, CONTEXT)


def resource(
    type_: str,
    name: str,
    props: dict[str, Any] | None = None,
    *,
    inside: tuple[str, ...] = (),
    protect: bool = False,
    ignore: tuple[str, ...] = (),
    stack: str = "test",
) -> _Rec:
    """A recorded resource as a program would produce it; `inside` lists ancestor types."""
    qualified = "$".join((*inside, type_))
    props = props or {}
    return _Rec(
        urn=f"urn:pulumi:{stack}::project::{qualified}::{name}",
        type=type_,
        name=name,
        parent="",
        custom=not type_.startswith("ack:"),
        protect=protect,
        inputs=props,
        dependencies=[],
        property_dependencies={},
        ignore_changes=list(ignore),
        import_id="",
        provider="",
        delete_before_replace=False,
        wire_inputs=props,
    )


def only(*resources: _Rec) -> ProgramRun:
    return ProgramRun(resources=list(resources), stack_outputs={}, component_outputs={}, invokes=[])


def found(violations: list[Violation], level: str | None = None) -> set[tuple[str, str]]:
    """(policy, resource name) pairs, optionally of one enforcement level."""
    return {
        (v.policy, v.urn.rsplit("::", 1)[-1])
        for v in violations
        if level is None or v.enforcement == level
    }
