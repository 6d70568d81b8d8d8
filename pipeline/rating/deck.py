"""A rate deck: rows per code, longest-prefix lookup of the row in force at a start time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from pipeline.rating.profiles import BusinessHours, Profile, matches

OPEN_END = 2**62  # epoch seconds standing for "no end date"


@dataclass(frozen=True, slots=True)
class DeckRow:
    """One deck row: a code's rate for a profile from `effective` (inclusive) to `end`."""

    code: str
    code_name: str
    rate: Decimal  # per minute, tariff currency
    effective: int  # epoch seconds
    end: int  # epoch seconds, OPEN_END when open
    min_volume: int
    interval: int
    grace_volume: int
    setup_fee: Decimal
    profile: Profile
    rate_units: int  # rate in nano-units per minute
    setup_units: int  # setup fee in nano-units

    def active_at(self, at: int) -> bool:
        return self.effective <= at < self.end

    def billed_seconds(self, answered: int) -> int:
        """Billed seconds for an answered duration: grace, minimum volume, then intervals."""
        if answered == 0 or answered <= self.grace_volume:
            return 0
        minimum = max(self.min_volume, 0)
        if answered <= minimum:
            return minimum
        step = self.interval or 1
        return minimum + -(-(answered - minimum) // step) * step


class Deck:
    """Rows indexed by code; `find` applies longest prefix, dates and profiles."""

    __slots__ = ("_by_code", "_lengths", "_plain", "rows")

    def __init__(self, rows: Iterable[DeckRow]) -> None:
        self.rows: tuple[DeckRow, ...] = tuple(rows)
        grouped: dict[str, list[DeckRow]] = {}
        for row in self.rows:
            grouped.setdefault(row.code, []).append(row)
        # Newest first; within a date, most specific profile first.
        self._by_code = {
            code: tuple(sorted(group, key=lambda r: (-r.effective, r.profile.rank)))
            for code, group in grouped.items()
        }
        # Codes whose rows are all `all`: the first active row wins, no clock needed.
        self._plain = frozenset(
            code
            for code, group in self._by_code.items()
            if all(r.profile is Profile.ALL for r in group)
        )
        self._lengths = tuple(sorted({len(code) for code in grouped}, reverse=True))

    def __len__(self) -> int:
        return len(self.rows)

    def codes(self) -> frozenset[str]:
        return frozenset(self._by_code)

    def find(
        self, number: str, at: int, timezone: ZoneInfo, hours: BusinessHours
    ) -> tuple[DeckRow | None, bool]:
        """The row for a normalised number at epoch `at`, and whether any code had active rows.

        The longest code with a row active at `at` is chosen; a code whose rows have all
        ended (or not begun) is skipped. Among that code's active rows, the most specific
        profile matching the local start time wins, the newest effective date on a tie.
        """
        by_code = self._by_code
        size = len(number)
        for length in self._lengths:
            if length > size:
                continue
            rows = by_code.get(number[:length])
            if rows is None:
                continue
            if number[:length] in self._plain:
                for row in rows:
                    if row.effective <= at < row.end:
                        return row, True
                continue
            active = [row for row in rows if row.effective <= at < row.end]
            if not active:
                continue
            local = datetime.fromtimestamp(at, timezone)
            best: DeckRow | None = None
            for row in active:  # newest first, so the first match of a rank wins
                if matches(row.profile, local, hours) and (
                    best is None or row.profile.rank < best.profile.rank
                ):
                    best = row
            return best, True
        return None, False
