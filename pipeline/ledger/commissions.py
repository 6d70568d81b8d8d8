"""Distributor commissions: what a distributor owes for a sale or a collected payment."""

from __future__ import annotations

from decimal import Decimal

from pipeline.rating.money import Rounding, round_div


def owed_after_commission(
    amount: int, commission: Decimal, factor: tuple[int, int] = (1, 1)
) -> int:
    """`amount * (1 - commission)`, converted by `factor`, rounded half-up to micro-units.

    A distributor with sales commission s that opens a customer with balance B owes
    `B * (1 - s)`; with payment commission p, recording a payment P it owes `P * (1 - p)`.
    """
    numerator, denominator = (1 - commission).as_integer_ratio()
    multiplier, divisor = factor
    return round_div(amount * numerator * multiplier, denominator * divisor, Rounding.HALF_UP)
