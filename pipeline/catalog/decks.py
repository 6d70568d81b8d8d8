"""Reading a rate deck CSV into a Deck, reporting every bad row with its line number."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING

from pipeline.rating.deck import OPEN_END, Deck, DeckRow
from pipeline.rating.money import MoneyError, parse_decimal, to_rate_units
from pipeline.rating.profiles import Profile

if TYPE_CHECKING:
    from _csv import Reader

COLUMNS = (
    "code",
    "code_name",
    "rate",
    "effective_date",
    "end_date",
    "min_volume",
    "interval",
    "grace_volume",
    "setup_fee",
    "profile",
)
REQUIRED = ("code", "rate", "effective_date")
MAX_ERRORS = 50  # per deck file; the rest are counted, not listed

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_SECOND = timedelta(seconds=1)
_PROFILES = {"": Profile.ALL, **{profile.value: profile for profile in Profile}}
_ZERO = (Decimal(0), 0)


def parse_instant(value: object) -> int:
    """Epoch seconds of a date (00:00 UTC) or a datetime (UTC unless it carries an offset)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{text!r} is not an ISO date or datetime "
                "(e.g. 2026-01-01 or 2026-01-01T08:00:00+02:00)"
            ) from None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if moment.microsecond:
            raise ValueError(f"{value.isoformat()} has a fraction of a second")
        return (moment - _EPOCH) // _SECOND
    if isinstance(value, date):
        return (value.toordinal() - _EPOCH_DAY) * 86_400
    raise ValueError(f"{value!r} is not a date or datetime")


def read_deck(name: str, text: str) -> tuple[Deck, list[str]]:
    """The deck in CSV `text`, and every error as `NAME:LINE: message`."""
    reader = _DeckReader(name)
    rows = reader.read(text)
    errors = reader.errors
    if reader.dropped:
        errors.append(f"{name}: ... and {reader.dropped} more errors in this file")
    return Deck(rows), errors


class _DeckReader:
    """Parses rows with caches for the rates and dates that repeat across a deck."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.errors: list[str] = []
        self.dropped = 0
        self._amounts: dict[str, tuple[Decimal, int]] = {}
        self._instants: dict[str, int] = {}
        self._counts: dict[str, int] = {"": 0}  # min_volume, grace_volume
        self._steps: dict[str, int] = {"": 1}  # interval: empty is 1

    def error(self, line: int, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"{self.name}:{line}: {message}")
        else:
            self.dropped += 1

    def read(self, text: str) -> list[DeckRow]:
        lines = csv.reader(io.StringIO(text))
        try:
            header = next(lines, None)
            positions = self._header(header)
            if positions is None or header is None:
                return []
            return self._rows(lines, positions, len(header))
        except csv.Error as error:
            self.error(lines.line_num, f"not valid CSV: {error}")
            return []

    def _header(self, header: list[str] | None) -> list[int] | None:
        expected = ",".join(COLUMNS)
        if header is None:
            self.error(1, f"the file is empty; the first line must be the header {expected}")
            return None
        names = [column.strip() for column in header]
        problems = [f"unknown column {n!r}" for n in names if n not in COLUMNS]
        problems += [f"column {n!r} appears twice" for n in COLUMNS if names.count(n) > 1]
        problems += [f"missing column {n!r}" for n in REQUIRED if n not in names]
        for problem in problems:
            self.error(1, f"{problem}; the header is {expected}")
        if problems:
            return None
        index = {column: position for position, column in enumerate(names)}
        return [index.get(column, len(names)) for column in COLUMNS]  # absent -> padded ""

    def _rows(self, lines: Reader, positions: list[int], width: int) -> list[DeckRow]:
        """The hot loop: cached values only; a row with anything not yet cached goes to `_row`."""
        rows: list[DeckRow] = []
        seen: dict[tuple[str, Profile, int], int] = {}
        pick = itemgetter(*positions)
        amounts, instants, counts, steps = self._amounts, self._instants, self._counts, self._steps
        for fields in lines:
            line = lines.line_num
            if len(fields) != width:
                if fields and any(field.strip() for field in fields):
                    self.error(line, f"{len(fields)} fields where the header has {width}")
                continue
            fields.append("")
            values = list(map(str.strip, pick(fields)))
            code, name, rate_text, start, end_text, minimum, interval, grace, setup, kind = values
            rate = amounts.get(rate_text)
            fee = amounts.get(setup) if setup else _ZERO
            effective = instants.get(start)
            end = instants.get(end_text) if end_text else OPEN_END
            min_volume, step, grace_volume = (
                counts.get(minimum),
                steps.get(interval),
                counts.get(grace),
            )
            profile = _PROFILES.get(kind)
            if (
                rate is None or fee is None or effective is None or end is None
                or min_volume is None or step is None or grace_volume is None or profile is None
                or end <= effective or not code.isdigit() or not code.isascii()
            ):  # fmt: skip
                row = self._row(line, values)
                if row is None:
                    continue
            else:
                row = DeckRow(
                    code, name, rate[0], effective, end, min_volume, step, grace_volume, fee[0],
                    profile, rate[1], fee[1],
                )  # fmt: skip
            first = seen.setdefault((row.code, row.profile, row.effective), line)
            if first != line:
                self.error(
                    line,
                    f"duplicate row for code {row.code} profile {row.profile.value} "
                    f"effective {start} (first at line {first})",
                )
                continue
            rows.append(row)
        return rows

    def _row(self, line: int, values: list[str]) -> DeckRow | None:
        code, name, rate_text, start_text, end_text, minimum, interval, grace, setup, kind = values
        bad: list[str] = []
        if not (code.isdigit() and code.isascii()):
            bad.append(f"code {code!r} is not a string of digits (write 44, not +44)")
        rate, rate_units = self._amount(rate_text, "rate", bad)
        setup_fee, setup_units = self._amount(setup, "setup_fee", bad) if setup else _ZERO
        effective = self._instant(start_text, "effective_date", bad)
        end = self._instant(end_text, "end_date", bad) if end_text else OPEN_END
        min_volume = self._count(minimum, "min_volume", 0, bad)
        step = self._count(interval, "interval", 1, bad)
        grace_volume = self._count(grace, "grace_volume", 0, bad)
        profile = _PROFILES.get(kind)
        if profile is None:
            bad.append(f"profile {kind!r} is not one of all, business, non_business, weekends")
        if not bad and end <= effective:
            bad.append(f"end_date {end_text} is not after effective_date {start_text}")
        if bad or profile is None:
            for message in bad:
                self.error(line, message)
            return None
        return DeckRow(
            code, name, rate, effective, end, min_volume, step, grace_volume, setup_fee, profile,
            rate_units, setup_units,
        )  # fmt: skip

    def _amount(self, text: str, column: str, bad: list[str]) -> tuple[Decimal, int]:
        cached = self._amounts.get(text)
        if cached is not None:
            return cached
        if not text:
            bad.append(f"{column} is empty")
            return _ZERO
        try:
            value = parse_decimal(text)
        except MoneyError:
            bad.append(f"{column} {text!r} is not a decimal number")
            return _ZERO
        if value < 0:
            bad.append(f"{column} {text!r} is negative")
            return _ZERO
        try:
            cached = self._amounts[text] = (value, to_rate_units(value))
        except MoneyError:
            bad.append(f"{column} {text!r} has more than 9 decimal places")
            return _ZERO
        return cached

    def _instant(self, text: str, column: str, bad: list[str]) -> int:
        cached = self._instants.get(text)
        if cached is not None:
            return cached
        if not text:
            bad.append(f"{column} is empty")
            return 0
        try:
            cached = self._instants[text] = parse_instant(text)
        except ValueError as error:
            bad.append(f"{column} {error}")
            return 0
        return cached

    def _count(self, text: str, column: str, empty: int, bad: list[str]) -> int:
        if not text:
            return empty
        if text.isdigit() and text.isascii():
            self._counts[text] = self._steps[text] = int(text)
            return int(text)
        bad.append(f"{column} {text!r} is not a whole number of seconds (0 or more)")
        return 0
