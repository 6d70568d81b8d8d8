"""Run CDR files and payments through the engine in time order and write the four outputs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from tqdm import tqdm

from pipeline.catalog.loader import load_catalog
from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.cdrs.readers import id_names, read_cdrs
from pipeline.engine import serialize
from pipeline.engine.book import Book, Outcome
from pipeline.engine.ordering import time_order
from pipeline.engine.records import Payment
from pipeline.offline.payments import read_payments
from pipeline.offline.summary import Summary

OUTPUTS = ("rated.jsonl", "postings.jsonl", "alerts.jsonl", "balances.jsonl")
BATCH = 50_000
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class RunOptions:
    catalog: Path
    out: Path
    inputs: Sequence[Path]
    payments: Path | None = None
    fmt: str = "auto"
    source_tz: ZoneInfo = UTC_ZONE
    default_provider: str = ""
    warehouse: Path | None = None
    progress: bool = False


class _Sink:
    """Writes output lines, and warehouse rows in batches when a warehouse is given."""

    def __init__(self, out: Path, warehouse: Path | None, stack: ExitStack) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, IO[str]] = {
            name: stack.enter_context((out / name).open("w", encoding="utf-8")) for name in OUTPUTS
        }
        self.version = time.time_ns() // 1_000_000
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.warehouse = None
        if warehouse is not None:
            from pipeline.warehouse.embedded import EmbeddedWarehouse

            self.warehouse = stack.enter_context(EmbeddedWarehouse(warehouse))
            self.warehouse.migrate()

    def write(self, name: str, line: dict[str, Any]) -> None:
        self.files[name].write(json.dumps(line, ensure_ascii=False) + "\n")

    def row(self, table: str, row: dict[str, Any]) -> None:
        if self.warehouse is None:
            return
        batch = self.rows.setdefault(table, [])
        batch.append(row)
        if len(batch) >= BATCH:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        if self.warehouse is None:
            return
        for name in [table] if table else list(self.rows):
            batch = self.rows.pop(name, [])
            if batch:
                self.warehouse.insert(name, batch)

    def outcome(self, outcome: Outcome) -> None:
        v = self.version
        if outcome.rated is not None:
            self.write("rated.jsonl", serialize.rated_line(outcome.rated))
            self.row("rated_cdrs", serialize.rated_row(outcome.rated, v))
        for p in outcome.postings:
            self.write("postings.jsonl", serialize.posting_line(p))
            self.row("postings", serialize.posting_row(p, v))
        for a in outcome.alerts:
            self.write("alerts.jsonl", serialize.alert_line(a))
            self.row("alerts", serialize.alert_row(a, v))


def _read_all(options: RunOptions) -> Iterator[RawCdr]:
    for path, name in zip(options.inputs, id_names(options.inputs), strict=True):
        yield from read_cdrs(path, options.fmt, options.source_tz, options.default_provider, name)


def _time_of(event: RawCdr | Payment) -> datetime | None:
    return event.at if isinstance(event, Payment) else event.start


def _top_charge(outcome: Outcome) -> tuple[int, str] | None:
    """What the operator itself was paid for a call: the top reseller's charge, if any."""
    resellers = [p for p in outcome.postings if p.party_type is PartyType.RESELLER]
    return (-resellers[-1].amount, resellers[-1].currency) if resellers else None


def run(options: RunOptions, catalog: Catalog | None = None) -> Summary:
    """Load, read, apply every event in time order, write outputs; return the summary."""
    catalog = catalog or load_catalog(options.catalog)
    payments = read_payments(options.payments, catalog) if options.payments else []
    cdrs = list(
        tqdm(_read_all(options), desc="reading", unit=" CDRs", disable=not options.progress)
    )
    summary = Summary(catalog.currency, payments=len(payments))
    book = Book(catalog)
    with ExitStack() as stack:
        sink = _Sink(options.out, options.warehouse, stack)
        opening = book.open()
        sink.outcome(opening)
        summary.add_alerts(opening.alerts)
        events = time_order(cdrs, payments)
        for event in tqdm(events, desc="rating", unit=" events", disable=not options.progress):
            outcome = book.pay(event) if isinstance(event, Payment) else book.rate(event)
            if outcome.duplicate:
                summary.duplicates += 1
                continue
            if outcome.rated is not None:
                summary.add_cdr(outcome.rated, _top_charge(outcome), catalog)
            summary.add_alerts(outcome.alerts)
            sink.outcome(outcome)
        finished = max(
            (t for t in (_time_of(e) for e in events) if t is not None),
            default=datetime.fromtimestamp(0, UTC),
        )
        for balance in book.balance_lines():
            sink.write("balances.jsonl", serialize.balance_line(balance))
            sink.row("balances", serialize.balance_row(balance, finished, sink.version))
        sink.flush()
    return summary
