"""The local servers work as the pipeline will use them.

Kafka: topics via the admin API, produce/consume with confluent-kafka, and
consumption with aiokafka (the client under faust). ClickHouse: version, the
profile settings, and a ReplacingMergeTree with LowCardinality and
DateTime('UTC') columns collapsing a duplicate key under FINAL.
"""

from __future__ import annotations

import asyncio
import os
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]
from clickhouse_driver import Client
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

# confluent_kafka.admin re-exports NewTopic without declaring it; mypy wants the source
from confluent_kafka.cimpl import NewTopic

from tests.integration.conftest import LocalServers

pytestmark = pytest.mark.integration

TIMEOUT_S = 30.0


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


# --- Kafka -------------------------------------------------------------------


@pytest.fixture
def admin(local_servers: LocalServers) -> AdminClient:
    return AdminClient({"bootstrap.servers": local_servers.kafka_brokers})


@pytest.fixture
def topic(admin: AdminClient) -> Iterator[str]:
    name = _unique("it-local-")
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=1, replication_factor=1)], request_timeout=15
    )
    futures[name].result(timeout=TIMEOUT_S)
    yield name
    admin.delete_topics([name], operation_timeout=15)[name].result(timeout=TIMEOUT_S)


def _produce_confluent(brokers: str, topic: str, key: bytes, value: bytes) -> Message:
    delivered: list[tuple[KafkaError | None, Message]] = []
    producer = Producer({"bootstrap.servers": brokers, "acks": "all", "enable.idempotence": True})
    producer.produce(
        topic, key=key, value=value, on_delivery=lambda err, msg: delivered.append((err, msg))
    )
    assert producer.flush(TIMEOUT_S) == 0, "confluent-kafka producer did not deliver in time"
    assert len(delivered) == 1
    err, msg = delivered[0]
    assert err is None, f"delivery failed: {err}"
    return msg


def test_kafka_admin_creates_topic(admin: AdminClient, topic: str) -> None:
    metadata = admin.list_topics(topic=topic, timeout=10)
    assert topic in metadata.topics
    assert metadata.topics[topic].error is None
    assert len(metadata.topics[topic].partitions) == 1
    assert len(metadata.brokers) == 1


def test_kafka_default_partitions(admin: AdminClient) -> None:
    # num.partitions=4 on the local broker: a topic created without a count gets 4
    name = _unique("it-local-default-")
    admin.create_topics([NewTopic(name, replication_factor=1)])[name].result(timeout=TIMEOUT_S)
    try:
        metadata = admin.list_topics(topic=name, timeout=10)
        assert len(metadata.topics[name].partitions) == 4
    finally:
        admin.delete_topics([name], operation_timeout=15)[name].result(timeout=TIMEOUT_S)


def test_kafka_confluent_produce_and_consume(local_servers: LocalServers, topic: str) -> None:
    brokers = local_servers.kafka_brokers
    sent = _produce_confluent(brokers, topic, b"call-1", b'{"duration_s": 61}')
    assert sent.partition() == 0

    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": _unique("it-local-group-"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    received: Message | None = None
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + TIMEOUT_S
        while received is None and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            assert msg.error() is None, f"consumer error: {msg.error()}"
            received = msg
        assert received is not None, f"no message consumed from {topic} within {TIMEOUT_S}s"
        consumer.commit(message=received, asynchronous=False)
        committed = consumer.committed([TopicPartition(topic, 0)], timeout=10)
    finally:
        consumer.close()
    assert received.key() == b"call-1"
    assert received.value() == b'{"duration_s": 61}'
    sent_offset = sent.offset()
    assert sent_offset is not None
    assert received.offset() == sent_offset
    assert committed[0].offset == sent_offset + 1


def test_kafka_aiokafka_consumes(local_servers: LocalServers, topic: str) -> None:
    brokers = local_servers.kafka_brokers
    _produce_confluent(brokers, topic, b"from-confluent", b"1")

    async def scenario() -> list[tuple[bytes | None, bytes | None]]:
        producer = AIOKafkaProducer(bootstrap_servers=brokers, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, key=b"from-aiokafka", value=b"2")
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=brokers,
            group_id=_unique("it-local-aio-"),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        got: list[tuple[bytes | None, bytes | None]] = []
        try:

            async def collect() -> None:
                while len(got) < 2:
                    batches = await consumer.getmany(timeout_ms=1000)
                    for records in batches.values():
                        got.extend((r.key, r.value) for r in records)

            await asyncio.wait_for(collect(), TIMEOUT_S)
            await consumer.commit()
        finally:
            await consumer.stop()
        return got

    assert asyncio.run(scenario()) == [(b"from-confluent", b"1"), (b"from-aiokafka", b"2")]


# --- ClickHouse --------------------------------------------------------------


@pytest.fixture
def ch(local_servers: LocalServers) -> Iterator[Client]:
    client = Client(
        host=local_servers.clickhouse_host,
        port=local_servers.clickhouse_port,
        database=local_servers.clickhouse_database,
        connect_timeout=5,
        send_receive_timeout=TIMEOUT_S,
    )
    yield client
    client.disconnect()


def test_clickhouse_version(ch: Client) -> None:
    ((version,),) = ch.execute("SELECT version()")
    print(f"ClickHouse server version: {version}")
    expected = os.environ.get("CDR_CLICKHOUSE_EXPECT_VERSION", "18.16")
    assert version.startswith(expected), (
        f"ClickHouse {version}, expected {expected}.x "
        "(set CDR_CLICKHOUSE_EXPECT_VERSION to another prefix, or empty, for other servers)"
    )


def test_clickhouse_settings_timezone_database(ch: Client, local_servers: LocalServers) -> None:
    rows = ch.execute(
        "SELECT value FROM system.settings WHERE name = 'allow_experimental_low_cardinality_type'"
    )
    assert rows == [("1",)]
    # 18.16 names UTC by its alias Etc/UTC; what matters is a zero offset
    ((tz,),) = ch.execute("SELECT timezone()")
    assert tz in {"UTC", "Etc/UTC"}
    assert ch.execute("SELECT toString(toDateTime(1706745599))") == [("2024-01-31 23:59:59",)]
    assert ch.execute("SELECT currentDatabase()") == [(local_servers.clickhouse_database,)]


def test_clickhouse_http_port(local_servers: LocalServers) -> None:
    query = urllib.parse.urlencode({"query": "SELECT 1"})
    url = f"http://{local_servers.clickhouse_host}:{local_servers.clickhouse_http_port}/?{query}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"1\n"


def test_clickhouse_replacing_merge_tree_final(ch: Client) -> None:
    table = _unique("it_local_")
    ch.execute(
        f"""
        CREATE TABLE {table} (
            call_id String,
            carrier LowCardinality(String),
            started_at DateTime('UTC'),
            duration_s UInt32,
            version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        PARTITION BY toYYYYMM(started_at)
        ORDER BY call_id
        """
    )
    try:
        started = datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC)
        insert = f"INSERT INTO {table} (call_id, carrier, started_at, duration_s, version) VALUES"
        ch.execute(insert, [("call-1", "acme", started, 60, 1)])
        ch.execute(insert, [("call-1", "acme", started, 61, 2)])

        assert ch.execute(f"SELECT count() FROM {table} FINAL") == [(1,)]
        rows = ch.execute(
            f"SELECT call_id, carrier, toString(started_at), toUnixTimestamp(started_at), "
            f"duration_s, version FROM {table} FINAL"
        )
        assert rows == [("call-1", "acme", "2024-01-31 23:59:59", 1706745599, 61, 2)]
        types = dict(
            ch.execute(
                "SELECT name, type FROM system.columns "
                "WHERE database = currentDatabase() AND table = %(table)s",
                {"table": table},
            )
        )
        assert types["carrier"] == "LowCardinality(String)"
        assert types["started_at"] == "DateTime('UTC')"
    finally:
        ch.execute(f"DROP TABLE IF EXISTS {table}")
