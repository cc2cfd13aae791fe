"""The library's messages never quote a secret, whatever its form (issue 28).

Every argument that takes an output (a ``Later`` field, found from the argument models) is given
a secret its rule refuses: the refusal names the field and the rule, says ``[secret]``, and holds
no part of the value in any form (as given, trimmed, in another case, normalised as a range, the
text of a number, a list or a mapping). In the program's own process (what a real ``pulumi up``
shows) and through the ``ack-preview`` console script (stderr, and ``--json``). A value that is not
secret is still quoted. ``secure:`` config values, which ``ack-preview`` replaces by a
placeholder, are shown as ``[secret]`` wherever the program put them, as the Pulumi engine shows
a decrypted config value however the program read it.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from ack_clusters import InvalidArguments, ServiceAccountRole, errors, validation
from ack_clusters.errors import InvalidArguments as Errors
from ack_clusters.later import _later_in, check_known
from ack_clusters.package import codegen
from ack_clusters.redaction import HIDDEN, redact, spellings
from ack_clusters.validation import Later, Refused
from ack_offline import fleet
from ack_offline.fake_cloud import FakeAlibabaCloud
from ack_offline.project import SECURE_PLACEHOLDER
from ack_offline.recorder import run_program

from .conftest import ACK_PREVIEW, CLASSES, POOL, ROOT, ZONES, form_args, run

#: Where a test puts the value under test in an argument tree.
HERE = "<<value>>"
#: A text every rule refuses (a URL that is not https, with a '/' and a range in it), and the
#: parts of it no message may hold, in any case.
REFUSED = "http://8.8.8.8/8?Sekrit-7Q"
REFUSED_PARTS = ("8.8.8.8", "8.0.0.0", "Sekrit", "sekrit", "SEKRIT", "7Q", "7q")
#: Secret-only fields (a password, a node's script): their rules take almost any text and never
#: quote one; the text each refuses, holding REFUSED's parts.
SECRET_ONLY = {
    "password": REFUSED + " ",  # ECS allows no space in a password
    "user_data": base64.b64encode(f"echo {REFUSED}".encode()).decode(),  # already Base64
}


def refused_for(path: str) -> str:
    return SECRET_ONLY.get(path.rsplit(".", 1)[-1], REFUSED)


ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1"
PROVIDER = "acs:ram::1234567890:oidc-provider/ack-rrsa-c1"
ROLE = {
    "namespace": "shop",
    "service_account": "orders",
    "policies": [{"name": "AliyunOSSReadOnlyAccess"}],
}


# --- every field that takes an output, in every component -----------------------------------


def later_fields(model: type[Any], prefix: str = "") -> list[str]:
    """The schema paths of a model's fields that take an output (their rule checks the value
    when known), found from the models themselves."""
    found = []
    for name, field in model.model_fields.items():
        if _later_in(field.annotation, field.metadata) is not None:
            found.append(f"{prefix}{name}")
        for sub in codegen.models_in(field.annotation):
            found += later_fields(sub, f"{prefix}{name}.")
    return found


def _vswitches(ids: list[str], cidrs: list[str], zones: list[str]) -> dict[str, Any]:
    return {z: {"id": i, "cidr": c} for z, i, c in zip(zones, ids, cidrs, strict=False)}


def existing_vpc(zones: list[str], **leaf: Any) -> dict[str, Any]:
    node = _vswitches(
        ["vsw-a", "vsw-b", "vsw-c"], ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"], zones
    )
    pod = _vswitches(
        ["vsw-p", "vsw-q", "vsw-r"], ["10.0.64.0/19", "10.0.96.0/19", "10.0.128.0/19"], zones
    )
    vpc: dict[str, Any] = {"id": "vpc-shared1", "cidr": "10.0.0.0/16", "node_vswitches": node}
    vpc["pod_vswitches"] = pod
    for key, value in leaf.items():
        if key == "id":
            vpc["id"] = value
        else:
            vpc[key][zones[0]]["id"] = value
    return {"zones": zones, "nat": "none", "existing_vpc": vpc}


def cen(zones: list[str], field: str) -> dict[str, Any]:
    block = {
        "instance_id": "cen-abc123",
        "transit_router_id": "tr-xyz789",
        "route_table_id": "vtb-rt1",
    }
    return {"zones": zones, "cen": {**block, field: HERE}}


def pool(**extra: Any) -> dict[str, Any]:
    return {"node_pools": {"p": {**POOL, **extra}}}


#: (schema path) -> (arguments with HERE where the value goes, the field path a message names).
#: The zones are filled in per form.
CASES: dict[str, Callable[[list[str]], tuple[dict[str, Any], str]]] = {
    "network.existing_vpc.id": lambda z: (
        {"network": existing_vpc(z, id=HERE)},
        "network.existing_vpc.id",
    ),
    "network.existing_vpc.node_vswitches.id": lambda z: (
        {"network": existing_vpc(z, node_vswitches=HERE)},
        f"network.existing_vpc.node_vswitches.{z[0]}.id",
    ),
    "network.existing_vpc.pod_vswitches.id": lambda z: (
        {"network": existing_vpc(z, pod_vswitches=HERE)},
        f"network.existing_vpc.pod_vswitches.{z[0]}.id",
    ),
    "network.cen.instance_id": lambda z: (
        {"network": cen(z, "instance_id")},
        "network.cen.instance_id",
    ),
    "network.cen.transit_router_id": lambda z: (
        {"network": cen(z, "transit_router_id")},
        "network.cen.transit_router_id",
    ),
    "network.cen.route_table_id": lambda z: (
        {"network": cen(z, "route_table_id")},
        "network.cen.route_table_id",
    ),
    "tags": lambda z: ({"tags": {"team": HERE}}, "tags.team"),
    "access.grants.ram_user_id": lambda z: (
        {"access": {"grants": {"g": {"ram_user_id": HERE, "roles": [{"role": "dev"}]}}}},
        "access.grants.g.ram_user_id",
    ),
    "access.grants.ram_role_id": lambda z: (
        {"access": {"grants": {"g": {"ram_role_id": HERE, "roles": [{"role": "dev"}]}}}},
        "access.grants.g.ram_role_id",
    ),
    "node_pools.system_disk.kms_key_id": lambda z: (
        pool(system_disk={"kms_key_id": HERE}),
        "node_pools.p.system_disk.kms_key_id",
    ),
    "node_pools.data_disks.kms_key_id": lambda z: (
        pool(data_disks=[{"size": 100, "kms_key_id": HERE}]),
        "node_pools.p.data_disks.0.kms_key_id",
    ),
    "node_pools.key_name": lambda z: (pool(key_name=HERE), "node_pools.p.key_name"),
    "node_pools.resource_group_id": lambda z: (
        pool(resource_group_id=HERE),
        "node_pools.p.resource_group_id",
    ),
    "control_plane_logs.project": lambda z: (
        {"control_plane_logs": {"project": HERE}},
        "control_plane_logs.project",
    ),
    "audit_log.project": lambda z: ({"audit_log": {"project": HERE}}, "audit_log.project"),
    "secrets_encryption_kms_key_id": lambda z: (
        {"secrets_encryption_kms_key_id": HERE},
        "secrets_encryption_kms_key_id",
    ),
    "key_name": lambda z: ({"key_name": HERE}, "key_name"),
    "password": lambda z: ({"key_name": None, "password": HERE}, "password"),
    "node_pools.password": lambda z: (
        pool(key_name=None, password=HERE, auto_repair=False, auto_upgrade=False),
        "node_pools.p.password",
    ),
    "node_pools.user_data": lambda z: (pool(user_data=HERE), "node_pools.p.user_data"),
}
SA_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "oidc_issuer_url": (
        {**ROLE, "oidc_issuer_url": HERE, "oidc_provider_arn": PROVIDER},
        "oidc_issuer_url",
    ),
    "oidc_provider_arn": (
        {**ROLE, "oidc_issuer_url": ISSUER, "oidc_provider_arn": HERE},
        "oidc_provider_arn",
    ),
    "tags": (
        {**ROLE, "oidc_issuer_url": ISSUER, "oidc_provider_arn": PROVIDER, "tags": {"team": HERE}},
        "tags.team",
    ),
}


def component_cases() -> list[tuple[str, str]]:
    """(component, schema path) for every field of every component that takes an output."""
    found = [
        (kind, path)
        for kind, cls in sorted(CLASSES.items())
        for path in later_fields(cls._form.args_model)
    ]
    from ack_clusters import ServiceAccountRoleArgs

    return found + [("service-account", p) for p in later_fields(ServiceAccountRoleArgs)]


def case_args(component: str, path: str) -> tuple[dict[str, Any], str]:
    """Valid arguments of `component` with HERE at the field `path`, and the path its
    message names."""
    if component == "service-account":
        args, named = SA_CASES[path]
        return copy.deepcopy(args), named
    zones = ZONES if component == "dedicated" else ZONES[:2]
    change, named = copy.deepcopy(CASES[path](zones))
    if component == "serverless" and "existing_vpc" in change.get("network", {}):
        if path.endswith("pod_vswitches.id"):
            # ECI pods have no vSwitches of their own: refused before any ID is checked.
            named = "(root)"
        else:
            del change["network"]["existing_vpc"]["pod_vswitches"]
    return form_args(component, **change), named


def quotes_values(path: str, named: str) -> bool:
    """Whether the refusal of an ordinary value at `path` quotes it: the tag value rule never
    names the value, and a refusal of the whole (root) is not about it."""
    secret_only = path.rsplit(".", 1)[-1] in SECRET_ONLY
    return path != "tags" and named != "(root)" and not secret_only


def with_value(tree: Any, value: Any) -> Any:
    """`tree` with HERE replaced by `value` (an output, so built inside the program)."""
    if tree == HERE:
        return value
    if isinstance(tree, dict):
        return {k: with_value(v, value) for k, v in tree.items()}
    if isinstance(tree, list):
        return [with_value(v, value) for v in tree]
    return tree


def build(component: str, args: dict[str, Any]) -> None:
    if component == "service-account":
        ServiceAccountRole("sa", args)
    else:
        CLASSES[component]("demo", args)


def refusal(
    component: str,
    args: dict[str, Any],
    make: Callable[[], Any],
    config: dict[str, str] | None = None,
) -> str:
    """What the program fails with when the value `make` gives is at HERE: the error and every
    error it was caused by or raised while handling, as the traceback a program's process
    prints (what a real `pulumi up` shows)."""

    def program() -> None:
        build(component, with_value(args, make()))

    with pytest.raises(Exception) as err:
        run_program(program, mock=FakeAlibabaCloud(preview=False), config=config, stack="test")
    return "".join(traceback.format_exception(err.value))


def distinct_fields() -> list[tuple[str, str]]:
    """One component for each field path (the forms share their argument models)."""
    seen: dict[str, tuple[str, str]] = {}
    order = {"managed": 0, "serverless": 1, "dedicated": 2, "service-account": 3}
    for component, path in sorted(component_cases(), key=lambda c: order[c[0]]):
        key = f"{'sa.' if component == 'service-account' else ''}{path}"
        seen.setdefault(key, (component, path))
    return sorted(seen.values())


def test_every_field_that_takes_an_output_has_a_case():
    """A field that starts taking an output gets its secret tested here, or this fails."""
    for component, path in component_cases():
        case_args(component, path)  # a KeyError names the missing case
    assert len(component_cases()) == 50  # 44, and access grants' two principals x 3 forms


def assert_hidden(message: str, field: str, parts: tuple[str, ...] = REFUSED_PARTS) -> None:
    assert f"{field}: " in message, message
    leaked = [p for p in parts if p in message]
    assert not leaked, (leaked, message)


@pytest.mark.parametrize(("component", "path"), component_cases())
def test_a_refused_secret_is_named_by_its_field_never_quoted(component, path):
    args, field = case_args(component, path)
    message = refusal(component, args, lambda: pulumi.Output.secret(refused_for(path)))
    assert_hidden(message, field)
    if quotes_values(path, field):
        # The rule is still said, with [secret] where the value would be.
        assert f"{field}: {HIDDEN} is not" in message, message
        assert "checked when its value was known" in message


def test_a_secret_that_passes_its_check_stays_secret():
    args, _ = case_args("managed", "secrets_encryption_kms_key_id")
    ran = run(lambda: build("managed", with_value(args, pulumi.Output.secret("key-fine1"))))
    cluster = ran.one("alicloud:cs/managedKubernetes:ManagedKubernetes")
    assert cluster.inputs["encryptionProviderKey"] == HIDDEN


@pytest.mark.parametrize(("component", "path"), distinct_fields())
def test_the_same_value_not_secret_is_quoted(component, path):
    """Messages stay useful: an ordinary value is quoted where its rule quotes values."""
    args, field = case_args(component, path)
    message = refusal(component, args, lambda: pulumi.Output.from_input(refused_for(path)))
    assert f"{field}: " in message and HIDDEN not in message
    if quotes_values(path, field):
        assert f"{field}: {REFUSED!r} is not" in message, message


# --- every form a secret comes in ------------------------------------------------------------


def _in_apply() -> Any:
    return pulumi.Output.from_input("x").apply(lambda _: pulumi.Output.secret("Sekrit 7Q"))


async def _awaited() -> Any:
    return pulumi.Output.secret("Sekrit 7Q")


#: id -> (the value, as made inside the program; the fields it is refused in; parts no message
#: may hold). A range is refused by an ID's rule, not by a tag value's.
FORMS: dict[str, tuple[Callable[[], Any], tuple[str, ...], tuple[str, ...]]] = {
    "range": (lambda: pulumi.Output.secret("8.8.8.8/8"), ("kms", "vpc"), ("8.8.8.8", "8.0.0.0")),
    "ipv6 range": (
        lambda: pulumi.Output.secret("2400:CB00::0/32"),
        ("kms", "vpc"),
        ("2400", "cb00", "CB00"),
    ),
    "netmask": (
        lambda: pulumi.Output.secret("10.1.2.3/255.0.0.0"),
        ("kms", "key pair"),
        ("10.1.2.3", "10.0.0.0", "255.0.0.0"),
    ),
    "padded": (
        lambda: pulumi.Output.secret("  Sekrit 7Q  "),
        ("kms", "key pair"),
        ("Sekrit", "7Q"),
    ),
    "quotes and escapes": (
        lambda: pulumi.Output.secret("Sek'r\"it\n\u00e9 7Q"),
        ("kms", "vpc"),
        ("Sek", "7Q", "\\xe9", "\\u00e9"),
    ),
    "int": (lambda: pulumi.Output.secret(987654), ("tag", "kms"), ("987654",)),
    "float": (lambda: pulumi.Output.secret(98765.0), ("tag", "vpc"), ("98765",)),
    "bool": (lambda: pulumi.Output.secret(True), ("tag", "key pair"), ("True", "true")),
    "list": (
        lambda: pulumi.Output.secret(["Sekrit-7Q", 987654]),
        ("tag", "kms"),
        ("Sekrit", "987654"),
    ),
    "dict": (
        lambda: pulumi.Output.secret({"Sekrit-key": "Sekrit-7Q"}),
        ("tag", "vpc"),
        ("Sekrit",),
    ),
    "an output of a secret output": (
        lambda: pulumi.Output.from_input(pulumi.Output.secret("Sekrit 7Q")),
        ("kms", "vpc"),
        ("Sekrit", "7Q"),
    ),
    "a secret item of a list": (
        lambda: pulumi.Output.from_input(["a", pulumi.Output.secret("Sekrit 7Q")]),
        ("tag", "kms"),
        ("Sekrit", "7Q"),
    ),
    "made secret in an apply": (_in_apply, ("kms", "key pair"), ("Sekrit", "7Q")),
    "an awaitable giving a secret": (_awaited, ("kms", "vpc"), ("Sekrit", "7Q")),
    "a secret from config": (
        lambda: pulumi.Config().require_secret("probe"),
        ("kms", "tag"),
        ("aliyun-Sekrit", "Sekrit", "7Q"),
    ),
}
FIELDS = {
    "kms": ("managed", "secrets_encryption_kms_key_id"),
    "vpc": ("managed", "network.existing_vpc.id"),
    "key pair": ("dedicated", "key_name"),
    "tag": ("managed", "tags"),
}


@pytest.mark.parametrize(
    ("form", "field"),
    [(form, field) for form, (_, fields, _) in FORMS.items() for field in fields],
)
def test_no_form_of_a_secret_reaches_a_message(form, field):
    make, _, parts = FORMS[form]
    component, path = FIELDS[field]
    args, named = case_args(component, path)

    message = refusal(component, args, make, config={"project:probe": "aliyun-Sekrit 7Q"})
    assert_hidden(message, named, parts)


def rules() -> list[Later]:
    """Every rule a value from an output is checked by."""
    return [v for v in vars(validation).values() if isinstance(v, Later)]


@pytest.mark.parametrize("later", rules(), ids=lambda rule: rule.what)
@pytest.mark.parametrize("value", [REFUSED, "  8.8.8.8/8  ", 987654, ["Sekrit-7Q"]])
def test_a_rule_refuses_a_secret_without_ever_formatting_it(monkeypatch, later, value):
    """The first line alone (the redaction of the message turned off): the check never formats
    the value of a secret, neither through the rule's error nor itself."""
    monkeypatch.setattr(errors, "redact", lambda text, secrets: text)
    monkeypatch.setattr(Refused, "__str__", lambda self: pytest.fail("a secret was formatted"))
    if later is validation._TAG_VALUE and value == "  8.8.8.8/8  ":
        value = "aliyun 8.8.8.8/8"  # a range is a fine tag value
    if later is validation._PASSWORD and isinstance(value, str):
        value += " "  # a space: ECS allows none
    if later is validation._USER_DATA and isinstance(value, str):
        value = base64.b64encode(f"echo {value}".encode()).decode()  # already Base64
    with pytest.raises(InvalidArguments) as err:
        check_known(later, "the.field", "ManagedCluster 'demo'", value, secret=True)
    assert_hidden(str(err.value), "the.field", (*REFUSED_PARTS, "987654"))


@pytest.mark.parametrize(
    "error", [ValueError("'Sekrit-7Q' is wrong"), TypeError("Sekrit-7Q"), Exception("Sekrit-7Q")]
)
def test_a_rule_that_fails_otherwise_never_shows_a_secret(monkeypatch, error):
    """A rule's error other than Refused may quote anything: for a secret only what the field
    takes is said."""
    monkeypatch.setattr(errors, "redact", lambda text, secrets: text)

    def check(value: str) -> str:
        raise error

    with pytest.raises(InvalidArguments) as err:
        check_known(Later(check, "a thing"), "f", "s", "Sekrit-7Q", secret=True)
    assert str(err.value).endswith(f"f: {HIDDEN} is not a thing (checked when its value was known)")
    # Not secret: a ValueError's words are the message; anything else is a bug, raised as is.
    with pytest.raises((InvalidArguments, type(error))) as plain:
        check_known(Later(check, "a thing"), "f", "s", "Sekrit-7Q", secret=False)
    assert "Sekrit-7Q" in str(plain.value)


def test_rules_are_found():
    assert len(rules()) == 16


def test_the_message_raised_holds_no_spelling_even_if_a_rule_put_one_in():
    """The second line: a message made for a secret is redacted of every spelling of it before
    the error exists (a rule's words that, one day, quote a normalised range)."""
    err = Errors(
        "ManagedCluster 'demo'",
        [("service_cidr", "8.0.0.0/8 and 8.8.8.8 and 2400:cb00::/32 and '987654'")],
        hidden=spellings("8.8.8.8/8") | spellings("2400:CB00::0/32") | spellings(987654),
    )
    assert str(err).count(HIDDEN) == 4, str(err)
    assert "service_cidr" in str(err)


@pytest.mark.parametrize(
    ("value", "forms"),
    [
        ("8.8.8.8/8", ["8.0.0.0/8", "8.8.8.8", "8.0.0.0"]),
        (
            "2400:CB00::0/32",
            ["2400:cb00::/32", "2400:cb00::", "2400:cb00:0000:0000:0000:0000:0000:0000/32"],
        ),
        ("10.0.0.0/255.255.0.0", ["10.0.0.0/16"]),
        (" vpc-Ab ", ["vpc-Ab", "VPC-AB", "vpc-ab", "' vpc-Ab '"]),
        ("a\nb", ["a\\nb"]),
        ("\u00e9t\u00e9", ["\\u00e9t\\u00e9"]),
        (98765.0, ["98765", "98765.0"]),
        (["x1", {"k2": 3}], ["x1", "k2", "3", "['x1', {'k2': 3}]", '["x1", {"k2": 3}]']),
    ],
)
def test_spellings_cover_the_forms_a_message_may_print(value, forms):
    assert set(forms) <= spellings(value)
    for form in forms:
        assert redact(f"<{form}>", spellings(value)) == f"<{HIDDEN}>"


def test_redaction_is_one_pass_and_leaves_booleans_alone():
    # Replacements are not searched again: a secret inside the word "secret" stays replaced once.
    assert redact("a [secret] word", {"e", "secret"}) == "a [[secret]] word"
    assert spellings(True) == set() and spellings(None) == set()


# --- through the ack-preview console script -------------------------------------------------

PROBE = """
import pulumi
from ack_clusters import DedicatedCluster, ManagedCluster, ServerlessCluster, ServiceAccountRole

config = pulumi.Config()
case = config.require_object("case")
secret = config.require_bool("secret")
value = config.require_secret_object("value") if secret else config.require_object("value")


def put(tree):
    if tree == "<<value>>":
        return value
    if isinstance(tree, dict):
        return {k: put(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [put(v) for v in tree]
    return tree


kinds = {"managed": ManagedCluster, "serverless": ServerlessCluster, "dedicated": DedicatedCluster}
if case["component"] == "service-account":
    ServiceAccountRole("sa", put(case["args"]))
else:
    kinds[case["component"]]("demo", put(case["args"]))
"""


def probe_project(
    tmp_path: Path, component: str, args: dict[str, Any], value: Any, *, secret: bool = True
) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(PROBE)
    config = {
        "alicloud:region": "cn-hangzhou",
        "probe:case": {"component": component, "args": args},
        "probe:secret": secret,
        "probe:value": json.dumps(value),  # read as an object: a string, a number, a list
    }
    (tmp_path / "Pulumi.s.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def ack_preview(project: Path, *extra: str, stack: str = "s") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ACK_PREVIEW, stack, "--program", str(project), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.heavy
@pytest.mark.parametrize(("component", "path"), distinct_fields())
def test_the_console_script_never_prints_a_refused_secret(tmp_path, component, path):
    args, field = case_args(component, path)
    done = ack_preview(probe_project(tmp_path, component, args, refused_for(path)), "--json")
    assert done.returncode == 2, done.stderr
    assert_hidden(done.stderr, field)
    assert not [p for p in REFUSED_PARTS if p in done.stdout]


@pytest.mark.heavy
@pytest.mark.parametrize(
    ("value", "parts"),
    [(987654, ("987654",)), (["Sekrit-7Q"], ("Sekrit",)), ("8.8.8.8/8", ("8.8.8.8", "8.0.0.0"))],
    ids=["int", "list", "range"],
)
def test_the_console_script_hides_every_form(tmp_path, value, parts):
    path = "tags" if not isinstance(value, str) else "secrets_encryption_kms_key_id"
    args, field = case_args("managed", path)
    for extra in ((), ("--json",)):
        done = ack_preview(probe_project(tmp_path, "managed", args, value), *extra)
        assert done.returncode == 2
        assert_hidden(done.stderr, field, parts)
        assert not [p for p in parts if p in done.stdout]


def test_the_console_script_still_quotes_a_value_that_is_not_secret(tmp_path):
    args, field = case_args("managed", "secrets_encryption_kms_key_id")
    done = ack_preview(probe_project(tmp_path, "managed", args, REFUSED, secret=False))
    assert done.returncode == 2
    assert f"{field}: {REFUSED!r} is not a KMS key ID" in done.stderr


# --- what a program sends as a secret, and secure: config values ------------------------------

SENT = """
import pulumi
from ack_clusters import InvalidArguments, ManagedCluster

secret = pulumi.Output.secret("Sekrit-7Q")
cluster = ManagedCluster("demo", {
    "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
    "node_pools": {"p": {"instance_types": ["ecs.g7.large"], "desired_size": 2, "key_name": "ops"}},
    "tags": {"team": secret},
})
secret.apply(lambda v: pulumi.log.warn(f"logged {v} {v.upper()}"))


def fail(pair):
    raise InvalidArguments("probe", [("x", f"{pair[1]!r} is wrong")])


pulumi.Output.all(cluster.cluster_id, secret).apply(fail)
"""


def test_a_program_that_quotes_a_secret_it_sent_is_shown_without_it(tmp_path):
    """The tool's own redaction, behind the library's: a message or a log line of the program
    (the library's too) that quotes a value the run sent as a secret shows [secret]."""
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(SENT)
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    done = ack_preview(tmp_path, "--mode", "update", "--json")
    assert done.returncode == 2, done.stderr
    assert f"x: {HIDDEN} is wrong" in done.stderr
    assert f"logged {HIDDEN} {HIDDEN}" in done.stderr
    assert "ekrit" not in done.stdout + done.stderr and "EKRIT" not in done.stderr


PLAIN_GET = """
import pulumi
from ack_clusters import ManagedCluster

config = pulumi.Config()
token = config.get("token")  # a secure: value read with a plain get: plain text, as Pulumi has it
assert isinstance(token, str) and token.lower() != token
pulumi.log.warn(f"the token is {token} ({token.upper()})")
pulumi.export("token", token)
pulumi.export("shouted", f"<{token.upper()}>")
ManagedCluster(f"c-{token.lower()}", {
    "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
    "node_pools": {"p": {"instance_types": ["ecs.g7.large"], "desired_size": 2, "key_name": "ops"}},
    "tags": {"team": token, token: "x"},
})
"""


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_secure_value_read_with_a_plain_get_is_shown_as_secret(tmp_path, as_json):
    """The SDK gives a plain `get` of a secret the plain text (no output, no warning), and the
    engine hides that text wherever it shows it, values, names and messages: so does
    ack-preview with its placeholder."""
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(PLAIN_GET)
    config = {"alicloud:region": "cn-hangzhou", "probe:token": {"secure": "v1:AAAA"}}
    (tmp_path / "Pulumi.s.yaml").write_text(yaml.safe_dump({"config": config}))
    done = ack_preview(tmp_path, *(("--json",) if as_json else ()))
    assert done.returncode == 0, done.stderr
    printed = done.stdout + done.stderr
    assert SECURE_PLACEHOLDER.lower() not in printed.lower()
    assert f"the token is {HIDDEN} ({HIDDEN})" in done.stderr
    assert f"c-{HIDDEN}" in done.stdout  # the cluster named after it
    if as_json:
        doc = json.loads(done.stdout)
        assert doc["outputs"]["token"] == HIDDEN and doc["outputs"]["shouted"] == f"<{HIDDEN}>"
        cluster = next(r for r in doc["resources"] if r["type"].startswith("alicloud:cs/managed"))
        assert cluster["inputs"]["tags"]["team"] == HIDDEN
        assert cluster["inputs"]["tags"][HIDDEN] == "x"
    else:
        assert f"token: {HIDDEN}" in done.stdout


def test_the_recorded_run_shows_the_placeholder_as_secret():
    """What every output of ack-preview is made from (and a saved graph --diff compares)."""

    def program() -> None:
        token = pulumi.Config().get("token")
        pulumi.export("token", f"Bearer {token}")
        build("managed", form_args("managed", tags={"team": token}))

    ran = run_program(
        program,
        mock=FakeAlibabaCloud(preview=True),
        config={"project:token": SECURE_PLACEHOLDER},
        secret_keys=["project:token"],
    )
    assert ran.stack_outputs["token"] == f"Bearer {HIDDEN}"
    tags = ran.one("alicloud:cs/managedKubernetes:ManagedKubernetes").inputs["tags"]
    assert tags["team"] == HIDDEN
    # Sent as the program gave it: the engine, its packs and --diff see the same text.
    wire = ran.one("alicloud:cs/managedKubernetes:ManagedKubernetes").wire_inputs["tags"]
    assert wire["team"] == SECURE_PLACEHOLDER


def secure_stack(tmp_path: Path) -> Path:
    """The project's program and one stack whose cluster has a `secure:` KMS key, which the
    library refuses (the placeholder is not a KMS key ID)."""
    import shutil

    shutil.copytree(
        ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("Pulumi.*.yaml")
    )
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.managed-prod.yaml").read_text())
    doc["config"]["ack-clusters:cluster"]["secrets_encryption_kms_key_id"] = {"secure": "v1:AAAA"}
    (tmp_path / "stacks" / "Pulumi.locked.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def test_a_secure_value_the_library_refuses_is_shown_as_secret(tmp_path, capsys):
    project = secure_stack(tmp_path)
    done = ack_preview(project / "stacks", "--json", stack="locked")
    assert done.returncode == 2
    assert "secrets_encryption_kms_key_id: [secret] is not a KMS key ID" in done.stderr
    assert SECURE_PLACEHOLDER.lower() not in (done.stdout + done.stderr).lower()
    # ack-fleet reads the stack file with the library too.
    assert fleet.main(["--program", str(project), "check"]) == 2
    err = capsys.readouterr().err
    assert "secrets_encryption_kms_key_id: '[secret]' is not a KMS key ID" in err
    assert SECURE_PLACEHOLDER.lower() not in err.lower()


@pytest.mark.heavy
def test_the_fleet_gate_reports_a_refused_secret_without_it(tmp_path, capsys):
    project = secure_stack(tmp_path)
    report = tmp_path / "gate.json"
    argv = ["--program", str(project), "gate", "--mode", "preview", "--json", str(report)]
    rc = fleet.main([*argv, "--policy-pack", str(ROOT / "policies")])
    printed = capsys.readouterr()
    assert rc == 2
    (row,) = json.loads(report.read_text())["stacks"]
    assert "[secret]" in row["error"]
    everything = report.read_text() + printed.out + printed.err
    assert SECURE_PLACEHOLDER.lower() not in everything.lower()


def test_invalid_arguments_keeps_no_secret():
    err = InvalidArguments("x", [("a", "'hunter2' is bad")], hidden=spellings("hunter2"))
    assert "hunter2" not in repr(err.__dict__) and "hunter2" not in str(err)


# --- what a policy rule derives from a secret (issue 27's review, w15 and w16) -----------------

WORLD_OPEN = "security-group-no-world-open-ingress"


def _ingress(name: str, group: Any, **given: Any) -> None:
    import pulumi_alicloud as alicloud

    rule = {"type": "ingress", "ip_protocol": "tcp", "port_range": "22/22", "nic_type": "intranet"}
    alicloud.ecs.SecurityGroupRule(name, security_group_id=group, **{**rule, **given})


def _world_open(gate: Any, program: Callable[[], None], preview: bool) -> list[Any]:
    from .conftest import run

    return [v for v in gate(run(program, preview=preview)) if v.policy == WORLD_OPEN]


def _finding(message: str) -> str:
    """A violation's finding: pulumi-policy puts the policy's description before it."""
    return message.split("\n", 1)[1]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize(
    ("secret", "derived"),
    [
        # 8.0.0.0/6 less the private 10/8: what the rule printed spelt the rest of it.
        ("8.0.0.0/6", ["8.0.0.0/7", "11.0.0.0/8", "50,331,648", "/7"]),
        ("172.0.0.0/10", ["172.0.0.0/12", "172.32.0.0/11", "/12", "/11"]),
        ("2400:CB00::0/20", ["2400:c000::/20", "2400:c000::", "/20"]),
    ],
    ids=["a /6 around a private range", "a /10 around a private range", "IPv6"],
)
def test_a_range_derived_from_a_secret_source_is_never_printed(gate, secret, derived, preview):
    """The world-open rule prints the public part of a group's ranges and counts them; from a
    secret source, the public sub-ranges, their count and the IP version say what the secret
    is, so none of them is printed, for the rule and for the other rules of its group (their
    count holds the secret's). The same ranges given in the clear are printed."""
    import pulumi
    import pulumi_alicloud as alicloud

    field = "ipv6_cidr_ip" if ":" in secret else "cidr_ip"

    def program(hidden: bool) -> Callable[[], None]:
        def build() -> None:
            group = alicloud.ecs.SecurityGroup("own", vpc_id="vpc-mine").id
            _ingress("ssh", group, **{field: pulumi.Output.secret(secret) if hidden else secret})
            _ingress("office", group, cidr_ip="203.0.113.0/24")

        return build

    violations = _world_open(gate, program(True), preview)
    # The office's /24 alone is within the limit: it is flagged with the secret IPv4 range.
    flagged = {"ssh"} if ":" in secret else {"ssh", "office"}
    assert {v.urn.rsplit("::", 1)[-1] for v in violations} == flagged
    for v in violations:
        finding = _finding(v.message)
        assert f"{HIDDEN}: a source is secret" in finding, finding
        for form in [*derived, "public addresses ("]:
            assert form not in finding, (form, finding)
        assert "at most a /16 of IPv4 or a /48 of IPv6 is allowed" in finding
    clear = _world_open(gate, program(False), preview)
    assert clear and all(HIDDEN not in v.message for v in clear)
    assert any(d in _finding(v.message) for v in clear for d in derived[:2])


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_short_secret_is_redacted_as_a_whole_token_and_the_rule_names_what_it_can(gate, preview):
    """A secret protocol `all` (w15): the rule says which rule opens too much without naming
    the exposure the secret decides, and the short secret does not eat the words it is part
    of ("allowed", "at all" in the description) nor the rule's own name `all`; a secret port
    range `22/22` likewise."""
    import pulumi
    import pulumi_alicloud as alicloud

    def program() -> None:
        group = alicloud.ecs.SecurityGroup("own", vpc_id="vpc-mine").id
        _ingress(
            "all",
            group,
            ip_protocol=pulumi.Output.secret("all"),
            port_range="-1/-1",
            cidr_ip="16.0.0.0/4",
        )
        _ingress("ssh", group, port_range=pulumi.Output.secret("22/22"), cidr_ip="1.0.0.0/8")

    violations = _world_open(gate, program, preview)
    assert {v.urn.rsplit("::", 1)[-1] for v in violations} == {"all", "ssh"}
    for v in violations:
        assert re.search(r"\w\[secret\]|\[secret\]\w", v.message) is None, v.message
        assert "no source at all counts as 0.0.0.0/0" in v.message  # the description, whole
        finding = _finding(v.message)
        name = v.urn.rsplit("::", 1)[-1]
        assert finding.startswith(
            f"[CKV_ALI_2, CKV_ALI_3] {name} opens a management port or every port to "
        )
        assert "is allowed" in finding
        for exposure in ("SSH", "RDP", "all ports", "22/22"):
            assert exposure not in finding, finding
    # One finding per rule: the exposures a secret port opens are not counted out either.
    assert len(violations) == 2


def test_redaction_replaces_whole_tokens_only():
    hidden = spellings("all") | spellings("22") | spellings("2001:DB8:0:0::1/0")
    text = "all: at most a /16 is allowed; 220 and 22/22; role/all; (::/128, ::2/127)"
    assert redact(text, hidden) == (
        "[secret]: at most a /16 is allowed; 220 and [secret]/[secret]; role/[secret]; "
        "([secret]/128, ::2/127)"
    )


def test_the_gate_keeps_what_no_program_gave_and_redacts_the_rest():
    """The policy's description and the finding's subject (the resource's name, which its URN
    prints anyway) stay whole; the rest of the finding is redacted."""
    from ack_offline.gate import Violation
    from ack_offline.gate import redact as redact_violations

    urn = "urn:pulumi:t::p::alicloud:ecs/securityGroupRule:SecurityGroupRule::all"
    message = "Rules open nothing at all.\n[CKV_ALI_2] all opens all ports to all"
    v = Violation(policy="p", pack="k", urn=urn, enforcement="mandatory", message=message)
    (out,) = redact_violations([v], spellings("all"), {"p": "Rules open nothing at all."})
    assert out.message == (
        "Rules open nothing at all.\n[CKV_ALI_2] all opens [secret] ports to [secret]"
    )
    # Without the pack's description, nothing is known to be the pack's own.
    (bare,) = redact_violations([v], spellings("all"))
    assert bare.message == (
        "Rules open nothing at [secret].\n[CKV_ALI_2] [secret] opens [secret] ports to [secret]"
    )


def test_the_pack_says_secret_as_the_library_does():
    from ack_policies import network

    assert network.HIDDEN == HIDDEN


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_rule_quoting_the_ownership_tag_quotes_nothing_around_it(gate, preview):
    """A secret text naming the ownership tag was quoted shortened (its first 77 characters),
    past any redaction of the whole secret: only the tag itself is quoted."""
    import pulumi_alicloud as alicloud

    from ack_clusters import ManagedCluster

    from .conftest import args, run

    secret = (
        "selector=ack.pulumi.io/owner;user=admin;password=Hunter2-SuperSecret-Passw0rd;"
        "host=db.internal;port=3306;opts=ssl-mode-required-and-more-text"
    )

    def program() -> None:
        ManagedCluster("demo", args())
        alicloud.oos.SecretParameter(
            "db", secret_parameter_name="db-conn", type="Secret", value=pulumi.Output.secret(secret)
        )

    found = [v for v in gate(run(program, preview=preview)) if v.urn.endswith("::db")]
    assert found, "the ownership tag in a loose resource's input is drift"
    for v in found:
        assert "Hunter2" not in v.message and "password=" not in v.message, v.message
        assert "ack.pulumi.io/" in v.message
