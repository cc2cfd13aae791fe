"""Command-line argument types both tools take alike."""

from __future__ import annotations

import argparse

#: The longest time limit taken (a day): past it, a limit means nothing, and the OS refuses it.
MAX_SECONDS = 86_400.0


def seconds(value: str) -> float:
    """A time limit given on the command line: a number of seconds, more than 0 and at most a
    day (`nan`, `inf` and negative numbers are refused, not taken for something else)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < number <= MAX_SECONDS:  # False for nan
        raise argparse.ArgumentTypeError(
            f"{value!r}: give a number of seconds above 0 and at most {MAX_SECONDS:g}"
        )
    return number
