"""Reading a topic whole, and reading it at chosen places (`pipeline/kafka/whole.py`)."""

from __future__ import annotations

from confluent_kafka import Consumer, Producer

from pipeline.kafka.whole import read_at, read_placed_to_end
from tests.integration.conftest import LocalServers
from tests.integration.stream_helpers import scratch_topic


def test_a_topic_is_read_whole_and_at_chosen_places(local_servers: LocalServers) -> None:
    topic = scratch_topic("reads", local_servers)
    producer = Producer({"bootstrap.servers": local_servers.kafka_brokers})
    for n in range(1_000):
        producer.produce(topic, value=f"m{n}".encode(), partition=0)
    assert producer.flush(30) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": local_servers.kafka_brokers,
            "group.id": "reads-test",
            "enable.auto.commit": False,
        }
    )
    try:
        whole = list(read_placed_to_end(consumer, topic, 30))
        assert whole == [(0, n, f"m{n}".encode()) for n in range(1_000)]
        # close places read straight through, far ones (more than 200 apart) jumped to
        places = [(0, 999), (0, 3), (0, 4), (0, 5), (0, 700), (0, 3), (0, 0)]
        got = read_at(consumer, topic, places, 30)
        assert got == {place: f"m{place[1]}".encode() for place in places}
    finally:
        consumer.close()
