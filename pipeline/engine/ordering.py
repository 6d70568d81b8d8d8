"""Re-establish the global offline order of work arriving from several partitions (pure)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

from pipeline.cdrs.model import RawCdr
from pipeline.engine.events import PartyWork, Tick
from pipeline.engine.records import Payment


def time_order(cdrs: Sequence[RawCdr], payments: Sequence[Payment]) -> list[RawCdr | Payment]:
    """The offline order: event time (CDR start, payment `at`), a payment first on a tie,
    then input order. A CDR without a usable start changes no state and goes first.
    """
    keyed: list[tuple[float, int, int, RawCdr | Payment]] = [
        (p.at.timestamp(), 0, i, p) for i, p in enumerate(payments)
    ]
    keyed.extend(
        (c.start.timestamp() if c.start is not None else float("-inf"), 1, i, c)
        for i, c in enumerate(cdrs)
    )
    keyed.sort(key=lambda e: (e[0], e[1], e[2]))
    return [event for *_, event in keyed]


class OrderedMerge:
    """Buffers work from `sources` upstream partitions and releases it in (seq, sub) order.

    Each upstream partition sends its work in order and then a tick: "everything of mine
    with seq <= watermark has been sent". Work with seq at or below the lowest watermark
    of all sources can therefore no longer be overtaken and is released.
    """

    __slots__ = ("_heap", "_watermarks", "sources")

    def __init__(self, sources: int, watermarks: dict[int, int] | None = None) -> None:
        self.sources = sources
        self._watermarks: dict[int, int] = dict(watermarks or {})
        self._heap: list[tuple[int, int, str, PartyWork]] = []

    def add(self, items: Iterable[PartyWork | Tick]) -> list[PartyWork]:
        """Take a batch of work and ticks; return the work that is now safe to apply."""
        for item in items:
            if isinstance(item, Tick):
                known = self._watermarks.get(item.source, -1)
                self._watermarks[item.source] = max(known, item.watermark)
            else:
                heapq.heappush(self._heap, (item.seq, item.sub, item.party, item))
        return self._release()

    @property
    def watermark(self) -> int:
        """The seq up to which every source has sent everything (-1 until all have spoken)."""
        if len(self._watermarks) < self.sources:
            return -1
        return min(self._watermarks.values())

    def watermarks(self) -> dict[int, int]:
        """The last watermark of each source (to store, and restore after a restart)."""
        return dict(self._watermarks)

    def pending(self) -> int:
        return len(self._heap)

    def _release(self) -> list[PartyWork]:
        limit = self.watermark
        ready: list[PartyWork] = []
        heap = self._heap
        while heap and heap[0][0] <= limit:
            ready.append(heapq.heappop(heap)[3])
        return ready
