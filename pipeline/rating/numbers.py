"""Dialled-number normalisation and answered-duration rules."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from pipeline.rating.money import is_plain_number

_FORMATTING = str.maketrans("", "", " -().\t")


class BadNumberError(ValueError):
    """A dialled number that is not a phone number."""


class BadDurationError(ValueError):
    """An answered duration that is missing, negative or absurd."""


def normalise_number(raw: str) -> str:
    """Digits only: drop `sip:`/`tel:`, `@host`, formatting, and a leading `+` or `00`."""
    text = raw.strip()
    lowered = text[:4].lower()
    if lowered in ("sip:", "tel:"):
        text = text[4:]
    at = text.find("@")
    if at >= 0:
        text = text[:at]
    text = text.translate(_FORMATTING)
    if text.startswith("+"):
        text = text[1:]
    elif text.startswith("00"):
        text = text[2:]
    if not text:
        raise BadNumberError(f"{raw!r} has no digits")
    if not text.isascii() or not text.isdigit():
        raise BadNumberError(f"{raw!r} has characters other than digits")
    return text


MAX_SECONDS = 2**32 - 1  # 136 years: past this a duration is garbage, not a long call


def answered_seconds(raw: object) -> int:
    """Whole answered seconds (a fraction rounds up); negative, not a number, or past any
    possible call (`MAX_SECONDS`) is refused. The catalog's `max_call_seconds` is checked
    when rating, so a long call is still read and reported with its duration.
    """
    if isinstance(raw, bool):
        raise BadDurationError(f"{raw!r} is not a duration")
    if isinstance(raw, int):
        seconds = raw
    else:
        text = str(raw).strip()
        if not is_plain_number(text):
            raise BadDurationError(f"{raw!r} is not a number of seconds")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise BadDurationError(f"{raw!r} is not a number of seconds") from None
        if not value.is_finite():
            raise BadDurationError(f"{raw!r} is not a finite number of seconds")
        if value < 0:
            raise BadDurationError(f"{raw!r} is negative")
        seconds = math.ceil(value)
    if seconds < 0:
        raise BadDurationError(f"{raw!r} is negative")
    if seconds > MAX_SECONDS:
        raise BadDurationError(f"{raw!r} seconds is not a call's duration (over {MAX_SECONDS})")
    return seconds
