"""A table cut anywhere in its log reads as before or after each message, never between."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.engine.commits import CommittedTable, mark_key

Change = dict[str, bytes | None]


class LoggedStore(MutableMapping[bytes, bytes]):
    """A dict that records every write in order, as a changelog topic partition would."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.log: list[tuple[bytes, bytes | None]] = []

    def __getitem__(self, key: bytes) -> bytes:
        return self.data[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.data[key] = value
        self.log.append((key, value))

    def __delitem__(self, key: bytes) -> None:
        del self.data[key]
        self.log.append((key, None))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def restored(log: list[tuple[bytes, bytes | None]]) -> LoggedStore:
    """What a worker rebuilds from a changelog that holds only `log`."""
    store = LoggedStore()
    for key, value in log:
        if value is None:
            store.pop(key, None)
        else:
            store[key] = value
    return store


KEYS = [f"b|{n}" for n in range(4)]
messages = st.lists(
    st.dictionaries(
        st.sampled_from(KEYS), st.none() | st.binary(min_size=0, max_size=3), min_size=1
    ),
    min_size=1,
    max_size=8,
)


def view(table: CommittedTable) -> dict[str, bytes]:
    return {key: value for key in KEYS if (value := table.get(key)) is not None}


def applied(changes: list[Change]) -> dict[str, bytes]:
    state: dict[str, bytes | None] = {}
    for change in changes:
        state.update(change)
    return {key: value for key, value in state.items() if value is not None}


@settings(max_examples=200, deadline=None)
@given(messages)
def test_a_cut_log_reads_as_a_whole_number_of_messages(changes: list[Change]) -> None:
    store = LoggedStore()
    table = CommittedTable(store)
    ends: list[int] = []  # log length after each message
    for change in changes:
        table.write(0, change)
        ends.append(len(store.log))
    for cut in range(len(store.log) + 1):
        done = sum(1 for end in ends if end <= cut)  # messages whose commit mark survived
        survivor = CommittedTable(restored(store.log[:cut]))
        assert view(survivor) == applied(changes[:done]), cut
        for change in changes[done:]:  # the restarted worker redoes the rest
            survivor.write(0, change)
        assert view(survivor) == applied(changes)


def test_partitions_commit_independently() -> None:
    store = LoggedStore()
    table = CommittedTable(store)
    table.write(0, {"b|0": b"a"})
    table.write(1, {"b|1": b"b"})
    table.write(0, {"b|0": b"c", "b|2": b"d"})
    cut = store.log[:-1]  # partition 0's second commit lost its mark
    survivor = CommittedTable(restored(cut))
    assert view(survivor) == {"b|0": b"a", "b|1": b"b"}
    assert survivor.committed(0) == 1 and survivor.committed(1) == 1


def test_deleted_keys_are_removed_from_the_store_by_a_later_commit() -> None:
    store = LoggedStore()
    table = CommittedTable(store)
    table.write(0, {"b|0": b"a"})
    table.write(0, {"b|0": None})
    assert b"b|0" in store.data and table.get("b|0") is None  # kept until committed
    table.write(0, {"b|1": b"x"})
    assert set(store.data) == {b"b|1", mark_key(0)}
    assert table.scan("b|") == [b"x"]
