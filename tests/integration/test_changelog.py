"""A stage table's changelog records reach the broker whole and in order."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from pipeline.changelog import Changelogged
from tests.integration.conftest import LocalServers
from tests.integration.stream_helpers import scratch_topic


def _table(producer: AIOKafkaProducer, topic: str) -> SimpleNamespace:
    """What `Changelogged` uses of a Faust table: its data, changelog topic and the
    app's producer, whose `send` has the signature of Faust's aiokafka producer."""

    async def send(
        topic: str, key: bytes, value: bytes | None, partition: int, _ts: None, _headers: None
    ) -> Any:
        return await producer.send(topic, value, key=key, partition=partition)

    return SimpleNamespace(
        data={},
        changelog_topic=SimpleNamespace(get_topic_name=lambda: topic),
        app=SimpleNamespace(producer=SimpleNamespace(send=send)),
    )


def _read(brokers: str, topic: str, partition: int) -> list[tuple[bytes, bytes | None]]:
    """Every record in the partition, in offset order."""
    group = f"changelog-test-{uuid.uuid4().hex}"
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": group})
    found: list[tuple[bytes, bytes | None]] = []
    try:
        _, end = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
        consumer.assign([TopicPartition(topic, partition, 0)])
        while len(found) < end:
            messages = consumer.consume(end - len(found), timeout=30)
            assert messages, f"{topic}[{partition}]: {len(found)} of {end} records read"
            for message in messages:
                assert message.error() is None, message.error()
                key = message.key()
                assert key is not None
                found.append((key, message.value()))
    finally:
        consumer.close()
    return found


def test_records_arrive_in_order(local_servers: LocalServers) -> None:
    brokers = local_servers.kafka_brokers
    topic = scratch_topic("changelog", local_servers)
    admin = AdminClient({"bootstrap.servers": brokers})
    for future in admin.create_topics([NewTopic(topic, num_partitions=2)]).values():
        future.result(30)
    big = b"x" * 40_000  # over the producer's 16 KiB batch size

    async def write() -> dict[bytes, bytes]:
        producer = AIOKafkaProducer(bootstrap_servers=brokers, acks=-1)
        await producer.start()
        try:
            store = Changelogged(_table(producer, topic))
            store.partition = 1
            for n in range(600):
                store[b"k%d" % n] = b"v%d" % n
            store[b"big"] = big
            del store[b"k7"]
            store[b"k0"] = b"again"
            await store.delivered()
            await store.delivered()  # nothing written since: sends nothing
            return dict(store.table.data)
        finally:
            await producer.stop()

    data = asyncio.run(write())
    expected: list[tuple[bytes, bytes | None]] = [(b"k%d" % n, b"v%d" % n) for n in range(600)]
    expected += [(b"big", big), (b"k7", None), (b"k0", b"again")]
    assert _read(brokers, topic, 1) == expected
    assert _read(brokers, topic, 0) == []
    assert data[b"k0"] == b"again" and b"k7" not in data and data[b"big"] == big
