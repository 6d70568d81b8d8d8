"""The raw CDR every reader produces, and the defect a bad row carries instead of failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Defect:
    """Why a row cannot be rated: a reason code (`bad_start`, ...) and a human detail."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class RawCdr:
    """One call as read from a switch file, before rating.

    `start` is timezone-aware; `duration` is whole answered seconds (a fraction already
    rounded up). A row that could not be read carries a `defect` and whatever fields
    could be read; it is reported as unrated, never dropped. `source` is `file:line`.
    """

    cdr_id: str
    account: str
    caller: str
    callee: str
    start: datetime | None
    duration: int | None
    provider: str
    disposition: str = ""
    source: str = ""
    defect: Defect | None = None
