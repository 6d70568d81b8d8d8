"""Labelling a new rate deck against the rates in force before it: new, increased, removed..."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from pipeline.rating.deck import Deck, DeckRow
from pipeline.rating.profiles import Profile


class ChangeStatus(enum.Enum):
    NEW = "new"  # no rate in force before for this code and profile
    INCREASED = "increased"
    DECREASED = "decreased"
    UNCHANGED = "unchanged"
    REMOVED = "removed"  # in force before, absent (or ended) in the new deck


@dataclass(frozen=True, slots=True)
class RateChange:
    """How one code and profile of a new deck compares with the rate in force before it."""

    code: str
    code_name: str
    profile: Profile
    status: ChangeStatus
    rate: Decimal | None  # the new deck's rate; None when removed
    previous_rate: Decimal | None  # the rate in force before; None when new
    difference: Decimal | None  # rate - previous_rate; None when new or removed


Key = tuple[str, Profile]


def in_force(deck: Deck, at: int) -> dict[Key, DeckRow]:
    """Per code and profile, the row active at epoch `at` (the newest if rows overlap)."""
    result: dict[Key, DeckRow] = {}
    for row in deck.rows:
        if row.active_at(at):
            key = (row.code, row.profile)
            current = result.get(key)
            if current is None or row.effective > current.effective:
                result[key] = row
    return result


def newest(deck: Deck, at: int) -> dict[Key, DeckRow]:
    """Per code and profile, the row with the latest effective date that has not ended by `at`.

    Its effective date may lie in the future: a deck announcing tomorrow's rate is compared
    by that rate.
    """
    result: dict[Key, DeckRow] = {}
    for row in deck.rows:
        if row.end > at:
            key = (row.code, row.profile)
            current = result.get(key)
            if current is None or row.effective > current.effective:
                result[key] = row
    return result


def compare_decks(before: Deck, after: Deck, at: int) -> list[RateChange]:
    """Label every code and profile of `after` (and those it drops) against `before` at `at`.

    `before` is the deck in force when the new one is imported at epoch `at`; only its rows
    active at `at` count. Sorted by code, then profile name.
    """
    previous = in_force(before, at)
    upcoming = newest(after, at)
    changes: list[RateChange] = []
    for key in sorted(previous.keys() | upcoming.keys(), key=lambda k: (k[0], k[1].value)):
        old, new = previous.get(key), upcoming.get(key)
        code, profile = key
        if new is None:
            assert old is not None
            changes.append(
                RateChange(code, old.code_name, profile, ChangeStatus.REMOVED, None, old.rate, None)
            )
        elif old is None:
            changes.append(
                RateChange(code, new.code_name, profile, ChangeStatus.NEW, new.rate, None, None)
            )
        else:
            difference = new.rate - old.rate
            status = (
                ChangeStatus.INCREASED
                if difference > 0
                else ChangeStatus.DECREASED
                if difference < 0
                else ChangeStatus.UNCHANGED
            )
            changes.append(
                RateChange(code, new.code_name, profile, status, new.rate, old.rate, difference)
            )
    return changes
