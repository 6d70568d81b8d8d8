"""The sink's progress kept in the warehouse: per topic partition, the next offset to write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.warehouse.base import Readable
from pipeline.warehouse.ddl import SINK_OFFSETS, sink_offsets_sql

TABLE = SINK_OFFSETS.name


def stored_offsets(db: Readable, topic: str) -> dict[int, int]:
    """Per partition of `topic` that its sink has written to, the offset it writes next."""
    rows = db.rows(sink_offsets_sql(db.database, topic))
    return {int(str(r["kafka_partition"])): int(str(r["next_offset"])) for r in rows}


def offset_columns(topic: str, ends: Mapping[int, int], at: int) -> dict[str, list[Any]]:
    """`sink_offsets` columns saying that everything below `ends[partition]` is written
    (`at`: epoch seconds)."""
    partitions = sorted(ends)
    return {
        "topic": [topic] * len(partitions),
        "kafka_partition": partitions,
        "next_offset": [ends[p] for p in partitions],
        "updated_at": [at] * len(partitions),
    }
