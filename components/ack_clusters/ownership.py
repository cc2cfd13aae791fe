"""The record a component keeps of what it owns (its format: :mod:`ack_policies.record`).

Ownership is a fact the component records, not a guess from where a resource sits in the tree:
the component seals each resource it registers, in a transform of its own that the engine runs
before every other transform, and registers the URNs and seals as one output. The policy pack
reads that output: a resource a program parents into the component is not in it, a transform
that changes what the component planned breaks a seal, and a component of this library's type
that did not come from this library has no record at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
from google.protobuf import json_format

from ack_policies import record as ownership_record
from ack_policies.record import IDENTITY_FIELDS, RECORD_OUTPUT

__all__ = [
    "RECORD_OUTPUT",
    "Seals",
    "child_urn",
    "descendants",
    "identities_of",
    "record_of",
    "sealed",
]

#: The stack's type: the URN of a child of the stack has no parent type in it.
_ROOT_STACK = "pulumi:pulumi:Stack"


def child_urn(parent_urn: str, type_: str, name: str) -> str:
    """The URN the engine gives a resource of `type_` named `name` under `parent_urn`."""
    stack_and_project = "::".join(parent_urn.split("::")[:2])
    qualified = parent_urn.split("::")[2]
    prefix = "" if qualified == _ROOT_STACK else f"{qualified}$"
    return f"{stack_and_project}::{prefix}{type_}::{name}"


class Seals:
    """The seals a component takes of its children, keyed by URN."""

    def __init__(self) -> None:
        self.by_urn: dict[str, dict[str, Any]] = {}
        self.secret = False

    async def take(self, args: pulumi.ResourceTransformArgs) -> None:
        """A transform that changes nothing: it records what the component gave the resource
        (its inputs as the engine has them, and every option the engine registers it with:
        ack_policies.record.OPTIONS) before any other transform runs."""
        opts = args.opts
        parent = await opts.parent.urn.future() if opts.parent is not None else None
        if not parent:
            return  # the component itself (its own transforms apply to it too)
        urn = child_urn(parent, args.type_, args.name)
        self.secret = self.secret or _holds_secret(args.props)
        self.by_urn[urn] = ownership_record.seal(
            args.type_, args.props, await _options(opts, urn, parent)
        )


async def _urn_of(resource: Any) -> str:
    urn = getattr(resource, "urn", None)
    return str(await urn.future() or "") if isinstance(urn, pulumi.Output) else ""


async def _options(opts: pulumi.ResourceOptions, urn: str, parent: str) -> dict[str, Any]:
    """The options a transform is given, named as the engine names them (the analyzer's and
    RegisterResourceRequest's names), as ack_policies.record.seal takes them."""
    timeouts = opts.custom_timeouts
    providers = opts.providers
    if isinstance(providers, Mapping):
        by_package = {str(k): await _urn_of(v) for k, v in providers.items()}
    else:
        by_package = {str(i): await _urn_of(v) for i, v in enumerate(providers or [])}
    depends_on = opts.depends_on if isinstance(opts.depends_on, (list, tuple)) else []
    hooks = opts.hooks
    return {
        "protect": opts.protect,
        "deleteBeforeReplace": opts.delete_before_replace,
        "additionalSecretOutputs": opts.additional_secret_outputs,
        "provider": await _urn_of(opts.provider) if opts.provider is not None else "",
        "ignoreChanges": opts.ignore_changes,
        "customTimeouts": {
            k: getattr(timeouts, k, None) for k in ("create", "update", "delete", "read")
        },
        "aliases": [
            ownership_record.alias_urn(urn, parent, await _alias_spec(a))
            for a in opts.aliases or []
            if isinstance(a, (str, pulumi.Alias))
        ],
        "importId": opts.import_,
        "retainOnDelete": opts.retain_on_delete,
        "deletedWith": await _urn_of(opts.deleted_with) if opts.deleted_with else "",
        "replaceOnChanges": opts.replace_on_changes,
        "replaceWith": [await _urn_of(r) for r in getattr(opts, "replace_with", None) or []],
        "replacementTrigger": _plain(getattr(opts, "replacement_trigger", None)),
        "dependencies": [await _urn_of(d) for d in depends_on],
        "version": opts.version,
        "pluginDownloadURL": opts.plugin_download_url,
        "pluginChecksums": getattr(opts, "plugin_checksums", None),
        "providers": by_package,
        "hooks": {
            field: [str(getattr(h, "name", h)) for h in getattr(hooks, field, None) or []]
            for field in _HOOKS
        }
        if hooks is not None
        else None,
        "hideDiffs": getattr(opts, "hide_diffs", None),
        "envVarMappings": getattr(opts, "env_var_mappings", None),
    }


def _plain(value: Any) -> Any:
    """A protobuf value (the SDK hands a transform the replacement trigger as one) as JSON
    data, the way the engine's side reads it; None when it holds nothing."""
    if hasattr(value, "ListFields"):
        return json_format.MessageToDict(value) if value.ListFields() else None
    return value


#: A resource's hook bindings (RegisterResourceRequest.ResourceHooksBinding's fields).
_HOOKS = (
    "before_create",
    "after_create",
    "before_update",
    "after_update",
    "before_delete",
    "after_delete",
    "on_error",
)


async def _alias_spec(alias: str | pulumi.Alias) -> str | dict[str, Any]:
    """An alias as the engine's spec names its parts (a part the alias leaves unset is ...)."""
    if isinstance(alias, str):
        return alias

    def given(value: Any) -> Any:
        return value if isinstance(value, str) else None

    parent = alias.parent
    if isinstance(parent, pulumi.Resource):
        parent = await _urn_of(parent)
    return {
        "name": given(alias.name),
        "type": given(alias.type_),
        "stack": given(alias.stack),
        "project": given(alias.project),
        "parentUrn": given(parent),
        "noParent": parent is None,
    }


def sealed(opts: pulumi.ResourceOptions | None, seals: Seals) -> pulumi.ResourceOptions:
    """The component's options with the seal first among its transforms, so that it runs before
    any transform the program gives the component (which its children inherit)."""
    merged = pulumi.ResourceOptions.merge(opts, None)
    merged.transforms = [seals.take, *(merged.transforms or [])]
    return merged


def descendants(component: pulumi.Resource) -> Iterator[pulumi.Resource]:
    for child in list(getattr(component, "_childResources", ())):
        yield child
        yield from descendants(child)


def record_of(component: pulumi.ComponentResource, seals: Seals) -> pulumi.Output[Any]:
    """The component's record, once every resource it registered has its URN (after which its
    seal has been taken). Secret when a sealed input was: a digest of a short secret could be
    guessed."""
    legacy = len(getattr(component, "_transformations", None) or [])
    urns = [child.urn for child in descendants(component)]

    def build(args: list[str]) -> dict[str, Any]:
        owner, *children = args
        return ownership_record.record(
            owner,
            {urn: seals.by_urn.get(urn, {}) for urn in children},
            legacy_transformations=legacy,
        )

    built = pulumi.Output.all(component.urn, *urns).apply(build)
    return built.apply(lambda r: pulumi.Output.secret(r) if seals.secret else r)


def _holds_secret(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get(ownership_record.SECRET_KEY) == ownership_record.SECRET_SIG:
            return True
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


def identities_of(component: pulumi.ComponentResource, owner: str) -> pulumi.Output[Any]:
    """What each cloud resource the component owns is known by (its ID, and the outputs
    IDENTITY_FIELDS names), each with its type: a stack exports it (`owned_identities`), so that
    the policy pack judges a stack that references this one by the same identities. Known once
    the resources exist (unknown at a preview of a new stack)."""
    parts: list[pulumi.Output[list[tuple[str, str, str]]]] = []
    for child in descendants(component):
        if not isinstance(child, pulumi.CustomResource) or isinstance(
            child, pulumi.ProviderResource
        ):
            continue
        type_ = child.pulumi_resource_type
        fields = [("id", child.id)] + [
            (f, getattr(child, _snake(f), None)) for f in IDENTITY_FIELDS.get(type_, ())
        ]
        for field, value in fields:
            if isinstance(value, pulumi.Output):
                parts.append(value.apply(_labelled(type_, field)))

    def flatten(found: list[list[tuple[str, str, str]]]) -> list[dict[str, str]]:
        # In one order whatever order the children were met in (a set, in the SDK).
        unique = sorted({item for items in found for item in items})
        return [ownership_record.exported_identity(owner, t, f, v) for t, f, v in unique]

    return pulumi.Output.all(*parts).apply(flatten)


def _labelled(type_: str, field: str) -> Any:
    return lambda value: [(type_, field, text) for text in _texts(value) if text]


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    return []


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
