"""Ids already applied: compact fingerprints in memory, the ids stored one entry per batch."""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, MutableMapping

Scan = Callable[[str], Iterable[bytes]]  # values of every stored key with a prefix

_BUCKET_BITS = 16  # fingerprints spread by their top bits over 65,536 small sorted arrays
_QUIET_BATCHES = 256  # batches without a repeat before the exact ids are dropped again
_SHIFT, _MASK = 64 - _BUCKET_BITS, (1 << _BUCKET_BITS) - 1
_fingerprint = hash  # 64 bits; a test swaps in one that collides


class SeenIds(MutableMapping[str, bool]):
    """The CDR, payment and opening ids a stage has applied, for replay detection.

    Storing one changelog entry per id would cost a Kafka message per CDR; instead the
    ids a batch adds are stored together under `s|<partition>|<seq>`, and a partition's
    entries are read back once, the first time the stage works on that partition.

    Memory holds a 64-bit fingerprint (`hash`) per id, in small sorted arrays chosen by
    its top bits (8 bytes an id), instead of the ids themselves (about 95 bytes an id in
    a set). A fingerprint that is not there proves the id new. One that is there
    is a repeat or, rarely, another id with the same fingerprint, so it is confirmed
    against the exact ids, read back from the stored entries the first time it is
    needed and kept while repeats go on (a file produced twice), then dropped again.
    The answer is always exact; only its cost depends on the fingerprints.

    Ids added while `day` is set are stored by that day, `s|<partition>|<seq>|<day>`, and
    `expire` forgets a partition's days before a cutoff, from memory and from the table
    (`pipeline/engine/window.py`). Ids added with no day (payments, openings, or any id
    when no replay window is set) are stored under `s|<partition>|<seq>` for good.
    """

    __slots__ = (
        "_batch",
        "_buckets",
        "_exact",
        "_expired",
        "_loaded",
        "_quiet",
        "_scan",
        "day",
        "partition",
    )

    def __init__(self, scan: Scan | None = None) -> None:
        self._buckets: list[array[int] | None] = [None] * (1 << _BUCKET_BITS)
        self._batch: dict[str | None, list[str]] = {}  # ids added since `take_new`, by day
        self._exact: set[str] | None = None if scan else set()  # confirmed ids, when held
        self._quiet = 0
        self._loaded: set[int] = set()
        self._expired: dict[int, str] = {}  # partition -> days before this are forgotten
        self._scan = scan
        self.partition = 0
        self.day: str | None = None  # the day ids added now are kept under; None: for good

    def use_partition(self, partition: int) -> None:
        """Work on `partition` next; its stored ids are loaded on first use."""
        self.partition = partition
        if partition not in self._loaded:
            self._loaded.add(partition)
            for _, _, ids in self._entries(partition):
                for cdr_id in ids:
                    self._add_fingerprint(_fingerprint(cdr_id))
                if self._exact is not None:
                    self._exact.update(ids)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        fingerprint = _fingerprint(key)
        bucket = self._buckets[(fingerprint >> _SHIFT) & _MASK]
        if bucket is None:
            return False
        at = bisect_left(bucket, fingerprint)
        if at == len(bucket) or bucket[at] != fingerprint:
            return False
        return key in self._confirmed()

    def __getitem__(self, key: str) -> bool:
        if key in self:
            return True
        raise KeyError(key)

    def __setitem__(self, key: str, value: bool) -> None:
        fingerprint = _fingerprint(key)
        where = (fingerprint >> _SHIFT) & _MASK
        bucket = self._buckets[where]
        if bucket is None:
            self._buckets[where] = array("q", (fingerprint,))
        else:
            at = bisect_left(bucket, fingerprint)
            if at < len(bucket) and bucket[at] == fingerprint and key in self._confirmed():
                return
            bucket.insert(at, fingerprint)
        self._batch.setdefault(self.day, []).append(key)
        if self._exact is not None:
            self._exact.add(key)

    def __delitem__(self, key: str) -> None:
        raise TypeError("applied ids are never forgotten")

    def __iter__(self) -> Iterator[str]:
        return iter(set(self._confirmed()))

    def __len__(self) -> int:
        return len(self._confirmed())

    def take_new(self, seq: int) -> dict[str, bytes]:
        """The table entries for the ids added since the last call, one per day."""
        if self._exact is not None and self._scan is not None:
            self._quiet += 1
            if self._quiet > _QUIET_BATCHES:
                self._exact = None
        entries: dict[str, bytes] = {}
        for day, ids in self._batch.items():
            if day is None:
                entries[_entry_key(self.partition, seq, None)] = json.dumps(ids).encode()
            else:
                stored = {"day": day, "seq": seq, "ids": ids}
                entries[_entry_key(self.partition, seq, day)] = json.dumps(stored).encode()
        self._batch = {}
        return entries

    def expire(self, before: str) -> dict[str, None]:
        """Forget this partition's ids kept under days before `before` (`2026-03-20`):
        their fingerprints now, their stored entries with the deletions returned (to be
        written with the batch's other state). Ids not stored yet are left for the next
        cutoff; each cutoff is worked out once."""
        partition = self.partition
        if self._scan is None or self._expired.get(partition, "") >= before:
            return {}
        self._expired[partition] = before
        gone: dict[str, None] = {}
        for day, seq, ids in self._entries(partition):
            if day is None or day >= before:
                continue
            gone[_entry_key(partition, seq, day)] = None
            for cdr_id in ids:
                self._drop_fingerprint(_fingerprint(cdr_id))
        if gone:
            self._exact = None  # read again when next needed (an id may be in two partitions)
        return gone

    def forget(self) -> None:
        self._buckets = [None] * (1 << _BUCKET_BITS)
        self._batch.clear()
        self._exact = None if self._scan else set()
        self._loaded.clear()
        self._expired.clear()

    def _confirmed(self) -> set[str]:
        """The exact ids: the stored ones of every loaded partition, and this batch's."""
        self._quiet = 0
        if self._exact is None:
            exact = {cdr_id for ids in self._batch.values() for cdr_id in ids}
            for partition in self._loaded:
                for _, _, ids in self._entries(partition):
                    exact.update(ids)
            self._exact = exact
        return self._exact

    def _entries(self, partition: int) -> Iterator[tuple[str | None, int, list[str]]]:
        """(day, seq, ids) of each stored entry; entries kept for good have no day (and
        their seq, not needed, is given as 0)."""
        for value in self._scan(f"s|{partition}|") if self._scan else ():
            stored = json.loads(value)
            if isinstance(stored, list):
                yield None, 0, stored
            else:
                yield stored["day"], stored["seq"], stored["ids"]

    def _drop_fingerprint(self, fingerprint: int) -> None:
        where = (fingerprint >> _SHIFT) & _MASK
        bucket = self._buckets[where]
        if bucket is None:
            return
        at = bisect_left(bucket, fingerprint)
        if at < len(bucket) and bucket[at] == fingerprint:
            del bucket[at]
            if not bucket:
                self._buckets[where] = None

    def _add_fingerprint(self, fingerprint: int) -> None:
        where = (fingerprint >> _SHIFT) & _MASK
        bucket = self._buckets[where]
        if bucket is None:
            self._buckets[where] = array("q", (fingerprint,))
        else:
            insort(bucket, fingerprint)


def _entry_key(partition: int, seq: int, day: str | None) -> str:
    key = f"s|{partition}|{seq:020d}"
    return key if day is None else f"{key}|{day}"
