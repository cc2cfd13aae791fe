"""Cluster access: the kubeconfig authenticates through ACK's credential plugin, so it holds no
credential and is the same on every run; the admin kubeconfig is the expiring one."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from ack_clusters import ManagedCluster, ServerlessCluster
from ack_clusters.access.plan import PLUGIN, exec_kubeconfig

from .conftest import CLASSES, form_args, run


def test_the_exec_kubeconfig_is_a_kubeconfig_with_no_credential():
    text = exec_kubeconfig(
        cluster_id="c123", server="https://10.0.0.1:6443", ca_data="Q0E=", region="cn-beijing"
    )
    doc = yaml.safe_load(text)  # kubectl reads YAML; this JSON is YAML
    (cluster,) = doc["clusters"]
    assert cluster["cluster"] == {
        "server": "https://10.0.0.1:6443",
        "certificate-authority-data": "Q0E=",
    }
    (user,) = doc["users"]
    run_ = user["user"]["exec"]
    assert run_["command"] == PLUGIN
    args = run_["args"]
    assert args[:2] == ["credential-plugin", "get-credential"]
    assert args[args.index("--cluster-id") + 1] == "c123"
    assert args[args.index("--region-id") + 1] == "cn-beijing"
    assert doc["current-context"] == doc["contexts"][0]["name"]
    assert "token" not in text and "client-key" not in text


def kubeconfigs(kind: str) -> tuple[str, str, str]:
    """(exec kubeconfig, admin kubeconfig, the provider's kubeconfig) of one update run."""
    exported: dict[str, str] = {}

    def program() -> None:
        c = CLASSES[kind]("demo", form_args(kind))
        pulumi.Output.all(c.kubeconfig, c.admin_kubeconfig).apply(
            lambda v: exported.update(kubeconfig=v[0], admin=v[1])
        )

    result = run(program, preview=False)
    provider = result.one("pulumi:providers:kubernetes")
    wire = provider.wire_inputs["kubeconfig"]
    return exported["kubeconfig"], exported["admin"], wire["value"]


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_the_provider_uses_the_stable_kubeconfig_and_the_admin_one_changes(kind):
    exec_1, admin_1, provider_1 = kubeconfigs(kind)
    exec_2, admin_2, provider_2 = kubeconfigs(kind)
    assert exec_1 == exec_2 == provider_1 == provider_2  # the same on every run
    assert admin_1 != admin_2  # a fresh client certificate each run
    assert "client-key-data" in admin_1 and "client-key-data" not in exec_1
    doc = json.loads(exec_1)
    assert doc["clusters"][0]["cluster"]["server"].startswith("https://")
    assert doc["clusters"][0]["cluster"]["certificate-authority-data"]
    region = doc["users"][0]["user"]["exec"]["args"]
    assert region[region.index("--region-id") + 1] == "cn-hangzhou"


def test_both_kubeconfigs_are_secret_outputs():
    result = run(lambda: CLASSES["managed"]("demo", form_args("managed")), preview=False)
    outputs = next(o for o in result.component_outputs.values() if "kubeconfig" in o)
    assert outputs["kubeconfig"] == "[secret]" and outputs["admin_kubeconfig"] == "[secret]"


@pytest.mark.parametrize("kind", ["managed", "serverless"])
@pytest.mark.parametrize("rrsa", [True, False])
def test_rrsa_outputs_name_the_issuer_and_the_oidc_provider(kind, rrsa):
    """What a service account role's trust policy needs (issue 17), or None with RRSA off."""
    seen: dict[str, object] = {}

    def program() -> None:
        c = (ManagedCluster if kind == "managed" else ServerlessCluster)(
            "demo", form_args(kind, rrsa=rrsa)
        )
        pulumi.Output.all(c.rrsa_oidc_issuer_url, c.rrsa_oidc_provider_arn).apply(
            lambda v: seen.update(issuer=v[0], arn=v[1])
        )

    run(program, preview=False)
    if rrsa:
        assert str(seen["issuer"]).startswith("https://oidc-ack-")
        assert str(seen["arn"]).startswith("acs:ram::") and ":oidc-provider/ack-rrsa-" in str(
            seen["arn"]
        )
    else:
        assert seen == {"issuer": None, "arn": None}


def test_a_dedicated_cluster_offers_no_rrsa_outputs():
    result = run(lambda: CLASSES["dedicated"]("demo", form_args("dedicated")), preview=False)
    outputs = next(o for o in result.component_outputs.values() if "kubeconfig" in o)
    assert "rrsa_oidc_issuer_url" not in outputs
