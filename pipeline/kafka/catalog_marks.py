"""How far the catalog topic must be read before a raw message may give up on a catalog
it lacks: marks that `catalog publish` puts on the raw partitions, against how far the
catalog watcher has read. Offsets only, so no clock is compared with another.

`catalog publish` writes the catalog's files, then a message to every raw partition
(the new parties' openings, and ticks) with the header `CATALOG_END_HEADER`: the catalog
topic's end offset once the files were in. Anything produced after `catalog publish`
returned follows that message in its partition, and a stage reads a partition in order.
So when a message needs something the catalog in use lacks, every catalog published
before it was produced ends at or before the highest mark its partition has shown, or
before the end the catalog topic had when the worker started.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger("cdr.catalog")

CATALOG_END_HEADER = "cdr-catalog-end"


Headers = list[tuple[str, str | bytes | None]]  # as confluent-kafka's produce takes them


def catalog_end_header(end: int) -> Headers:
    """The headers of `catalog publish`'s raw messages: the catalog topic's end offset."""
    return [(CATALOG_END_HEADER, b"%d" % end)]


def catalog_end_of(headers: Sequence[tuple[str, Any]] | Mapping[str, Any] | None) -> int:
    """The catalog end a raw message's headers announce; 0 when none (or not a number)."""
    if not headers:
        return 0
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        if name == CATALOG_END_HEADER and isinstance(value, bytes | str):
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


class CatalogMarks:
    """The catalog ends raw partitions have announced, and how far the watcher has read."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self.marks: dict[int, int] = {}  # raw partition -> highest catalog end announced
        self.start_end: int | None = None  # the catalog topic's end when the worker started
        self.read = 0  # the watcher has read, and loaded or refused, all before this offset
        self.behind: int | None = None  # a wait for this end ran out

    def note(self, partition: int, headers: Any) -> None:
        """A raw message of `partition` was read: remember the catalog end it announces."""
        end = catalog_end_of(headers)
        if end > self.marks.get(partition, 0):
            self.marks[partition] = end

    def started(self, end: int) -> None:
        """The catalog topic's end when the watcher began to read it."""
        if self.start_end is None:
            self.start_end = end
            self._caught_up()

    def read_through(self, offset: int) -> None:
        """The watcher has read, and loaded or refused, everything before `offset`."""
        self.read = max(self.read, offset)
        self._caught_up()

    def _caught_up(self) -> None:
        if self.behind is None or self.start_end is None:
            return
        if self.read >= max(self.behind, self.start_end):
            log.info("the catalog watcher has caught up; messages wait for it again")
            self.behind = None

    def needed(self, partition: int) -> int | None:
        """The offset the watcher must read through for `partition`'s messages so far;
        None while the topic's end at start is not known."""
        if self.start_end is None:
            return None
        return max(self.marks.get(partition, 0), self.start_end)

    def ready(self, partition: int) -> bool:
        needed = self.needed(partition)
        return needed is not None and self.read >= needed

    async def published_by(self, partition: int, where: str) -> None:
        """Wait until every catalog published before the message at `where` (a message
        of `partition`, read after every earlier one) is loaded or refused, for at most
        `wait_seconds`; after a wait runs out, none waits again until the watcher has
        read through what that one needed."""
        if self.ready(partition) or self.behind is not None:
            return
        log.info("%s needs what the catalog in use lacks; waiting for a newer one", where)
        deadline = time.monotonic() + self.wait_seconds
        while not self.ready(partition):
            if time.monotonic() > deadline:
                self.behind = self.needed(partition) or 0
                log.error(
                    "%s: the catalog topic was not read through offset %s within %s s "
                    "(CDR_CATALOG_WAIT_SECONDS); going on with the catalog in use, and not "
                    "waiting again until the catalog watcher has caught up",
                    where,
                    self.needed(partition),
                    self.wait_seconds,
                )
                return
            await asyncio.sleep(0.05)
