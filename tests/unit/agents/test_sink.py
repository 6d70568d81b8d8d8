"""How the ClickHouse sink writes a batch of messages (no servers: a fake warehouse)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from types import SimpleNamespace

from pipeline.agents.sink import _Sink
from pipeline.app import Pipeline
from pipeline.engine.records import unrated
from pipeline.schemas import columns
from pipeline.schemas.codec import encode_rated
from pipeline.settings import Settings
from tests.builders import cdr


class FakeWarehouse:
    """Records each insert's table and row count; stores no sink offsets."""

    database = "cdr"

    def __init__(self) -> None:
        self.inserts: list[tuple[str, int]] = []

    def insert_columns(
        self, table: str, columns: Mapping[str, Sequence[object]], batch_rows: int = 1
    ) -> int:
        count = len(next(iter(columns.values())))
        self.inserts.append((table, count))
        return count

    def rows(self, sql: str) -> list[dict[str, object]]:
        return []


def message(partition: int, offset: int, cdrs: int) -> SimpleNamespace:
    """A rated-topic event with `cdrs` lines, as an agent receives it."""
    lines = [unrated(cdr(f"c-{partition}-{offset}-{i}"), "no_rate", "") for i in range(cdrs)]
    where = SimpleNamespace(topic="x.rated", partition=partition, offset=offset)
    return SimpleNamespace(message=where, value=encode_rated(lines))


def test_a_batch_is_decoded_and_inserted_sink_batch_rows_at_a_time_then_its_offsets() -> None:
    """A sink behind by a backlog takes 200 messages at once; holding all their rows
    decoded at once made a worker's memory jump by hundreds of MiB."""
    p = Pipeline(Settings(topic_prefix="x", sink_batch_rows=3))
    db = FakeWarehouse()
    sink = _Sink(p, "rated", "rated_cdrs", columns.rated, lambda: db)
    events = [message(0, offset, 2) for offset in range(5)] + [message(1, 0, 1)]
    asyncio.run(sink._write(events))
    assert db.inserts == [
        ("rated_cdrs", 4),  # two messages: 4 rows reach the 3
        ("rated_cdrs", 4),
        ("rated_cdrs", 3),  # the fifth message and partition 1's
        ("sink_offsets", 2),  # once every row is in: one row per partition
    ]
    assert (sink.progress.next(0), sink.progress.next(1)) == (5, 1)
