"""The ClickHouse sink: batches of records written, then where the sink stands."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from pipeline.app import Pipeline
from pipeline.kafka.gaps import FetchedMessage
from pipeline.kafka.progress import Progress, plan
from pipeline.kafka.stalls import StallWatch
from pipeline.schemas import columns
from pipeline.schemas.batches import Columns
from pipeline.schemas.columns import Reader
from pipeline.warehouse.offsets import TABLE as OFFSETS
from pipeline.warehouse.offsets import offset_columns, stored_offsets
from pipeline.warehouse.summary import blocked_counts

log = logging.getLogger("cdr.sink")
MAX_MESSAGES = 200  # per insert; each message carries up to a few hundred records
RETRY_SECONDS = (0.5, 1, 2, 5)
IDLE_SECONDS = 2.0  # at least this long between checks for stalled partitions
T = TypeVar("T")


class SinkWarehouse(Protocol):
    @property
    def database(self) -> str: ...

    def insert_columns(
        self, table: str, columns: Mapping[str, Sequence[object]], batch_rows: int = ...
    ) -> int: ...

    def rows(self, sql: str) -> list[dict[str, object]]: ...


SINKS: tuple[tuple[str, str, Reader], ...] = (  # topic, table, how a message becomes columns
    ("rated", "rated_cdrs", columns.rated),
    ("postings", "postings", columns.postings),
    ("alerts", "alerts", columns.alerts),
    ("balances", "balances", columns.balances),
)


def register(p: Pipeline, connect: Callable[[], SinkWarehouse]) -> None:
    """One sink agent per output topic, each with its own warehouse connection and a
    timer that finds messages never delivered to it; and the timer that reads the
    blocked-party gauges back from the warehouse."""
    for source, table, read in SINKS:
        sink = _Sink(p, source, table, read, connect)
        p.app.agent(p.topics[source], name=f"cdr.sink.{table}")(sink.agent)
        interval = max(IDLE_SECONDS, 2 * p.settings.sink_flush_seconds)
        p.app.timer(interval=interval, name=f"cdr.sink.{table}.undelivered")(sink.undelivered)
    reader: list[SinkWarehouse] = []  # the gauges' own connection, opened on first use

    @p.app.timer(interval=p.settings.metrics_refresh_seconds)  # type: ignore[untyped-decorator]
    async def blocked_gauges() -> None:
        """The counts as landed in ClickHouse: right after a restart or a rebalance too,
        which counts kept from the balance snapshots a worker sent itself were not."""
        loop = asyncio.get_running_loop()
        try:
            if not reader:
                reader.append(await loop.run_in_executor(None, connect))
            counts = await loop.run_in_executor(None, blocked_counts, reader[0])
        except Exception as error:  # a timer's exception would stop the whole worker
            log.warning("blocked-party gauges not refreshed: %s", error)
            return
        p.metrics.blocked_now(counts)


class _Sink:
    """One output topic into its table: every offset written, whatever the consumer
    delivers.

    The consumer group's committed offsets cannot be trusted to mean "written":
    faust-streaming 0.15.3 drops messages it fetched before a rebalance and commits past
    them (docs/delivery.md). So the sink keeps its own progress in the warehouse
    (`sink_offsets`, written after the rows): a delivered message after a gap has the
    gap read directly first, and a partition the consumer has stopped delivering is
    read directly by the timer (`StallWatch`). A message is written at least
    once; the tables drop repeats by their keys.
    """

    def __init__(
        self,
        p: Pipeline,
        source: str,
        table: str,
        read: Reader,
        connect: Callable[[], SinkWarehouse],
    ) -> None:
        self.p = p
        self.table = table
        self.read = read
        self.connect = connect
        self.topic: str = p.topics[source].get_topic_name()
        self.progress = p.sinks[self.topic] = Progress()
        self.lock = asyncio.Lock()  # one write at a time: the agent's or the timer's
        self._db: SinkWarehouse | None = None
        self.watch = StallWatch()  # partitions the consumer stopped delivering

    async def agent(self, stream: AsyncIterable[Any]) -> None:
        within = self.p.settings.sink_flush_seconds
        async for events in stream.take_events(MAX_MESSAGES, within=within):  # type: ignore[attr-defined]
            async with self.lock:
                await self._write(events)

    async def undelivered(self) -> None:
        """A partition with messages after the sink's next offset where neither the
        sink nor the consumer moved since the previous check has stalled: read its next
        messages directly and write them."""
        try:
            await self._catch_up()
        except Exception as error:  # a timer's exception would stop the whole worker
            log.warning("%s: check for undelivered messages failed: %r", self.topic, error)

    async def _catch_up(self) -> None:
        async with self.lock:
            await self._load()
            seen = self.p.positions(self.topic, self.progress.next)
            found: list[Any] = []
            for partition, stalled in self.watch.stalled(seen).items():
                found += await self.p.read_stalled(self.topic, partition, stalled, "sink")
            if found:
                await self._write(found)

    async def _warehouse(self) -> SinkWarehouse:
        if self._db is None:
            self._db = await asyncio.get_running_loop().run_in_executor(None, self.connect)
        return self._db

    async def _load(self) -> None:
        """Where the sink stands, read from the warehouse once after each rebalance."""
        if not self.progress.loaded:
            db = await self._warehouse()
            stored = await _until_done(
                self.p, self.table, "read sink offsets", stored_offsets, db, self.topic
            )
            self.progress.load(stored)

    async def _insert(self, db: SinkWarehouse, batch: Columns, lag_ends: list[float]) -> None:
        """Insert a batch's rows (none: nothing), retried until the warehouse has them."""
        if rows := _rows(batch):
            limit = self.p.settings.sink_batch_rows
            await _until_done(
                self.p, self.table, "insert", db.insert_columns, self.table, batch, limit
            )
            self.p.metrics.sink(self.table, rows, lag_ends)

    async def _write(self, events: Sequence[Any]) -> None:
        """Write `events` and any messages missing before them; then record the offsets.

        Messages are decoded just before their rows are inserted, `sink_batch_rows` at a
        time: a sink behind by a backlog takes 200 messages at once (100,000 rows and
        more), and holding them all decoded made the worker's memory jump by hundreds
        of MiB."""
        began = time.perf_counter()
        await self._load()
        todo: list[Any] = []
        ends: dict[int, int] = {}
        for partition, delivered in sorted(_by_partition(events).items()):
            expected = self.progress.next(partition)
            step = plan(expected, delivered)
            for start, end in step.missing:
                known = expected is not None or start > 0  # else a later start is no gap
                message = FetchedMessage(self.topic, partition, end)
                todo += await self.p.skipped(message, start, known)
            todo += [delivered[offset] for offset in step.write]
            if step.write:
                ends[partition] = step.write[-1] + 1
        version = time.time_ns() // 1_000_000
        db = await self._warehouse()
        batch: Columns = {}
        lag_ends: list[float] = []
        for event in todo:
            decoded = await self.p.decoded(
                event, functools.partial(_at_version, self.read, version)
            )
            if decoded is not None:
                for name, values in decoded[0].items():
                    batch.setdefault(name, []).extend(values)
                lag_ends.extend(decoded[1])
            if _rows(batch) >= self.p.settings.sink_batch_rows:
                await self._insert(db, batch, lag_ends)
                batch, lag_ends = {}, []
        await self._insert(db, batch, lag_ends)
        if ends:
            done = offset_columns(self.topic, ends, int(time.time()))
            await _until_done(
                self.p, self.table, "record sink offsets", db.insert_columns, OFFSETS, done
            )
            for partition, end in ends.items():
                self.progress.advance(partition, end)
        seconds = time.perf_counter() - began
        self.p.metrics.batch_seconds.labels(f"sink.{self.table}").observe(seconds)


def _rows(batch: Columns) -> int:
    return len(next(iter(batch.values()), ()))


def _by_partition(events: Sequence[Any]) -> dict[int, dict[int, Any]]:
    """The events of each partition by offset (a repeat delivery counts once)."""
    found: dict[int, dict[int, Any]] = {}
    for event in events:
        message = event.message
        found.setdefault(message.partition, {})[message.offset] = event
    return found


def _at_version(read: Reader, version: int, data: bytes) -> tuple[Columns, list[float]]:
    return read(data, version)


async def _until_done(p: Pipeline, table: str, what: str, call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` in an executor, retried while the warehouse is away; the sink's
    offsets wait, so nothing is lost."""
    loop = asyncio.get_running_loop()
    attempt = 0
    while True:
        try:
            return await loop.run_in_executor(None, call, *args)
        except Exception as error:  # the driver's errors vary; every one means "not done"
            p.metrics.sink_failed(table)
            delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            log.warning("%s for %s failed (%s); retry in %ss", what, table, error, delay)
            attempt += 1
            await asyncio.sleep(delay)
