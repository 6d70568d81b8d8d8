"""Exact money arithmetic: Decimal at the edges, integer micro-units inside, one rounding."""

from __future__ import annotations

import enum
import re
from decimal import Decimal, InvalidOperation

MICRO = 1_000_000  # storage and ledger unit: 1e-6 of the currency unit
RATE_SCALE = 1_000_000_000  # rates and exchange rates are held as integer nano-units
MAX_DECIMALS = 6  # a tariff may round to at most micro-units

MAX_AMOUNT = 10**12  # whole units: micro-units of a larger amount would not fit Int64
MAX_RATE = 10**6  # per minute, or one unit in another currency's units
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# ASCII digits, one dot, an exponent: Decimal() also takes `1_000` and other scripts' digits
_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_plain_number(text: str) -> bool:
    """Whether `text` (stripped) is written with ASCII digits, a sign, a dot, an exponent."""
    return _PLAIN.fullmatch(text) is not None


class Rounding(enum.Enum):
    """How a computed amount is rounded once to the tariff's decimals."""

    HALF_UP = "half_up"
    UP = "up"
    DOWN = "down"


class MoneyError(ValueError):
    """An amount, rate or currency that cannot be represented exactly."""


def parse_decimal(value: object) -> Decimal:
    """Read an amount given as a string, int or Decimal (never a float) as a Decimal."""
    if isinstance(value, bool):
        raise MoneyError(f"{value!r} is not an amount; write the amount as a string or integer")
    if isinstance(value, float):
        raise MoneyError(f"{value!r} is a float; write the amount as a string or integer")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not is_plain_number(text):
            raise MoneyError(f"{value!r} is not a decimal number (ASCII digits and one dot)")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"{value!r} is not a decimal number") from None
    else:
        raise MoneyError(f"{value!r} is not a decimal number")
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite number")
    return result


def parse_percent(value: object) -> Decimal:
    """Read `"15%"`, `15` or `"0.15"`-free percent notation as a fraction (0.15)."""
    text = str(value).strip() if not isinstance(value, Decimal) else str(value)
    if text.endswith("%"):
        text = text[:-1]
    fraction = parse_decimal(text) / 100
    if not Decimal(0) <= fraction <= Decimal(1):
        raise MoneyError(f"{value!r} is not a percentage between 0% and 100%")
    return fraction


def check_currency(code: object) -> str:
    """Return an ISO 4217-shaped currency code or raise."""
    if not isinstance(code, str) or not _CURRENCY.match(code):
        raise MoneyError(f"{code!r} is not an ISO 4217 currency code (three capital letters)")
    return code


def _scaled(value: Decimal, scale: int, what: str, bound: int) -> int:
    if abs(value) > bound:
        raise MoneyError(f"{what} {value} is beyond the largest the books hold, {bound:,}")
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        digits = len(str(scale)) - 1
        raise MoneyError(f"{what} {value} has more than {digits} decimal places")
    return int(scaled)


def to_micro(value: Decimal) -> int:
    """An exact amount in micro-units; more than 6 decimals, or beyond `MAX_AMOUNT`
    (ClickHouse keeps micro-units in Int64), is refused."""
    return _scaled(value, MICRO, "amount", MAX_AMOUNT)


def to_rate_units(value: Decimal) -> int:
    """A rate or exchange rate in nano-units; more than 9 decimals, or beyond `MAX_RATE`
    (so that no call's cost outgrows Int64 micro-units), is refused."""
    return _scaled(value, RATE_SCALE, "rate", MAX_RATE)


def format_micro(units: int) -> str:
    """A decimal string for output: exact, trailing zeros trimmed to at least 2 places."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), MICRO)
    digits = f"{frac:06d}".rstrip("0")
    if len(digits) < 2:
        digits = digits.ljust(2, "0")
    return f"{sign}{whole}.{digits}"


def round_div(numerator: int, denominator: int, rounding: Rounding) -> int:
    """`numerator / denominator` rounded to an integer; half_up and up round away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    negative = numerator < 0
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder and (
        rounding is Rounding.UP or (rounding is Rounding.HALF_UP and 2 * remainder >= denominator)
    ):
        quotient += 1
    return -quotient if negative else quotient
