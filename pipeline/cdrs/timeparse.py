"""Call start times and answered durations as CDR files write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from pipeline.rating.numbers import MAX_SECONDS, answered_seconds

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)  # exclusive: the last accepted year is 2100
_LATEST_EPOCH = int((LATEST - EPOCH).total_seconds())
_RANGE = "outside the years 1970-2100"
_combine = datetime.combine
_FIXED: dict[timedelta | None, timezone] = {}


class BadStartError(ValueError):
    """A call start that is not a time, has no UTC offset, or lies outside 1970-2100."""


def parse_start(value: object, local_tz: ZoneInfo | None = None) -> datetime:
    """An aware start time from ISO 8601 text or epoch seconds (text or number).

    With `local_tz` None a naive ISO time is refused; otherwise it is a wall-clock time
    in `local_tz` (the earlier instant when the clock repeats, fold=0), kept with the
    fixed UTC offset then in force. An ISO time keeps the offset it was written with;
    epoch seconds are UTC.
    """
    if isinstance(value, str):
        text = value.strip()
        # a date has a `-` after its first character, a time a `:`; a number has neither
        if text.find("-", 1) < 0 and text.find(":") < 0 and _is_decimal(text):
            return _from_epoch(text, value)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadStartError(f"{value!r} is not an ISO 8601 time or epoch seconds") from None
        if moment.tzinfo is None:
            if local_tz is None:
                raise BadStartError(f"{value!r} has no UTC offset")
            moment = _in_zone(moment, local_tz)
        year = moment.year
        # only in the first and last years can the offset move the instant out of range;
        # testing the year first also keeps year 1 or 9999 from overflowing in UTC
        if not 1970 < year < 2100 and not (1969 <= year <= 2101 and EPOCH <= moment < LATEST):
            raise BadStartError(f"{value!r} is {_RANGE}")
        return moment
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadStartError(f"{value!r} is not an ISO 8601 time or epoch seconds")
    return _from_epoch(str(value), value)


def _in_zone(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` (fold=0), stored with the fixed offset then in force.

    A fixed offset, not the zone: adding a duration then moves the instant, and the
    time compares equal to the same instant in any zone (PEP 495 makes a ZoneInfo time
    in a repeated or skipped hour unequal to every time of another zone).
    """
    clock = wall.time()  # combine() is several times faster than replace(tzinfo=...)
    offset = _combine(wall, clock, zone).utcoffset()
    fixed = _FIXED.get(offset)
    if fixed is None:
        fixed = _FIXED.setdefault(offset, UTC if not offset else timezone(offset))
    return _combine(wall, clock, fixed)


def parse_duration(value: object) -> int:
    """Whole answered seconds; plain digits take a fast path, the rest `answered_seconds`."""
    if type(value) is str:
        text = value.strip()
        if len(text) < 10 and text.isascii() and text.isdigit():  # under MAX_SECONDS
            return int(text)
    elif type(value) is int and 0 <= value <= MAX_SECONDS:
        return value
    return answered_seconds(value)


def _is_decimal(text: str) -> bool:
    """Whether `text` is a (signed, possibly fractional) decimal number: epoch seconds."""
    body = text[1:] if text[:1] in ("-", "+") else text
    whole, dot, fraction = body.partition(".")
    if not (whole.isascii() and whole.isdigit()):
        return False
    return not dot or (fraction.isascii() and fraction.isdigit())


def _from_epoch(text: str, original: object) -> datetime:
    if text.isdigit():
        seconds = int(text)
        if seconds >= _LATEST_EPOCH:
            raise BadStartError(f"{original!r} is {_RANGE}")
        return EPOCH + timedelta(seconds=seconds)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise BadStartError(f"{original!r} is not an ISO 8601 time or epoch seconds") from None
    if not number.is_finite():
        raise BadStartError(f"{original!r} is not a finite number of seconds")
    if not 0 <= number < _LATEST_EPOCH:
        raise BadStartError(f"{original!r} is {_RANGE}")
    micros = int((number * 1_000_000).to_integral_value(ROUND_HALF_EVEN))
    moment = EPOCH + timedelta(microseconds=micros)
    if moment >= LATEST:  # a fraction rounded up past the last microsecond
        raise BadStartError(f"{original!r} is {_RANGE}")
    return moment
