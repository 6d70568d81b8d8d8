"""Read a range of one partition directly: the messages a stream consumer skipped."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition

from pipeline.kafka.clients import client_config
from pipeline.settings import Settings


@dataclass(frozen=True, slots=True)
class Fetched:
    """A message read by offset, shaped like the parts of a Faust event the agents use."""

    value: bytes
    message: FetchedMessage


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    topic: str
    partition: int
    offset: int
    headers: tuple[tuple[str, bytes], ...] = ()  # as Faust's messages have them


@dataclass(frozen=True, slots=True)
class Range:
    """What `read_range` found, and the partition's first offset that still exists."""

    found: list[Fetched]
    low: int


def read_range(
    settings: Settings, topic: str, partition: int, start: int, end: int, timeout: float = 60.0
) -> Range:
    """The messages at offsets start..end-1 that still exist (retention may have deleted
    the first ones: `low` is then above `start`; offsets not written yet are not waited
    for). Blocking: run it in an executor."""
    consumer = Consumer(
        client_config(
            settings,
            {
                "group.id": f"{settings.app_id}-gap-reader",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "fetch.message.max.bytes": 8_000_000,
                # librdkafka reads ahead up to 64 MiB by default; a range is a few messages
                "queued.max.messages.kbytes": 16_384,
            },
        )
    )
    found: list[Fetched] = []
    deadline = time.monotonic() + timeout
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout)
        end = min(end, high)
        if max(start, low) >= end:
            return Range(found, low)
        consumer.assign([TopicPartition(topic, partition, start)])
        while True:
            message = consumer.poll(1.0)
            if message is None:
                if time.monotonic() > deadline:
                    raise KafkaException(f"{topic}[{partition}]: @{start}..@{end - 1} not read")
                continue
            if message.error():
                raise KafkaException(message.error())
            offset = message.offset()
            if offset is None or offset >= end:
                return Range(found, low)
            value = message.value() or b""
            headers = tuple(
                (str(h[0]), h[1] if isinstance(h[1], bytes) else b"")
                for h in message.headers() or ()
            )
            found.append(Fetched(value, FetchedMessage(topic, partition, offset, headers)))
            if offset == end - 1:
                return Range(found, low)
    finally:
        consumer.close()
