"""Shared bits of the CDR reader tests: fixture paths and a file writer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline.cdrs.model import RawCdr

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cdrs"


def write(directory: Path, name: str, content: str | bytes) -> Path:
    """A file `name` in `directory` holding `content` (text is written as UTF-8)."""
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def reason(cdr: RawCdr) -> str | None:
    return None if cdr.defect is None else cdr.defect.reason
