"""Applied ids: fingerprints in memory, exact answers, ids stored one entry per batch."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.engine import seen as seen_module
from pipeline.engine.seen import SeenIds


class Table:
    """A stage table's stored entries, as the worker's table scan returns them."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def scan(self, prefix: str) -> Iterator[bytes]:
        return (value for key, value in sorted(self.entries.items()) if key.startswith(prefix))


# An operation: ("add", partition, ids of one batch), ("check", partition, id), ("restart",).
ids = st.sampled_from([f"c{i}" for i in range(30)])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 2), st.lists(ids, max_size=6)),
        st.tuples(st.just("check"), st.integers(0, 2), ids),
        st.tuples(st.just("restart")),
    ),
    max_size=60,
)


@pytest.mark.parametrize("fingerprint", [hash, lambda _: 7, len], ids=["hash", "one", "len"])
@settings(max_examples=150, deadline=None)
@given(steps=operations)
def test_answers_are_exact_whatever_the_fingerprints(
    fingerprint: object, steps: list[tuple[object, ...]]
) -> None:
    """Membership equals a plain set of the ids of every partition loaded so far, through
    merges, restarts (memory dropped, entries read back) and fingerprints that collide."""
    table = Table()
    stored: dict[int, set[str]] = {}
    with (
        mock.patch.object(seen_module, "_fingerprint", fingerprint),
        mock.patch.object(seen_module, "_QUIET_BATCHES", 2),
    ):
        applied = SeenIds(table.scan)
        loaded: set[int] = set()
        seq = 0
        for step in steps:
            if step[0] == "restart":
                applied.forget()
                loaded.clear()
                continue
            partition = step[1]
            assert isinstance(partition, int)
            applied.use_partition(partition)
            loaded.add(partition)
            known = set().union(*(stored.get(p, set()) for p in loaded))
            if step[0] == "check":
                assert (step[2] in applied) == (step[2] in known)
                continue
            batch = step[2]
            assert isinstance(batch, list)
            fresh: set[str] = set()
            for cdr_id in batch:
                assert (cdr_id in applied) == (cdr_id in known)
                if cdr_id not in known:
                    fresh.add(cdr_id)
                applied[cdr_id] = True
                known.add(cdr_id)
                assert cdr_id in applied
            seq += 1
            table.entries.update(applied.take_new(seq))
            stored.setdefault(partition, set()).update(fresh)
        assert set(applied) == set().union(*(stored.get(p, set()) for p in loaded))


def test_a_batch_stores_its_new_ids_once_in_order() -> None:
    applied = SeenIds()
    for cdr_id in ["b", "a", "b", "c"]:
        applied[cdr_id] = True
    assert applied.take_new(7) == {"s|0|00000000000000000007": b'["b", "a", "c"]'}
    assert applied.take_new(8) == {}


def test_exact_ids_are_held_only_while_repeats_come() -> None:
    """Fingerprints only for new traffic; the exact ids are read back for a repeat and
    dropped again after quiet batches."""
    table = Table()
    with (
        mock.patch.object(seen_module, "_QUIET_BATCHES", 3),
    ):
        applied = SeenIds(table.scan)
        applied.use_partition(0)
        for seq in range(10):
            for i in range(5):
                applied[f"id{seq}-{i}"] = True
            table.entries.update(applied.take_new(seq))
        assert applied._exact is None
        assert sum(len(bucket or ()) for bucket in applied._buckets) == 50
        assert "id3-2" in applied  # a repeat: confirmed against the stored ids
        assert applied._exact is not None
        assert len(applied._exact) == 50
        for seq in range(10, 14):
            applied[f"id{seq}"] = True
            table.entries.update(applied.take_new(seq))
        assert applied._exact is None
        assert "id12" in applied
        assert "nope" not in applied


days = st.sampled_from([None, "2026-03-01", "2026-03-02", "2026-03-03"])
dated_operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 1), st.lists(ids, max_size=6), days),
        st.tuples(st.just("check"), st.integers(0, 1), ids),
        st.tuples(st.just("expire"), st.integers(0, 1), days.filter(bool)),
        st.tuples(st.just("restart")),
    ),
    max_size=60,
)


@pytest.mark.parametrize("fingerprint", [hash, lambda _: 7], ids=["hash", "one"])
@settings(max_examples=150, deadline=None)
@given(steps=dated_operations)
def test_expired_days_are_forgotten_and_the_rest_stays_exact(
    fingerprint: object, steps: list[tuple[object, ...]]
) -> None:
    """Ids kept by day: `expire` forgets a partition's stored days before its cutoff (the
    first time each cutoff is reached since a restart), ids kept for good stay, and
    membership stays exact, in memory and read back from the table."""
    table = Table()
    stored: dict[int, dict[str, str | None]] = {}  # partition -> id -> day
    with mock.patch.object(seen_module, "_fingerprint", fingerprint):
        applied = SeenIds(table.scan)
        loaded: set[int] = set()
        cutoffs: dict[int, str] = {}
        seq = 0
        for step in steps:
            if step[0] == "restart":
                applied.forget()
                loaded.clear()
                cutoffs.clear()
                continue
            partition = step[1]
            assert isinstance(partition, int)
            applied.use_partition(partition)
            loaded.add(partition)
            known = {i for p in loaded for i in stored.get(p, {})}
            if step[0] == "check":
                assert (step[2] in applied) == (step[2] in known)
            elif step[0] == "expire":
                before = step[2]
                assert isinstance(before, str)
                gone = applied.expire(before)
                for key in gone:
                    del table.entries[key]
                if cutoffs.get(partition, "") < before:
                    cutoffs[partition] = before
                    mine = stored.get(partition, {})
                    stored[partition] = {
                        i: day for i, day in mine.items() if day is None or day >= before
                    }
                else:
                    assert gone == {}
            else:
                applied.day = step[3]  # type: ignore[assignment]
                batch = step[2]
                assert isinstance(batch, list)
                for cdr_id in batch:
                    if cdr_id not in known:
                        stored.setdefault(partition, {})[cdr_id] = applied.day
                        known.add(cdr_id)
                    applied[cdr_id] = True
                seq += 1
                table.entries.update(applied.take_new(seq))
        assert set(applied) == {i for p in loaded for i in stored.get(p, {})}
        everything = {i for p in stored for i in stored[p]}
        applied.forget()
        for partition in stored:
            applied.use_partition(partition)
        assert set(applied) == everything  # the table holds exactly what is kept


def test_ids_with_a_day_are_stored_apart_from_ids_kept_for_good() -> None:
    applied = SeenIds()
    applied.partition = 3
    applied["pay-1"] = True
    applied.day = "2026-03-20"
    applied["a"] = True
    applied.day = "2026-03-21"
    applied["b"] = True
    applied.day = "2026-03-20"
    applied["c"] = True
    entries = applied.take_new(9)
    assert entries == {
        "s|3|00000000000000000009": b'["pay-1"]',
        "s|3|00000000000000000009|2026-03-20": b'{"day": "2026-03-20", "seq": 9, '
        b'"ids": ["a", "c"]}',
        "s|3|00000000000000000009|2026-03-21": b'{"day": "2026-03-21", "seq": 9, "ids": ["b"]}',
    }
