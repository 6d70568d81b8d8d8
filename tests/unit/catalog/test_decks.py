"""Reading deck CSV text: defaults, dates and offsets, every bad row, the error cap."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pipeline.catalog.decks import COLUMNS, MAX_ERRORS, parse_instant, read_deck
from pipeline.rating.deck import OPEN_END
from pipeline.rating.profiles import Profile

HEADER = ",".join(COLUMNS) + "\n"
JAN_1 = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01", JAN_1),
        (" 2026-01-01 ", JAN_1),
        ("2026-01-01T00:00:00", JAN_1),
        ("2026-01-01 01:00:00+01:00", JAN_1),
        ("2026-01-01T00:00:00Z", JAN_1),
        ("2025-12-31T19:00:00-05:00", JAN_1),
        (date(2026, 1, 1), JAN_1),
        (datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))), JAN_1),
        (datetime(2026, 1, 1), JAN_1),
        ("1970-01-01", 0),
    ],
)
def test_parse_instant(value: object, expected: int) -> None:
    assert parse_instant(value) == expected


@pytest.mark.parametrize(
    "value", ["2026-13-01", "01/01/2026", "", 20260101, "2026-01-01T00:00:00.5"]
)
def test_parse_instant_refuses(value: object) -> None:
    with pytest.raises(ValueError, match=r"2026|date|''|fraction"):
        parse_instant(value)


def test_defaults_of_empty_columns() -> None:
    deck, errors = read_deck("d.csv", HEADER + "44,UK,0.05,2026-01-01,,,,,,\n")
    assert errors == []
    (row,) = deck.rows
    assert (row.end, row.min_volume, row.interval, row.grace_volume) == (OPEN_END, 0, 1, 0)
    assert (row.setup_fee, row.setup_units, row.profile) == (Decimal(0), 0, Profile.ALL)
    assert (row.rate, row.rate_units, row.effective) == (Decimal("0.05"), 50_000_000, JAN_1)


def test_zero_interval_and_rate_are_allowed() -> None:
    deck, errors = read_deck("d.csv", HEADER + "800,Free,0,2026-01-01,,,0,,,all\n")
    assert errors == []
    assert (deck.rows[0].rate, deck.rows[0].interval) == (Decimal(0), 0)


def test_quoted_fields_and_blank_lines() -> None:
    text = HEADER + '\n"44","UK, London",0.05,2026-01-01,,,,,,business\n\n'
    deck, errors = read_deck("d.csv", text)
    assert errors == []
    assert [(r.code_name, r.profile) for r in deck.rows] == [("UK, London", Profile.BUSINESS)]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("code,rate\n", ["d.csv:1: missing column 'effective_date'; the header is code,"]),
        ("code,rate,effective_date,rate\n", ["d.csv:1: column 'rate' appears twice; the header"]),
        (
            "Code,rate,effective_date\n",
            ["d.csv:1: unknown column 'Code'; ", "d.csv:1: missing column 'code'"],
        ),
    ],
)
def test_header_errors(header: str, expected: list[str]) -> None:
    deck, errors = read_deck("d.csv", header + "44,0.05,2026-01-01\n")
    assert len(deck) == 0
    assert [e[: len(x)] for e, x in zip(errors, expected, strict=True)] == expected


def test_same_code_differs_by_profile_and_date() -> None:
    rows = [
        "44,UK,0.05,2026-01-01,,,,,,all",
        "44,UK,0.04,2026-01-01,,,,,,weekends",
        "44,UK,0.06,2026-02-01,,,,,,all",
    ]
    deck, errors = read_deck("d.csv", HEADER + "\n".join(rows) + "\n")
    assert errors == []
    assert len(deck) == 3


def test_errors_are_capped_per_file() -> None:
    rows = "".join(f"{code},X,abc,2026-01-01,,,,,,\n" for code in range(1, MAX_ERRORS + 11))
    deck, errors = read_deck("d.csv", HEADER + rows)
    assert len(deck) == 0
    assert len(errors) == MAX_ERRORS + 1
    assert errors[0] == "d.csv:2: rate 'abc' is not a decimal number"
    assert errors[-1] == "d.csv: ... and 10 more errors in this file"
