"""Billing periods: the local-midnight boundaries of a party's daily to monthly statements."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class PeriodKind(enum.Enum):
    DAILY = "daily"
    WEEKLY = "weekly"
    SEMIMONTHLY = "semimonthly"
    MONTHLY = "monthly"
    MONTHLY_ANNIVERSARY = "monthly_anniversary"
    THIRTY_DAYS = "30_days"


@dataclass(frozen=True, slots=True)
class Period:
    """One billing period in the party's timezone: `start` inclusive, `end` exclusive."""

    start: datetime
    end: datetime

    @property
    def last_day(self) -> date:
        """The last local day the period covers (the invoice's inclusive end date)."""
        return self.end.date() - timedelta(days=1)


_NEEDS_CREATED = (PeriodKind.MONTHLY_ANNIVERSARY, PeriodKind.THIRTY_DAYS)


def parse_period_kind(text: str) -> PeriodKind:
    """The period kind named `text` (case-insensitive), e.g. "monthly" or "30_days"."""
    try:
        return PeriodKind(text.strip().lower())
    except ValueError:
        valid = ", ".join(kind.value for kind in PeriodKind)
        raise ValueError(f"unknown billing period {text!r}; expected one of: {valid}") from None


def period_of(kind: PeriodKind, at: datetime, tz: ZoneInfo, created: date | None = None) -> Period:
    """The period of `kind` holding the instant `at`, for a party in `tz` created on `created`."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"billing periods need an aware instant, got naive {at.isoformat()}")
    day = at.astimezone(tz).date()
    start, end = _local_bounds(kind, day, created)
    return Period(_midnight(start, tz), _midnight(end, tz))


def next_period(
    kind: PeriodKind, period: Period, tz: ZoneInfo, created: date | None = None
) -> Period:
    """The period of `kind` that starts where `period` ends."""
    return period_of(kind, period.end, tz, created)


def _local_bounds(kind: PeriodKind, day: date, created: date | None) -> tuple[date, date]:
    """First day and the day after the last day of the period holding local `day`."""
    if kind is PeriodKind.DAILY:
        return day, day + timedelta(days=1)
    if kind is PeriodKind.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=7)
    if kind is PeriodKind.SEMIMONTHLY:
        if day.day <= 15:
            return day.replace(day=1), day.replace(day=16)
        return day.replace(day=16), _month_day(day, 1, 1)
    if kind is PeriodKind.MONTHLY:
        return day.replace(day=1), _month_day(day, 1, 1)
    if created is None:
        raise ValueError(f"a {kind.value} billing period needs the party's creation date")
    if kind is PeriodKind.THIRTY_DAYS:
        start = created + timedelta(days=(day - created).days // 30 * 30)
        return start, start + timedelta(days=30)
    return _anniversary_bounds(day, created)


def _anniversary_bounds(day: date, created: date) -> tuple[date, date]:
    """Boundaries are day min(N, 28) of every month, plus the creation date itself.

    For N <= 28 the creation date is already one of them; for N in 29..31 it makes the first
    period [created, 28th of next month) and a short stub [28th, created) just before it.
    """
    anchor = min(created.day, 28)
    start = _month_day(day, 0 if day.day >= anchor else -1, anchor)
    end = _month_day(start, 1, anchor)
    if start < created <= day:
        start = created
    elif day < created < end:
        end = created
    return start, end


def _month_day(day: date, months: int, day_of_month: int) -> date:
    """Day `day_of_month` (<= 28) of the month `months` after the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day_of_month)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of local `day` in `tz` (01:00 where a DST gap skips midnight)."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC).astimezone(tz)
