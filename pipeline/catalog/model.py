"""Catalog value types: parties, thresholds, packages, and the catalog that holds them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from pipeline.ledger.periods import PeriodKind
from pipeline.rating.fx import ExchangeRates
from pipeline.rating.money import format_micro
from pipeline.rating.profiles import DEFAULT_HOURS, BusinessHours
from pipeline.rating.tariff import Tariff

UTC = ZoneInfo("UTC")


class PartyType(enum.Enum):
    """Who a posting, balance or alert belongs to."""

    CUSTOMER = "customer"
    RESELLER = "reseller"
    PROVIDER = "provider"
    ACCOUNT = "account"

    # Members are singletons compared by identity, so identity is a correct hash, and a
    # C one: Enum's own `hash(self._name_)` is a Python call on every key of a balance,
    # day or package table (about 0.3 us each; benchmarks/RESULTS.md).
    __hash__ = object.__hash__


class BalanceControl(enum.Enum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"


class ThresholdKind(enum.Enum):
    LOW_BALANCE = "low_balance"  # available funds at or below an amount
    CREDIT_WARNING = "credit_warning"  # credit used at or above an amount or a share


class Audience(enum.Enum):
    CUSTOMER = "customer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A balance notification level; exactly one of `micro` and `share` is set."""

    kind: ThresholdKind
    audience: Audience
    micro: int | None = None  # absolute amount in micro-units
    share: Decimal | None = None  # fraction of the credit limit (credit_warning only)

    @property
    def level(self) -> str:
        """`90%` for a share of the credit limit, else the amount (`2.00`)."""
        if self.share is not None:
            return f"{(self.share * 100).normalize():f}%"
        return format_micro(self.micro or 0)

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.audience.value}:{self.level}"


@dataclass(frozen=True, slots=True)
class BalanceTerms:
    """What a balance-holding party (customer or reseller) is allowed and warned about."""

    currency: str
    balance_control: BalanceControl = BalanceControl.PREPAID
    credit_limit: int = 0  # micro-units, >= 0
    opening_balance: int = 0  # micro-units
    thresholds: tuple[Threshold, ...] = ()


@dataclass(frozen=True, slots=True)
class Reseller:
    """A level of the reseller tree, charged at the wholesale tariff its parent assigned."""

    id: str
    tariff: str
    parent: str | None
    terms: BalanceTerms
    sales_commission: Decimal | None = None  # fraction, a distributor when set
    payment_commission: Decimal | None = None
    timezone: ZoneInfo = UTC
    billing_period: PeriodKind = PeriodKind.MONTHLY
    created: date | None = None

    @property
    def is_distributor(self) -> bool:
        return self.sales_commission is not None or self.payment_commission is not None


@dataclass(frozen=True, slots=True)
class Customer:
    """A paying party with one balance; its accounts appear in CDRs."""

    id: str
    tariff: str
    reseller: str | None
    terms: BalanceTerms
    timezone: ZoneInfo = UTC
    billing_period: PeriodKind = PeriodKind.MONTHLY
    created: date | None = None
    packages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DailyLimit:
    """Minutes a party may carry per local calendar day, with alert thresholds in percent."""

    minutes: int  # 0 = no limit
    thresholds: tuple[int, ...] = (80, 100)
    timezone: ZoneInfo = UTC


NO_LIMIT = DailyLimit(0)  # what a party without daily_minutes_limit has


@dataclass(frozen=True, slots=True)
class Account:
    """A SIP account, extension or device; `funds_from` names the customer that pays."""

    id: str
    customer: str
    funds_from: str | None = None
    daily_limit: DailyLimit = NO_LIMIT

    @property
    def payer(self) -> str:
        return self.funds_from or self.customer


@dataclass(frozen=True, slots=True)
class Provider:
    """A carrier we buy from: its balance rises by the buy cost of each call it carries."""

    id: str
    tariff: str
    currency: str
    balance_limit: int | None = None  # micro-units; None = no limit
    opening_balance: int = 0
    daily_limit: DailyLimit = NO_LIMIT


class PackageReset(enum.Enum):
    BILLING_PERIOD = "billing_period"
    MANUAL = "manual"
    DATE = "date"  # once, on `Package.reset_date` in the customer's timezone


@dataclass(frozen=True, slots=True)
class Package:
    """Inclusive minutes for calls to numbers starting with one of `codes`."""

    id: str
    minutes: int
    codes: tuple[str, ...]
    reset: PackageReset = PackageReset.BILLING_PERIOD
    reset_date: date | None = None

    def covers(self, number: str) -> bool:
        return number.startswith(self.codes)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything rating and billing needs, validated and immutable."""

    currency: str
    tariffs: dict[str, Tariff]
    resellers: dict[str, Reseller]
    customers: dict[str, Customer]
    accounts: Mapping[str, Account]  # an AccountTable when loaded
    providers: dict[str, Provider]
    packages: dict[str, Package]
    exchange_rates: ExchangeRates
    business_hours: BusinessHours = DEFAULT_HOURS
    max_call_seconds: int = 86_400
    version: str = field(default="")
    # customer -> the name its billing group keeps from catalogs published before
    # (pipeline/engine/routing.py), only where that is not the group's smallest id
    group_names: Mapping[str, str] = field(default_factory=dict)

    def parties(self, party_type: PartyType) -> Mapping[str, object]:
        """The catalog's parties of one type, by id."""
        if party_type is PartyType.CUSTOMER:
            return self.customers
        if party_type is PartyType.RESELLER:
            return self.resellers
        if party_type is PartyType.PROVIDER:
            return self.providers
        return self.accounts

    def reseller_chain(self, customer: Customer) -> list[Reseller]:
        """The customer's reseller, its parent, and so on up to the operator."""
        chain: list[Reseller] = []
        current = customer.reseller
        while current is not None:
            reseller = self.resellers[current]
            chain.append(reseller)
            current = reseller.parent
        return chain
