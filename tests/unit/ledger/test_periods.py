"""Billing-period boundaries: worked dates per kind, DST days, and partition properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ledger.periods import (
    Period,
    PeriodKind,
    next_period,
    parse_period_kind,
    period_of,
)

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [
    UTC_ZONE,
    NEW_YORK,
    BERLIN,
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Australia/Lord_Howe"),  # half-hour DST shift
    ZoneInfo("America/Santiago"),  # DST change at local midnight
    ZoneInfo("Pacific/Kiritimati"),  # UTC+14
]


def noon(day: date, tz: ZoneInfo = UTC_ZONE) -> datetime:
    return datetime.combine(day, time(12), tzinfo=tz)


def hours(period: Period) -> float:
    """Elapsed hours (same-zone datetime subtraction would give wall-clock time instead)."""
    return (period.end.astimezone(UTC) - period.start.astimezone(UTC)) / timedelta(hours=1)


D = date
K = PeriodKind

WORKED = [
    # kind, created, local day, expected first day, expected day after the last day
    (K.DAILY, None, D(2026, 5, 14), D(2026, 5, 14), D(2026, 5, 15)),
    (K.DAILY, None, D(2026, 12, 31), D(2026, 12, 31), D(2027, 1, 1)),
    (K.DAILY, None, D(2028, 2, 29), D(2028, 2, 29), D(2028, 3, 1)),
    (K.WEEKLY, None, D(2026, 5, 11), D(2026, 5, 11), D(2026, 5, 18)),  # Monday
    (K.WEEKLY, None, D(2026, 5, 17), D(2026, 5, 11), D(2026, 5, 18)),  # Sunday
    (K.WEEKLY, None, D(2026, 1, 1), D(2025, 12, 29), D(2026, 1, 5)),
    (K.SEMIMONTHLY, None, D(2026, 5, 1), D(2026, 5, 1), D(2026, 5, 16)),
    (K.SEMIMONTHLY, None, D(2026, 5, 15), D(2026, 5, 1), D(2026, 5, 16)),
    (K.SEMIMONTHLY, None, D(2026, 5, 16), D(2026, 5, 16), D(2026, 6, 1)),
    (K.SEMIMONTHLY, None, D(2028, 2, 29), D(2028, 2, 16), D(2028, 3, 1)),
    (K.SEMIMONTHLY, None, D(2026, 12, 31), D(2026, 12, 16), D(2027, 1, 1)),
    (K.MONTHLY, None, D(2026, 5, 31), D(2026, 5, 1), D(2026, 6, 1)),
    (K.MONTHLY, None, D(2028, 2, 29), D(2028, 2, 1), D(2028, 3, 1)),
    (K.MONTHLY, None, D(2026, 12, 1), D(2026, 12, 1), D(2027, 1, 1)),
    # monthly_anniversary, N <= 28: day N to the day before N next month
    (K.MONTHLY_ANNIVERSARY, D(2026, 3, 19), D(2026, 3, 19), D(2026, 3, 19), D(2026, 4, 19)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 3, 19), D(2026, 4, 18), D(2026, 3, 19), D(2026, 4, 19)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 3, 19), D(2026, 4, 19), D(2026, 4, 19), D(2026, 5, 19)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 3, 19), D(2026, 12, 25), D(2026, 12, 19), D(2027, 1, 19)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 3, 19), D(2026, 3, 18), D(2026, 2, 19), D(2026, 3, 19)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 3, 28), D(2028, 2, 29), D(2028, 2, 28), D(2028, 3, 28)),
    # monthly_anniversary, N in 29..31: first period ends before the 28th, then 28th to 28th
    (K.MONTHLY_ANNIVERSARY, D(2026, 1, 30), D(2026, 1, 30), D(2026, 1, 30), D(2026, 2, 28)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 1, 30), D(2026, 2, 27), D(2026, 1, 30), D(2026, 2, 28)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 1, 30), D(2026, 2, 28), D(2026, 2, 28), D(2026, 3, 28)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 1, 30), D(2026, 3, 30), D(2026, 3, 28), D(2026, 4, 28)),
    (K.MONTHLY_ANNIVERSARY, D(2028, 1, 31), D(2028, 2, 29), D(2028, 2, 28), D(2028, 3, 28)),
    (K.MONTHLY_ANNIVERSARY, D(2025, 12, 31), D(2026, 1, 1), D(2025, 12, 31), D(2026, 1, 28)),
    (K.MONTHLY_ANNIVERSARY, D(2028, 1, 29), D(2028, 1, 31), D(2028, 1, 29), D(2028, 2, 28)),
    # ... and before creation the 28th rule, with a stub up to the creation date
    (K.MONTHLY_ANNIVERSARY, D(2026, 1, 30), D(2026, 1, 29), D(2026, 1, 28), D(2026, 1, 30)),
    (K.MONTHLY_ANNIVERSARY, D(2026, 1, 30), D(2026, 1, 27), D(2025, 12, 28), D(2026, 1, 28)),
    # 30_days: consecutive 30-day periods from the creation date, both ways
    (K.THIRTY_DAYS, D(2026, 3, 20), D(2026, 3, 20), D(2026, 3, 20), D(2026, 4, 19)),
    (K.THIRTY_DAYS, D(2026, 3, 20), D(2026, 4, 18), D(2026, 3, 20), D(2026, 4, 19)),
    (K.THIRTY_DAYS, D(2026, 3, 20), D(2026, 4, 19), D(2026, 4, 19), D(2026, 5, 19)),
    (K.THIRTY_DAYS, D(2026, 3, 20), D(2026, 3, 19), D(2026, 2, 18), D(2026, 3, 20)),
    (K.THIRTY_DAYS, D(2028, 2, 1), D(2028, 3, 2), D(2028, 3, 2), D(2028, 4, 1)),
]


@pytest.mark.parametrize(("kind", "created", "day", "first", "after"), WORKED)
def test_worked_periods(
    kind: PeriodKind, created: date | None, day: date, first: date, after: date
) -> None:
    for tz in (UTC_ZONE, NEW_YORK, ZoneInfo("Asia/Tokyo")):
        period = period_of(kind, noon(day, tz), tz, created)
        assert period == Period(
            datetime.combine(first, time(), tzinfo=tz), datetime.combine(after, time(), tzinfo=tz)
        )
        assert period.last_day == after - timedelta(days=1)


def test_last_day_is_the_inclusive_invoice_end() -> None:
    period = period_of(K.THIRTY_DAYS, noon(D(2026, 3, 25)), UTC_ZONE, D(2026, 3, 20))
    assert (period.start.date(), period.last_day) == (D(2026, 3, 20), D(2026, 4, 18))


def test_instant_is_read_in_the_partys_timezone() -> None:
    at = datetime(2026, 6, 1, 2, 30, tzinfo=UTC)  # still May 31 in New York
    assert period_of(K.MONTHLY, at, NEW_YORK).start == datetime(2026, 5, 1, tzinfo=NEW_YORK)
    assert period_of(K.MONTHLY, at, UTC_ZONE).start == datetime(2026, 6, 1, tzinfo=UTC)


def test_end_is_exclusive() -> None:
    boundary = datetime(2026, 6, 1, tzinfo=BERLIN)
    before = period_of(K.MONTHLY, boundary - timedelta(microseconds=1), BERLIN)
    at = period_of(K.MONTHLY, boundary, BERLIN)
    assert before.end == boundary == at.start
    assert at == next_period(K.MONTHLY, before, BERLIN)


def test_new_york_spring_forward_day_is_23_hours() -> None:
    period = period_of(K.DAILY, datetime(2026, 3, 8, 12, tzinfo=NEW_YORK), NEW_YORK)
    assert period.start == datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert period.end == datetime(2026, 3, 9, tzinfo=NEW_YORK)
    assert hours(period) == 23
    assert period.start.utcoffset() == timedelta(hours=-5)
    assert period.end.utcoffset() == timedelta(hours=-4)


def test_new_york_fall_back_day_is_25_hours() -> None:
    at = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK)  # the second 01:30
    assert hours(period_of(K.DAILY, at, NEW_YORK)) == 25


def test_berlin_week_across_october_change() -> None:
    at = datetime(2026, 10, 25, 12, tzinfo=BERLIN)  # Sunday of the change
    period = period_of(K.WEEKLY, at, BERLIN)
    assert period.start == datetime(2026, 10, 19, tzinfo=BERLIN)
    assert period.end == datetime(2026, 10, 26, tzinfo=BERLIN)
    assert hours(period) == 7 * 24 + 1
    assert period.start.astimezone(UTC) == datetime(2026, 10, 18, 22, tzinfo=UTC)
    assert period.end.astimezone(UTC) == datetime(2026, 10, 25, 23, tzinfo=UTC)


def test_day_without_midnight_starts_at_first_local_instant() -> None:
    santiago = ZoneInfo("America/Santiago")  # 2026-09-06 00:00 skips to 01:00
    period = period_of(K.DAILY, datetime(2026, 9, 6, 12, tzinfo=santiago), santiago)
    assert period.start == datetime(2026, 9, 6, 1, tzinfo=santiago)
    assert period.start.astimezone(UTC) == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert hours(period) == 23


@pytest.mark.parametrize("kind", [K.MONTHLY_ANNIVERSARY, K.THIRTY_DAYS])
def test_anniversary_kinds_need_creation_date(kind: PeriodKind) -> None:
    with pytest.raises(ValueError, match="creation date"):
        period_of(kind, noon(D(2026, 5, 1)), UTC_ZONE)


def test_naive_instant_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        period_of(K.DAILY, datetime(2026, 5, 1, 12), UTC_ZONE)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("daily", K.DAILY), (" Monthly ", K.MONTHLY), ("30_days", K.THIRTY_DAYS)]
    + [(kind.value, kind) for kind in PeriodKind],
)
def test_parse_period_kind(text: str, kind: PeriodKind) -> None:
    assert parse_period_kind(text) is kind


def test_parse_period_kind_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="fortnightly") as error:
        parse_period_kind("fortnightly")
    assert all(kind.value in str(error.value) for kind in PeriodKind)


instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
created_days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1))


@given(
    kind=st.sampled_from(PeriodKind),
    at=instants,
    tz=st.sampled_from(ZONES),
    created=created_days,
)
def test_periods_partition_time(
    kind: PeriodKind, at: datetime, tz: ZoneInfo, created: date
) -> None:
    period = period_of(kind, at, tz, created)
    after = next_period(kind, period, tz, created)
    assert period.start.astimezone(UTC) <= at < period.end.astimezone(UTC)
    assert after.start == period.end
    assert period_of(kind, period.end, tz, created) == after
    assert period_of(kind, period.start, tz, created) == period
    assert period.start.date() <= period.last_day < period.end.date()
    assert hours(period) >= 22
    assert hours(after) >= 22
