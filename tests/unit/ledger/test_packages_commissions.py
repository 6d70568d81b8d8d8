"""Inclusive minutes and distributor commissions, with worked numbers."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from pipeline.catalog.model import BalanceTerms, Customer, Package, PackageReset
from pipeline.ledger.commissions import owed_after_commission
from pipeline.ledger.packages import PackageUsage, cover, package_cycle, reset
from pipeline.ledger.periods import PeriodKind
from tests.builders import money

P100 = Package("p100", 100, ("44", "33"))


def test_cover_uses_what_is_left_then_charges_the_rest() -> None:
    usage, covered = cover(None, P100, "2026-03-19", 5_940)
    assert (usage, covered) == (PackageUsage("2026-03-19", 5_940), 5_940)
    usage, covered = cover(usage, P100, "2026-03-19", 120)  # 60 s left
    assert (usage.used, covered) == (6_000, 60)
    usage, covered = cover(usage, P100, "2026-03-19", 30)
    assert covered == 0
    usage, covered = cover(usage, P100, "2026-04-19", 30)  # a new cycle starts over
    assert (usage, covered) == (PackageUsage("2026-04-19", 30), 30)
    assert reset(usage) == PackageUsage("2026-04-19", 0)


def test_cycle_follows_the_customers_billing_period_in_its_timezone() -> None:
    customer = Customer(
        "c1",
        "retail",
        None,
        BalanceTerms("USD"),
        ZoneInfo("America/New_York"),
        PeriodKind.MONTHLY_ANNIVERSARY,
        date(2026, 3, 19),
        ("p100",),
    )
    # 03:00 UTC on April 19 is still April 18 in New York: the March period
    assert package_cycle(P100, customer, datetime(2026, 4, 19, 3, tzinfo=UTC)) == "2026-03-19"
    assert package_cycle(P100, customer, datetime(2026, 4, 19, 5, tzinfo=UTC)) == "2026-04-19"


def test_fixed_reset_date() -> None:
    package = Package("p", 10, ("44",), PackageReset.DATE, date(2007, 6, 12))
    customer = Customer("c", "t", None, BalanceTerms("USD"))
    assert package_cycle(package, customer, datetime(2007, 6, 11, 23, tzinfo=UTC)) == "before"
    assert package_cycle(package, customer, datetime(2007, 6, 12, 0, tzinfo=UTC)) == "after"


def test_package_covers_by_prefix() -> None:
    assert P100.covers("441234") and P100.covers("33") and not P100.covers("4912")


def test_sales_commission_porta_example() -> None:
    # 15 % sales commission, a new account with a $10 balance: distributor charged $8.50
    assert owed_after_commission(money("10"), Decimal("0.15")) == money("8.5")


def test_payment_commission_porta_example() -> None:
    # 10 % payment commission, a $10 payment: distributor charged $9
    assert owed_after_commission(money("10"), Decimal("0.10")) == money("9")


def test_commission_converted_and_rounded_half_up() -> None:
    # 10 EUR at 1.10 USD/EUR less 15 %: 9.35 USD; 0.000003 * 0.5 rounds half up
    assert owed_after_commission(
        money("10"), Decimal("0.15"), (1_100_000_000, 1_000_000_000)
    ) == money("9.35")
    assert owed_after_commission(3, Decimal("0.5")) == 2
