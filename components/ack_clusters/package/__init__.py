"""The components as a Pulumi component package, for TypeScript, Go, C#, Java and YAML programs.

Pulumi's schema analyzer reads the classes in :mod:`.declarations`, generated from the argument
models, the forms and the outputs table (``python -m ack_clusters.package.codegen``).
Construction is the same validated code Python users run: each class only narrows the
signature of the component it extends.
"""

from __future__ import annotations

import pulumi
from pulumi.provider.experimental import component_provider_host

from ..process import tune_gc

PACKAGE_NAME = "ack"


def components() -> list[type[pulumi.ComponentResource]]:
    """The package's component classes. Imported on use, not with this module, so that the
    generator can rewrite them even when the generated file is out of date or broken."""
    from .declarations import COMPONENTS

    return COMPONENTS


def serve() -> None:
    """Run as the component provider (what provider/__main__.py does for the engine). Building a
    cluster here allocates as a program does, so the process gets the same collector setting."""
    tune_gc()
    component_provider_host(components=components(), name=PACKAGE_NAME)


def schema() -> dict[str, object]:
    """The package schema, as the host infers it from the package classes (offline)."""
    import json

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
    # Through JSON, so the snapshot holds exactly what the host would serve.
    loaded: dict[str, object] = json.loads(json.dumps(spec.to_json()))
    return loaded
