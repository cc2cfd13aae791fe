"""Process settings for a Pulumi program that declares clusters.

A Pulumi program keeps nearly everything it allocates alive until the engine has seen the whole
graph: every resource's Outputs, the futures behind them and the asyncio tasks that resolve them.
CPython's cyclic garbage collector is tuned for programs whose objects mostly die young. It runs
after every 700 net allocations and promotes what survives, and its full collections walk the
whole heap, which here only grows. On a program with 50 managed clusters that was about half of
the program's time, and it is what made the time grow faster than the number of clusters
(docs/BENCHMARKS.md). With a higher first threshold, what the program keeps is promoted in far
fewer passes, and a 50-cluster program finishes before any full collection comes due.

The setting belongs to the program, not to the library: importing ``components`` changes nothing.
The stack program (:func:`ack_clusters.program.main`) and the component provider
(:func:`ack_clusters.package.serve`) call :func:`tune_gc`; a program of your own that declares many
clusters can call it first thing too.
"""

from __future__ import annotations

import gc

#: Net allocations between young-generation collections for a Pulumi program (CPython: 700).
#: Cyclic garbage still gets collected, only in fewer, larger passes: the 50-cluster program's
#: traced peak memory stayed the same (94.9 against 94.7 MiB).
PROGRAM_GC_THRESHOLD = 50_000


def tune_gc(threshold: int = PROGRAM_GC_THRESHOLD) -> None:
    """Raise the young-generation threshold of this process's collector to ``threshold``.

    Never lowers a threshold the process already raised, leaves the older generations'
    thresholds as they are, and does nothing when automatic collection is off (``gc.disable()``
    or a threshold of 0)."""
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, not {threshold}")
    young, middle, old = gc.get_threshold()
    if gc.isenabled() and 0 < young < threshold:
        gc.set_threshold(threshold, middle, old)
