"""The writes alone: what any design must do at least, timed with no billing logic.

The same raw CDRs as `bench_passthrough` are produced and consumed, but for each CDR the
rows the full pipeline lands in ClickHouse are inserted: its rated line and its postings
(customer, every reseller above it, provider), worked out by the offline book before the
clock starts and inserted as columns, the sink's own path. Balance snapshots and alerts
are left out, so the figure is, if anything, above what the pipeline could reach with
every stage, topic and state write made free. Compare with `bench_passthrough` (one row
per CDR) and `bench_stream` on the same data: `python -m benchmarks.bench_floor`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.bench_passthrough import raw_run
from pipeline.catalog.model import Catalog
from pipeline.cdrs.model import RawCdr
from pipeline.engine import serialize
from pipeline.engine.book import Book
from pipeline.engine.events import Sequenced
from pipeline.engine.records import Payment
from pipeline.kafka.produce import EventProducer, run_base
from pipeline.schemas.codec import decode_raw
from pipeline.warehouse.ddl import TABLES
from pipeline.warehouse.server import ServerWarehouse

Rows = dict[str, tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]


def outputs(catalog: Catalog, events: list[RawCdr | Payment], version: int) -> Rows:
    """Each CDR's rated row and posting rows, as value tuples in table column order."""
    book = Book(catalog)
    book.open()
    found: Rows = {}
    for event in events:
        if isinstance(event, Payment):
            book.pay(event)
            continue
        outcome = book.rate(event)
        if outcome.rated is None:
            continue
        row = serialize.rated_row(outcome.rated, version)
        postings = [serialize.posting_row(p, version) for p in outcome.postings]
        found[event.cdr_id] = (
            [_epoch_row(row, "rated_cdrs")],
            [_epoch_row(p, "postings") for p in postings],
        )
    return found


def _epoch_row(row: dict[str, Any], table: str) -> tuple[Any, ...]:
    """A row's values in column order, DateTime text (UTC) as epoch seconds."""
    return tuple(
        int(datetime.fromisoformat(row[c.name]).replace(tzinfo=UTC).timestamp())
        if c.type.startswith("DateTime")
        else row[c.name]
        for c in TABLES[table].columns
    )


def _columns(names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def main() -> None:
    settings, catalog, events, consumer = raw_run("floor", __doc__)
    rows = outputs(catalog, events, 1)
    rated_names = TABLES["rated_cdrs"].column_names()
    posting_names = TABLES["postings"].column_names()
    began = time.time()
    EventProducer(settings, catalog).send(events, run_base())
    cdrs = postings = 0
    with ServerWarehouse.from_settings(settings) as db:
        while cdrs < len(rows):
            rated: list[tuple[Any, ...]] = []
            lines: list[tuple[Any, ...]] = []
            for message in consumer.consume(200, 1.0):
                value = message.value()
                if message.error() or value is None:
                    continue
                for item in decode_raw(value):
                    if isinstance(item, Sequenced) and isinstance(item.event, RawCdr):
                        rated_rows, posting_rows = rows[item.event.cdr_id]
                        rated += rated_rows
                        lines += posting_rows
            if rated:
                db.insert_columns("rated_cdrs", _columns(rated_names, rated))
            if lines:
                db.insert_columns("postings", _columns(posting_names, lines))
            if rated or lines:
                consumer.commit(asynchronous=False)
                cdrs += len(rated)
                postings += len(lines)
    elapsed = time.time() - began
    consumer.close()
    print(
        f"writes alone: {cdrs} CDRs ({postings} postings) in {elapsed:.1f} s = "
        f"{cdrs / elapsed:,.0f} CDRs/s"
    )


if __name__ == "__main__":
    main()
