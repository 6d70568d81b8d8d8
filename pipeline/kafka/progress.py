"""Where a sink stands in each partition, and which offsets a delivered batch leaves out.

Pure: the sink agent (`pipeline/agents/sink.py`) loads the stored offsets from the
warehouse and reads the missing ranges from Kafka.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plan:
    """For one partition: the delivered offsets still to write, in order, and the ranges
    `[start, end)` before or between them that were never delivered."""

    write: list[int]
    missing: list[tuple[int, int]]


def plan(expected: int | None, delivered: Iterable[int]) -> Plan:
    """What to do with the `delivered` offsets of a partition whose sink writes
    `expected` next (None: nothing was ever written; it starts at 0).

    Offsets below `expected` were written before and are left out; a repeat within the
    batch is written once; every offset from `expected` up to the last one delivered is
    either written or in a missing range.
    """
    cursor = expected or 0
    write: list[int] = []
    missing: list[tuple[int, int]] = []
    for offset in sorted(set(delivered)):
        if offset < cursor:
            continue
        if offset > cursor:
            missing.append((cursor, offset))
        write.append(offset)
        cursor = offset + 1
    return Plan(write, missing)


class Progress:
    """Per partition of one topic, the offset its sink writes next, as far as this worker
    knows: loaded from the warehouse once after each rebalance, then kept up to date."""

    __slots__ = ("_next", "loaded")

    def __init__(self) -> None:
        self._next: dict[int, int] = {}
        self.loaded = False

    def load(self, stored: Mapping[int, int]) -> None:
        """Take the stored offsets; never moves a partition back."""
        for partition, offset in stored.items():
            self.advance(partition, offset)
        self.loaded = True

    def next(self, partition: int) -> int | None:
        return self._next.get(partition)

    def advance(self, partition: int, offset: int) -> None:
        """Everything below `offset` of `partition` is written."""
        if offset > self._next.get(partition, -1):
            self._next[partition] = offset

    def forget(self) -> None:
        """Partitions moved: another worker may have written since; load again."""
        self._next.clear()
        self.loaded = False
