"""Loading the good fixture catalog: exact Decimal and micro-unit values, defaults, version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.catalog.loader import load_catalog
from pipeline.catalog.model import (
    NO_LIMIT,
    Audience,
    BalanceControl,
    Catalog,
    PackageReset,
    Threshold,
    ThresholdKind,
)
from pipeline.ledger.periods import PeriodKind
from pipeline.rating.deck import OPEN_END
from pipeline.rating.money import Rounding
from pipeline.rating.profiles import Profile
from tests.unit.catalog.helpers import GOOD, JAN_1, variant


@pytest.fixture(scope="module")
def good() -> Catalog:
    return load_catalog(GOOD)


Getter = Callable[[Catalog], object]

GOOD_VALUES: list[tuple[str, Getter, object]] = [
    ("currency", lambda c: c.currency, "USD"),
    ("max_call_seconds", lambda c: c.max_call_seconds, 7200),
    ("hours", lambda c: (c.business_hours.start, c.business_hours.end), (time(8), time(18))),
    (
        "rate from YAML float",
        lambda c: c.exchange_rates.factor("EUR", "USD", JAN_1),
        (1_100_000_000, 10**9),
    ),
    (
        "rate at +02:00",
        lambda c: c.exchange_rates.factor("EUR", "USD", 1_774_994_400),
        (1_085_000_000, 10**9),
    ),
    (
        "rate inverted",
        lambda c: c.exchange_rates.factor("USD", "GBP", JAN_1),
        (10**9, 1_270_000_000),
    ),
    ("tariff currency", lambda c: c.tariffs["carrier-a"].currency, "EUR"),
    ("tariff decimals", lambda c: c.tariffs["carrier-a"].decimals, 6),
    ("tariff rounding", lambda c: c.tariffs["wholesale"].rounding, Rounding.DOWN),
    (
        "tariff defaults",
        lambda c: (c.tariffs["wholesale"].decimals, c.tariffs["wholesale"].timezone),
        (4, ZoneInfo("UTC")),
    ),
    ("tariff hours", lambda c: c.tariffs["wholesale"].business_hours.end, time.max),
    ("tariff days", lambda c: c.tariffs["wholesale"].business_hours.days, frozenset(range(6))),
    ("inherited hours", lambda c: c.tariffs["retail"].business_hours == c.business_hours, True),
    ("deck size", lambda c: len(c.tariffs["retail"].deck), 8),
    ("reseller root", lambda c: c.resellers["r1"].parent, None),
    (
        "reseller control",
        lambda c: c.resellers["r1"].terms.balance_control,
        BalanceControl.POSTPAID,
    ),
    ("reseller credit", lambda c: c.resellers["r1"].terms.credit_limit, 1_000_000_000),
    (
        "commissions",
        lambda c: (c.resellers["r1"].sales_commission, c.resellers["r1"].payment_commission),
        (Decimal("0.15"), Decimal("0.10")),
    ),
    (
        "distributor",
        lambda c: (c.resellers["r1"].is_distributor, c.resellers["r2"].is_distributor),
        (True, False),
    ),
    ("chain", lambda c: [r.id for r in c.reseller_chain(c.customers["c2"])], ["r2", "r1"]),
    (
        "reseller calendar",
        lambda c: (c.resellers["r2"].billing_period, c.resellers["r2"].created),
        (PeriodKind.MONTHLY_ANNIVERSARY, date(2026, 1, 31)),
    ),
    (
        "share threshold",
        lambda c: c.resellers["r1"].terms.thresholds,
        (Threshold(ThresholdKind.CREDIT_WARNING, Audience.CUSTOMER, share=Decimal("0.9")),),
    ),
    (
        "admin thresholds",
        lambda c: [t.micro for t in c.resellers["r2"].terms.thresholds],
        [50_000_000, 10_000_000],
    ),
    ("opening from string", lambda c: c.customers["c1"].terms.opening_balance, 10_000_000),
    ("opening from YAML float", lambda c: c.customers["c2"].terms.opening_balance, 25_500_000),
    ("credit with 6 decimals", lambda c: c.customers["c3"].terms.credit_limit, 500_000_001),
    ("default control", lambda c: c.customers["c2"].terms.balance_control, BalanceControl.PREPAID),
    ("default currency", lambda c: c.customers["c2"].terms.currency, "USD"),
    ("customer zone", lambda c: c.customers["c1"].timezone, ZoneInfo("America/New_York")),
    (
        "low balance",
        lambda c: c.customers["c1"].terms.thresholds,
        (Threshold(ThresholdKind.LOW_BALANCE, Audience.CUSTOMER, micro=2_000_000),),
    ),
    (
        "credit warnings",
        lambda c: [(t.audience, t.share, t.micro) for t in c.customers["c2"].terms.thresholds],
        [
            (Audience.CUSTOMER, Decimal("0.8"), None),
            (Audience.CUSTOMER, None, 95_000_000),
            (Audience.ADMIN, Decimal(1), None),
        ],
    ),
    ("packages", lambda c: c.customers["c3"].packages, ("p-eu", "p100")),
    ("30 days", lambda c: c.customers["c2"].billing_period, PeriodKind.THIRTY_DAYS),
    ("int account key", lambda c: c.accounts["1000"].customer, "c1"),
    ("leading zero key", lambda c: c.accounts["0101"].daily_limit.thresholds, (50, 90, 100)),
    ("payer", lambda c: c.accounts["1001"].payer, "c1"),
    ("no daily limit", lambda c: c.accounts["1001"].daily_limit, NO_LIMIT),
    (
        "account zone from customer",
        lambda c: c.accounts["1000"].daily_limit.timezone,
        ZoneInfo("America/New_York"),
    ),
    ("account zone", lambda c: c.accounts["ext-7"].daily_limit.timezone, ZoneInfo("Asia/Tokyo")),
    ("account minutes", lambda c: c.accounts["ext-7"].daily_limit.minutes, 120),
    ("provider limit", lambda c: c.providers["carrier-a"].balance_limit, 5_000_000_000),
    ("provider daily", lambda c: c.providers["carrier-a"].daily_limit.minutes, 1000),
    (
        "provider zone",
        lambda c: c.providers["carrier-a"].daily_limit.timezone,
        ZoneInfo("Europe/Berlin"),
    ),
    (
        "provider defaults",
        lambda c: (c.providers["carrier-b"].currency, c.providers["carrier-b"].balance_limit),
        ("USD", None),
    ),
    ("provider opening", lambda c: c.providers["carrier-b"].opening_balance, -12_500_000),
    ("package codes", lambda c: c.packages["p100"].codes, ("44", "33")),
    (
        "package date",
        lambda c: (c.packages["p-eu"].reset, c.packages["p-eu"].reset_date),
        (PackageReset.DATE, date(2026, 7, 1)),
    ),
    ("package manual", lambda c: c.packages["p-manual"].reset, PackageReset.MANUAL),
]


@pytest.mark.parametrize(("getter", "expected"), [(g, e) for _, g, e in GOOD_VALUES],
                         ids=[name for name, _, _ in GOOD_VALUES])  # fmt: skip
def test_good_catalog_values(good: Catalog, getter: Getter, expected: object) -> None:
    assert getter(good) == expected


def test_good_deck_rows_are_exact(good: Catalog) -> None:
    deck = good.tariffs["retail"].deck
    weekend, mobile_new = deck.rows[1], deck.rows[4]
    assert (weekend.rate, weekend.rate_units, weekend.interval, weekend.profile) == (
        Decimal("0.0400"), 40_000_000, 1, Profile.WEEKENDS,
    )  # fmt: skip
    assert (mobile_new.effective, mobile_new.end, mobile_new.profile) == (
        1_780_268_400, OPEN_END, Profile.ALL,
    )  # fmt: skip
    assert (mobile_new.setup_fee, mobile_new.setup_units) == (Decimal("0.01"), 10_000_000)
    assert deck.rows[5].rate_units == 30_000_001  # 0.030000001: nine decimals are kept
    carrier = good.tariffs["carrier-a"].deck  # BOM, CRLF, reordered and missing columns
    assert [(r.code, r.code_name, r.rate) for r in carrier.rows] == [
        ("44", "UK", Decimal("0.02")),
        ("447", "UK Mobile, all networks", Decimal("0.05")),
    ]


def test_version_is_stable_and_follows_every_file(good: Catalog, tmp_path: Path) -> None:
    assert len(good.version) == 16
    assert load_catalog(GOOD).version == good.version
    changed = variant(tmp_path, ("decks/wholesale.csv", "0.0150", "0.0151"))
    assert load_catalog(changed).version != good.version


# (file, old text, new text, the single error expected)
