"""The rules behind refused inputs, tried from both sides: values generated from each rule are
accepted, values that break it are refused at their field; and valid values right at each limit
still build."""

from __future__ import annotations

import ipaddress
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ack_clusters import InvalidArguments, ManagedCluster, ManagedClusterArgs, facts
from ack_clusters.validation import distinct, source_range, zone_region
from ack_offline.project import ProjectError, find_project, load_stack_config, run_stack

from .conftest import ACK_PREVIEW, POOL, ROOT, args, run

SETTINGS = settings(max_examples=40, deadline=None)

# --- strategies built from the rules in ack_clusters.facts --------------------------------------

label_names = st.from_regex(rf"\A{facts.LABEL_NAME}\Z").filter(lambda s: len(s) <= 63)
dns_labels = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?\Z")
prefixes = st.lists(dns_labels, min_size=1, max_size=4).map(".".join)
user_prefixes = prefixes.filter(lambda p: not p.endswith(("kubernetes.io", "k8s.io")))
label_keys = st.one_of(label_names, st.tuples(user_prefixes, label_names).map("/".join))
label_values = st.one_of(st.just(""), label_names)
# Characters Kubernetes never allows in a label (whitespace at either end is stripped, not
# refused, so a space is not among them).
bad_chars = st.sampled_from(list("!@#$%^&*()+=,;:'\"<>?\\|`~"))


def _pool_args(**pool: Any) -> dict[str, Any]:
    return args(node_pools={"web": {**POOL, **pool}})


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        ManagedClusterArgs.model_validate(data)
    except ValidationError as exc:
        return InvalidArguments.from_validation_error("t", exc).problems
    return []


@SETTINGS
@given(key=label_keys, value=label_values)
def test_labels_that_follow_the_rules_are_accepted(key, value):
    assert _problems(_pool_args(labels={key: value})) == []


@SETTINGS
@given(key=label_keys, value=label_values, bad=bad_chars, where=st.integers(0, 62))
def test_labels_with_a_character_kubernetes_refuses_are_refused(key, value, bad, where):
    broken_value = value[:where] + bad + value[where:]
    problems = _problems(_pool_args(labels={key: broken_value}))
    assert [p for p, _ in problems] == [f"node_pools.web.labels.{key}"]
    broken_key = key[:where] + bad + key[where:]
    problems = _problems(_pool_args(labels={broken_key: value}))
    assert [p for p, _ in problems] == [f"node_pools.web.labels.{broken_key}.[key]"]


@SETTINGS
@given(name=label_names, reserved=st.sampled_from(["kubernetes.io", "k8s.io", "x.kubernetes.io"]))
def test_node_labels_in_reserved_namespaces_are_refused_unless_the_kubelet_allows_them(
    name, reserved
):
    key = f"{reserved}/{name}"
    problems = _problems(_pool_args(labels={key: "x"}))
    if key in facts.KUBELET_ALLOWED_LABELS:
        assert problems == []
    else:
        assert [p for p, _ in problems] == [f"node_pools.web.labels.{key}.[key]"]


@SETTINGS
@given(
    taints=st.lists(
        st.fixed_dictionaries(
            {
                "key": label_keys,
                "value": label_values,
                "effect": st.sampled_from(facts.TAINT_EFFECTS),
            }
        ),
        max_size=4,
    )
)
def test_taints_are_accepted_exactly_when_unique_by_key_and_effect(taints):
    unique = len({(t["key"], t["effect"]) for t in taints}) == len(taints)
    problems = _problems(_pool_args(taints=taints))
    if unique:
        assert problems == []
    else:
        assert [p for p, _ in problems] == ["node_pools.web.taints"]


public_blocks = [ipaddress.IPv4Network(n) for n in ("1.0.0.0/8", "8.0.0.0/8", "47.0.0.0/8")]
special_blocks = [
    ipaddress.IPv4Network(n)
    for n in ("127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "0.0.0.0/8")
]


@st.composite
def networks_in(draw: st.DrawFn, blocks: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    block = draw(st.sampled_from(blocks))
    prefix = draw(st.integers(block.prefixlen, 32))
    offset = draw(st.integers(0, (1 << (prefix - block.prefixlen)) - 1))
    base = int(block.network_address) + offset * (1 << (32 - prefix))
    return ipaddress.IPv4Network((base, prefix))


@SETTINGS
@given(public=networks_in(public_blocks), special=networks_in(special_blocks))
def test_firewall_sources_that_traffic_can_come_from_are_accepted_and_others_refused(
    public, special
):
    assert source_range(public) == public
    with pytest.raises(ValueError, match="range, from which no traffic reaches a node"):
        source_range(special)


regions = st.sampled_from(sorted(facts.REGIONS))


def _zone(region: str, letter: str) -> str:
    return f"{region}{letter}" if region[-1].isdigit() else f"{region}-{letter}"


@SETTINGS
@given(
    region=regions,
    letters=st.lists(st.sampled_from("abcdefghijk"), min_size=1, max_size=3, unique=True),
)
def test_zones_of_one_region_are_accepted_and_name_their_region(region, letters):
    zones = [_zone(region, x) for x in letters]
    assert all(zone_region(z) == region for z in zones)
    assert _problems(args(network={"zones": zones})) == []


@SETTINGS
@given(first=regions, second=regions, letter=st.sampled_from("abcdefghijk"))
def test_zones_of_two_regions_are_refused(first, second, letter):
    if first == second:
        return
    zones = [_zone(first, letter), _zone(second, letter)]
    assert [p for p, _ in _problems(args(network={"zones": zones}))] == ["network.zones"]


# --- valid values right at each limit ------------------------------------------------------------

AT_THE_LIMITS: dict[str, dict[str, Any]] = {
    "label value of 63 characters": _pool_args(labels={"commit": "a" * 63}),
    "label name of 63 characters": _pool_args(labels={"a" * 63: "x"}),
    "label prefix of 253 characters": _pool_args(
        labels={".".join(["a" * 63] * 3 + ["b" * 61]) + "/x": "y"}
    ),
    "kubelet-allowed reserved labels": _pool_args(
        labels={"node.kubernetes.io/role": "web", "topology.kubernetes.io/zone": "z"}
    ),
    "the same taint key with two effects": _pool_args(
        taints=[{"key": "gpu", "effect": "NoSchedule"}, {"key": "gpu", "effect": "NoExecute"}]
    ),
    "smallest and largest system disk": _pool_args(system_disk={"size": 20}),
    "largest system disk": _pool_args(system_disk={"size": 2048}),
    "smallest and largest data disks": _pool_args(data_disks=[{"size": 40}, {"size": 32767}]),
    "ESSDs at the least size of each level": _pool_args(
        data_disks=[
            {"size": 40, "performance_level": "PL0"},
            {"size": 40, "performance_level": "PL1"},
            {"size": 461, "performance_level": "PL2"},
            {"size": 1261, "performance_level": "PL3"},
        ]
    ),
    "key pair names of 2 and 128 characters": args(
        node_pools={
            "a": {**POOL, "key_name": "ab"},
            "b": {**POOL, "key_name": "k" + "x" * 127},
        }
    ),
    "maintenance time in UTC with microseconds": args(
        maintenance_window={"maintenance_time": "2025-01-02T03:00:00.123456Z"}
    ),
    "addon config that is an empty object": args(
        addons=[{"name": "ack-node-problem-detector", "config": "{}"}]
    ),
    "KMS keys in both ID forms": args(
        secrets_encryption_kms_key_id="key-hzz62f1cb66fa42qo1234",
        node_pools={
            "web": {**POOL, "system_disk": {"kms_key_id": "0e478b7a-4262-4802-b8cb-00d3fb401234"}}
        },
    ),
    "a Flannel range exactly as large as the pools": args(
        network_plugin="flannel",
        pod_cidr="172.20.0.0/20",
        node_cidr_mask=24,
        node_pools={"web": {**POOL, "desired_size": 16}},
    ),
    "a firewall source of the whole internet on a harmless port": args(
        security={
            "extra_ingress": [
                {
                    "description": "https",
                    "protocol": "tcp",
                    "port_range": "443/443",
                    "cidr": "0.0.0.0/0",
                }
            ]
        }
    ),
}


@pytest.mark.parametrize("case", list(AT_THE_LIMITS))
def test_valid_values_at_the_limits_build(case):
    result = run(lambda: ManagedCluster("edge", AT_THE_LIMITS[case]))
    assert result.resources


def test_a_well_formed_version_acK_did_not_list_builds_with_a_warning(caplog):
    newest = max(facts.KUBERNETES_MINORS) + 1
    with caplog.at_level(logging.WARNING):
        run(lambda: ManagedCluster("edge", args(kubernetes_version=f"1.{newest}.0-aliyun.1")))
    assert any(
        f"kubernetes_version 1.{newest}.0-aliyun.1" in r.getMessage() for r in caplog.records
    )


# --- stack files ---------------------------------------------------------------------------------


def _project(tmp_path: Path, stack_body: bytes | str) -> Path:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "stacks" / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    body = stack_body.encode() if isinstance(stack_body, str) else stack_body
    (tmp_path / "stacks" / "Pulumi.demo.yaml").write_bytes(body)
    return tmp_path


def test_yaml_merge_keys_work_and_the_mapping_s_own_keys_win(tmp_path):
    project = find_project(
        _project(
            tmp_path,
            "pool: &pool {instance_types: [ecs.g7.large], desired_size: 2, key_name: ops}\n"
            "config:\n  alicloud:region: ap-southeast-1\n  ack-clusters:cluster:\n"
            "    kind: managed\n    name: demo\n"
            "    network: {zones: [ap-southeast-1a, ap-southeast-1b]}\n"
            "    node_pools:\n      web: {<<: *pool, desired_size: 3}\n",
        )
    )
    result = run_stack(project, "demo", preview=True)
    (pool,) = [r for r in result.resources if r.type == "alicloud:cs/nodePool:NodePool"]
    assert pool.inputs["desiredSize"] == "3"
    assert pool.inputs["instanceTypes"] == ["ecs.g7.large"]


def test_a_stack_file_that_is_not_utf8_is_named(tmp_path):
    project = find_project(_project(tmp_path, b"config:\n  alicloud:region: cn-hangzhou\xff\n"))
    with pytest.raises(ProjectError, match=r"Pulumi\.demo\.yaml cannot be read: it is not UTF-8"):
        load_stack_config(project, "demo")


def test_a_recursive_alias_is_refused(tmp_path):
    project = find_project(_project(tmp_path, "a: &a [x, *a]\nconfig: {}\n"))
    with pytest.raises(ProjectError, match="recursive alias"):
        load_stack_config(project, "demo")


def test_a_closed_pipe_is_no_verdict_and_prints_no_traceback():
    """The reader left (`| head -1`): the report was not delivered, so the exit code must not
    say it passed (a pipeline with pipefail would take it for a pass), as ack-fleet says.

    The reader leaves before the report is written: a reader that leaves after one line races
    the writer, and a report that fits in the pipe's buffer was delivered, as with any program."""
    read_end, write_end = os.pipe()
    try:
        writer = subprocess.Popen(
            [*ACK_PREVIEW, "managed-prod", "--program", str(ROOT)],
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(write_end)
        os.close(read_end)  # the preview takes seconds; nothing has been written yet
    assert writer.stderr is not None
    err = writer.stderr.read().decode()
    assert writer.wait(timeout=120) == 2
    assert "Traceback" not in err and "could not be written" in err


def test_a_closed_standard_output_is_no_verdict_and_prints_no_traceback():
    done = subprocess.run(
        [*ACK_PREVIEW, "managed-dev", "--program", str(ROOT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "standard output is closed" in done.stderr


def test_uniqueness_checks_stay_linear_on_large_inputs():
    """A stack file with tens of thousands of entries once took minutes in a quadratic
    uniqueness check; at this size a quadratic check would exceed the suite's per-test timeout."""
    keys = [f"k{i}" for i in range(200_000)]
    distinct(keys, "keys")
    with pytest.raises(ValueError, match=r"repeated: k7$"):
        distinct([*keys, "k7"], "keys")
