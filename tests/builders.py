"""Builders for small catalogs, decks and CDRs in unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.catalog.model import (
    Account,
    BalanceTerms,
    Catalog,
    Customer,
    Package,
    Provider,
    Reseller,
)
from pipeline.cdrs.model import RawCdr
from pipeline.rating.deck import OPEN_END, Deck, DeckRow
from pipeline.rating.fx import ExchangeRate, ExchangeRates
from pipeline.rating.money import Rounding, to_micro, to_rate_units
from pipeline.rating.profiles import DEFAULT_HOURS, BusinessHours, Profile
from pipeline.rating.tariff import Tariff


def ts(text: str) -> int:
    """Epoch seconds of an ISO time (UTC unless an offset is given)."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp())


def row(
    code: str,
    rate: str,
    *,
    effective: str = "2020-01-01",
    end: str | None = None,
    min_volume: int = 0,
    interval: int = 1,
    grace: int = 0,
    setup: str = "0",
    profile: Profile = Profile.ALL,
    name: str = "",
) -> DeckRow:
    return DeckRow(
        code=code,
        code_name=name or f"dest {code}",
        rate=Decimal(rate),
        effective=ts(effective),
        end=ts(end) if end else OPEN_END,
        min_volume=min_volume,
        interval=interval,
        grace_volume=grace,
        setup_fee=Decimal(setup),
        profile=profile,
        rate_units=to_rate_units(Decimal(rate)),
        setup_units=to_rate_units(Decimal(setup)),
    )


def tariff(
    name: str,
    rows: list[DeckRow],
    currency: str = "USD",
    *,
    decimals: int = 4,
    rounding: Rounding = Rounding.HALF_UP,
    timezone: str = "UTC",
    hours: BusinessHours = DEFAULT_HOURS,
) -> Tariff:
    return Tariff(name, Deck(rows), currency, decimals, rounding, ZoneInfo(timezone), hours)


def money(text: str) -> int:
    return to_micro(Decimal(text))


def terms(currency: str = "USD", **kwargs: Any) -> BalanceTerms:
    return BalanceTerms(currency=currency, **kwargs)


def catalog(
    tariffs: list[Tariff],
    *,
    customers: list[Customer],
    accounts: list[Account],
    providers: list[Provider],
    resellers: list[Reseller] = (),  # type: ignore[assignment]
    packages: list[Package] = (),  # type: ignore[assignment]
    rates: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
    currency: str = "USD",
) -> Catalog:
    return Catalog(
        currency=currency,
        tariffs={t.name: t for t in tariffs},
        resellers={r.id: r for r in resellers},
        customers={c.id: c for c in customers},
        accounts={a.id: a for a in accounts},
        providers={p.id: p for p in providers},
        packages={p.id: p for p in packages},
        exchange_rates=ExchangeRates(
            ExchangeRate(src, dst, Decimal(rate), ts(eff), to_rate_units(Decimal(rate)))
            for src, dst, rate, eff in rates
        ),
    )


def cdr(
    cdr_id: str = "c-1",
    *,
    account: str = "1000",
    callee: str = "441234567890",
    start: str = "2026-03-20T10:00:00+00:00",
    duration: int = 60,
    provider: str = "carrier-a",
) -> RawCdr:
    return RawCdr(
        cdr_id=cdr_id,
        account=account,
        caller="1000",
        callee=callee,
        start=datetime.fromisoformat(start),
        duration=duration,
        provider=provider,
        source=f"test:{cdr_id}",
    )


__all__ = ["catalog", "cdr", "money", "replace", "row", "tariff", "terms", "ts"]
