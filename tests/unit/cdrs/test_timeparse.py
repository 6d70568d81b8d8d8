"""Start times (ISO 8601, epoch, local wall-clock) and answered durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pipeline.cdrs.timeparse import BadStartError, parse_duration, parse_start
from pipeline.rating.numbers import BadDurationError

NEW_YORK = ZoneInfo("America/New_York")
PLUS_TWO = timezone(timedelta(hours=2))

STARTS = [
    # text or value, local zone, the instant, the utcoffset it keeps
    ("2024-07-01T10:00:00Z", None, datetime(2024, 7, 1, 10, tzinfo=UTC), timedelta(0)),
    ("2024-07-01T12:00:00+02:00", None, datetime(2024, 7, 1, 10, tzinfo=UTC), timedelta(hours=2)),
    (" 2024-07-01 12:00:00.5+02:00 ", None, datetime(2024, 7, 1, 10, 0, 0, 500000, tzinfo=UTC),
     timedelta(hours=2)),
    ("20240701T100000Z", None, datetime(2024, 7, 1, 10, tzinfo=UTC), timedelta(0)),
    ("1719828000", None, datetime(2024, 7, 1, 10, tzinfo=UTC), timedelta(0)),
    ("1719828000.25", None, datetime(2024, 7, 1, 10, 0, 0, 250000, tzinfo=UTC), timedelta(0)),
    (1719828000, None, datetime(2024, 7, 1, 10, tzinfo=UTC), timedelta(0)),
    (1719828000.5, None, datetime(2024, 7, 1, 10, 0, 0, 500000, tzinfo=UTC), timedelta(0)),
    ("0", None, datetime(1970, 1, 1, tzinfo=UTC), timedelta(0)),
    ("2100-12-31T23:59:59Z", None, datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC), timedelta(0)),
    # local wall-clock times: summer (EDT, -4) and winter (EST, -5)
    ("2024-07-01 10:00:05", NEW_YORK, datetime(2024, 7, 1, 14, 0, 5, tzinfo=UTC),
     timedelta(hours=-4)),
    ("2024-01-15 10:00:00", NEW_YORK, datetime(2024, 1, 15, 15, tzinfo=UTC), timedelta(hours=-5)),
    # the clock repeats 01:00-02:00 on 3 Nov 2024: fold=0 takes the first (EDT) pass
    ("2024-11-03 01:30:00", NEW_YORK, datetime(2024, 11, 3, 5, 30, tzinfo=UTC),
     timedelta(hours=-4)),
    # 02:30 on 10 Mar 2024 does not exist: fold=0 reads it with the offset before the jump
    ("2024-03-10 02:30:00", NEW_YORK, datetime(2024, 3, 10, 7, 30, tzinfo=UTC),
     timedelta(hours=-5)),
    # a local file may still write an explicit offset: it wins
    ("2024-07-01 10:00:00+02:00", NEW_YORK, datetime(2024, 7, 1, 8, tzinfo=UTC),
     timedelta(hours=2)),
]  # fmt: skip


@pytest.mark.parametrize(("value", "zone", "instant", "offset"), STARTS)
def test_parse_start(
    value: object, zone: ZoneInfo | None, instant: datetime, offset: timedelta
) -> None:
    moment = parse_start(value, zone)
    assert moment == instant
    assert moment.utcoffset() == offset


BAD_STARTS = [
    # value, local zone, words in the message
    ("2024-07-01 10:00:00", None, "has no UTC offset"),
    ("2024-07-01", None, "has no UTC offset"),
    ("9999-12-31T23:59:59Z", None, "outside the years 1970-2100"),
    ("9999-12-31 23:59:59", NEW_YORK, "outside the years 1970-2100"),
    ("0001-01-01T00:00:00+01:00", None, "outside the years 1970-2100"),
    ("1969-12-31T23:59:59Z", None, "outside the years 1970-2100"),
    ("1970-01-01T00:30:00+01:00", None, "outside the years 1970-2100"),  # 1969 in UTC
    ("2100-12-31T23:00:00-05:00", None, "outside the years 1970-2100"),  # 2101 in UTC
    ("2101-01-01T00:00:00Z", None, "outside the years 1970-2100"),
    ("-5", None, "outside the years 1970-2100"),
    ("4133980800", None, "outside the years 1970-2100"),
    (1e20, None, "outside the years 1970-2100"),
    (float("nan"), None, "not a finite number"),
    ("yesterday", None, "not an ISO 8601 time or epoch seconds"),
    ("2024-13-01T00:00:00Z", None, "not an ISO 8601 time or epoch seconds"),
    ("", None, "not an ISO 8601 time or epoch seconds"),
    (None, None, "not an ISO 8601 time or epoch seconds"),
    (True, None, "not an ISO 8601 time or epoch seconds"),
    ([2024], None, "not an ISO 8601 time or epoch seconds"),
]


@pytest.mark.parametrize(("value", "zone", "words"), BAD_STARTS)
def test_parse_start_refuses(value: object, zone: ZoneInfo | None, words: str) -> None:
    with pytest.raises(BadStartError, match=words):
        parse_start(value, zone)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("60", 60), (" 7 ", 7), ("30.2", 31), ("0.0001", 1), ("0", 0), (0, 0), (62, 62), (1.5, 2)],
)
def test_parse_duration(value: object, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["-1", -1, "abc", "", None, True, "NaN", "inf"])
def test_parse_duration_refuses(value: object) -> None:
    with pytest.raises(BadDurationError):
        parse_duration(value)
