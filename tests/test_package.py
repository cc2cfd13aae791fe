"""The multi-language component package: generated types, schema, host classes, YAML example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from ack_clusters import package
from ack_clusters.cluster.args import (
    DedicatedClusterArgs,
    ManagedClusterArgs,
    ServerlessClusterArgs,
)
from ack_clusters.package import codegen, declarations
from ack_offline.recorder import SECRET

from .conftest import ROOT, run

SCHEMA_FILE = ROOT / "provider" / "schema.json"
MODELS: dict[str, type[BaseModel]] = {
    "ManagedCluster": ManagedClusterArgs,
    "ServerlessCluster": ServerlessClusterArgs,
    "DedicatedCluster": DedicatedClusterArgs,
}


def camel(name: str) -> str:
    return re.sub(r"_(\w)", lambda m: m[1].upper(), name)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return package.schema()


def test_generated_types_are_up_to_date():
    current = (ROOT / "components" / "ack_clusters" / "package" / "declarations.py").read_text()
    assert current == codegen.generate(), (
        "regenerate: python -m ack_clusters.package.codegen"
        " > components/ack_clusters/package/declarations.py"
    )


def test_schema_snapshot_is_reviewed(schema):
    snapshot = json.loads(SCHEMA_FILE.read_text())
    assert snapshot == schema, "review, then: python -m ack_clusters.package > provider/schema.json"


def _literal_values(tp: Any) -> list[Any]:
    from typing import Literal, get_args, get_origin

    if get_origin(tp) is Literal:
        return list(get_args(tp))
    return [v for arg in get_args(tp) for v in _literal_values(arg)]


def _check_model(schema: dict[str, Any], model: type[BaseModel], props: dict, required: list):
    for name, field in model.model_fields.items():
        key = camel(name)
        assert key in props, f"{model.__name__}.{name} missing from the schema"
        prop = props[key]
        assert prop.get("description") and prop["description"] != name.replace("_", " "), key
        assert (key in required) == field.is_required(), f"{model.__name__}.{name} optionality"
        ref = prop.get("$ref") or (prop.get("items") or {}).get("$ref")
        ref = ref or (prop.get("additionalProperties") or {}).get("$ref")
        if ref:
            type_name = ref.split("/")[-1]
            nested = schema["types"][type_name]
            if "enum" in nested:  # a closed set: exactly the model's values
                assert {e["value"] for e in nested["enum"]} == set(
                    _literal_values(field.annotation)
                )
                continue
            inner = next(
                t
                for t in codegen.models_in(field.annotation)
                if codegen.type_name(t) == type_name.split(":")[-1]
            )
            _check_model(schema, inner, nested["properties"], nested.get("required", []))


@pytest.mark.parametrize("component", list(MODELS))
def test_every_argument_is_in_the_schema_with_type_optionality_and_description(schema, component):
    resource = schema["resources"][f"ack:index:{component}"]
    assert resource["isComponent"] is True and resource["description"]
    _check_model(
        schema, MODELS[component], resource["inputProperties"], resource.get("requiredInputs", [])
    )


@pytest.mark.parametrize("component", list(MODELS))
def test_every_declared_output_is_set_and_documented(schema, component):
    cls = getattr(declarations, component)
    args: dict[str, Any] = {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"]}
    }
    if component == "DedicatedCluster":
        args["key_name"] = "ops"
    made: list[Any] = []
    run(lambda: made.append(cls("demo", args)))
    declared = cls.__annotations__
    outputs = schema["resources"][f"ack:index:{component}"]["properties"]
    assert {camel(n) for n in declared} == set(outputs)
    for name in declared:
        assert hasattr(made[0], name), name
        assert outputs[camel(name)]["description"], name


def test_the_package_class_builds_the_same_graph_as_the_python_class():
    from ack_clusters import ManagedCluster

    args: Any = {"network": {"zones": ["cn-hangzhou-i"]}, "node_pools": {}}
    python = {r.urn for r in run(lambda: ManagedCluster("demo", args)).resources}
    packaged = {r.urn for r in run(lambda: declarations.ManagedCluster("demo", args)).resources}
    assert python == packaged


def test_the_service_account_role_is_in_the_package_with_its_trust_source_required(schema):
    from ack_clusters.identity.args import ServiceAccountRoleArgs

    resource = schema["resources"]["ack:index:ServiceAccountRole"]
    props = resource["inputProperties"]
    for name in ServiceAccountRoleArgs.model_fields:
        assert camel(name) in props and props[camel(name)]["description"], name
    assert {"oidcIssuerUrl", "oidcProviderArn", "namespace", "serviceAccount"} <= set(
        resource["requiredInputs"]
    )
    # From another resource or stack: inputs, not plain values.
    assert "plain" not in props["oidcIssuerUrl"] and "plain" not in props["oidcProviderArn"]
    assert set(resource["properties"]) == {
        "roleName",
        "roleArn",
        "serviceAccountAnnotations",
        "namespaceLabels",
    }


def test_the_packaged_role_builds_the_same_graph_as_the_python_class():
    from ack_clusters import ServiceAccountRole

    args: Any = {
        "oidc_issuer_url": "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1",
        "oidc_provider_arn": "acs:ram::1234567890:oidc-provider/ack-rrsa-c1",
        "namespace": "shop",
        "service_account": "orders",
        "policies": [{"name": "AliyunOSSReadOnlyAccess"}],
    }

    def graph(cls: Any) -> dict[str, Any]:
        return {r.urn: r.inputs for r in run(lambda: cls("orders", args)).resources}

    assert graph(ServiceAccountRole) == graph(declarations.ServiceAccountRole)


def test_kubeconfig_stays_secret_through_the_package_class():
    import pulumi

    def program():
        c = declarations.ManagedCluster("demo", {"network": {"zones": ["cn-hangzhou-i"]}})
        pulumi.export("kubeconfig", c.kubeconfig)

    assert run(program).stack_outputs["kubeconfig"] == SECRET


def test_plugin_folder_serves_the_package():
    meta = yaml.safe_load((ROOT / "provider" / "PulumiPlugin.yaml").read_text())
    assert meta["runtime"] == "python"
    assert "serve()" in (ROOT / "provider" / "__main__.py").read_text()
    assert "-e .." in (ROOT / "provider" / "requirements.txt").read_text()


def _check_properties(schema: dict[str, Any], given: dict, props: dict, required: list, where: str):
    missing = [r for r in required if r not in given]
    assert not missing, f"{where}: missing {missing}"
    for key, value in given.items():
        assert key in props, f"{where}.{key} is not in the schema"
        prop = props[key]
        ref = prop.get("$ref")
        if ref and isinstance(value, dict):
            t = schema["types"][ref.split("/")[-1]]
            _check_properties(
                schema, value, t["properties"], t.get("required", []), f"{where}.{key}"
            )
        extra = (prop.get("additionalProperties") or {}).get("$ref")
        if extra and isinstance(value, dict):
            t = schema["types"][extra.split("/")[-1]]
            for k, v in value.items():
                _check_properties(
                    schema, v, t["properties"], t.get("required", []), f"{where}.{key}.{k}"
                )


def test_yaml_example_uses_only_what_the_schema_declares(schema):
    doc = yaml.safe_load((ROOT / "examples" / "yaml-managed" / "Pulumi.yaml").read_text())
    assert doc["packages"]["ack"] == "../../provider"
    for name, res in doc["resources"].items():
        token = res["type"].replace("ack:", "ack:index:", 1)
        resource = schema["resources"][token]
        _check_properties(
            schema,
            res["properties"],
            resource["inputProperties"],
            resource.get("requiredInputs", []),
            name,
        )
        outputs = set(resource["properties"])
        for expr in doc["outputs"].values():
            ref = re.fullmatch(r"\$\{(\w+)\.(\w+)\}", expr)
            assert ref and ref[1] == name and ref[2] in outputs, expr


def test_the_provider_host_serves_the_reviewed_schema_over_grpc():
    """Start provider/__main__.py as the engine does and ask for its schema."""
    import subprocess
    import sys

    import grpc
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    proc = subprocess.Popen(
        [sys.executable, "-u", "__main__.py", "127.0.0.1:0"],
        cwd=ROOT / "provider",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(), timeout=30).schema)
    finally:
        proc.kill()
        proc.communicate()
    reviewed = json.loads(SCHEMA_FILE.read_text())
    assert served["resources"] == reviewed["resources"]
    assert served["types"] == reviewed["types"]
    assert served["language"] == reviewed["language"]  # package names, as enriched
    assert served["name"] == "ack"


def test_the_schema_command_prints_the_reviewed_schema():
    """`python -m ack_clusters.package > provider/schema.json` is how the snapshot is made."""
    done = subprocess.run(
        [sys.executable, "-m", "ack_clusters.package"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout) == json.loads(SCHEMA_FILE.read_text())


def test_credentials_are_secret_in_the_schema_and_nothing_else_is(schema):
    """Other languages keep a value secret only when the schema says so."""
    secret = {
        (kind, token.rsplit(":", 1)[-1], section, name)
        for kind in ("resources", "types")
        for token, entry in schema[kind].items()
        for section in ("properties", "inputProperties")
        for name, prop in entry.get(section, {}).items()
        if prop.get("secret")
    }
    expected = {("types", "NodePool", "properties", n) for n in ("password", "userData")}
    expected.add(("resources", "DedicatedCluster", "inputProperties", "password"))
    expected |= {("types", "DriftAlert", "properties", n) for n in ("url", "secretKey")}
    for form in ("ManagedCluster", "ServerlessCluster", "DedicatedCluster"):
        for output in ("kubeconfig", "adminKubeconfig"):
            expected.add(("resources", form, "properties", output))
    assert secret == expected


def test_the_generated_sdks_get_package_names(schema):
    language = schema["language"]
    assert language["python"]["packageName"] == "pulumi_ack_clusters"
    assert language["nodejs"]["packageName"] == "pulumi-ack-clusters"
    assert language["csharp"]["rootNamespace"] == "AckClusters"
    assert language["java"]["basePackage"] == "io.ackclusters"


def test_type_names_generate_cleanly(schema):
    """SDK generators add "Args" to input types themselves: a schema type named `NetworkArgs`
    would become `NetworkArgsArgs`."""
    names = [token.rsplit(":", 1)[-1] for token in schema["types"]]
    assert names and not [n for n in names if n.endswith("Args")]
    assert "ack:index:Network" in schema["types"] and "ack:index:NodePool" in schema["types"]


# --- the schema reads well in every language (issue 29) ----------------------------------------


def _descriptions(node: Any, where: str = "") -> list[tuple[str, str]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                found.append((where, value))
            else:
                found += _descriptions(value, f"{where}.{key}")
    elif isinstance(node, list):
        for value in node:
            found += _descriptions(value, where)
    return found


def test_every_description_is_whole_and_in_the_schemas_own_words(schema):
    """No description stops mid-sentence; names are the schema's camelCase ones, values JSON's
    (true, false, null), never Python's."""
    names = codegen.NAMES()
    for where, text in _descriptions(schema):
        assert text.rstrip().endswith((".", ")", "?")), (where, text)
        snake = [w for w in re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text) if w in names]
        assert not snake, (where, snake)
        assert not re.search(r"\b(True|False|None)\b", text), (where, text)


def test_type_descriptions_are_the_models_whole_first_paragraph(schema):

    described = schema["types"]["ack:index:Cen"]["description"]
    assert described.endswith("so it is owned, not drift.")


@pytest.mark.parametrize("component", list(MODELS))
def test_closed_sets_are_enums(schema, component):
    """A closed set (cluster spec, network plugin, NAT, expander...) is an enum in the schema,
    with exactly the values the model takes."""
    enums = {t: v for t, v in schema["types"].items() if "enum" in v}
    inputs = schema["resources"][f"ack:index:{component}"]["inputProperties"]
    closed = {
        "ManagedCluster": ("clusterSpec", "networkPlugin", "autoUpgradeChannel"),
        "ServerlessCluster": ("clusterSpec", "serviceDiscovery", "autoUpgradeChannel"),
        "DedicatedCluster": ("networkPlugin",),
    }[component]
    for name in closed:
        assert inputs[name]["$ref"].split("/")[-1] in enums, name
    assert schema["types"]["ack:index:Network"]["properties"]["nat"]["$ref"].endswith(":Nat")
    expander = schema["types"]["ack:index:Autoscaler"]["properties"]["expander"]["$ref"]
    assert {e["value"] for e in enums[expander.split("/")[-1]]["enum"]} == {
        "least-waste",
        "random",
        "priority",
    }


def test_the_package_class_turns_enum_members_back_into_values():
    """The host hands enum-typed inputs as enum members; the models take their values."""
    args: Any = {
        "network": {"zones": ["cn-hangzhou-i"], "nat": declarations.Nat.PerZone},
        "cluster_spec": declarations.ClusterSpec.AckProXlarge,
        "node_pools": {},
    }
    ran = run(lambda: declarations.ManagedCluster("demo", args))
    cluster = ran.one("alicloud:cs/managedKubernetes:ManagedKubernetes")
    assert cluster.inputs["clusterSpec"] == "ack.pro.xlarge"
    assert len(ran.by_type("alicloud:vpc/natGateway:NatGateway")) == 1


def test_the_package_has_its_description_license_and_keywords(schema):
    # Read with a pattern, not a TOML parser: tomllib is Python 3.11+, the project 3.10+.
    text = (ROOT / "pyproject.toml").read_text()

    def value(key: str) -> Any:
        found = re.search(rf"^{key} = (.+)$", text, re.M)
        assert found, key
        return json.loads(found[1])

    assert schema["description"] == value("description")
    assert schema["license"] == value("license")
    assert schema["keywords"] == value("keywords")


def test_secrets_are_inputs_other_languages_can_pass_as_secret_outputs(schema):
    """A password or script from secret config is an output: the schema must not make it a
    plain value, which other languages could only pass as text."""
    for where, prop in [
        ("NodePool.password", schema["types"]["ack:index:NodePool"]["properties"]["password"]),
        ("NodePool.userData", schema["types"]["ack:index:NodePool"]["properties"]["userData"]),
        (
            "DedicatedCluster.password",
            schema["resources"]["ack:index:DedicatedCluster"]["inputProperties"]["password"],
        ),
    ]:
        assert prop.get("secret") is True and "plain" not in prop, where


def test_the_package_class_takes_a_secret_output_and_keeps_it_secret():
    import pulumi

    from ack_offline.fake_cloud import FakeAlibabaCloud
    from ack_offline.recorder import run_program

    def program():
        pool: Any = {
            "instance_types": ["ecs.g7.large"],
            "desired_size": 1,
            "password": pulumi.Config().require_secret("password"),
            "auto_repair": False,
            "auto_upgrade": False,
        }
        declarations.ManagedCluster(
            "demo", {"network": {"zones": ["cn-hangzhou-i"]}, "node_pools": {"p": pool}}
        )

    ran = run_program(
        program,
        mock=FakeAlibabaCloud(),
        config={"project:password": "Sup3r-Secret!", "alicloud:region": "cn-hangzhou"},
        secret_keys=["project:password"],
    )
    assert ran.one("alicloud:cs/nodePool:NodePool").inputs["password"] == SECRET


def test_inputs_from_another_language_reach_the_model_as_values():
    """What a TypeScript or Go program sends, mapped by Pulumi's component host as it serves the
    package: enum-typed inputs arrive as enum members (turned back into values), and lists of
    a closed set stay strings (the host would map an enum item as an object)."""
    from pulumi.provider.experimental.component import ComponentProvider

    host = ComponentProvider(package.components(), package.PACKAGE_NAME, None, "0.0.0")
    component = host._component_defs["ManagedCluster"]
    sent = {
        "network": {"zones": ["cn-hangzhou-i"], "nat": "per_zone"},
        "clusterSpec": "ack.pro.xlarge",
        "controlPlaneLogs": {"components": ["apiserver", "kcm"]},
        "nodePools": {
            "p": {
                "instanceTypes": ["ecs.g7.large"],
                "desiredSize": 1,
                "keyName": "ops",
                "fixVulnerabilities": True,
                "vulnerabilityLevels": ["asap"],
                "taints": [{"key": "gpu", "effect": "NoExecute"}],
                "systemDisk": {"category": "cloud_essd", "performanceLevel": "PL1"},
            }
        },
    }
    mapped = host.map_input_properties(
        sent, component.inputs, component.inputs_mapping, "ManagedCluster", ""
    )
    args = ManagedClusterArgs.model_validate(declarations._plain(mapped))
    assert args.cluster_spec == "ack.pro.xlarge" and args.network.nat == "per_zone"
    assert args.control_plane_logs is not None
    assert args.control_plane_logs.components == ["apiserver", "kcm"]
    pool = args.node_pools["p"]
    assert pool.vulnerability_levels == ["asap"] and pool.taints[0].effect == "NoExecute"
    assert pool.system_disk.performance_level == "PL1"
