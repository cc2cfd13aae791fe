"""The exit codes of ``ack-preview`` and ``ack-fleet gate``, and the one order in which they
outrank each other when several apply (README, "Exit codes"):

- 2, no verdict: the program, its project or stack config, a policy pack or the tool itself
  failed, or nothing could be decided (not proven safe);
- 1, a mandatory policy violation (no flag allows it);
- 3, a guarded change (``--diff``): a stateful resource replaced without ``--allow-replace`` or
  deleted without ``--allow-delete``, or a change ``pulumi up`` would fail on;
- 0, a pass.

``ack-fleet check`` uses 1 for an overlap and 2 for a failure of the tool, the same ranks.
"""

from __future__ import annotations

from collections.abc import Iterable

EXIT_OK, EXIT_VIOLATIONS, EXIT_BROKEN, EXIT_GUARDED = 0, 1, 2, 3

#: Worst first: a report with several results exits with the first of these that applies.
WORST_FIRST = (EXIT_BROKEN, EXIT_VIOLATIONS, EXIT_GUARDED, EXIT_OK)


def worst(codes: Iterable[int]) -> int:
    """The exit code of several results (exit codes), by :data:`WORST_FIRST`; an exit code
    that is none of these counts as no verdict."""
    found = set(codes)
    if found - set(WORST_FIRST):
        return EXIT_BROKEN
    return next((c for c in WORST_FIRST if c in found), EXIT_OK)
