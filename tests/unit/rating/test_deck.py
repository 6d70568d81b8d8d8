"""Deck rules: billed seconds, longest prefix, effective and end dates, time profiles."""

from zoneinfo import ZoneInfo

import pytest

from pipeline.rating.deck import Deck
from pipeline.rating.profiles import BusinessHours, Profile
from tests.builders import row, ts

UTC = ZoneInfo("UTC")
HOURS = BusinessHours()


@pytest.mark.parametrize(
    ("min_volume", "interval", "grace", "answered", "billed"),
    [
        (0, 1, 0, 0, 0),  # not answered: nothing
        (0, 1, 0, 1, 1),
        (30, 6, 0, 1, 30),  # under the minimum volume: the minimum
        (30, 6, 0, 30, 30),
        (30, 6, 0, 31, 36),  # minimum + one interval
        (30, 6, 0, 37, 42),
        (60, 60, 0, 61, 120),
        (0, 60, 0, 61, 120),
        (30, 6, 5, 5, 0),  # within the grace volume: free
        (30, 6, 5, 6, 30),
        (0, 0, 0, 7, 7),  # interval 0 counts as 1
        (1, 1, 0, 125, 125),
    ],
)
def test_billed_seconds(
    min_volume: int, interval: int, grace: int, answered: int, billed: int
) -> None:
    deck_row = row("44", "1", min_volume=min_volume, interval=interval, grace=grace)
    assert deck_row.billed_seconds(answered) == billed


def find(deck: Deck, number: str, at: str, tz: str = "UTC") -> str | None:
    found, _ = deck.find(number, ts(at), ZoneInfo(tz), HOURS)
    return None if found is None else f"{found.code}@{found.rate}:{found.profile.value}"


def test_longest_prefix_wins() -> None:
    deck = Deck([row("44", "0.10"), row("447", "0.20"), row("4479", "0.30")])
    assert find(deck, "447912345", "2026-01-05T10:00:00") == "4479@0.30:all"
    assert find(deck, "447812345", "2026-01-05T10:00:00") == "447@0.20:all"
    assert find(deck, "441234", "2026-01-05T10:00:00") == "44@0.10:all"
    assert find(deck, "331234", "2026-01-05T10:00:00") is None


def test_ended_code_is_skipped_for_a_shorter_one() -> None:
    deck = Deck([row("44", "0.10"), row("447", "0.20", end="2026-01-01")])
    assert find(deck, "4471", "2025-12-31T23:59:59") == "447@0.20:all"
    assert find(deck, "4471", "2026-01-01T00:00:00") == "44@0.10:all"  # end is exclusive


def test_not_yet_effective_rows_are_skipped() -> None:
    deck = Deck([row("44", "0.10"), row("447", "0.20", effective="2026-06-01")])
    assert find(deck, "4471", "2026-05-31T23:59:59") == "44@0.10:all"
    assert find(deck, "4471", "2026-06-01T00:00:00") == "447@0.20:all"


def test_newest_effective_row_supersedes() -> None:
    deck = Deck(
        [row("44", "0.10", effective="2026-01-01"), row("44", "0.15", effective="2026-03-01")]
    )
    assert find(deck, "441", "2026-02-28T12:00:00") == "44@0.10:all"
    assert find(deck, "441", "2026-03-01T00:00:00") == "44@0.15:all"


PROFILED = Deck(
    [
        row("44", "0.10", profile=Profile.ALL),
        row("44", "0.20", profile=Profile.BUSINESS),
        row("44", "0.05", profile=Profile.WEEKENDS),
    ]
)


@pytest.mark.parametrize(
    ("at", "tz", "expected"),
    [
        ("2026-01-05T10:00:00", "UTC", "44@0.20:business"),  # Monday 10:00
        ("2026-01-05T18:00:00", "UTC", "44@0.10:all"),  # business ends at 18:00
        ("2026-01-05T07:59:59", "UTC", "44@0.10:all"),
        ("2026-01-10T10:00:00", "UTC", "44@0.05:weekends"),  # Saturday
        # 14:00 UTC Monday is 09:00 in New York: business there
        ("2026-01-05T14:00:00", "America/New_York", "44@0.20:business"),
        # 02:00 UTC Monday is still Sunday 21:00 in New York: weekend there
        ("2026-01-05T02:00:00", "America/New_York", "44@0.05:weekends"),
    ],
)
def test_profiles_most_specific_first_in_tariff_timezone(at: str, tz: str, expected: str) -> None:
    assert find(PROFILED, "4412", at, tz) == expected


def test_non_business_row_and_no_matching_profile() -> None:
    deck = Deck(
        [
            row("33", "0.30", profile=Profile.BUSINESS),
            row("33", "0.10", profile=Profile.NON_BUSINESS),
        ]
    )
    assert find(deck, "331", "2026-01-05T20:00:00") == "33@0.10:non_business"
    only_business = Deck([row("33", "0.30", profile=Profile.BUSINESS), row("3", "0.01")])
    found, had_active = only_business.find("331", ts("2026-01-05T20:00:00"), UTC, HOURS)
    assert found is None  # the code has active rows, none for this time: no rate
    assert had_active
