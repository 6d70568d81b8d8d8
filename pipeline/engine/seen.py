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
    """

    __slots__ = ("_batch", "_buckets", "_exact", "_loaded", "_quiet", "_scan", "partition")

    def __init__(self, scan: Scan | None = None) -> None:
        self._buckets: list[array[int] | None] = [None] * (1 << _BUCKET_BITS)
        self._batch: list[str] = []  # ids added since the last `take_new`, in order
        self._exact: set[str] | None = None if scan else set()  # confirmed ids, when held
        self._quiet = 0
        self._loaded: set[int] = set()
        self._scan = scan
        self.partition = 0

    def use_partition(self, partition: int) -> None:
        """Work on `partition` next; its stored ids are loaded on first use."""
        self.partition = partition
        if partition not in self._loaded:
            self._loaded.add(partition)
            for ids in self._stored(partition):
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
        self._batch.append(key)
        if self._exact is not None:
            self._exact.add(key)

    def __delitem__(self, key: str) -> None:
        raise TypeError("applied ids are never forgotten")

    def __iter__(self) -> Iterator[str]:
        return iter(set(self._confirmed()))

    def __len__(self) -> int:
        return len(self._confirmed())

    def take_new(self, seq: int) -> dict[str, bytes]:
        """The table entry for the ids added since the last call (none if nothing new)."""
        if self._exact is not None and self._scan is not None:
            self._quiet += 1
            if self._quiet > _QUIET_BATCHES:
                self._exact = None
        if not self._batch:
            return {}
        entry = {f"s|{self.partition}|{seq:020d}": json.dumps(self._batch).encode()}
        self._batch = []
        return entry

    def forget(self) -> None:
        self._buckets = [None] * (1 << _BUCKET_BITS)
        self._batch.clear()
        self._exact = None if self._scan else set()
        self._loaded.clear()

    def _confirmed(self) -> set[str]:
        """The exact ids: the stored ones of every loaded partition, and this batch's."""
        self._quiet = 0
        if self._exact is None:
            exact = set(self._batch)
            for partition in self._loaded:
                for ids in self._stored(partition):
                    exact.update(ids)
            self._exact = exact
        return self._exact

    def _stored(self, partition: int) -> Iterator[list[str]]:
        for value in self._scan(f"s|{partition}|") if self._scan else ():
            ids: list[str] = json.loads(value)
            yield ids

    def _add_fingerprint(self, fingerprint: int) -> None:
        where = (fingerprint >> _SHIFT) & _MASK
        bucket = self._buckets[where]
        if bucket is None:
            self._buckets[where] = array("q", (fingerprint,))
        else:
            insort(bucket, fingerprint)
