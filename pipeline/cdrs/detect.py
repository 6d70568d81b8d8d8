"""Telling a CDR file's format from its name and its first non-empty line."""

from __future__ import annotations

import csv
import re
from pathlib import PurePath

JSONL_SUFFIXES = (".jsonl", ".ndjson")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def by_name(path: PurePath) -> str | None:
    """`jsonl` for a `.jsonl` or `.ndjson` file; None when the name does not tell."""
    return "jsonl" if path.suffix.lower() in JSONL_SUFFIXES else None


def sniff(first_line: str) -> str | None:
    """The format a file's first non-empty line shows, or None when it shows none.

    A JSON object is `jsonl`; a row with a `cdr_id` column is our `csv` header; a quoted
    row of 15 or 16 fields whose 11th is a UUID is `freeswitch`; a quoted row of 16 to 18
    fields is `asterisk`.
    """
    text = first_line.strip().lstrip("\ufeff")
    if text.startswith("{"):
        return "jsonl"
    try:
        fields = next(csv.reader([text]), [])
    except csv.Error:  # e.g. a field over the csv module's size limit
        return None
    if any(field.strip().lower() == "cdr_id" for field in fields):
        return "csv"
    if not text.startswith('"'):
        return None
    if len(fields) in (15, 16) and is_uuid(fields[10]):
        return "freeswitch"
    if 16 <= len(fields) <= 18:
        return "asterisk"
    return None


def is_uuid(text: str) -> bool:
    """Whether `text` is a UUID in its usual 8-4-4-4-12 hex form."""
    return _UUID.fullmatch(text.strip()) is not None
