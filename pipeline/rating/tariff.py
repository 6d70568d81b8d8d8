"""A tariff (deck, currency, rounding, timezone) and the exact price of billed seconds."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pipeline.rating.deck import Deck, DeckRow
from pipeline.rating.money import MAX_DECIMALS, RATE_SCALE, Rounding, round_div
from pipeline.rating.profiles import DEFAULT_HOURS, BusinessHours

UTC = ZoneInfo("UTC")
_POWERS: tuple[int, ...] = tuple(10**places for places in range(MAX_DECIMALS + 1))


@dataclass(frozen=True, slots=True)
class Tariff:
    """A rate deck with the currency, rounding and timezone its prices are computed in."""

    name: str
    deck: Deck
    currency: str
    decimals: int = 4
    rounding: Rounding = Rounding.HALF_UP
    timezone: ZoneInfo = UTC
    business_hours: BusinessHours = DEFAULT_HOURS

    def __post_init__(self) -> None:
        if not 0 <= self.decimals <= MAX_DECIMALS:
            raise ValueError(f"decimals must be 0..{MAX_DECIMALS}, not {self.decimals}")

    def find(self, number: str, at: int) -> tuple[DeckRow | None, bool]:
        return self.deck.find(number, at, self.timezone, self.business_hours)


def exact_cost(row: DeckRow, charged_seconds: int) -> int:
    """`setup_fee + rate * charged / 60` in units of 1/60 nano: exact, not yet rounded.

    The setup fee is due only when some seconds are charged.
    """
    if charged_seconds <= 0:
        return 0
    return row.setup_units * 60 + row.rate_units * charged_seconds


def to_micro(exact: int, tariff: Tariff, factor: tuple[int, int] = (1, 1)) -> int:
    """Convert an exact cost with an exchange factor, then round once to the tariff's decimals.

    Returns micro-units of the target currency.
    """
    multiplier, divisor = factor
    places = _POWERS[tariff.decimals]
    rounded = round_div(exact * multiplier * places, 60 * RATE_SCALE * divisor, tariff.rounding)
    return rounded * _POWERS[MAX_DECIMALS - tariff.decimals]
