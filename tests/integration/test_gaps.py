"""Reading a range of a partition directly, as a stage does for messages it was not given."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition

from pipeline.kafka.gaps import read_range
from pipeline.settings import Settings
from tests.integration.conftest import LocalServers
from tests.integration.stream_helpers import (
    cli,
    isolated_env,
    running_worker,
    scratch_topic,
    wait_for_export,
)
from tests.integration.test_stream import (
    SAMPLE_ARGS,
    SAMPLE_CDRS,
    SAMPLES,
    assert_same,
    base_env,
    offline,
)


def topic_of(servers: LocalServers, messages: int) -> tuple[str, Settings]:
    """A new topic whose partition 0 holds `m0`, `m1`, ...; settings to read it."""
    topic = scratch_topic("gaps", servers)
    producer = Producer({"bootstrap.servers": servers.kafka_brokers})
    for n in range(messages):
        producer.produce(topic, value=f"m{n}".encode(), partition=0)
    assert producer.flush(30) == 0
    return topic, Settings(kafka_brokers=servers.kafka_brokers, app_id="gap-test")


def test_read_range_returns_exactly_the_offsets_asked_for(local_servers: LocalServers) -> None:
    topic, settings = topic_of(local_servers, 6)
    read = read_range(settings, topic, 0, 2, 5)
    assert [(f.message.offset, f.value) for f in read.found] == [(2, b"m2"), (3, b"m3"), (4, b"m4")]
    assert all((f.message.topic, f.message.partition) == (topic, 0) for f in read.found)
    assert read.low == 0
    assert read_range(settings, topic, 0, 5, 6).found[0].value == b"m5"


def test_read_range_does_not_wait_for_offsets_not_written_yet(
    local_servers: LocalServers,
) -> None:
    topic, settings = topic_of(local_servers, 3)
    read = read_range(settings, topic, 0, 1, 10, timeout=5)  # @3..@9 do not exist yet
    assert [f.value for f in read.found] == [b"m1", b"m2"]
    assert read_range(settings, topic, 0, 3, 4, timeout=5).found == []


def test_input_the_consumer_group_committed_past_is_still_processed(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """The stage's stored offset, not the group's, decides: here the group's committed
    offsets say every raw message is done before the worker ever ran, so its consumer
    delivers none, and the worker finds them idle and reads them directly."""
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
    raw = f"{env['CDR_TOPIC_PREFIX']}.raw"
    brokers = local_servers.kafka_brokers
    partitions = int(env["CDR_PARTITIONS"])
    ends = Consumer({"bootstrap.servers": brokers, "group.id": "probe"})
    assert sum(ends.get_watermark_offsets(TopicPartition(raw, p), 10)[1] for p in range(partitions))
    ends.close()
    commit_to_the_end(brokers, env["CDR_APP_ID"], [raw], partitions)
    log = tmp_path / "worker.log"
    with running_worker(env, log) as worker:
        got = wait_for_export(env, expected, tmp_path / "stream", 120, worker)
    assert_same(got, expected)
    assert "delivered nothing since the last check; reading @0.." in log.read_text(errors="replace")


def commit_to_the_end(brokers: str, group_id: str, topics: list[str], partitions: int) -> None:
    """Make the consumer group say every message of `topics` is done."""
    group = Consumer({"bootstrap.servers": brokers, "group.id": group_id})
    ends = [
        TopicPartition(topic, p, group.get_watermark_offsets(TopicPartition(topic, p), 10)[1])
        for topic in topics
        for p in range(partitions)
    ]
    group.commit(offsets=ends, asynchronous=False)
    group.close()


def test_output_the_consumer_group_committed_past_is_still_written(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """The sink's offsets in ClickHouse, not the group's, decide what is written.

    faust-streaming can drop a fetched message at a rebalance and commit past it; a
    postings message was lost that way in CI. Here the group says every output message
    is done, and the warehouse is a new, empty database: the sink finds the messages
    its consumer will never deliver and reads them directly.
    """
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
    with running_worker(env, tmp_path / "first.log") as worker:
        assert_same(wait_for_export(env, expected, tmp_path / "first", 120, worker), expected)
    prefix = env["CDR_TOPIC_PREFIX"]
    outputs = [f"{prefix}.{name}" for name in ("rated", "postings", "alerts", "balances")]
    commit_to_the_end(
        local_servers.kafka_brokers, env["CDR_APP_ID"], outputs, int(env["CDR_PARTITIONS"])
    )
    empty = dict(env, CDR_CLICKHOUSE_DATABASE=f"{env['CDR_CLICKHOUSE_DATABASE']}_empty")
    cli(empty, "db", "migrate")
    log = tmp_path / "second.log"
    with running_worker(empty, log) as worker:
        got = wait_for_export(empty, expected, tmp_path / "second", 120, worker)
    assert_same(got, expected)
    found = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "delivered nothing since" in line
    ]
    probe = Consumer({"bootstrap.servers": local_servers.kafka_brokers, "group.id": "probe"})
    for topic in outputs:
        written = sum(
            probe.get_watermark_offsets(TopicPartition(topic, p), 10)[1]
            for p in range(int(env["CDR_PARTITIONS"]))
        )
        read = any(f"{topic}[" in line and "the sink is at" in line for line in found)
        assert read == (written > 0), topic
    probe.close()
