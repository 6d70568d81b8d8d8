"""Read a topic whole: every partition from its first message to where it ends now."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition


def read_to_end(consumer: Consumer, topic: str, timeout: float) -> Iterable[bytes]:
    """The values of `topic`'s messages, in offset order within each partition, up to
    the ends the partitions had when asked (an assigned, not subscribed, `consumer`: no
    group offsets are used or committed)."""
    return (value for _partition, _offset, value in read_placed_to_end(consumer, topic, timeout))


def read_placed_to_end(
    consumer: Consumer, topic: str, timeout: float
) -> Iterator[tuple[int, int, bytes]]:
    """`read_to_end`, with each value's partition and offset."""
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
        partition, offset = message.partition() or 0, message.offset() or 0
        if value is not None:
            yield partition, offset, value
        if offset + 1 >= ends.get(partition, 0):
            ends.pop(partition, None)


def read_at(
    consumer: Consumer, topic: str, places: Iterable[tuple[int, int]], timeout: float
) -> dict[tuple[int, int], bytes]:
    """The values at `places` (partition, offset) of `topic`, read partition by partition
    in offset order: straight through where the places are close together, jumping
    ahead where they are far apart."""
    wanted: dict[int, list[int]] = {}
    for partition, offset in sorted(set(places)):
        wanted.setdefault(partition, []).append(offset)
    found: dict[tuple[int, int], bytes] = {}
    for partition, offsets in wanted.items():
        i = 0  # offsets[i] is the next one wanted
        consumer.assign([TopicPartition(topic, partition, offsets[0])])
        while i < len(offsets):
            message = consumer.poll(timeout)
            if message is None:
                raise TimeoutError(f"reading {topic}[{partition}]@{offsets[i]} timed out")
            if message.error() or message.partition() != partition:
                continue
            offset = message.offset() or 0
            if offset > offsets[i]:
                raise LookupError(f"{topic}[{partition}]@{offsets[i]} is no longer on the topic")
            if offset == offsets[i]:
                found[partition, offset] = message.value() or b""
                i += 1
                if i < len(offsets) and offsets[i] - offset > _JUMP:
                    consumer.assign([TopicPartition(topic, partition, offsets[i])])
    consumer.unassign()
    return found


_JUMP = 200  # messages to read through rather than jump over; a jump costs a fetch
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
