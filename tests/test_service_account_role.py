"""ServiceAccountRole: the RAM role one service account of one cluster assumes through RRSA."""

from __future__ import annotations

import json

import pulumi
import pulumi_alicloud as alicloud
import pytest

from ack_clusters import (
    DedicatedCluster,
    InvalidArguments,
    ManagedCluster,
    ServerlessCluster,
    ServiceAccountRole,
)
from ack_clusters.identity.plan import (
    INJECTION_LABEL,
    ROLE_NAME_ANNOTATION,
    service_account_trust_policy,
)
from ack_offline.recorder import UNKNOWN_TEXT

from .conftest import CLASSES, form_args, found, run

ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1"
PROVIDER = "acs:ram::1234567890:oidc-provider/ack-rrsa-c1"
ROLE = {
    "namespace": "shop",
    "service_account": "orders",
    "policies": [{"name": "AliyunOSSReadOnlyAccess"}],
}


def test_the_trust_names_one_service_account_of_one_issuer_for_sts():
    doc = json.loads(
        service_account_trust_policy(
            "https://issuer/c1", "acs:ram::1:oidc-provider/ack-rrsa-c1", "ns", "sa"
        )
    )
    (statement,) = doc["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {"Federated": ["acs:ram::1:oidc-provider/ack-rrsa-c1"]}
    assert statement["Condition"] == {
        "StringEquals": {
            "oidc:aud": "sts.aliyuncs.com",
            "oidc:iss": "https://issuer/c1",
            "oidc:sub": "system:serviceaccount:ns:sa",
        }
    }


@pytest.mark.parametrize("form", [ManagedCluster, ServerlessCluster])
def test_a_role_for_a_cluster_trusts_that_clusters_issuer(form):
    seen: dict[str, object] = {}
    kind = form._form.kind

    def program() -> None:
        cluster = form("demo", form_args(kind))
        role = ServiceAccountRole.for_cluster(
            "orders", cluster, {**ROLE, "policy_document": '{"Version": "1", "Statement": []}'}
        )
        pulumi.Output.all(
            role.service_account_annotations,
            cluster.rrsa_oidc_issuer_url,
            cluster.rrsa_oidc_provider_arn,
        ).apply(lambda v: seen.update(annotations=v[0], issuer=v[1], arn=v[2]))
        role.namespace_labels.apply(lambda v: seen.update(labels=v))

    result = run(program, preview=False)
    role = result.one("ack:index:ServiceAccountRole")
    (ram_role,) = [r for r in result.by_type("alicloud:ram/role:Role") if r.parent == role.urn]
    trust = json.loads(ram_role.inputs["assumeRolePolicyDocument"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["oidc:iss"] == seen["issuer"]
    assert condition["oidc:sub"] == "system:serviceaccount:shop:orders"
    assert trust["Statement"][0]["Principal"]["Federated"] == [seen["arn"]]
    assert ram_role.inputs["roleName"] == "orders"
    assert ram_role.inputs["maxSessionDuration"] == 3600
    assert seen["annotations"] == {ROLE_NAME_ANNOTATION: "orders"}
    assert seen["labels"] == {INJECTION_LABEL: "on"}
    # Every child belongs to the role component; attachments keyed by policy, not position.
    children = [r for r in result.resources if r.parent == role.urn]
    assert sorted(r.name for r in children) == [
        "orders",
        "orders-policy",
        "orders-policy",
        "orders-system-AliyunOSSReadOnlyAccess",
    ]
    attachments = {r.name: r.inputs for r in children if r.type.endswith("RolePolicyAttachment")}
    assert attachments["orders-system-AliyunOSSReadOnlyAccess"]["policyType"] == "System"
    assert attachments["orders-policy"]["policyType"] == "Custom"


def test_at_preview_the_trust_is_unknown_and_the_graph_is_the_same():
    def program() -> None:
        ServiceAccountRole.for_cluster(
            "orders", CLASSES["managed"]("demo", form_args("managed")), ROLE
        )

    preview, update = run(program, preview=True), run(program, preview=False)
    assert sorted(r.urn for r in preview.resources) == sorted(r.urn for r in update.resources)
    (role,) = [r for r in preview.by_type("alicloud:ram/role:Role") if r.name == "orders"]
    assert role.inputs["assumeRolePolicyDocument"] == UNKNOWN_TEXT  # until the cluster exists


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"namespace": "Shop"}, "namespace"),
        ({"service_account": "orders_1"}, "service_account"),
        ({"policies": []}, "(root)"),
        ({"policies": [{"name": "A"}, {"name": "A"}]}, "policies"),
        ({"policies": [{"name": "A", "type": "Inline"}]}, "policies.0.type"),
        ({"policy_document": "[]"}, "policy_document"),
        ({"max_session_hours": 13}, "max_session_hours"),
        ({"role_name": "x" * 60, "policy_document": "{}"}, "role_name"),
        ({"role_name": "bad name"}, "role_name"),
    ],
)
def test_bad_arguments_name_the_field_and_register_nothing(change, field):
    registered: list[str] = []

    def program() -> None:
        with pytest.raises(InvalidArguments) as err:
            ServiceAccountRole(
                "orders", {**ROLE, **change}, oidc_issuer_url=ISSUER, oidc_provider_arn=PROVIDER
            )
        registered.append(str(err.value))
        assert any(
            path == field or (field == "(root)" and path == "") for path, _ in err.value.problems
        ), err.value.problems

    result = run(program)
    assert registered and not result.resources


def test_a_dedicated_cluster_or_rrsa_off_is_refused_before_anything_registers():
    def program() -> None:
        dedicated = DedicatedCluster("old", form_args("dedicated"))
        with pytest.raises(InvalidArguments, match="ManagedCluster or ServerlessCluster"):
            ServiceAccountRole.for_cluster("orders", dedicated, ROLE)
        off = CLASSES["managed"]("norrsa", form_args("managed", rrsa=False))
        with pytest.raises(InvalidArguments, match="rrsa off"):
            ServiceAccountRole.for_cluster("orders", off, ROLE)

    result = run(program)
    assert not result.by_type("ack:index:ServiceAccountRole")
    assert not result.by_type("alicloud:ram/role:Role") or all(
        "node-role" in r.name for r in result.by_type("alicloud:ram/role:Role")
    )


def test_an_issuer_output_that_gives_nothing_fails_the_update_naming_it():
    def program() -> None:
        ServiceAccountRole(
            "orders",
            ROLE,
            oidc_issuer_url=pulumi.Output.from_input(None),
            oidc_provider_arn=PROVIDER,
        )

    with pytest.raises(Exception, match=r"oidc_issuer_url: the output gave None"):
        run(program, preview=False)


@pytest.mark.parametrize(
    ("issuer", "provider", "field"),
    [
        (None, PROVIDER, "oidc_issuer_url"),
        (ISSUER, None, "oidc_provider_arn"),
        ("http://oidc/c1", PROVIDER, "oidc_issuer_url"),
        (ISSUER, "acs:ram::1:role/admin", "oidc_provider_arn"),
    ],
)
def test_a_missing_or_malformed_trust_source_is_refused_before_registering(issuer, provider, field):
    with pytest.raises(InvalidArguments) as err:
        run(
            lambda: ServiceAccountRole(
                "orders", ROLE, oidc_issuer_url=issuer, oidc_provider_arn=provider
            )
        )
    assert [p for p, _ in err.value.problems] == [field]


def test_the_trust_source_can_be_given_as_arguments():
    args = {**ROLE, "oidc_issuer_url": ISSUER, "oidc_provider_arn": PROVIDER}
    result = run(lambda: ServiceAccountRole("orders", args))
    (role,) = result.by_type("alicloud:ram/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"]["Federated"] == [PROVIDER]


@pytest.mark.parametrize("preview", [True, False])
def test_the_gate_passes_the_components_role_in_preview_and_update(gate, preview):
    def program() -> None:
        cluster = CLASSES["managed"]("demo", form_args("managed"))
        ServiceAccountRole.for_cluster("orders", cluster, ROLE)

    violations = gate(run(program, preview=preview))
    assert [v for v in violations if v.policy.startswith("ram-")] == []


def test_a_trust_unknown_at_preview_outside_the_component_is_not_proven(gate):
    """Unknown at preview, a trust is proven only where ServiceAccountRole writes it: one with
    no source at all, or one taken from a cluster, cannot be; one taken from the program's own
    OIDC provider (a CI system's) is not RRSA's."""

    def program() -> None:
        cluster = ManagedCluster("demo", form_args("managed"))
        ServiceAccountRole.for_cluster("orders", cluster, ROLE)
        unlinked = cluster.rrsa_oidc_issuer_url.apply(lambda _: "{}")
        alicloud.ram.Role(
            "handmade",
            role_name="handmade",
            assume_role_policy_document=pulumi.Output(
                set(), unlinked.future(), unlinked.is_known(), unlinked.is_secret()
            ),
        )
        alicloud.ram.Role(
            "from-cluster",
            role_name="from-cluster",
            assume_role_policy_document=cluster.rrsa_oidc_provider_arn.apply(lambda _: "{}"),
        )
        github = alicloud.ims.OidcProvider(
            "github",
            oidc_provider_name="github",
            issuer_url="https://token.actions.githubusercontent.com",
            fingerprints=["6938fd4d98bab03faadb97b34396831e3780aea1"],
            client_ids=["sts.aliyuncs.com"],
        )
        alicloud.ram.Role(
            "deploy",
            role_name="deploy",
            assume_role_policy_document=github.arn.apply(lambda _: "{}"),
        )

    flagged = {
        name
        for policy, name in found(gate(run(program, preview=True)), "mandatory")
        if policy == "ram-oidc-trust-names-a-service-account"
    }
    assert flagged == {"handmade", "from-cluster"}


def test_the_admin_rule_applies_to_the_components_attachments(gate):
    def program() -> None:
        cluster = CLASSES["managed"]("demo", form_args("managed"))
        ServiceAccountRole.for_cluster(
            "orders", cluster, {**ROLE, "policies": [{"name": "AdministratorAccess"}]}
        )

    flagged = found(gate(run(program)), "mandatory")
    assert ("ram-no-administrator-access", "orders-system-AdministratorAccess") in flagged
