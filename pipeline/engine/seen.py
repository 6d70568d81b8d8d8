"""Ids already applied, kept in memory and stored as one table entry per batch."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, MutableMapping

Scan = Callable[[str], Iterable[bytes]]  # values of every stored key with a prefix


class SeenIds(MutableMapping[str, bool]):
    """The CDR, payment and work ids a stage has applied, for replay detection.

    Storing one changelog entry per id would cost a Kafka message per CDR; instead the
    ids a batch adds are stored together under `s|<partition>|<seq>`, and a partition's
    entries are read back once, the first time the stage works on that partition.
    """

    __slots__ = ("_ids", "_loaded", "_new", "_scan", "partition")

    def __init__(self, scan: Scan | None = None) -> None:
        self._ids: set[str] = set()
        self._new: list[str] = []
        self._loaded: set[int] = set()
        self._scan = scan
        self.partition = 0

    def use_partition(self, partition: int) -> None:
        """Work on `partition` next; its stored ids are loaded on first use."""
        self.partition = partition
        if partition not in self._loaded:
            self._loaded.add(partition)
            if self._scan is not None:
                for value in self._scan(f"s|{partition}|"):
                    self._ids.update(json.loads(value))

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def __getitem__(self, key: str) -> bool:
        if key in self._ids:
            return True
        raise KeyError(key)

    def __setitem__(self, key: str, value: bool) -> None:
        if key not in self._ids:
            self._ids.add(key)
            self._new.append(key)

    def __delitem__(self, key: str) -> None:
        raise TypeError("applied ids are never forgotten")

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def take_new(self, seq: int) -> dict[str, bytes]:
        """The table entry for the ids added since the last call (none if nothing new)."""
        if not self._new:
            return {}
        entry = {f"s|{self.partition}|{seq:020d}": json.dumps(self._new).encode()}
        self._new = []
        return entry

    def forget(self) -> None:
        self._ids.clear()
        self._new.clear()
        self._loaded.clear()
