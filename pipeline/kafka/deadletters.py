"""Read the dead-letter topic, and send dead letters' messages back where they came from.

Neither holds the topic in memory. A listing is printed as it is read. A replay reads
the topic once for what to send (`Filed`: a letter without its message's bytes), then
fetches the bytes in the order they go back, `budget` bytes at a time.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from confluent_kafka import Consumer, Producer

from pipeline.kafka.clients import client_config
from pipeline.kafka.whole import read_at, read_placed_to_end
from pipeline.schemas.codec import DeadLetter, DecodeError, decode_dead_letter
from pipeline.settings import Settings
from pipeline.topics import TopicNames

BUDGET = 64 * 1024 * 1024  # bytes of messages a replay holds at once (at least one message)


@dataclass(frozen=True, slots=True)
class Filed:
    """A dead letter without its message's bytes: what the message was (`topic`,
    `partition`, `offset`), why it failed, its size and digest, and where the letter
    itself is (`stored`: its partition and offset on the dead-letter topic)."""

    at: datetime
    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    size: int
    digest: bytes
    stored: tuple[int, int]


def dead_letters(
    settings: Settings,
    reasons: Sequence[str] = (),
    since: datetime | None = None,
    timeout: float = 30.0,
    seen: Counter[str] | None = None,
) -> Iterator[Filed]:
    """The dead letters on the topic now, oldest first within each of its partitions,
    with one of `reasons` (any when none is given) and written at or after `since`;
    `seen` counts every letter read by reason, chosen or not."""
    topic = TopicNames.from_settings(settings).deadletter
    consumer = _consumer(settings)
    try:
        for partition, offset, value in read_placed_to_end(consumer, topic, timeout):
            letter = _letter(topic, partition, offset, value)
            if seen is not None:
                seen[letter.reason] += 1
            if is_chosen(letter, reasons, since):
                payload = letter.payload
                yield Filed(
                    letter.at,
                    letter.topic,
                    letter.partition,
                    letter.offset,
                    letter.reason,
                    letter.detail,
                    len(payload),
                    hashlib.sha256(payload).digest(),
                    (partition, offset),
                )
    finally:
        consumer.close()


def replay(
    settings: Settings, letters: Iterable[Filed], budget: int = BUDGET, timeout: float = 60.0
) -> int:
    """Send the messages of `letters` back to their topics and partitions, in the order
    and number `to_replay` gives; returns how many were sent.

    Safe to repeat: the stages recognise CDRs, payments and openings they have applied
    by their ids, and the sink's tables drop repeated rows by key (docs/delivery.md).
    """
    topic = TopicNames.from_settings(settings).deadletter
    order = to_replay(letters)
    consumer = _consumer(settings)
    producer = Producer(client_config(settings, {"message.max.bytes": 16_000_000}))
    failed: list[str] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failed.append(str(error))

    try:
        for batch in batches(order, budget):
            values = read_at(consumer, topic, [filed.stored for filed in batch], timeout)
            for filed in batch:
                letter = _letter(topic, *filed.stored, values[filed.stored])
                producer.produce(
                    letter.topic,
                    value=letter.payload,
                    partition=letter.partition,
                    on_delivery=delivered,
                )
                producer.poll(0)
            if producer.flush(timeout) != 0 or failed:  # the batch's bytes are let go
                raise RuntimeError(
                    f"dead letters not all sent back to {settings.kafka_brokers}: "
                    f"{failed[0] if failed else 'timed out'}"
                )
    finally:
        consumer.close()
    return len(order)


def is_chosen(letter: DeadLetter, reasons: Sequence[str], since: datetime | None) -> bool:
    """Whether `letter` has one of `reasons` (any when none) and was written at or after
    `since` (any time when None)."""
    return (not reasons or letter.reason in reasons) and (since is None or letter.at >= since)


def to_replay(letters: Iterable[Filed]) -> list[Filed]:
    """The letters whose messages to send back, in the order of their original offsets
    within each partition (dead letters spread over the dead-letter topic's partitions
    in no order), each message once: a replayed message that failed again has a second
    letter, for a later offset, with the same bytes."""
    sent: set[tuple[str, int, bytes]] = set()
    order: list[Filed] = []
    for filed in sorted(letters, key=lambda d: (d.topic, d.partition, d.offset)):
        key = (filed.topic, filed.partition, filed.digest)
        if key not in sent:
            sent.add(key)
            order.append(filed)
    return order


def batches(order: Sequence[Filed], budget: int) -> Iterator[Sequence[Filed]]:
    """`order` cut, in order, into runs of at most `budget` bytes (or one letter)."""
    start, size = 0, 0
    for i, filed in enumerate(order):
        if i > start and size + filed.size > budget:
            yield order[start:i]
            start, size = i, 0
        size += filed.size
    if start < len(order):
        yield order[start:]


def _consumer(settings: Settings) -> Consumer:
    return Consumer(
        client_config(
            settings,
            {
                "group.id": f"{settings.app_id}-dead-letter-reader",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",  # a deleted letter: reported, not waited for
                "fetch.message.max.bytes": 16_000_000,
            },
        )
    )


def _letter(topic: str, partition: int, offset: int, value: bytes) -> DeadLetter:
    try:
        return decode_dead_letter(value)
    except DecodeError as error:
        where = f"{topic}[{partition}]@{offset}"
        raise DecodeError(error.reason, f"the message at {where}: {error.detail}") from None
