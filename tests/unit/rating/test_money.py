"""Money: exact parsing, one rounding, micro-unit formatting."""

from decimal import Decimal

import pytest

from pipeline.rating.money import (
    MoneyError,
    Rounding,
    format_micro,
    parse_decimal,
    parse_percent,
    round_div,
    to_micro,
    to_rate_units,
)


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounding", "expected"),
    [
        (15, 10, Rounding.HALF_UP, 2),
        (14, 10, Rounding.HALF_UP, 1),
        (11, 10, Rounding.UP, 2),
        (19, 10, Rounding.DOWN, 1),
        (20, 10, Rounding.UP, 2),
        (-15, 10, Rounding.HALF_UP, -2),
        (-11, 10, Rounding.DOWN, -1),
        (0, 7, Rounding.UP, 0),
    ],
)
def test_round_div(numerator: int, denominator: int, rounding: Rounding, expected: int) -> None:
    assert round_div(numerator, denominator, rounding) == expected


@pytest.mark.parametrize(
    ("units", "text"),
    [
        (0, "0.00"),
        (10_000_000, "10.00"),
        (123_400, "0.1234"),
        (-8_500_000, "-8.50"),
        (1, "0.000001"),
    ],
)
def test_format_micro(units: int, text: str) -> None:
    assert format_micro(units) == text


def test_amounts_are_never_floats() -> None:
    with pytest.raises(MoneyError, match="float"):
        parse_decimal(1.1)
    assert parse_decimal("1.10") == Decimal("1.10")
    assert parse_decimal(7) == Decimal(7)


@pytest.mark.parametrize(
    "bad", ["abc", "", "NaN", "Infinity", None, "0_02", "1_000", "\u0661", "\u0661\u0660", "1,5"]
)
def test_bad_amounts_are_refused(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_decimal(bad)


def test_more_than_six_decimals_is_refused() -> None:
    assert to_micro(Decimal("0.000001")) == 1
    with pytest.raises(MoneyError, match="6 decimal places"):
        to_micro(Decimal("0.0000001"))


def test_amounts_and_rates_beyond_what_the_books_hold_are_refused() -> None:
    """ClickHouse holds micro-units in Int64 (9.2e12 units): a larger amount wrapped."""
    assert to_micro(Decimal("1000000000000")) == 10**18
    with pytest.raises(MoneyError, match="beyond the largest"):
        to_micro(Decimal("1000000000000.000001"))
    with pytest.raises(MoneyError, match="beyond the largest"):
        to_micro(Decimal("-1e30"))
    assert to_rate_units(Decimal("1000000")) == 10**15
    with pytest.raises(MoneyError, match="beyond the largest"):
        to_rate_units(Decimal("99999999999999999999999999"))


def test_percent() -> None:
    assert parse_percent("15%") == Decimal("0.15")
    with pytest.raises(MoneyError):
        parse_percent("150%")
