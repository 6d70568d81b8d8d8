"""A dict that remembers which keys changed and can fall back to a slower store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TrackedDict(MutableMapping[K, V], Generic[K, V]):
    """In-memory state with a record of changed keys since the last `take_dirty`.

    `load` fetches a key missing from memory (a table restored from its changelog);
    None means the key does not exist yet.
    """

    __slots__ = ("_data", "_dirty", "_load")

    def __init__(self, load: Callable[[K], V | None] | None = None) -> None:
        self._data: dict[K, V] = {}
        self._dirty: set[K] = set()
        self._load = load

    def __getitem__(self, key: K) -> V:
        try:
            return self._data[key]
        except KeyError:
            if self._load is None:
                raise
            value = self._load(key)
            if value is None:
                raise
            self._data[key] = value
            return value

    def __setitem__(self, key: K, value: V) -> None:
        self._data[key] = value
        self._dirty.add(key)

    def __delitem__(self, key: K) -> None:
        del self._data[key]
        self._dirty.add(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def take_dirty(self) -> dict[K, V | None]:
        """Keys changed since the last call with their values (None when deleted)."""
        changed = {key: self._data.get(key) for key in self._dirty}
        self._dirty.clear()
        return changed

    def forget(self) -> None:
        """Drop the memory copy (after a rebalance); the store stays the truth."""
        self._data.clear()
        self._dirty.clear()
