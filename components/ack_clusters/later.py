"""Arguments that come from other resources: check them when their values are known.

The argument models accept a ``pulumi.Output`` (or another awaitable) wherever a value does not
shape the resource graph (:class:`ack_clusters.validation.Later` marks those fields). A value
given as a string is checked when the arguments are validated; a deferred one is replaced here
by an output that applies the same check when it resolves, and fails the update naming the
field. At preview an unknown value cannot be checked: the component says so in its log. A
secret value is refused without being quoted, in any form (:func:`check_known`).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast, get_args, get_origin, overload

import pulumi
from pydantic import BaseModel

from .errors import InvalidArguments
from .redaction import HIDDEN, spellings
from .validation import Deferred, Later, Refused, is_deferred

M = TypeVar("M", bound=BaseModel)


def check_when_known(model: M, subject: str, path: str = "") -> tuple[M, list[str]]:
    """`model` with every deferred value replaced by an output that checks it when known, and
    the paths of those values (in field order)."""
    paths: list[str] = []
    updates: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        later = _later_in(field.annotation, field.metadata)
        new = _walk(value, later, here, subject, paths)
        if new is not value:
            updates[name] = new
    return (model.model_copy(update=updates) if updates else model), paths


def _walk(value: Any, later: Later | None, here: str, subject: str, paths: list[str]) -> Any:
    if isinstance(value, BaseModel):
        new, found = check_when_known(value, subject, here)
        paths.extend(found)
        return new
    if isinstance(value, dict):
        items = {k: _walk(v, later, f"{here}.{k}", subject, paths) for k, v in value.items()}
        changed = any(items[k] is not v for k, v in value.items())
        return items if changed else value
    if isinstance(value, list):
        listed = [_walk(v, later, f"{here}.{i}", subject, paths) for i, v in enumerate(value)]
        return listed if any(a is not b for a, b in zip(listed, value, strict=True)) else value
    if later is not None and is_deferred(value):
        paths.append(here)
        output = pulumi.Output.from_input(value)
        return output.apply(_checker(later, here, subject, output))
    return value


def _checker(later: Later, here: str, subject: str, output: pulumi.Output[Any]) -> Any:
    """The check of a deferred value, run when `output` is known: whether it is a secret (in
    whatever it held: a nested output, an item of a list) is read from the output itself, as
    Pulumi's unwrapping left it."""

    async def check(value: Any) -> str:
        return check_known(later, here, subject, value, secret=await output.is_secret())

    return check


def check_known(later: Later, here: str, subject: str, value: Any, *, secret: bool) -> str:
    """`value` (stripped) if `later`'s rule takes it, else InvalidArguments naming the field
    `here`. A secret is never formatted: the rule's words are given without it
    (:meth:`Refused.without_value`; for anything but a Refused, only what the field takes), and
    the message is then redacted of every spelling of it, in case a rule's words held one."""
    problem = None
    if isinstance(value, str) and value.strip():
        try:
            # A secret (a script, a password) is taken as given: its spaces are its own.
            return later.check(value if later.secret else value.strip())
        except Refused as exc:
            problem = exc.without_value() if secret else str(exc)
        except Exception as exc:
            if not secret and not isinstance(exc, ValueError):
                raise
            problem = f"{HIDDEN} is not {later.what}" if secret else str(exc)
    if problem is None:
        shown = f"a secret {type(value).__name__}" if secret else repr(value)
        problem = f"the output gave {shown}, not {later.what}"
    # Raised outside the handlers above, and without context: a traceback never shows the
    # rule's own error, which quotes the value.
    raise InvalidArguments(
        subject,
        [(here, f"{problem} (checked when its value was known)")],
        hidden=spellings(value) if secret else (),
    ) from None


def _later_in(tp: Any, metadata: Sequence[Any] = ()) -> Later | None:
    """The Later marker of a field: in its metadata, or inside its type (an optional value, the
    values of a dict, the items of a list)."""
    for m in metadata:
        if isinstance(m, Later):
            return m
    if get_origin(tp) is typing.Annotated:
        for m in tp.__metadata__:
            if isinstance(m, Later):
                return m
    for arg in get_args(tp):
        found = _later_in(arg)
        if found is not None:
            return found
    return None


@overload
def given(value: str | Deferred) -> pulumi.Input[str]: ...
@overload
def given(value: str | Deferred | None) -> pulumi.Input[str] | None: ...
def given(value: str | Deferred | None) -> pulumi.Input[str] | None:
    """A possibly deferred argument as a resource input (after :func:`check_when_known`, a
    deferred value is an output)."""
    return cast("pulumi.Input[str] | None", value)


def given_tags(tags: Mapping[str, str | Deferred]) -> dict[str, pulumi.Input[str]]:
    """Tags whose values may be deferred, as resource input."""
    return cast("dict[str, pulumi.Input[str]]", dict(tags))


def log_deferred(paths: list[str], resource: pulumi.Resource) -> None:
    """Say which arguments come from outputs: their checks run when the values are known."""
    if paths:
        pulumi.log.info(
            f"{', '.join(paths)} come from other resources: checked when known (at update "
            "when unknown at preview)",
            resource=resource,
        )
