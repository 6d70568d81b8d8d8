"""The ClickHouse sink: batches of records, written, then their offsets committed."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterable, Callable, Sequence
from typing import Any, Protocol

from pipeline.app import Pipeline
from pipeline.engine import serialize
from pipeline.engine.book import BalanceLine
from pipeline.schemas import codec

log = logging.getLogger("cdr.sink")
MAX_MESSAGES = 200  # per insert; each message carries up to a few hundred records
RETRY_SECONDS = (0.5, 1, 2, 5)


class Inserter(Protocol):
    def insert(self, table: str, rows: Sequence[dict[str, Any]], batch_rows: int = ...) -> int: ...


Rows = tuple[list[dict[str, Any]], list[float]]  # rows, and the calls' end times


def _rated(data: bytes, version: int) -> Rows:
    records = codec.decode_rated(data)
    ends = [
        r.start.timestamp() + (r.duration or 0)
        for r in records
        if r.status == "rated" and r.start is not None
    ]
    return [serialize.rated_row(r, version) for r in records], ends


def _postings(data: bytes, version: int) -> Rows:
    return [serialize.posting_row(p, version) for p in codec.decode_postings(data)], []


def _alerts(data: bytes, version: int) -> Rows:
    return [serialize.alert_row(a, version) for a in codec.decode_alerts(data)], []


def _balances(data: bytes, _version: int) -> Rows:
    rows = [
        serialize.balance_row(
            BalanceLine(s.party_type, s.party, s.balance, s.currency, s.blocked), s.at, s.version
        )
        for s in codec.decode_balances(data)
    ]
    return rows, []


SINKS: tuple[tuple[str, str, Callable[[bytes, int], Rows]], ...] = (
    ("rated", "rated_cdrs", _rated),
    ("postings", "postings", _postings),
    ("alerts", "alerts", _alerts),
    ("balances", "balances", _balances),
)


def register(p: Pipeline, connect: Callable[[], Inserter]) -> None:
    """One sink agent per output topic, each with its own warehouse connection."""
    for topic, table, to_rows in SINKS:
        p.app.agent(p.topics[topic], name=f"cdr.sink.{table}")(_sink(p, table, to_rows, connect))


def _sink(
    p: Pipeline,
    table: str,
    to_rows: Callable[[bytes, int], Rows],
    connect: Callable[[], Inserter],
) -> Callable[[Any], Any]:
    async def agent(stream: AsyncIterable[Any]) -> None:
        loop = asyncio.get_running_loop()
        warehouse = await loop.run_in_executor(None, connect)
        within = p.settings.sink_flush_seconds
        async for events in stream.take_events(MAX_MESSAGES, within=within):  # type: ignore[attr-defined]
            began = time.perf_counter()
            version = time.time_ns() // 1_000_000
            rows: list[dict[str, Any]] = []
            ends: list[float] = []
            for event in events:
                decoded = await p.decoded(event, functools.partial(_at_version, to_rows, version))
                if decoded is not None:
                    rows.extend(decoded[0])
                    ends.extend(decoded[1])
            if rows:
                await _insert_until_done(p, loop, warehouse, table, rows)
                p.metrics.sink(table, len(rows), ends)
            p.metrics.batch_seconds.labels(f"sink.{table}").observe(time.perf_counter() - began)

    agent.__name__ = f"sink_{table}"
    return agent


def _at_version(to_rows: Callable[[bytes, int], Rows], version: int, data: bytes) -> Rows:
    return to_rows(data, version)


async def _insert_until_done(
    p: Pipeline,
    loop: asyncio.AbstractEventLoop,
    warehouse: Inserter,
    table: str,
    rows: list[dict[str, Any]],
) -> None:
    """Insert, retrying while the warehouse is away; the offsets wait (nothing is lost)."""
    attempt = 0
    batch_rows = p.settings.sink_batch_rows  # rows per INSERT statement
    while True:
        try:
            await loop.run_in_executor(None, warehouse.insert, table, rows, batch_rows)
            return
        except Exception as error:  # the driver's errors vary; every one means "not written"
            p.metrics.sink_failed(table)
            delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            log.warning(
                "insert of %d rows into %s failed (%s); retry in %ss",
                len(rows),
                table,
                error,
                delay,
            )
            attempt += 1
            await asyncio.sleep(delay)
