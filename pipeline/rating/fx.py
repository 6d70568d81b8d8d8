"""Exchange rates in force at a time, as exact integer fractions."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from pipeline.rating.money import Rounding, round_div


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """1 `source` = `rate` `target` from epoch second `effective` on."""

    source: str
    target: str
    rate: Decimal
    effective: int
    rate_units: int  # nano-units


class ExchangeRates:
    """Looks up the conversion factor between two currencies at a time.

    A pair given only the other way round is used inverted (exactly, as a fraction).
    """

    __slots__ = ("_pairs",)

    def __init__(self, rates: Iterable[ExchangeRate]) -> None:
        pairs: dict[tuple[str, str], list[ExchangeRate]] = {}
        for rate in rates:
            pairs.setdefault((rate.source, rate.target), []).append(rate)
        self._pairs = {
            pair: (tuple(r.effective for r in rows), tuple(rows))
            for pair, rows in (
                (p, sorted(rs, key=lambda r: r.effective)) for p, rs in pairs.items()
            )
        }

    def has_pair(self, source: str, target: str) -> bool:
        return (
            source == target or (source, target) in self._pairs or (target, source) in self._pairs
        )

    def _at(self, source: str, target: str, at: int) -> int | None:
        entry = self._pairs.get((source, target))
        if entry is None:
            return None
        starts, rows = entry
        index = bisect.bisect_right(starts, at) - 1
        return rows[index].rate_units if index >= 0 else None

    def factor(self, source: str, target: str, at: int) -> tuple[int, int] | None:
        """(multiplier, divisor) turning an amount in `source` into `target` at epoch `at`."""
        if source == target:
            return 1, 1
        direct = self._at(source, target, at)
        if direct is not None:
            return direct, 1_000_000_000
        inverse = self._at(target, source, at)
        if inverse is not None:
            return 1_000_000_000, inverse
        return None


def convert(amount: int, factor: tuple[int, int]) -> int:
    """Micro-units converted by an exchange factor, rounded half-up to micro-units."""
    multiplier, divisor = factor
    return round_div(amount * multiplier, divisor, Rounding.HALF_UP)
