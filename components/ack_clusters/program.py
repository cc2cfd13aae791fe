"""The stack program: read the stack's config, validate it, build the cluster it asks for.

Stack files hold one structured key, ``<project>:cluster``::

    config:
      alicloud:region: cn-hangzhou
      ack-clusters:cluster:
        kind: managed            # or serverless, dedicated
        name: dev
        network: {zones: [cn-hangzhou-i, cn-hangzhou-j]}
        node_pools: {...}

Every mistake (a missing or misspelled key, a bad value) is reported with the key's full path and
the stack file to edit, before anything is registered.
"""

from __future__ import annotations

import difflib
from typing import Any

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .cluster.args import BaseClusterArgs, Kind
from .cluster.forms import CLUSTERS
from .errors import InvalidArguments
from .process import tune_gc
from .validation import NAME_PATTERN, placement_problems


class ConfigError(InvalidArguments):
    """Stack configuration is missing or wrong."""


class _Kind(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: Kind
    name: str = Field(pattern=NAME_PATTERN)


def _stack_file() -> str:
    return f"Pulumi.{pulumi.get_stack()}.yaml"


#: The keys a stack file may set in the project's own namespace.
PROJECT_KEYS = ("cluster",)


def _config_keys() -> set[str]:
    """Every config key the engine handed the program (namespaced, e.g. 'ack-clusters:cluster').
    The SDK has no public listing; these are the two places its own get_config reads."""
    from pulumi.runtime.config import CONFIG, get_config_env

    return set(CONFIG.get()) | set(get_config_env() or {})


def _unknown_project_keys(project: str) -> list[tuple[str, str]]:
    known = [f"{project}:{k}" for k in PROJECT_KEYS]
    problems = []
    for key in sorted(k for k in _config_keys() if k.startswith(f"{project}:") and k not in known):
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append((key, f"is not a setting of this project ({', '.join(known)}){hint}"))
    return problems


def _region_problems(key: str, args: BaseClusterArgs | None) -> list[tuple[str, str]]:
    # The warning (a region the stale list does not know) is the component's to log: it
    # checks the same for code-driven programs (ack_clusters.cluster.component).
    problems, _ = region_problems(pulumi.Config("alicloud").get("region"), key, args)
    return problems


def region_problems(
    region: str | None, key: str, args: BaseClusterArgs | None
) -> tuple[list[tuple[str, str]], str | None]:
    """A stack's `alicloud:region` and its cluster's zones, checked without the Pulumi runtime
    (``ack-fleet`` reads stack files with it too): the problems, and a warning for a
    well-formed region that the (stale) list does not know."""
    if region is None:
        return [("alicloud:region", "is not set; add it to the stack file")], None
    # The components check the same for code-driven programs (ack_clusters.cluster.component).
    problems, warnings = placement_problems(
        region,
        list(args.network.zones) if args else [],
        region_key="alicloud:region",
        zones_key=f"{key}.network.zones",
    )
    return problems, warnings[0] if warnings else None


def load_cluster_config() -> tuple[str, str, BaseClusterArgs]:
    project = pulumi.get_project()
    subject = f"stack config ({_stack_file()})"
    key = f"{project}:cluster"
    problems: list[tuple[str, str]] = _unknown_project_keys(project)
    raw: Any = pulumi.Config().get_object("cluster")
    if raw is None:
        raise ConfigError(subject, [*problems, (key, "is not set; add it to the stack file")])
    if not isinstance(raw, dict):
        raise ConfigError(
            subject, [*problems, (key, "must be an object with kind, name and arguments")]
        )
    head, args, found = parse_cluster(raw, subject, key)
    problems += found
    problems += _region_problems(key, args)
    if problems or head is None or args is None:
        raise ConfigError(subject, problems)
    return head.kind, head.name, args


def parse_cluster(
    raw: dict[str, Any], subject: str, key: str
) -> tuple[_Kind | None, BaseClusterArgs | None, list[tuple[str, str]]]:
    """A stack file's cluster object (kind, name and the form's arguments), validated without
    the Pulumi runtime (``ack-fleet`` reads stack files with it too); problems are named from
    `key`."""
    problems: list[tuple[str, str]] = []
    head: _Kind | None = None
    try:
        head = _Kind.model_validate(raw)
    except ValidationError as exc:
        problems += InvalidArguments.from_validation_error(subject, exc, prefix=key).problems
    body = {k: v for k, v in raw.items() if k not in ("kind", "name")}
    args: BaseClusterArgs | None = None
    model = CLUSTERS.get(str(raw.get("kind")), CLUSTERS["managed"])._form.args_model
    try:
        args = model.model_validate(body)
    except ValidationError as exc:
        problems += InvalidArguments.from_validation_error(
            subject, exc, prefix=key, model=model
        ).problems
    return head, args, problems


def main() -> None:
    tune_gc()
    kind, name, args = load_cluster_config()
    cluster = CLUSTERS[kind](name, args)
    # Exactly the outputs the cluster's form offers for stacks (ack_clusters.cluster.outputs).
    for key, value in cluster.stack_exports().items():
        pulumi.export(key, value)
