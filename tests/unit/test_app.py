"""How the worker's Faust app is set up to read raw partitions in step (no servers)."""

from __future__ import annotations

import asyncio
from typing import Any

from faust.types import TP

from pipeline.app import Pipeline
from pipeline.settings import Settings


def test_the_rating_agents_buffer_holds_the_configured_number_of_raw_messages() -> None:
    p = Pipeline(Settings(topic_prefix="x", raw_buffer_messages=16))
    stream_channel = p.topics["raw"].clone(is_iterator=True)  # what an agent reads from
    assert stream_channel.queue.maxsize == 16
    assert p.topics["rated"].clone(is_iterator=True).queue.maxsize == 4096  # Faust's default


def test_a_full_raw_buffer_stops_no_raw_partition_from_being_fetched() -> None:
    """Faust stops fetching the partition whose message meets a buffer under pressure;
    for the raw topic that starved one partition for minutes (docs/streaming.md)."""
    p = Pipeline(Settings(topic_prefix="x"))
    consumer = p.app.consumer
    stopped = consumer._buffered_partitions  # type: ignore[attr-defined]
    consumer.on_buffer_full(TP("x.raw", 1))
    assert TP("x.raw", 1) not in stopped
    consumer.on_buffer_full(TP("x.postings", 1))  # other topics keep Faust's behaviour
    assert TP("x.postings", 1) in stopped


def test_a_fetch_brings_at_most_the_configured_bytes_per_partition() -> None:
    p = Pipeline(Settings(topic_prefix="x", fetch_partition_bytes=1_048_576))
    assert p.app.conf.consumer_max_fetch_size == 1_048_576


def test_by_default_a_fetch_brings_at_most_two_mebibytes_per_partition() -> None:
    """The default that keeps a million-account worker under 1 GiB in a backlog
    (benchmarks/RESULTS.md, "Memory as accounts grow")."""
    p = Pipeline(Settings(topic_prefix="x"))
    assert p.app.conf.consumer_max_fetch_size == 2 * 1024 * 1024


def _fetch_wait_ms(settings: Settings) -> int:
    """The fetch wait of the aiokafka consumer the worker's app builds (not started)."""
    p = Pipeline(settings)

    async def build() -> int:
        thread = p.app.consumer._thread  # type: ignore[attr-defined]
        consumer = thread._create_worker_consumer(p.app.transport)
        return int(consumer._fetch_max_wait_ms)

    return asyncio.run(build())


def test_a_fetch_waits_at_most_the_configured_time_for_data() -> None:
    """faust-streaming fixes 1.5 s, which held messages of partitions left out of the
    fetch in flight for as long (benchmarks/RESULTS.md)."""
    assert _fetch_wait_ms(Settings(topic_prefix="x")) == 100
    assert _fetch_wait_ms(Settings(topic_prefix="x", fetch_wait_ms=250)) == 250


def test_a_raw_message_waits_for_the_catalog_its_partition_announced() -> None:
    """The pipeline's wait is its CatalogMarks' (tests/unit/kafka/test_catalog_marks.py),
    for the message's partition."""
    from pipeline.kafka.gaps import FetchedMessage

    p = Pipeline(Settings(topic_prefix="x", catalog_wait_seconds=5))
    marks = p.catalog_marks
    marks.started(3)
    marks.read_through(3)
    marks.note(1, [("cdr-catalog-end", b"9")])

    async def run() -> None:
        await asyncio.wait_for(p.catalog_published_by(FetchedMessage("x.raw", 0, 5)), 0.05)
        waiting = asyncio.ensure_future(p.catalog_published_by(FetchedMessage("x.raw", 1, 5)))
        await asyncio.sleep(0.15)
        assert not waiting.done()
        marks.read_through(9)
        await asyncio.wait_for(waiting, 0.2)

    asyncio.run(run())


def test_a_decoder_bug_dead_letters_the_message_as_decode_failed() -> None:
    from types import SimpleNamespace

    from pipeline.kafka.gaps import FetchedMessage

    p = Pipeline(Settings(topic_prefix="x"))
    letters: list[tuple[object, ...]] = []

    async def dead_letter(*args: object) -> Any:
        letters.append(args)
        return asyncio.sleep(0)

    p.dead_letter = dead_letter  # type: ignore[method-assign,assignment]  # no broker

    def buggy(data: bytes) -> object:
        raise IndexError("tuple index out of range")

    event = SimpleNamespace(value=b"\x01", message=FetchedMessage("x.raw", 2, 7))
    assert asyncio.run(p.decoded(event, buggy)) is None
    assert letters == [
        ("x.raw", 2, 7, "decode_failed", "IndexError: tuple index out of range", b"\x01")
    ]
