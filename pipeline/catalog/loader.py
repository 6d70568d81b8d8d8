"""Loading the operator's catalog directory (catalog.yaml and its decks) into a Catalog."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import time
from decimal import Decimal
from pathlib import Path, PurePath

from pipeline.catalog.accounts import AccountTable
from pipeline.catalog.decks import read_deck
from pipeline.catalog.model import UTC, Account, Catalog, Customer, Provider, Reseller
from pipeline.catalog.parties import (
    read_accounts,
    read_accounts_file,
    read_customers,
    read_packages,
    read_providers,
    read_resellers,
)
from pipeline.catalog.yamlio import NO_CURRENCY, Fields, as_text, read_yaml
from pipeline.rating.deck import Deck
from pipeline.rating.fx import ExchangeRate, ExchangeRates
from pipeline.rating.money import MAX_DECIMALS, Rounding, parse_decimal, to_rate_units
from pipeline.rating.profiles import DEFAULT_HOURS, WEEKDAYS, BusinessHours
from pipeline.rating.tariff import Tariff

CATALOG_FILE = "catalog.yaml"
TOP_KEYS = (
    "currency",
    "business_hours",
    "max_call_seconds",
    "exchange_rates",
    "tariffs",
    "resellers",
    "customers",
    "accounts",
    "accounts_file",
    "providers",
    "packages",
)
HOURS_KEYS = ("days", "from", "to")
RATE_KEYS = ("from", "to", "rate", "effective")
TARIFF_KEYS = ("deck", "currency", "decimals", "rounding", "timezone", "business_hours")
DIR = "the catalog directory"
END_OF_DAY = "24:00"  # `to: "24:00"` is stored as time.max: business until midnight


def inside(name: str) -> bool:
    """Whether a file a catalog names is a relative path that stays in its directory (a
    published catalog's files are written under a worker's temporary directory)."""
    path = PurePath(name)
    return not path.is_absolute() and ".." not in path.parts and bool(path.parts)


class CatalogError(ValueError):
    """A catalog refused whole; `errors` lists every problem found, one line each."""

    def __init__(self, directory: Path, errors: list[str]) -> None:
        self.directory = directory
        self.errors = list(errors)
        count = f"{len(errors)} error" + ("" if len(errors) == 1 else "s")
        super().__init__("\n".join([f"catalog {directory} is refused: {count}", *errors]))


def load_catalog(directory: Path) -> Catalog:
    """Read and validate `directory/catalog.yaml` and its decks; raise CatalogError if broken."""
    return load_catalog_files(directory)[0]


def load_catalog_files(directory: Path) -> tuple[Catalog, dict[str, bytes]]:
    """The catalog and the bytes of every file it was read from (catalog.yaml, the decks),
    by path relative to the directory: what `catalog publish` sends.
    """
    errors: list[str] = []
    loader = _Loader(Path(directory), errors)
    with _collector_paused():
        catalog = loader.load()
    if errors or catalog is None:
        raise CatalogError(directory, errors)
    return catalog, dict(loader.files)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a load allocates its many small rows.

    Loading builds hundreds of thousands of objects and no reference cycles; the collector's
    repeated passes over them would cost about 40 % of the load time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Loader:
    """One load: the files read so far (for the version) and the errors collected."""

    def __init__(self, directory: Path, errors: list[str]) -> None:
        self.directory = directory
        self.errors = errors
        self.files: dict[str, bytes] = {}
        self.decks: dict[str, Deck] = {}

    def load(self) -> Catalog | None:
        data = self._read_catalog_file()
        if data is None:
            return None
        document, problems = read_yaml(CATALOG_FILE, data)
        self.errors.extend(problems)
        if document is None and problems:
            return None
        top = Fields(self.errors, CATALOG_FILE, "", document, TOP_KEYS)
        currency = top.currency("currency", None)
        hours = read_hours(top, "business_hours", DEFAULT_HOURS)
        max_call_seconds = top.integer("max_call_seconds", 86_400, minimum=1)
        rates = read_exchange_rates(top)
        tariffs = self._tariffs(top, currency, hours)
        packages = read_packages(top)
        resellers = read_resellers(top, currency, tariffs)
        customers = read_customers(top, currency, tariffs, resellers, packages)
        accounts = read_accounts(top, customers)
        accounts_file = top.optional("accounts_file", as_text)
        if accounts_file:
            text = self._read_extra(top, "accounts_file", accounts_file)
            # a file that cannot be read is reported once, above, not as a bad header too
            listed = (
                AccountTable()
                if text is None
                else read_accounts_file(accounts_file, text, customers, self.errors)
            )
            for ident in sorted(accounts.keys() & listed.keys()):
                top.error("accounts_file", f"account {ident!r} is also in catalog.yaml")
            if accounts:
                accounts.update(listed)
            else:
                accounts = listed  # no copy of a million
        providers = read_providers(top, currency, tariffs)
        check_exchange(top, rates, tariffs, resellers, customers, accounts, providers)
        return Catalog(
            currency=currency,
            tariffs=tariffs,
            resellers=resellers,
            customers=customers,
            accounts=accounts,
            providers=providers,
            packages=packages,
            exchange_rates=rates,
            business_hours=hours,
            max_call_seconds=max_call_seconds,
            version=self._version(),
        )

    def _read_catalog_file(self) -> bytes | None:
        if not self.directory.is_dir():
            self.errors.append(f"{self.directory}: not a directory holding {CATALOG_FILE}")
            return None
        try:
            data = (self.directory / CATALOG_FILE).read_bytes()
        except FileNotFoundError:
            self.errors.append(f"{CATALOG_FILE}: missing file; create it in {self.directory}")
            return None
        except OSError as error:
            self.errors.append(f"{CATALOG_FILE}: cannot be read: {error.strerror}")
            return None
        self.files[CATALOG_FILE] = data
        return data

    def _tariffs(self, top: Fields, currency: str, hours: BusinessHours) -> dict[str, Tariff]:
        tariffs: dict[str, Tariff] = {}
        for name, value in top.entries("tariffs"):
            fields = top.section(f"tariffs.{name}", value, TARIFF_KEYS)
            tariffs[name] = Tariff(
                name=name,
                deck=self._deck(fields),
                currency=fields.currency("currency", currency),
                decimals=fields.integer("decimals", 4, 0, MAX_DECIMALS),
                rounding=fields.choice("rounding", Rounding, Rounding.HALF_UP),
                timezone=fields.zone("timezone", UTC),
                business_hours=read_hours(fields, "business_hours", hours),
            )
        return tariffs

    def _read_extra(self, fields: Fields, key: str, name: str) -> str | None:
        """A further file the catalog names (relative to its directory), kept for publishing."""
        if not inside(name):
            fields.error(key, f"{name!r} must be a path inside the catalog directory")
            return None
        try:
            data = (self.directory / name).read_bytes()
        except OSError as error:
            fields.error(key, f"file {name!r} cannot be read: {error.strerror}")
            return None
        self.files[name] = data
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            self.errors.append(f"{name}: not UTF-8 text (bad byte at offset {error.start})")
            return None

    def _deck(self, fields: Fields) -> Deck:
        """The deck a tariff names, read once per file even when tariffs share it."""
        name = fields.get("deck", as_text)
        if name is None:
            return Deck(())
        if name in self.decks:
            return self.decks[name]
        self.decks[name] = deck = Deck(())
        if not inside(name):
            fields.error("deck", f"{name!r} must be a path inside the catalog directory")
            return deck
        try:
            data = (self.directory / name).read_bytes()
        except FileNotFoundError:
            fields.error("deck", f"file {name!r} does not exist (paths are relative to {DIR})")
            return deck
        except OSError as error:
            fields.error("deck", f"file {name!r} cannot be read: {error.strerror}")
            return deck
        self.files[name] = data
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            self.errors.append(f"{name}: not UTF-8 text (bad byte at offset {error.start})")
            return deck
        self.decks[name], problems = read_deck(name, text)
        self.errors.extend(problems)
        return self.decks[name]

    def _version(self) -> str:
        """sha256 over catalog.yaml then each deck file by name: names, sizes and bytes."""
        digest = hashlib.sha256()
        names = sorted(self.files, key=lambda name: (name != CATALOG_FILE, name))
        for name in names:
            data = self.files[name]
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()[:16]


def read_hours(parent: Fields, key: str, default: BusinessHours) -> BusinessHours:
    """`business_hours: {days: [mon, ...], from: "08:00", to: "18:00"}`; absent keys default."""
    value = parent.raw(key)
    if value is None:
        return default
    fields = parent.section(key, value, HOURS_KEYS)
    days: set[int] = set()
    for where, day in fields.items("days"):
        if day not in WEEKDAYS:
            fields.error(where, f"{day!r} is not one of {', '.join(WEEKDAYS)}")
        elif WEEKDAYS.index(str(day)) in days:
            fields.error(where, f"{day} is listed twice")
        else:
            days.add(WEEKDAYS.index(str(day)))
    if fields.raw("days") == []:
        fields.error("days", "is empty; list the business weekdays, e.g. [mon, tue]")
    start = fields.value("from", _clock, default.start)
    end = fields.value("to", _clock, default.end)
    if start >= end:
        fields.error("to", f"{end:%H:%M} is not after from {start:%H:%M}")
    return BusinessHours(frozenset(days) if days else default.days, start, end)


def _clock(value: object) -> time:
    if value == END_OF_DAY:
        return time.max
    if isinstance(value, str) and len(value) in (5, 8):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f'{value!r} is not a time of day; write it quoted as "HH:MM" (up to 24:00)')


def _positive_rate(value: object) -> Decimal:
    rate = parse_decimal(value)
    if rate <= 0:
        raise ValueError(f"{value} must be above 0")
    to_rate_units(rate)
    return rate


def read_exchange_rates(top: Fields) -> ExchangeRates:
    """`exchange_rates`: a list of `{from, to, rate, effective}`, 1 `from` = `rate` `to`."""
    value = top.raw("exchange_rates")
    entries = value if isinstance(value, list) else []
    if value is not None and not isinstance(value, list):
        top.error("exchange_rates", "expected a list of {from, to, rate, effective}")
    rates: list[ExchangeRate] = []
    first: dict[tuple[str, str, int], str] = {}
    for index, entry in enumerate(entries):
        where = f"exchange_rates[{index}]"
        fields = top.section(where, entry, RATE_KEYS)
        source = fields.currency("from", None)
        target = fields.currency("to", None)
        rate = fields.get("rate", _positive_rate) or Decimal(1)
        effective = fields.instant("effective")
        if source == target != NO_CURRENCY:
            fields.error("to", f"{target} converts to itself; no rate is needed")
        key = (source, target, effective)
        if key in first:
            fields.error(None, f"{source} -> {target} at this time is also given at {first[key]}")
        first.setdefault(key, where)
        rates.append(ExchangeRate(source, target, rate, effective, to_rate_units(rate)))
    return ExchangeRates(rates)


def check_exchange(
    top: Fields,
    rates: ExchangeRates,
    tariffs: dict[str, Tariff],
    resellers: dict[str, Reseller],
    customers: dict[str, Customer],
    accounts: Mapping[str, Account],
    providers: dict[str, Provider],
) -> None:
    """Every tariff currency -> payer currency that rating needs has a rate either way."""
    reported: set[tuple[str, str, str]] = set()

    def need(where: str, tariff_name: str, payer: str, who: str) -> None:
        tariff = tariffs.get(tariff_name)
        if tariff is None or NO_CURRENCY in (tariff.currency, payer):
            return
        if rates.has_pair(tariff.currency, payer) or (tariff_name, payer, who) in reported:
            return
        reported.add((tariff_name, payer, who))  # once per payer, not once per account
        top.error(
            where,
            f"no exchange rate between {tariff.currency} (tariff {tariff_name}) and {payer} "
            f"({who}); add one under exchange_rates, e.g. "
            f'{{from: {tariff.currency}, to: {payer}, rate: "1.0", effective: 2026-01-01}}',
        )

    for ident, reseller in resellers.items():
        who = f"currency of reseller {ident}"
        need(f"resellers.{ident}", reseller.tariff, reseller.terms.currency, who)
    for ident, customer in customers.items():
        who = f"currency of customer {ident}"
        need(f"customers.{ident}", customer.tariff, customer.terms.currency, who)
    for ident, account in accounts.items():
        owner = customers.get(account.customer)
        payer = customers.get(account.funds_from or "")
        if owner is not None and payer is not None:
            who = f"currency of customer {payer.id}, who pays for customer {owner.id}"
            need(f"accounts.{ident}.funds_from", owner.tariff, payer.terms.currency, who)
    for ident, provider in providers.items():
        need(f"providers.{ident}", provider.tariff, provider.currency, f"provider {ident}")
