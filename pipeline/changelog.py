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
    Here each write's future is kept, and `delivered` waits for all of them.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self.partition = 0  # the changelog partition of the message being written
        self._sent: list[Any] = []

    def __getitem__(self, key: bytes) -> bytes:
        value: bytes = self.table.data[key]
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.table.data[key] = value
        self._sent.append(self.table.send_changelog(self.partition, key, value))

    def __delitem__(self, key: bytes) -> None:
        del self.table.data[key]
        self._sent.append(self.table.send_changelog(self.partition, key, None))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.table.data)

    def __len__(self) -> int:
        return len(self.table.data)

    async def delivered(self) -> None:
        sent, self._sent = self._sent, []
        if sent:
            await asyncio.gather(*sent)
