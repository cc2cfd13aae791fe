"""A matcher of the EventBridge pattern semantics the guard's rule relies on, for tests.

From https://www.alibabacloud.com/help/en/eventbridge/user-guide/event-patterns: the event
must hold every field of the pattern, nested alike; keys AND together; the values listed for
one key OR together; values compare exactly and case-sensitively; ``{"prefix": s}``,
``{"suffix": s}``, ``{"anything-but": v}`` (a value, a list, or ``{"prefix": s}``) and
``{"exists": bool}`` as documented. A field the pattern names and the event lacks does not
match (except ``exists: false``). Any other operator raises: not modelled, not guessed.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def _one(cond: Any, value: Any) -> bool:
    if not isinstance(cond, dict):
        return value is not _MISSING and value == cond
    ((op, arg),) = cond.items()
    if op == "exists":
        return (value is not _MISSING) == arg
    if value is _MISSING:
        return False
    if op == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if op == "suffix":
        return isinstance(value, str) and value.endswith(arg)
    if op == "anything-but":
        if isinstance(arg, dict):
            ((inner, s),) = arg.items()
            if inner != "prefix":
                raise ValueError(f"anything-but {inner} is not modelled")
            return isinstance(value, str) and not value.startswith(s)
        return value not in (arg if isinstance(arg, list) else [arg])
    raise ValueError(f"operator {op} is not modelled")


def matches(pattern: dict[str, Any], event: Any) -> bool:
    for key, cond in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(cond, dict):
            if value is _MISSING or not matches(cond, value):
                return False
        elif not any(_one(c, value) for c in cond):
            return False
    return True
