"""Cost of billed seconds: setup fee, per-minute rate, one rounding, currency conversion."""

import pytest

from pipeline.rating.fx import ExchangeRates
from pipeline.rating.money import Rounding
from pipeline.rating.tariff import exact_cost, to_micro
from tests.builders import catalog, money, row, tariff, ts


@pytest.mark.parametrize(
    ("rate", "setup", "charged", "decimals", "rounding", "expected"),
    [
        ("0.10", "0", 60, 4, Rounding.HALF_UP, "0.10"),
        ("0.10", "0", 61, 4, Rounding.HALF_UP, "0.1017"),  # 0.101666.. -> 0.1017
        ("0.10", "0", 61, 4, Rounding.DOWN, "0.1016"),
        ("0.10", "0", 61, 2, Rounding.UP, "0.11"),
        ("0.10", "0.05", 30, 4, Rounding.HALF_UP, "0.10"),  # 0.05 + 0.05
        ("0.10", "0.05", 0, 4, Rounding.HALF_UP, "0"),  # nothing charged: no setup fee
        ("0.012345", "0", 7, 6, Rounding.HALF_UP, "0.00144"),  # 0.00144025 -> 0.001440
        ("1", "0", 1, 0, Rounding.UP, "1"),
    ],
)
def test_cost_is_exact_then_rounded_once(
    rate: str, setup: str, charged: int, decimals: int, rounding: Rounding, expected: str
) -> None:
    deck_row = row("44", rate, setup=setup)
    t = tariff("t", [deck_row], decimals=decimals, rounding=rounding)
    assert to_micro(exact_cost(deck_row, charged), t) == money(expected)


def test_never_rounded_per_increment() -> None:
    # 10 intervals of 6 s at 0.0333/min: per-increment rounding to 4 places would give
    # 10 * 0.0033 = 0.0330; the exact cost is 0.0333.
    deck_row = row("44", "0.0333", interval=6)
    t = tariff("t", [deck_row])
    assert to_micro(exact_cost(deck_row, deck_row.billed_seconds(60)), t) == money("0.0333")


def test_conversion_before_rounding() -> None:
    rates: ExchangeRates = catalog(
        [], customers=[], accounts=[], providers=[], rates=[("EUR", "USD", "1.10", "2026-01-01")]
    ).exchange_rates
    deck_row = row("44", "0.0123")
    t = tariff("eur", [deck_row], "EUR", decimals=4)
    factor = rates.factor("EUR", "USD", ts("2026-02-01"))
    assert factor is not None
    # 0.0123 EUR * 1.10 = 0.01353 USD -> 0.0135 (converting a rounded 0.0123 gives the same
    # here; 7 s shows the difference: 0.001435 EUR * 1.1 = 0.0015785 -> 0.0016)
    assert to_micro(exact_cost(deck_row, 60), t, factor) == money("0.0135")
    assert to_micro(exact_cost(deck_row, 7), t, factor) == money("0.0016")
    inverse = rates.factor("USD", "EUR", ts("2026-02-01"))
    assert inverse is not None
    usd = tariff("usd", [row("44", "1.10")], "USD")
    assert to_micro(exact_cost(usd.deck.rows[0], 60), usd, inverse) == money("1")
    assert rates.factor("EUR", "USD", ts("2025-12-31")) is None  # not yet in force
