"""Labelling a new deck against the rates in force: the JeraSoft notification example."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.catalog.decks import parse_instant
from pipeline.rating.changes import ChangeStatus, RateChange, compare_decks
from pipeline.rating.deck import OPEN_END, Deck, DeckRow
from pipeline.rating.money import to_rate_units
from pipeline.rating.profiles import Profile

S = ChangeStatus


def row(
    code: str, rate: str, start: str, end: str | None = None, profile: Profile = Profile.ALL
) -> DeckRow:
    value = Decimal(rate)
    return DeckRow(
        code, f"dest {code}", value, parse_instant(start),
        OPEN_END if end is None else parse_instant(end), 0, 1, 0, Decimal(0), profile,
        to_rate_units(value), 0,
    )  # fmt: skip


def summary(changes: list[RateChange]) -> list[tuple[str, S, str | None, str | None, str | None]]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return [
        (c.code, c.status, text(c.rate), text(c.previous_rate), text(c.difference)) for c in changes
    ]


FIRST = [row(code, "10", "2017-07-01") for code in "123"]
SECOND = [row(code, "15", "2017-07-21") for code in "123"]

# Steps of the JeraSoft "Prev Diff Status" example: (before, after, import time, expected).
JERASOFT = [
    pytest.param(
        [],
        FIRST,
        "2017-07-07",
        [
            ("1", S.NEW, "10", None, None),
            ("2", S.NEW, "10", None, None),
            ("3", S.NEW, "10", None, None),
        ],
        id="1: first import, all new",
    ),
    pytest.param(
        FIRST,
        FIRST + SECOND,
        "2017-07-14",
        [
            ("1", S.INCREASED, "15", "10", "5"),
            ("2", S.INCREASED, "15", "10", "5"),
            ("3", S.INCREASED, "15", "10", "5"),
        ],
        id="2: codes 1,2,3 from 10 to 15",
    ),
    pytest.param(
        FIRST + SECOND,  # the deck of step 2
        [*FIRST, row("1", "10", "2017-07-21"), *SECOND[1:]],
        "2017-07-21",
        [
            ("1", S.UNCHANGED, "10", "10", "0"),
            ("2", S.INCREASED, "15", "10", "5"),
            ("3", S.INCREASED, "15", "10", "5"),
        ],
        id="3: increase of code 1 cancelled",
    ),
    pytest.param(
        [*FIRST, row("1", "10", "2017-07-21"), *SECOND[1:]],
        [
            *FIRST,
            row("1", "10", "2017-07-21"),
            row("2", "20", "2017-07-21"),
            SECOND[2],
            row("3", "20", "2017-07-31"),
        ],
        "2017-07-28",
        [
            ("1", S.UNCHANGED, "10", "10", "0"),
            ("2", S.INCREASED, "20", "10", "10"),  # against the rate before 07/21
            ("3", S.INCREASED, "20", "15", "5"),  # against 15, in force before 07/31
        ],
        id="4: code 2 edited, code 3 raised again",
    ),
]


@pytest.mark.parametrize(("before", "after", "at", "expected"), JERASOFT)
def test_jerasoft_example(
    before: list[DeckRow], after: list[DeckRow], at: str, expected: list[object]
) -> None:
    assert summary(compare_decks(Deck(before), Deck(after), parse_instant(at))) == expected


def test_removed_decreased_and_profiles() -> None:
    before = Deck([
        row("44", "0.05", "2026-01-01"),
        row("44", "0.04", "2026-01-01", profile=Profile.WEEKENDS),
        row("33", "0.03", "2026-01-01"),
        row("49", "0.02", "2025-01-01", "2025-06-01"),  # ended: not in force, not reported
    ])  # fmt: skip
    after = Deck([
        row("44", "0.045", "2026-03-01"),
        row("1", "0.01", "2026-03-01", profile=Profile.BUSINESS),
        row("33", "0.03", "2026-01-01", "2026-02-01"),  # ends before the import: removed
    ])  # fmt: skip
    changes = compare_decks(before, after, parse_instant("2026-02-15"))
    assert [(c.code, c.profile, c.status) for c in changes] == [
        ("1", Profile.BUSINESS, S.NEW),
        ("33", Profile.ALL, S.REMOVED),
        ("44", Profile.ALL, S.DECREASED),
        ("44", Profile.WEEKENDS, S.REMOVED),
    ]
    removed = changes[1]
    assert (removed.rate, removed.previous_rate, removed.difference) == (
        None,
        Decimal("0.03"),
        None,
    )
    assert changes[2].difference == Decimal("-0.005")
    assert changes[2].code_name == "dest 44"


def test_identical_decks_are_unchanged() -> None:
    deck = Deck(FIRST)
    changes = compare_decks(deck, deck, parse_instant("2017-08-01"))
    assert {c.status for c in changes} == {S.UNCHANGED}
    assert [c.difference for c in changes] == [Decimal(0)] * 3


def test_a_first_rate_edited_on_its_own_date_is_compared_with_itself() -> None:
    edited = Deck([row("1", "12", "2017-07-01"), *FIRST[1:]])
    changes = compare_decks(Deck(FIRST), edited, parse_instant("2017-06-15"))
    assert summary(changes)[0] == ("1", S.INCREASED, "12", "10", "2")
