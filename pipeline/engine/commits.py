"""All-or-nothing state writes over a key-value table that is replicated as an ordered log.

A stage's state change for one message is several keys (balances, packages, days, ids,
held work, watermarks). Each key is one changelog record, and a crash can cut the
sequence anywhere. So every value carries the commit it belongs to and the value it
replaced, and each write ends with the partition's commit counter `c|<partition>`.
Readers take a value's new side once the counter has reached its commit, and its old
side otherwise: a store restored after a crash reads exactly as before the cut message
or exactly as after it, never in between. This relies on what Kafka gives a changelog
partition: the records a reader sees are a prefix of those written, in order.
"""

from __future__ import annotations

import struct
from collections.abc import MutableMapping

_HEADER = struct.Struct(">BiqI")  # flags, partition, commit, length of the new value
_HAS_NEW, _HAS_OLD = 1, 2


def mark_key(partition: int) -> bytes:
    return b"c|%d" % partition


def wrap(partition: int, commit: int, new: bytes | None, old: bytes | None) -> bytes:
    """A stored value: written by `commit` of `partition`, replacing `old`."""
    flags = (_HAS_NEW if new is not None else 0) | (_HAS_OLD if old is not None else 0)
    head = _HEADER.pack(flags, partition, commit, len(new or b""))
    return head + (new or b"") + (old or b"")


class CommittedTable:
    """Stage state as effective values over a raw table of wrapped ones."""

    __slots__ = ("_dead", "store")

    def __init__(self, store: MutableMapping[bytes, bytes]) -> None:
        self.store = store
        self._dead: dict[int, set[bytes]] = {}  # partition -> keys committed as deleted

    def committed(self, partition: int) -> int:
        """The partition's last complete commit (0 before the first)."""
        raw = self.store.get(mark_key(partition))
        return 0 if raw is None else int(raw)

    def get(self, key: str) -> bytes | None:
        raw = self.store.get(key.encode())
        return None if raw is None else self._effective(raw)

    def scan(self, prefix: str) -> list[bytes]:
        """Effective values of every key starting with `prefix`, in key order."""
        wanted = prefix.encode()
        found = sorted((k, v) for k, v in self.store.items() if k.startswith(wanted) and v)
        values = (self._effective(raw) for _, raw in found)
        return [value for value in values if value is not None]

    def write(self, partition: int, changes: dict[str, bytes | None]) -> None:
        """Apply one message's changes to `partition` as one commit (None deletes)."""
        if not changes:
            return
        store = self.store
        commit = self.committed(partition) + 1
        self._bury(partition)
        dead = self._dead.setdefault(partition, set())
        for key, new in changes.items():
            raw_key = key.encode()
            raw = store.get(raw_key)
            old = None if raw is None else self._effective(raw)
            store[raw_key] = wrap(partition, commit, new, old)
            if new is None:
                dead.add(raw_key)
            else:
                dead.discard(raw_key)
        store[mark_key(partition)] = b"%d" % commit

    def forget(self) -> None:
        """Partitions moved: keys to bury may belong to another worker now."""
        self._dead.clear()

    def _bury(self, partition: int) -> None:
        """Remove keys an earlier, complete commit deleted: losing this is harmless."""
        dead = self._dead.pop(partition, None)
        for raw_key in dead or ():
            raw = self.store.get(raw_key)
            if raw is not None and self._effective(raw) is None:
                self.store.pop(raw_key, None)

    def _effective(self, raw: bytes) -> bytes | None:
        flags, partition, commit, length = _HEADER.unpack_from(raw)
        start = _HEADER.size
        if commit <= self.committed(partition):
            return raw[start : start + length] if flags & _HAS_NEW else None
        return raw[start + length :] if flags & _HAS_OLD else None
