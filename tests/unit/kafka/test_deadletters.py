"""Which dead letters a replay sends back, and in what order (no broker)."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.kafka.deadletters import chosen, to_replay
from pipeline.schemas.codec import DeadLetter

AT = datetime(2026, 12, 3, tzinfo=UTC)


def letter(
    partition: int, offset: int, payload: bytes, reason: str = "decode_failed"
) -> DeadLetter:
    return DeadLetter("cdr.raw", partition, offset, reason, "", payload, AT)


def test_messages_go_back_in_offset_order_per_partition_each_once() -> None:
    letters = [
        letter(1, 9, b"b"),
        letter(0, 7, b"y"),
        letter(0, 3, b"x"),
        letter(0, 12, b"x"),  # the replay of @3, which failed again
        letter(1, 2, b"a"),
    ]
    order = [(d.partition, d.offset) for d in to_replay(letters)]
    assert order == [(0, 3), (0, 7), (1, 2), (1, 9)]


def test_letters_are_chosen_by_reason_or_all() -> None:
    letters = [letter(0, 1, b"a", "too_late"), letter(0, 2, b"b", "bad_avro")]
    assert chosen(letters, ("too_late",)) == letters[:1]
    assert chosen(letters, ()) == letters
