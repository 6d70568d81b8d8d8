"""Repeat detection for reseller and provider work by the message that produced it.

The rating stage processes each raw partition's offsets once and in order, and sends a
message's work (to each target partition at most one work message) before it moves
on. So the work messages one target partition receives from one raw partition carry
strictly growing origin offsets, except for repeats: the rating stage sends a
message's work again when a crash or a move of its partition comes between sending it
and storing its state. A work message whose origin offset is not after the last one
taken from that raw partition is such a repeat. This replaces an applied-id set that
grew by one id per work item, forever, with one stored offset per raw partition.
"""

from __future__ import annotations

import json

from pipeline.engine.events import Origin
from pipeline.engine.seen import Scan


class Origins:
    """Per target partition, the last origin offset taken from each raw partition.

    Stored under `r|<partition>|<raw partition>` in the stage's table, in the same commit
    as the work it let through; read back on a partition's first use.
    """

    __slots__ = ("_last", "_scan")

    def __init__(self, scan: Scan | None = None) -> None:
        self._scan = scan
        self._last: dict[int, dict[int, int]] = {}

    def _of(self, partition: int) -> dict[int, int]:
        last = self._last.get(partition)
        if last is None:
            last = self._last[partition] = {}
            for value in self._scan(f"r|{partition}|") if self._scan is not None else ():
                source, offset = json.loads(value)
                last[int(source)] = int(offset)
        return last

    def repeats(self, partition: int, origin: Origin) -> bool:
        """Whether a work message from `origin` was taken by `partition` before."""
        return origin.offset <= self._of(partition).get(origin.partition, -1)

    def take(self, partition: int, origin: Origin) -> dict[str, bytes | None]:
        """Record `origin` as taken; the table entry to store with the message's state."""
        self._of(partition)[origin.partition] = origin.offset
        entry = json.dumps([origin.partition, origin.offset]).encode()
        return {f"r|{partition}|{origin.partition}": entry}

    def forget(self) -> None:
        self._last.clear()
