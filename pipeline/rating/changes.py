"""Labelling a new rate deck against the rates in force before it: new, increased, removed..."""

from __future__ import annotations

import enum
from collections.abc import Iterable
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
    """Label every code and profile of `after` (and those it drops) against `before`.

    `after` is imported at epoch `at`. Its rate for a code is the row with the latest
    effective date not ended by `at` (`newest`); the previous rate is the one `before`
    has in force just before that row takes effect, so an edit of a rate not yet in
    force is compared with the rate it would replace (JeraSoft's example, seed 004:
    code 2 edited from 15 to 20 for 07/21 shows previous rate 10). A code of `before`
    in force at `at` that `after` lacks is removed. A code that `before` starts on the
    same date as `after` is compared with that row. Sorted by code, then profile name.
    """
    dropped = in_force(before, at)
    upcoming = newest(after, at)
    rows: dict[Key, list[DeckRow]] = {}
    for row in before.rows:
        rows.setdefault((row.code, row.profile), []).append(row)
    changes: list[RateChange] = []
    for key in sorted(dropped.keys() | upcoming.keys(), key=lambda k: (k[0], k[1].value)):
        new = upcoming.get(key)
        code, profile = key
        if new is None:
            old = dropped[key]
            changes.append(
                RateChange(code, old.code_name, profile, ChangeStatus.REMOVED, None, old.rate, None)
            )
            continue
        held = rows.get(key, ())
        # a code `before` has only from that same date on: the row itself, edited or not
        was = _active(held, new.effective - 1) or _active(held, new.effective)
        if was is None:
            changes.append(
                RateChange(code, new.code_name, profile, ChangeStatus.NEW, new.rate, None, None)
            )
            continue
        difference = new.rate - was.rate
        status = (
            ChangeStatus.INCREASED
            if difference > 0
            else ChangeStatus.DECREASED
            if difference < 0
            else ChangeStatus.UNCHANGED
        )
        changes.append(
            RateChange(code, new.code_name, profile, status, new.rate, was.rate, difference)
        )
    return changes


def _active(rows: Iterable[DeckRow], at: int) -> DeckRow | None:
    """The row active at `at` (the newest if several overlap), if any."""
    found: DeckRow | None = None
    for row in rows:
        if row.active_at(at) and (found is None or row.effective > found.effective):
            found = row
    return found
