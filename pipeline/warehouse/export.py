"""Warehouse rows back into the offline command's output lines: the four .jsonl files."""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.rating.money import format_micro
from pipeline.warehouse.base import Warehouse, WarehouseError, WarehouseUnavailableError
from pipeline.warehouse.ddl import (
    applied_versions_sql,
    migrations,
    select_final_page_sql,
    select_final_sql,
)

PAGE_ROWS = 50_000  # rows per SELECT: bounded memory for tables of millions of rows

Row = Mapping[str, object]

_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
# Characters JSON escapes (" \ and controls) or that sort below the closing quote (space,
# '!'): a key holding one can sort differently as a line than as a key.
_AWKWARD = re.compile(r"[\x00-\x22\\]")


def _int(value: object) -> int:
    """An Int/UInt value: a number, or its text (18.16 quotes 64-bit ints in JSON)."""
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return int(value)
    raise TypeError(f"{value!r} is not an integer column value")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a String column value")
    return value


def _iso(value: object) -> str:
    """'YYYY-MM-DD hh:mm:ss' (UTC) as `serialize.iso` writes it: 'YYYY-MM-DDThh:mm:ssZ'."""
    text = _text(value)
    if not _TIME.fullmatch(text):
        raise ValueError(f"{text!r} is not a DateTime value 'YYYY-MM-DD hh:mm:ss'")
    return f"{text[:10]}T{text[11:]}Z"


def rated_line(row: Row) -> dict[str, Any]:
    """`serialize.rated_line` from a `rated_cdrs` row.

    The amounts are null unless the CDR was rated (an unrated line carries none); start
    and duration are null where the CDR had none (`start_known`, `duration_known` = 0).
    """
    rated = row["status"] == "rated"
    return {
        "cdr_id": row["cdr_id"],
        "status": row["status"],
        "reason": row["reason"],
        "account": row["account"],
        "customer": row["customer"],
        "provider": row["provider"],
        "code": row["code"],
        "code_name": row["code_name"],
        "billed_seconds": _int(row["billed_seconds"]),
        "cost": format_micro(_int(row["cost_micro"])) if rated else None,
        "currency": row["currency"],
        "provider_cost": format_micro(_int(row["provider_cost_micro"])) if rated else None,
        "provider_currency": row["provider_currency"],
        "payer": row["payer"],
        "covered_seconds": _int(row["covered_seconds"]),
        "start": _iso(row["start"]) if _int(row["start_known"]) else None,
        "duration": _int(row["duration"]) if _int(row["duration_known"]) else None,
        "detail": row["detail"],
        "source": row["source"],
    }


def posting_line(row: Row) -> dict[str, Any]:
    """`serialize.posting_line` from a `postings` row."""
    return {
        "posting_id": row["posting_id"],
        "party_type": row["party_type"],
        "party": row["party"],
        "amount": format_micro(_int(row["amount_micro"])),
        "currency": row["currency"],
        "kind": row["kind"],
        "cdr_id": row["cdr_id"],
        "payment_id": row["payment_id"],
        "at": _iso(row["at"]),
    }


def alert_line(row: Row) -> dict[str, Any]:
    """`serialize.alert_line` from an `alerts` row: `details` flattened back, in order."""
    details = json.loads(_text(row["details"]))
    if not isinstance(details, dict):
        raise ValueError(f"alert {row['alert_id']!r}: details {row['details']!r} is no object")
    line: dict[str, Any] = {
        "alert_id": row["alert_id"],
        "party_type": row["party_type"],
        "party": row["party"],
        "kind": row["kind"],
        "at": _iso(row["at"]),
        "threshold": row["threshold"],
        "reason": row["reason"],
    }
    line.update(details)
    return line


def balance_line(row: Row) -> dict[str, Any]:
    """`serialize.balance_line` from a `balances` row."""
    return {
        "party_type": row["party_type"],
        "party": row["party"],
        "balance": format_micro(_int(row["balance_micro"])),
        "currency": row["currency"],
        "blocked": bool(_int(row["blocked"])),
    }


@dataclass(frozen=True, slots=True)
class OutputFile:
    """An output file, the table it comes from, and the key its lines sort by."""

    name: str
    table: str
    key: tuple[str, ...]
    to_line: Callable[[Row], dict[str, Any]]


OUTPUT_FILES = (
    OutputFile("rated.jsonl", "rated_cdrs", ("cdr_id",), rated_line),
    OutputFile("postings.jsonl", "postings", ("posting_id",), posting_line),
    OutputFile("alerts.jsonl", "alerts", ("alert_id",), alert_line),
    OutputFile("balances.jsonl", "balances", ("party_type", "party"), balance_line),
)


def encode(line: Mapping[str, Any]) -> str:
    """One output line without its newline, exactly as `cdr-pipeline rate` writes it."""
    return json.dumps(line, ensure_ascii=False)


def awkward(key: str) -> bool:
    """Whether a line with this key may sort apart from the key (see `merge_bytewise`)."""
    return _AWKWARD.search(key) is not None


def merge_bytewise(in_key_order: Iterable[str], awkward_lines: Iterable[str]) -> Iterator[str]:
    """All lines in bytewise order (`LC_ALL=C sort`), from the two parts of a key-ordered read.

    A line starts `{"key": "<key as JSON>"`, so lines sort as their keys do, unless a key
    holds a character JSON escapes (" \\ controls) or one sorting below the closing quote
    (space, !). Such `awkward_lines` (rare) are sorted here and merged into the others,
    which arrive in key order (bytewise, as ClickHouse sorts String). UTF-8 sorts by
    code point, as Python compares str.
    """
    return heapq.merge(in_key_order, sorted(awkward_lines))


def _pages(warehouse: Warehouse, table: str, key: str, page_rows: int) -> Iterator[Row]:
    """Every row of `table` under FINAL, ordered by `key`, read `page_rows` at a time."""
    after: str | None = None
    while True:
        page = warehouse.rows(
            select_final_page_sql(warehouse.database, table, key, after, page_rows)
        )
        yield from page
        if len(page) < page_rows:
            return
        after = _text(page[-1][key])


def _write(path: Path, lines: Iterable[str]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for line in lines:
            file.write(line + "\n")
            count += 1
    return count


def _export_paged(warehouse: Warehouse, spec: OutputFile, path: Path, page_rows: int) -> int:
    """Stream the table in key order to a partial file; merge in the awkward lines after."""
    (key,) = spec.key
    partial = path.with_name(f".{path.name}.partial")
    odd: list[str] = []

    def plain() -> Iterator[str]:
        for row in _pages(warehouse, spec.table, key, page_rows):
            line = encode(spec.to_line(row))
            if awkward(_text(row[key])):
                odd.append(line)
            else:
                yield line

    try:
        count = _write(partial, plain())
        if not odd:
            partial.replace(path)
            return count
        with partial.open(encoding="utf-8", newline="\n") as lines:
            count = _write(path, merge_bytewise((line[:-1] for line in lines), odd))
    finally:
        partial.unlink(missing_ok=True)
    return count


def _export_whole(warehouse: Warehouse, spec: OutputFile, path: Path) -> int:
    rows = warehouse.rows(select_final_sql(warehouse.database, spec.table, spec.key))
    return _write(path, sorted(encode(spec.to_line(row)) for row in rows))


def check_schema(warehouse: Warehouse) -> None:
    """WarehouseError unless every migration is applied (the export reads every column,
    and the worker's sink writes them)."""
    database = warehouse.database
    hint = "migrate it first: `cdr-pipeline db migrate` (a `rate --warehouse` run migrates"
    hint += " an embedded one)"
    try:
        ledger = warehouse.rows(applied_versions_sql(database))
    except WarehouseUnavailableError:
        raise
    except WarehouseError as error:
        raise WarehouseError(
            f"no warehouse schema in database {database} ({error}); {hint}"
        ) from None
    applied = {_int(row["version"]) for row in ledger}
    missing = [m.version for m in migrations(database) if m.version not in applied]
    if missing:
        versions = ", ".join(map(str, missing))
        raise WarehouseError(f"database {database} lacks migrations {versions}; {hint}")


def export_outputs(warehouse: Warehouse, out: Path, page_rows: int = PAGE_ROWS) -> dict[str, int]:
    """Write rated.jsonl, postings.jsonl, alerts.jsonl, balances.jsonl from the warehouse.

    Each table is read through FINAL (one row per key, the highest version). Lines are
    exactly those `cdr-pipeline rate` writes, each file in bytewise order: the export
    equals `LC_ALL=C sort` of the offline file. Returns the line count per file.
    """
    check_schema(warehouse)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for spec in OUTPUT_FILES:
        path = out / spec.name
        if len(spec.key) == 1:
            counts[spec.name] = _export_paged(warehouse, spec, path, page_rows)
        else:  # balances: one row per party, few enough to sort in memory
            counts[spec.name] = _export_whole(warehouse, spec, path)
    return counts
