"""The ClickHouse sink: batches of records, written, then their offsets committed."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from typing import Any, Protocol

from pipeline.app import Pipeline
from pipeline.schemas import columns
from pipeline.schemas.columns import Columns, Reader
from pipeline.warehouse.summary import blocked_counts

log = logging.getLogger("cdr.sink")
MAX_MESSAGES = 200  # per insert; each message carries up to a few hundred records
RETRY_SECONDS = (0.5, 1, 2, 5)


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
    """One sink agent per output topic, each with its own warehouse connection, and the
    timer that reads the blocked-party gauges back from the warehouse."""
    for topic, table, read in SINKS:
        p.app.agent(p.topics[topic], name=f"cdr.sink.{table}")(_sink(p, table, read, connect))
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


def _sink(
    p: Pipeline,
    table: str,
    read: Reader,
    connect: Callable[[], SinkWarehouse],
) -> Callable[[Any], Any]:
    async def agent(stream: AsyncIterable[Any]) -> None:
        loop = asyncio.get_running_loop()
        warehouse = await loop.run_in_executor(None, connect)
        within = p.settings.sink_flush_seconds
        async for events in stream.take_events(MAX_MESSAGES, within=within):  # type: ignore[attr-defined]
            began = time.perf_counter()
            version = time.time_ns() // 1_000_000
            batch: Columns = {}
            ends: list[float] = []
            for event in events:
                decoded = await p.decoded(event, functools.partial(_at_version, read, version))
                if decoded is not None:
                    for name, values in decoded[0].items():
                        batch.setdefault(name, []).extend(values)
                    ends.extend(decoded[1])
            rows = len(next(iter(batch.values()), ()))
            if rows:
                await _insert_until_done(p, loop, warehouse, table, batch, rows)
                p.metrics.sink(table, rows, ends)
            p.metrics.batch_seconds.labels(f"sink.{table}").observe(time.perf_counter() - began)

    agent.__name__ = f"sink_{table}"
    return agent


def _at_version(read: Reader, version: int, data: bytes) -> tuple[Columns, list[float]]:
    return read(data, version)


async def _insert_until_done(
    p: Pipeline,
    loop: asyncio.AbstractEventLoop,
    warehouse: SinkWarehouse,
    table: str,
    batch: Columns,
    rows: int,
) -> None:
    """Insert, retrying while the warehouse is away; the offsets wait (nothing is lost)."""
    attempt = 0
    batch_rows = p.settings.sink_batch_rows  # rows per INSERT statement
    while True:
        try:
            await loop.run_in_executor(None, warehouse.insert_columns, table, batch, batch_rows)
            return
        except Exception as error:  # the driver's errors vary; every one means "not written"
            p.metrics.sink_failed(table)
            delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            log.warning(
                "insert of %d rows into %s failed (%s); retry in %ss",
                rows,
                table,
                error,
                delay,
            )
            attempt += 1
            await asyncio.sleep(delay)
