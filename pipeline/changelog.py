"""Faust table stores whose changelog writes can be awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, MutableMapping
from typing import Any


class Changelogged(MutableMapping[bytes, bytes]):
    """A Faust table's store whose writes go to its changelog with futures to await.

    Writing `table[key] = value` leaves the changelog record in Faust's producer buffer,
    and faust-streaming 0.15.3's flush before an offset commit gives up after 0.1 s
    without a record sent, buffer not empty (`ProducerBuffer.flush_atmost`). An offset
    could then be committed with its state still buffered, and a kill lose that state.
    Here the writes are sent straight to the producer by `delivered`, which waits for
    the broker to have them.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self.partition = 0  # the changelog partition of the message being written
        self._pending: list[tuple[bytes, bytes | None]] = []

    def __getitem__(self, key: bytes) -> bytes:
        value: bytes = self.table.data[key]
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.table.data[key] = value
        self._pending.append((key, value))

    def __delitem__(self, key: bytes) -> None:
        del self.table.data[key]
        self._pending.append((key, None))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.table.data)

    def __len__(self) -> int:
        return len(self.table.data)

    async def delivered(self) -> None:
        """Send the records written since the last call, in order, straight to the
        producer (not through Faust's buffer or its per-message bookkeeping), and wait
        until the broker has them."""
        pending, self._pending = self._pending, []
        topic = self.table.changelog_topic.get_topic_name()
        send = self.table.app.producer.send
        partition = self.partition
        sent = [await send(topic, key, value, partition, None, None) for key, value in pending]
        if sent:
            await asyncio.gather(*sent)
