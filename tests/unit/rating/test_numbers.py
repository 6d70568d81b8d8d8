"""Dialled numbers are normalised to digits; durations round up."""

import pytest

from pipeline.rating.numbers import (
    BadDurationError,
    BadNumberError,
    answered_seconds,
    normalise_number,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 20 7946 0000", "442079460000"),
        ("0044-20-7946-0000", "442079460000"),
        ("(212) 555.0100", "2125550100"),
        ("sip:4915112345@gw.example.net", "4915112345"),
        ("tel:+33123456789", "33123456789"),
        ("1000", "1000"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise_number(raw) == expected


@pytest.mark.parametrize("raw", ["", "+", "44abc123", "12*34", "٤٤١٢", "anonymous"])
def test_bad_numbers(raw: str) -> None:
    with pytest.raises(BadNumberError):
        normalise_number(raw)


@pytest.mark.parametrize(("raw", "seconds"), [(0, 0), ("12", 12), ("12.01", 13), (59.5, 60)])
def test_answered_seconds_round_up(raw: object, seconds: int) -> None:
    assert answered_seconds(raw) == seconds


@pytest.mark.parametrize(
    "raw", [-1, "-0.5", "x", "nan", True, 10**12, "4294967296", "1_000", "\u0661\u0662\u0663"]
)
def test_bad_durations(raw: object) -> None:
    with pytest.raises(BadDurationError):
        answered_seconds(raw)
