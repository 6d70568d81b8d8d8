"""Inclusive-minute packages: which seconds of a call a package covers, as a pure transition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.catalog.model import Customer, Package, PackageReset
from pipeline.ledger.periods import period_of


@dataclass(frozen=True, slots=True)
class PackageUsage:
    """Seconds used of one customer's package within the package's current cycle."""

    cycle: str
    used: int = 0


def package_cycle(package: Package, customer: Customer, start: datetime) -> str:
    """The cycle a call falls in: its customer's billing period, before/after a reset date."""
    if package.reset is PackageReset.BILLING_PERIOD:
        period = period_of(customer.billing_period, start, customer.timezone, customer.created)
        return period.start.date().isoformat()
    if package.reset is PackageReset.DATE:
        assert package.reset_date is not None
        local_day = start.astimezone(customer.timezone).date()
        return "after" if local_day >= package.reset_date else "before"
    return "manual"


def cover(
    usage: PackageUsage | None, package: Package, cycle: str, billed: int
) -> tuple[PackageUsage, int]:
    """Cover up to `billed` seconds from what is left this cycle; returns (usage, covered)."""
    if usage is None or usage.cycle != cycle:
        usage = PackageUsage(cycle)
    left = package.minutes * 60 - usage.used
    covered = min(max(left, 0), billed)
    return PackageUsage(cycle, usage.used + covered), covered


def reset(usage: PackageUsage | None) -> PackageUsage | None:
    """An explicit reset command: the package starts over within its cycle."""
    return None if usage is None else PackageUsage(usage.cycle)
