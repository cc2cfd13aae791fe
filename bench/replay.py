"""The hand-written baseline: replay a recorded graph as direct pulumi-alicloud calls.

For every cloud resource a program registered, call its provider class with the same inputs,
wiring each value that came from another resource to that resource's output (found by matching
the value against the dependency's ID and state), with the same depends_on, protect,
ignore_changes and import options. No component resources, no pydantic, no planning: what is
left is what a careful person would write by hand, so timing both measures what the library adds.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

import pulumi

from components.testing.recorder import SECRET, ProgramRun, RecordedResource


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _class(type_token: str) -> Any:
    if type_token == "pulumi:providers:kubernetes":
        return importlib.import_module("pulumi_kubernetes").Provider
    pkg, mod, cls = type_token.split(":")
    base = {"alicloud": "pulumi_alicloud", "kubernetes": "pulumi_kubernetes"}[pkg]
    module = importlib.import_module(f"{base}.{mod.split('/')[0]}")
    if pkg == "kubernetes":  # kubernetes:core/v1:Service -> pulumi_kubernetes.core.v1.Service
        module = importlib.import_module(f"{base}.{mod.replace('/', '.')}")
    return getattr(module, cls)


def _topological(resources: list[RecordedResource]) -> list[RecordedResource]:
    by_urn = {r.urn: r for r in resources}
    done: set[str] = set()
    order: list[RecordedResource] = []

    def visit(r: RecordedResource) -> None:
        if r.urn in done:
            return
        done.add(r.urn)
        for d in r.dependencies:
            if d in by_urn:
                visit(by_urn[d])
        order.append(r)

    for r in resources:
        visit(r)
    return order


def raw_program(recording: ProgramRun) -> Callable[[], None]:
    """A program registering the recording's cloud resources without the component layer.
    Record in update mode so every value is known."""
    cloud = [r for r in recording.resources if not r.type.startswith("ack:")]
    order = _topological(cloud)

    def program() -> None:
        made: dict[str, Any] = {}

        def wire(value: Any, deps: list[RecordedResource]) -> Any:
            if value == SECRET:
                return pulumi.Output.secret("replayed-secret")
            if isinstance(value, str):
                for d in deps:
                    if value == d.id:
                        return made[d.urn].id
                    for key, out in d.state.items():
                        if out == value and key not in d.inputs:
                            return getattr(made[d.urn], _snake(key))
                return value
            if isinstance(value, list):
                return [wire(v, deps) for v in value]
            if isinstance(value, dict):
                return {_snake(k) if not _keep(k) else k: wire(v, deps) for k, v in value.items()}
            return value

        for r in order:
            deps = [d for d in cloud if d.urn in r.dependencies]
            kwargs = {_snake(k): wire(v, deps) for k, v in r.inputs.items()}
            if r.type == "kubernetes:core/v1:Service":
                kwargs.pop("api_version", None)
                kwargs.pop("kind", None)
            opts = pulumi.ResourceOptions(
                depends_on=[made[d.urn] for d in deps],
                protect=r.protect,
                ignore_changes=[_snake(f) for f in r.ignore_changes] or None,
                import_=r.import_id or None,
                provider=next(
                    (made[p.urn] for p in cloud if r.provider.startswith(p.urn + "::")), None
                ),
            )
            made[r.urn] = _class(r.type)(r.name, opts=opts, **kwargs)

    return program


def _keep(key: str) -> bool:
    """Map keys that are data, not field names (tags, labels, annotations, selectors)."""
    return "/" in key or "." in key or key[:1].isupper() or "-" in key
