"""The components as a Pulumi component package, for TypeScript, Go, C#, Java and YAML programs.

Pulumi's schema analyzer reads the classes in :mod:`.declarations`, generated from the argument
models, the forms and the outputs table (``python -m ack_clusters.package.codegen``).
Construction is the same validated code Python users run: each class only narrows the
signature of the component it extends.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pulumi

from ..process import tune_gc

PACKAGE_NAME = "ack"
#: The package's metadata in the schema, as pyproject.toml states it (tests/test_package.py
#: compares them). No repository URL: the project has none yet (as for Go's import path).
METADATA = {
    "displayName": "ACK clusters",
    "description": "Typed Pulumi components for Alibaba Cloud ACK clusters and the cloud "
    "resources beneath them, with policy packs that block drift.",
    "license": "Apache-2.0",
    "keywords": ["pulumi", "alibaba-cloud", "aliyun", "ack", "kubernetes", "policy-as-code"],
    "publisher": "pulumi-ack-clusters",
}
#: Package names in the generated SDKs. Go's import path needs the repository's URL, which this
#: project does not have yet, so Go keeps the generator's default.
LANGUAGE = {
    "python": {"packageName": "pulumi_ack_clusters"},
    "nodejs": {"packageName": "pulumi-ack-clusters"},
    "csharp": {"rootNamespace": "AckClusters"},
    "java": {"basePackage": "io.ackclusters"},
}


def components() -> list[type[pulumi.ComponentResource]]:
    """The package's component classes. Imported on use, not with this module, so that the
    generator can rewrite them even when the generated file is out of date or broken."""
    from .declarations import COMPONENTS

    return COMPONENTS


def enrich(schema: dict[str, Any]) -> dict[str, Any]:
    """What Pulumi's analyzer cannot infer, added to its schema: secrets (model fields typed as
    secret strings and the outputs table's secret outputs, so other languages keep them secret
    too) and the language sections' package names."""
    from pydantic import SecretStr

    from ..cluster.outputs import OUTPUTS
    from ..package.codegen import package_models, type_name

    secret_fields = {
        (type_name(model), _camel(name))
        for model in package_models()
        for name, field in model.model_fields.items()
        if SecretStr in _types_in(field.annotation)
    }
    secret_outputs = {_camel(o.name) for o in OUTPUTS if o.secret}
    for token, resource in schema.get("resources", {}).items():
        component = token.rsplit(":", 1)[-1]
        for name, prop in resource.get("properties", {}).items():
            if name in secret_outputs:
                prop["secret"] = True
        for name, prop in resource.get("inputProperties", {}).items():
            if (f"{component}Args", name) in secret_fields:
                prop["secret"] = True
    for token, typ in schema.get("types", {}).items():
        model = token.rsplit(":", 1)[-1]
        for name, prop in typ.get("properties", {}).items():
            if (model, name) in secret_fields:
                prop["secret"] = True
    for language, names in LANGUAGE.items():
        schema.setdefault("language", {}).setdefault(language, {}).update(names)
    schema.update(METADATA)
    return schema


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def _types_in(tp: Any) -> set[Any]:
    from typing import get_args

    found = {tp}
    for arg in get_args(tp):
        found |= _types_in(arg)
    return found


def serve() -> None:
    """Run as the component provider (what provider/__main__.py does for the engine): Pulumi's
    component host, with the schema it infers enriched (:func:`enrich`). Building a cluster here
    allocates as a program does, so the process gets the same collector setting."""
    from pulumi.provider.experimental.component import ComponentProvider
    from pulumi.provider.server import main

    tune_gc()

    class Provider(ComponentProvider):
        def __init__(self) -> None:
            super().__init__(components(), PACKAGE_NAME, None, "0.0.0")
            self.schema = json.dumps(enrich(json.loads(self.schema or "{}")))

    main(Provider(), sys.argv[1:])


def schema() -> dict[str, object]:
    """The package schema, as the host infers it from the package classes (offline)."""
    from pulumi.provider.experimental.analyzer import Analyzer
    from pulumi.provider.experimental.schema import generate_schema

    from .. import __version__

    result = Analyzer(PACKAGE_NAME).analyze(components())
    spec = generate_schema(
        PACKAGE_NAME,
        __version__,
        None,
        result["component_definitions"],
        result["type_definitions"],
        list(result["dependencies"]),
    )
    # Through JSON, so the snapshot holds exactly what the host serves.
    loaded: dict[str, object] = enrich(json.loads(json.dumps(spec.to_json())))
    return loaded
