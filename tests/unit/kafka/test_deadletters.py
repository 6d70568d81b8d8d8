"""Which dead letters a replay sends back, in what order and in what batches (no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.kafka.deadletters import Filed, batches, is_chosen, to_replay
from pipeline.schemas.codec import DeadLetter

AT = datetime(2026, 12, 3, tzinfo=UTC)


def filed(partition: int, offset: int, digest: bytes, size: int = 10) -> Filed:
    return Filed(AT, "cdr.raw", partition, offset, "decode_failed", "", size, digest, (0, offset))


def test_messages_go_back_in_offset_order_per_partition_each_once() -> None:
    letters = [
        filed(1, 9, b"b"),
        filed(0, 7, b"y"),
        filed(0, 3, b"x"),
        filed(0, 12, b"x"),  # the replay of @3, which failed again
        filed(1, 2, b"a"),
    ]
    order = [(d.partition, d.offset) for d in to_replay(letters)]
    assert order == [(0, 3), (0, 7), (1, 2), (1, 9)]


def test_the_same_bytes_on_another_partition_are_another_message() -> None:
    order = to_replay([filed(0, 3, b"x"), filed(1, 3, b"x")])
    assert [(d.partition, d.offset) for d in order] == [(0, 3), (1, 3)]


def test_batches_keep_the_order_and_stay_within_the_budget() -> None:
    order = [filed(0, i, bytes([i]), size) for i, size in enumerate([40, 50, 10, 100, 5, 5])]
    cut = list(batches(order, 60))
    assert [[d.offset for d in batch] for batch in cut] == [[0], [1, 2], [3], [4, 5]]
    assert [d for batch in cut for d in batch] == order  # nothing lost, nothing reordered
    assert all(sum(d.size for d in batch) <= 60 or len(batch) == 1 for batch in cut)
    assert list(batches([], 60)) == []


def test_letters_are_chosen_by_reason_and_time() -> None:
    def letter(reason: str, minutes: int) -> DeadLetter:
        return DeadLetter("cdr.raw", 0, 1, reason, "", b"", AT + timedelta(minutes=minutes))

    assert is_chosen(letter("too_late", 0), ("too_late",), None)
    assert not is_chosen(letter("bad_avro", 0), ("too_late",), None)
    assert is_chosen(letter("bad_avro", 0), (), None)
    assert is_chosen(letter("bad_avro", 0), (), AT)  # at or after
    assert not is_chosen(letter("bad_avro", -1), (), AT)
    assert not is_chosen(letter("too_late", -1), ("too_late",), AT)
