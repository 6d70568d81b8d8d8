"""Exact money arithmetic: Decimal at the edges, integer micro-units inside, one rounding."""

from __future__ import annotations

import enum
import re
from decimal import Decimal, InvalidOperation

MICRO = 1_000_000  # storage and ledger unit: 1e-6 of the currency unit
RATE_SCALE = 1_000_000_000  # rates and exchange rates are held as integer nano-units
MAX_DECIMALS = 6  # a tariff may round to at most micro-units

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Rounding(enum.Enum):
    """How a computed amount is rounded once to the tariff's decimals."""

    HALF_UP = "half_up"
    UP = "up"
    DOWN = "down"


class MoneyError(ValueError):
    """An amount, rate or currency that cannot be represented exactly."""


def parse_decimal(value: object) -> Decimal:
    """Read an amount given as a string, int or Decimal (never a float) as a Decimal."""
    if isinstance(value, bool | float):
        raise MoneyError(f"{value!r} is a float; write the amount as a string or integer")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
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


def _scaled(value: Decimal, scale: int, what: str) -> int:
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        digits = len(str(scale)) - 1
        raise MoneyError(f"{what} {value} has more than {digits} decimal places")
    return int(scaled)


def to_micro(value: Decimal) -> int:
    """An exact amount in micro-units; more than 6 decimals is refused."""
    return _scaled(value, MICRO, "amount")


def to_rate_units(value: Decimal) -> int:
    """A rate or exchange rate in nano-units; more than 9 decimals is refused."""
    return _scaled(value, RATE_SCALE, "rate")


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
