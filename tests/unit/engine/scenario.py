"""A small catalog exercising every rule: reseller chain, distributor, shared funds, FX."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from pipeline.catalog.model import (
    Account,
    Audience,
    BalanceControl,
    BalanceTerms,
    Catalog,
    Customer,
    DailyLimit,
    Package,
    Provider,
    Reseller,
    Threshold,
    ThresholdKind,
)
from pipeline.ledger.periods import PeriodKind
from tests.builders import catalog, money, row, tariff


def scenario() -> Catalog:
    retail = tariff(
        "retail",
        [
            row("44", "0.10", min_volume=60, interval=60),
            row("4479", "0.30", setup="0.05"),
            row("33", "0.20"),
            row("1", "0.02"),
            row("99", "1.00"),
        ],
    )
    wholesale = tariff(
        "wholesale", [row("44", "0.06"), row("33", "0.12"), row("1", "0.01"), row("99", "0.5")]
    )
    top = tariff("top", [row("44", "0.05"), row("33", "0.10"), row("1", "0.008"), row("99", "0.4")])
    carrier = tariff("carrier-a", [row("44", "0.03"), row("33", "0.05"), row("1", "0.005")], "EUR")
    return catalog(
        [retail, wholesale, top, carrier],
        resellers=[
            Reseller(
                "r0", "top", None, BalanceTerms("USD", BalanceControl.POSTPAID, money("1000"))
            ),
            Reseller(
                "r1",
                "wholesale",
                "r0",
                BalanceTerms(
                    "USD",
                    BalanceControl.POSTPAID,
                    money("100"),
                    thresholds=(
                        Threshold(
                            ThresholdKind.CREDIT_WARNING, Audience.ADMIN, share=Decimal("0.9")
                        ),
                    ),
                ),
                sales_commission=Decimal("0.15"),
                payment_commission=Decimal("0.10"),
            ),
        ],
        customers=[
            Customer(
                "c1",
                "retail",
                "r1",
                BalanceTerms(
                    "USD",
                    opening_balance=money("10"),
                    thresholds=(
                        Threshold(ThresholdKind.LOW_BALANCE, Audience.CUSTOMER, micro=money("2")),
                    ),
                ),
                ZoneInfo("America/New_York"),
                PeriodKind.MONTHLY,
                date(2026, 3, 19),
            ),
            Customer(
                "c2", "retail", None, BalanceTerms("USD", BalanceControl.POSTPAID, money("100"))
            ),
            Customer(
                "c3",
                "retail",
                None,
                BalanceTerms("USD", opening_balance=money("50")),
                packages=("p1",),
            ),
            Customer("c4", "retail", None, BalanceTerms("EUR", opening_balance=money("5"))),
        ],
        accounts=[
            Account("1000", "c1"),
            Account("1001", "c2", funds_from="c1"),
            Account("2000", "c2", daily_limit=DailyLimit(2, (50, 100))),
            Account("3000", "c3"),
            Account("4000", "c4"),
        ],
        providers=[
            Provider(
                "carrier-a",
                "carrier-a",
                "EUR",
                balance_limit=money("1"),
                daily_limit=DailyLimit(100),
            ),
        ],
        packages=[Package("p1", 1, ("44",))],
        rates=[("EUR", "USD", "1.10", "2026-01-01")],
    )
