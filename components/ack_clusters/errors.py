"""One error type for every argument problem, reported together and named by field path."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

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
        cls, subject: str, error: ValidationError, *, prefix: str = ""
    ) -> InvalidArguments:
        problems = []
        for e in error.errors(include_url=False, include_input=False):
            path = ".".join(str(p) for p in e["loc"])
            if prefix:
                path = f"{prefix}.{path}" if path else prefix
            msg = e["msg"].removeprefix("Value error, ")
            problems.append((path, msg))
        return cls(subject, problems)


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
            return None, InvalidArguments.from_validation_error(subject, exc).problems
    return None, [("args", f"expected {model.__name__} or a mapping, got {type(args)}")]
