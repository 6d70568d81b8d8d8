"""Read the dead-letter topic, and send dead letters' messages back where they came from."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from confluent_kafka import Consumer, Producer

from pipeline.kafka.whole import read_to_end
from pipeline.schemas.codec import DeadLetter, DecodeError, decode_dead_letter
from pipeline.settings import Settings
from pipeline.topics import TopicNames


def read_dead_letters(settings: Settings, timeout: float = 30.0) -> list[DeadLetter]:
    """Every dead letter on the topic so far, oldest first within each partition."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_brokers,
            "group.id": f"{settings.app_id}-dead-letter-reader",
            "enable.auto.commit": False,
            "fetch.message.max.bytes": 16_000_000,
        }
    )
    topic = TopicNames.from_settings(settings).deadletter
    try:
        return [_letter(topic, value) for value in read_to_end(consumer, topic, timeout)]
    finally:
        consumer.close()


def replay(settings: Settings, letters: Iterable[DeadLetter], timeout: float = 60.0) -> int:
    """Send the messages of `letters` back to their topics and partitions (`to_replay`);
    returns how many were sent.

    Safe to repeat: the stages recognise CDRs, payments and openings they have applied
    by their ids, and the sink's tables drop repeated rows by key (docs/delivery.md).
    """
    producer = Producer(
        {"bootstrap.servers": settings.kafka_brokers, "message.max.bytes": 16_000_000}
    )
    failed: list[str] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failed.append(str(error))

    messages = to_replay(letters)
    for letter in messages:
        producer.produce(
            letter.topic, value=letter.payload, partition=letter.partition, on_delivery=delivered
        )
        producer.poll(0)
    if producer.flush(timeout) != 0 or failed:
        raise RuntimeError(
            f"dead letters not all sent back to {settings.kafka_brokers}: "
            f"{failed[0] if failed else 'timed out'}"
        )
    return len(messages)


def to_replay(letters: Iterable[DeadLetter]) -> list[DeadLetter]:
    """The letters whose messages to send back, in the order of their original offsets
    within each partition (dead letters spread over the dead-letter topic's partitions
    in no order), each message once: a replayed message that failed again has a second
    letter, for a later offset, with the same bytes."""
    sent: set[tuple[str, int, bytes]] = set()
    order: list[DeadLetter] = []
    for letter in sorted(letters, key=lambda d: (d.topic, d.partition, d.offset)):
        key = (letter.topic, letter.partition, hashlib.sha256(letter.payload).digest())
        if key not in sent:
            sent.add(key)
            order.append(letter)
    return order


def chosen(letters: Sequence[DeadLetter], reasons: Sequence[str]) -> list[DeadLetter]:
    """The letters with one of `reasons` (all of them when none is given)."""
    return [letter for letter in letters if not reasons or letter.reason in reasons]


def _letter(topic: str, value: bytes) -> DeadLetter:
    try:
        return decode_dead_letter(value)
    except DecodeError as error:
        raise DecodeError(error.reason, f"a message on {topic}: {error.detail}") from None
