"""Garbage-collector settings for long-running processes that hold a large catalog.

CPython's cyclic collector walks the young generation every 700 net new container
objects and every object in the process on each full collection. A worker allocates
several short-lived records per CDR and holds a catalog (and state) of millions of
long-lived objects, so with the defaults it spent about a tenth of its CPU collecting,
half of that walking the catalog again and again (benchmarks/RESULTS.md). Young
collections every 10,000 objects, and the catalog moved out of the collector's reach
once it is built, take that to about 2 %.
"""

from __future__ import annotations

import gc

YOUNG_OBJECTS = 10_000  # net new container objects between young collections (700)


def tune() -> None:
    """Collect the young generation less often; the older ones keep their ratios."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)


def settle() -> None:
    """Call once long-lived data (a new catalog) is in place: one full collection, then
    everything alive goes to the permanent generation, which collections never walk.

    What an earlier call froze is unfrozen first, so that a catalog this one replaced is
    collected if cycles keep it; objects without cycles are freed when the last
    reference goes, frozen or not.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
