"""Reading a range of a partition directly, as a stage does for messages it was not given."""

from __future__ import annotations

import uuid

from confluent_kafka import Producer

from pipeline.kafka.gaps import read_range
from pipeline.settings import Settings
from tests.integration.conftest import LocalServers


def test_read_range_returns_exactly_the_offsets_asked_for(local_servers: LocalServers) -> None:
    topic = f"gaps{uuid.uuid4().hex[:10]}"
    producer = Producer({"bootstrap.servers": local_servers.kafka_brokers})
    for n in range(6):
        producer.produce(topic, value=f"m{n}".encode(), partition=0)
    assert producer.flush(30) == 0
    settings = Settings(kafka_brokers=local_servers.kafka_brokers, app_id="gap-test")
    found = read_range(settings, topic, 0, 2, 5)
    assert [(f.message.offset, f.value) for f in found] == [(2, b"m2"), (3, b"m3"), (4, b"m4")]
    assert all((f.message.topic, f.message.partition) == (topic, 0) for f in found)
    assert read_range(settings, topic, 0, 5, 6)[0].value == b"m5"
