"""Reading packages, resellers, customers, accounts and providers from catalog fields."""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Collection, Mapping
from datetime import date
from zoneinfo import ZoneInfo

from pipeline.catalog.accounts import AccountTable
from pipeline.catalog.model import (
    NO_LIMIT,
    UTC,
    Account,
    Audience,
    BalanceControl,
    BalanceTerms,
    Customer,
    DailyLimit,
    Package,
    PackageReset,
    Provider,
    Reseller,
    Threshold,
    ThresholdKind,
)
from pipeline.catalog.yamlio import Fields, as_date, as_id, as_int, as_micro
from pipeline.ledger.periods import PeriodKind
from pipeline.rating.money import parse_percent

_CALENDAR = ("timezone", "billing_period", "created")
_TERMS = ("currency", "balance_control", "credit_limit", "opening_balance")
_THRESHOLDS = (
    ("low_balance", ThresholdKind.LOW_BALANCE, Audience.CUSTOMER),
    ("credit_warning", ThresholdKind.CREDIT_WARNING, Audience.CUSTOMER),
    ("admin_low_balance", ThresholdKind.LOW_BALANCE, Audience.ADMIN),
    ("admin_credit_warning", ThresholdKind.CREDIT_WARNING, Audience.ADMIN),
)
_BALANCE = (*_TERMS, *(key for key, _, _ in _THRESHOLDS), *_CALENDAR)
RESELLER_KEYS = ("tariff", "parent", *_BALANCE, "sales_commission", "payment_commission")
CUSTOMER_KEYS = ("tariff", "reseller", *_BALANCE, "packages")
ACCOUNT_KEYS = ("customer", "funds_from", "daily_minutes_limit", "alert_thresholds", "timezone")
PROVIDER_KEYS = (
    *("tariff", "currency", "balance_limit", "opening_balance"),
    *("daily_minutes_limit", "alert_thresholds", "timezone"),
)
PACKAGE_KEYS = ("minutes", "codes", "reset")
_DATED = (PeriodKind.MONTHLY_ANNIVERSARY, PeriodKind.THIRTY_DAYS)


def reference(
    fields: Fields, key: str, known: Collection[str], what: str, required: bool = False
) -> str:
    """An id naming an existing entry ("" when absent or unknown, the error recorded)."""
    value = fields.get(key, as_id) if required else fields.optional(key, as_id)
    if value is None:
        return ""
    if value not in known:
        fields.error(key, f"unknown {what} {value!r} ({_known(value, known)})")
    return value


def _known(value: str, known: Collection[str]) -> str:
    """A hint: close matches, then the known ids when there are few of them."""
    if not known:
        return "none are defined"
    close = difflib.get_close_matches(value, list(known), n=3)
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    if len(known) <= 12:
        return f"{hint}known: {', '.join(sorted(known))}"
    return f"{hint}{len(known)} are defined"


def read_packages(top: Fields) -> dict[str, Package]:
    packages: dict[str, Package] = {}
    for ident, value in top.entries("packages"):
        fields = top.section(f"packages.{ident}", value, PACKAGE_KEYS)
        minutes = fields.get("minutes", lambda v: as_int(v, minimum=1)) or 1
        codes: list[str] = []
        for where, code in fields.items("codes"):
            text = str(code) if isinstance(code, int | str) and not isinstance(code, bool) else ""
            if not (text.isdigit() and text.isascii()):
                fields.error(where, f'{code!r} is not a code of digits (write "44")')
            elif text in codes:
                fields.error(where, f"code {text} is listed twice")
            else:
                codes.append(text)
        fields.get("codes", _not_empty)  # reports a missing or empty list
        reset, reset_date = PackageReset.BILLING_PERIOD, None
        raw = fields.raw("reset")
        if raw == PackageReset.MANUAL.value:
            reset = PackageReset.MANUAL
        elif raw is not None and raw != PackageReset.BILLING_PERIOD.value:
            try:
                reset, reset_date = PackageReset.DATE, as_date(raw)
            except ValueError:
                fields.error("reset", f"{raw!r} is not billing_period, manual or a date YYYY-MM-DD")
        packages[ident] = Package(ident, minutes, tuple(codes), reset, reset_date)
    return packages


def _not_empty(value: object) -> object:
    if value == []:
        raise ValueError('is empty; list the codes it covers, e.g. ["44"]')
    return value


def read_resellers(top: Fields, currency: str, tariffs: Collection[str]) -> dict[str, Reseller]:
    entries = top.entries("resellers")
    known = {ident for ident, _ in entries}
    resellers: dict[str, Reseller] = {}
    for ident, value in entries:
        fields = top.section(f"resellers.{ident}", value, RESELLER_KEYS)
        tariff = reference(fields, "tariff", tariffs, "tariff", required=True)
        parent = reference(fields, "parent", known, "reseller") or None
        terms = _terms(fields, currency)
        zone, period, created = _calendar(fields)
        resellers[ident] = Reseller(
            id=ident,
            tariff=tariff,
            parent=parent,
            terms=terms,
            sales_commission=fields.percent("sales_commission"),
            payment_commission=fields.percent("payment_commission"),
            timezone=zone,
            billing_period=period,
            created=created,
        )
    check_tree(top, resellers)
    return resellers


def check_tree(top: Fields, resellers: Mapping[str, Reseller]) -> None:
    """Report every cycle among reseller parents once, as `cycle r1 -> r2 -> r1`."""
    done: set[str] = set()
    for start in resellers:
        path: list[str] = []
        current: str | None = start
        while current is not None and current in resellers and current not in done:
            done.add(current)
            path.append(current)
            current = resellers[current].parent
        if current is not None and current in path:
            cycle = path[path.index(current) :]
            shown = " -> ".join([*cycle, current])
            top.error("resellers", f"cycle {shown}; the parent chain must end with parent: null")


def read_customers(
    top: Fields,
    currency: str,
    tariffs: Collection[str],
    resellers: Collection[str],
    packages: Collection[str],
) -> dict[str, Customer]:
    customers: dict[str, Customer] = {}
    for ident, value in top.entries("customers"):
        fields = top.section(f"customers.{ident}", value, CUSTOMER_KEYS)
        tariff = reference(fields, "tariff", tariffs, "tariff", required=True)
        reseller = reference(fields, "reseller", resellers, "reseller") or None
        terms = _terms(fields, currency)
        zone, period, created = _calendar(fields)
        chosen: list[str] = []
        for where, item in fields.items("packages"):
            try:
                package = as_id(item)
            except ValueError as error:
                fields.error(where, str(error))
                continue
            if package not in packages:
                fields.error(where, f"unknown package {package!r} ({_known(package, packages)})")
            elif package in chosen:
                fields.error(where, f"package {package} is listed twice")
            else:
                chosen.append(package)
        customers[ident] = Customer(
            id=ident,
            tariff=tariff,
            reseller=reseller,
            terms=terms,
            timezone=zone,
            billing_period=period,
            created=created,
            packages=tuple(chosen),
        )
    return customers


def read_accounts(top: Fields, customers: Mapping[str, Customer]) -> AccountTable:
    accounts = AccountTable()
    limits: dict[DailyLimit, DailyLimit] = {}
    for ident, value in top.entries("accounts"):
        fields = top.section(f"accounts.{ident}", value, ACCOUNT_KEYS)
        accounts.add(_account(ident, fields, customers, limits))
    return accounts


def _account(
    ident: str,
    fields: Fields,
    customers: Mapping[str, Customer],
    limits: dict[DailyLimit, DailyLimit],
) -> Account:
    """An account from its fields, wherever they were written (catalog.yaml or a CSV).

    A catalog may hold millions of accounts, so each refers to its customers' own id
    strings and to one shared `DailyLimit` per distinct limit (`limits`), not copies.
    """
    customer = reference(fields, "customer", customers, "customer", required=True)
    funds_from = reference(fields, "funds_from", customers, "customer") or None
    owner = customers.get(customer)
    if owner is not None:
        customer = owner.id
    if funds_from is not None and (payer := customers.get(funds_from)) is not None:
        funds_from = payer.id
    limit = _daily_limit(fields, owner.timezone if owner else UTC)
    return Account(ident, customer, funds_from, limits.setdefault(limit, limit))


def read_providers(top: Fields, currency: str, tariffs: Collection[str]) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for ident, value in top.entries("providers"):
        fields = top.section(f"providers.{ident}", value, PROVIDER_KEYS)
        tariff = reference(fields, "tariff", tariffs, "tariff", required=True)
        limit = fields.optional("balance_limit", as_micro)
        if limit is not None and limit <= 0:
            fields.error("balance_limit", "must be above 0; leave it out for no limit")
        providers[ident] = Provider(
            id=ident,
            tariff=tariff,
            currency=fields.currency("currency", currency),
            balance_limit=limit,
            opening_balance=fields.micro("opening_balance", 0),
            daily_limit=_daily_limit(fields, UTC),
        )
    return providers


def _terms(fields: Fields, currency: str) -> BalanceTerms:
    before = len(fields.errors)
    credit_limit = fields.micro("credit_limit", 0, minimum=0)
    known_limit = credit_limit if len(fields.errors) == before else None  # no error cascade
    return BalanceTerms(
        currency=fields.currency("currency", currency),
        balance_control=fields.choice("balance_control", BalanceControl, BalanceControl.PREPAID),
        credit_limit=credit_limit,
        opening_balance=fields.micro("opening_balance", 0),
        thresholds=_thresholds(fields, known_limit),
    )


def _thresholds(fields: Fields, credit_limit: int | None) -> tuple[Threshold, ...]:
    result: dict[str, Threshold] = {}
    for key, kind, audience in _THRESHOLDS:
        for where, value in fields.items(key):
            try:
                threshold = _threshold(kind, audience, value, credit_limit)
            except ValueError as error:
                fields.error(where, str(error))
                continue
            if threshold.key in result:
                fields.error(where, f"{value} is listed twice")
            result[threshold.key] = threshold
    return tuple(result.values())


def _threshold(
    kind: ThresholdKind, audience: Audience, value: object, credit: int | None
) -> Threshold:
    """`low_balance`: available funds (>= 0); `credit_warning`: "90%" or credit used (> 0)."""
    if kind is ThresholdKind.CREDIT_WARNING and isinstance(value, str) and value.endswith("%"):
        share = parse_percent(value)
        if share == 0:
            raise ValueError(f"{value} must be above 0%")
        if credit == 0:
            raise ValueError(
                f"{value} of the credit limit needs a credit_limit above 0; "
                "set credit_limit or give an absolute amount of credit used"
            )
        return Threshold(kind, audience, share=share)
    micro = as_micro(value)
    if kind is ThresholdKind.LOW_BALANCE and micro < 0:
        raise ValueError(f"{value} must not be negative (it is a level of available funds)")
    if kind is ThresholdKind.CREDIT_WARNING and micro <= 0:
        raise ValueError(f"{value} must be above 0 (it is an amount of credit used), or a share")
    return Threshold(kind, audience, micro=micro)


def _calendar(fields: Fields) -> tuple[ZoneInfo, PeriodKind, date | None]:
    zone = fields.zone("timezone", UTC)
    period = fields.choice("billing_period", PeriodKind, PeriodKind.MONTHLY)
    created = fields.optional("created", as_date)
    if period in _DATED and fields.raw("created") is None:
        fields.error("billing_period", f"{period.value} needs created: YYYY-MM-DD (day one)")
    return zone, period, created


def _daily_limit(fields: Fields, zone: ZoneInfo) -> DailyLimit:
    minutes = fields.integer("daily_minutes_limit", 0)
    levels: list[int] = []
    for where, value in fields.items("alert_thresholds"):
        try:
            level = as_int(value, 1, 100)
        except ValueError as error:
            fields.error(where, f"{error} (percents of the daily limit)")
            continue
        if level in levels:
            fields.error(where, f"{level} is listed twice")
        levels.append(level)
    if fields.raw("alert_thresholds") == []:
        fields.error("alert_thresholds", "is empty; leave it out for the default [80, 100]")
    thresholds = tuple(sorted(set(levels))) if levels else (80, 100)
    zone = fields.zone("timezone", zone)
    if minutes == 0:  # thresholds and timezone mean nothing without a limit
        return NO_LIMIT
    return DailyLimit(minutes, thresholds, zone)


ACCOUNT_COLUMNS = ("account", *ACCOUNT_KEYS)


def read_accounts_file(
    name: str, text: str, customers: Mapping[str, Customer], errors: list[str]
) -> AccountTable:
    """Accounts from a CSV file (`account,customer[,funds_from,daily_minutes_limit,
    alert_thresholds,timezone]`), checked like those in catalog.yaml: for catalogs with
    many devices, which YAML would hold only at a great cost in memory.
    """
    reader = csv.reader(io.StringIO(text))
    header = [column.strip() for column in next(reader, [])]
    if "account" not in header or "customer" not in header:
        errors.append(f"{name}:1: the header must name at least the columns account,customer")
        return AccountTable()
    for column in header:
        if column not in ACCOUNT_COLUMNS:
            errors.append(
                f"{name}:1: unknown column {column!r} (known: {', '.join(ACCOUNT_COLUMNS)})"
            )
    accounts = AccountTable()
    limits: dict[DailyLimit, DailyLimit] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        values: dict[object, object] = {}
        for column, cell in zip(header, row, strict=False):
            cell = cell.strip()
            if not cell or column not in ACCOUNT_COLUMNS:
                continue
            if column == "daily_minutes_limit" and cell.isdigit():
                values[column] = int(cell)
            elif column == "alert_thresholds":
                values[column] = [int(p) if p.isdigit() else p for p in cell.split()]
            else:
                values[column] = cell
        ident = str(values.pop("account", ""))
        fields = Fields(errors, f"{name}:{line}", "", values, ACCOUNT_KEYS)
        if not ident:
            fields.error(None, "account is empty")
            continue
        if ident in accounts:
            fields.error(None, f"account {ident!r} is listed twice")
            continue
        accounts.add(_account(ident, fields, customers, limits))
    return accounts
