"""Read a topic whole: every partition from its first message to where it ends now."""

from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition


def read_to_end(consumer: Consumer, topic: str, timeout: float) -> Iterable[bytes]:
    """The values of `topic`'s messages, in offset order within each partition, up to
    the ends the partitions had when asked (an assigned, not subscribed, `consumer`: no
    group offsets are used or committed)."""
    metadata = consumer.list_topics(topic, timeout=timeout)
    partitions = sorted(metadata.topics[topic].partitions) if topic in metadata.topics else []
    ends: dict[int, int] = {}
    assignment = []
    for p in partitions:
        low, high = _watermarks(consumer, TopicPartition(topic, p), timeout)
        if high > low:
            ends[p] = high
            assignment.append(TopicPartition(topic, p, low))
    if not assignment:
        return
    consumer.assign(assignment)
    while ends:
        message = consumer.poll(timeout)
        if message is None:
            raise TimeoutError(f"reading {topic} timed out")
        if message.error():
            continue
        value = message.value()
        if value is not None:
            yield value
        partition, offset = message.partition() or 0, message.offset() or 0
        if offset + 1 >= ends.get(partition, 0):
            ends.pop(partition, None)


_NOT_READY = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE}


def _watermarks(consumer: Consumer, partition: TopicPartition, timeout: float) -> tuple[int, int]:
    """A partition's first and next offsets, asked again while the broker says to retry:
    a topic created a moment ago answers "Not leader for partition" for a while, even
    once its metadata names a leader (seen when `catalog publish` read the catalog topic
    it had just created)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            low, high = consumer.get_watermark_offsets(partition, timeout=timeout)
            return int(low), int(high)
        except KafkaException as error:
            kafka_error = error.args[0]
            again = kafka_error.retriable() or kafka_error.code() in _NOT_READY
            if not again or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
