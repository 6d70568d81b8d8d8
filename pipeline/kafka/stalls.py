"""Which partitions a consumer has stopped delivering, from what successive checks see.

Pure: the stage and sink agents (`pipeline/agents/`) gather what they see of each
partition and read a stalled one directly (`pipeline/kafka/gaps.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DIRECT_READ_MESSAGES = 256  # at most this many messages of a partition per direct read


@dataclass(frozen=True, slots=True)
class Seen:
    """One partition at one check: the reader's next offset (None: it has processed
    nothing there yet, so 0), the last offset the consumer delivered (None: none), and
    the partition's end as last fetched (None: not known yet)."""

    next: int | None
    read: int | None
    end: int | None

    @property
    def behind(self) -> bool:
        """There is, or may be, a message at or after the reader's next offset."""
        return self.end is None or self.end > (self.next or 0)

    def span(self) -> tuple[int, int]:
        """The offsets `[start, end)` to read directly: from the reader's next offset, at
        most `DIRECT_READ_MESSAGES` (an unknown end is found by the read itself)."""
        start = self.next or 0
        limit = start + DIRECT_READ_MESSAGES
        return start, limit if self.end is None else min(self.end, limit)


class StallWatch:
    """Per partition, what the previous check saw.

    A partition is stalled when two checks in a row find it behind with neither the
    reader nor the consumer moved in between: there is work, and nothing is delivering
    it. A consumer that is merely slow moves between checks, so checks must be far
    enough apart for it to deliver something (a second or more).

    Why it is needed: faust-streaming 0.15.3 can move its fetch position past messages
    it never delivers (fetched during a rebalance or under an old generation), and after
    a rebalance it sometimes delivers nothing more from a partition at all. A later
    message shows such a gap (`Pipeline.skipped`); when none comes, only this does.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[int, Seen] = {}

    def stalled(self, seen: Mapping[int, Seen]) -> dict[int, Seen]:
        """The partitions of `seen` stalled since the previous check; `seen` becomes the
        previous check (a partition not in it is forgotten)."""
        last, self._last = self._last, {p: s for p, s in seen.items() if s.behind}
        return {p: s for p, s in self._last.items() if _unmoved(last.get(p), s)}

    def forget(self) -> None:
        """Start over: the partitions moved."""
        self._last.clear()


def _unmoved(before: Seen | None, now: Seen) -> bool:
    """Whether an earlier check saw the reader and the consumer where they are now. The
    end may move meanwhile: new messages, still not delivered."""
    return before is not None and (before.next, before.read) == (now.next, now.read)
