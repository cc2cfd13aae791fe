"""One error type for every argument problem, reported together and named by field path."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .redaction import redact

M = TypeVar("M", bound=BaseModel)


class InvalidArguments(ValueError):
    """Raised before any resource is registered when arguments cannot work.

    ``problems`` lists ``(field_path, message)`` pairs, every problem found in the input, so a
    user fixes them all in one round instead of one per twenty-minute ``pulumi up``.
    ``hidden``: texts no message may hold (the spellings of a secret value a check refused,
    :func:`ack_clusters.redaction.spellings`); they are replaced before the error exists, and
    not kept.
    """

    def __init__(
        self,
        subject: str,
        problems: Iterable[tuple[str, str]],
        *,
        hidden: Iterable[str] = (),
    ) -> None:
        self.subject = subject
        hidden = set(hidden)
        self.problems = [(path, redact(msg, hidden) if hidden else msg) for path, msg in problems]
        lines = "\n".join(f"  - {path or '(root)'}: {msg}" for path, msg in self.problems)
        super().__init__(f"invalid arguments for {subject}:\n{lines}")

    @classmethod
    def from_validation_error(
        cls,
        subject: str,
        error: ValidationError,
        *,
        prefix: str = "",
        model: type[BaseModel] | None = None,
    ) -> InvalidArguments:
        """`error`'s problems by field path; with the `model` validated, an unknown key is
        named with the argument it is likely a typo of (pydantic only says "Extra inputs are
        not permitted")."""
        problems = []
        for e in error.errors(include_url=False, include_input=False):
            path = ".".join(str(p) for p in e["loc"])
            if prefix:
                path = f"{prefix}.{path}" if path else prefix
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden" and model is not None and e["loc"]:
                msg = unknown_key(model, e["loc"])
            problems.append((path, msg))
        return cls(subject, problems)


def unknown_key(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """What to say of the key at the end of `loc`, which no model there has: the closest
    argument's name, or the arguments there are."""
    models = [model]
    for part in loc[:-1]:
        fields = [
            m.model_fields[part] for m in models if isinstance(part, str) and part in m.model_fields
        ]
        if fields:  # a field: go into the models its type names; else a dict key or list index
            models = [m for f in fields for m in _models_in(f.annotation)]
    key = str(loc[-1])
    names = sorted({n for m in models for n in m.model_fields})
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if close:
        return f"unknown argument {key!r}; did you mean {close[0]!r}?"
    owners = " or ".join(sorted({m.__name__ for m in models}))
    return f"unknown argument {key!r}: {owners or 'this object'} has no such argument"


def _models_in(tp: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = (
        [tp]
        if isinstance(tp, type) and get_origin(tp) is None and issubclass(tp, BaseModel)
        else []
    )
    for arg in get_args(tp):
        found += _models_in(arg)
    return found


class PlanProblems(Exception):
    """Collects (path, message) pairs; raised by planners, turned into InvalidArguments."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


def validated(
    model: type[M], subject: str, args: M | Mapping[str, Any]
) -> tuple[M | None, list[tuple[str, str]]]:
    """`args` as a `model`: taken as it is when it is one, validated when it is a mapping;
    with the problems found, named by field path (none when it is valid)."""
    if isinstance(args, model):
        return args, []
    if isinstance(args, Mapping):
        try:
            return model.model_validate(dict(args)), []
        except ValidationError as exc:
            return None, InvalidArguments.from_validation_error(subject, exc, model=model).problems
    return None, [("args", f"expected {model.__name__} or a mapping, got {type(args)}")]
