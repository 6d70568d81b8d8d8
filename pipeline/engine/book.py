"""The in-memory book: every party's state, driven event by event through the pure steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.engine.calls import PackageKey, settle_call
from pipeline.engine.payments import check_payment, opening_postings, payment_postings
from pipeline.engine.records import Payment, RatedCdr, unrated
from pipeline.ledger.alerts import Alert
from pipeline.ledger.balances import (
    BalanceState,
    apply_to_balance,
    apply_to_provider,
    open_balance,
    open_provider,
)
from pipeline.ledger.packages import PackageUsage
from pipeline.ledger.postings import Posting
from pipeline.limits import daily
from pipeline.rating.rater import Unrated, price_call

PartyKey = tuple[PartyType, str]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one event produced."""

    rated: RatedCdr | None = None
    postings: tuple[Posting, ...] = ()
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True, slots=True)
class BalanceLine:
    party_type: PartyType
    party: str
    balance: int
    currency: str
    blocked: bool


@dataclass(slots=True)
class Book:
    """Holds the state the pure transitions produce; the offline runner's single store."""

    catalog: Catalog
    balances: dict[PartyKey, BalanceState] = field(default_factory=dict)
    packages: dict[PackageKey, PackageUsage] = field(default_factory=dict)
    days: dict[PartyKey, daily.DayUsage] = field(default_factory=dict)

    def open(self) -> Outcome:
        """Opening balances, then the distributors' sales commissions."""
        catalog = self.catalog
        for customer in catalog.customers.values():
            self.balances[(PartyType.CUSTOMER, customer.id)] = open_balance(customer.terms)
        for reseller in catalog.resellers.values():
            self.balances[(PartyType.RESELLER, reseller.id)] = open_balance(reseller.terms)
        for provider in catalog.providers.values():
            self.balances[(PartyType.PROVIDER, provider.id)] = open_provider(provider)
        postings = opening_postings(catalog)
        return Outcome(postings=tuple(postings), alerts=tuple(self._post_all(postings)))

    def post(self, entry: Posting) -> list[Alert]:
        """Apply one posting to its party's balance."""
        key = (entry.party_type, entry.party)
        state = self.balances[key]
        cause = entry.cdr_id or entry.payment_id or entry.posting_id
        if entry.party_type is PartyType.PROVIDER:
            provider = self.catalog.providers[entry.party]
            state, alerts = apply_to_provider(state, provider, entry.amount, entry.at, cause)
        else:
            terms = (
                self.catalog.customers[entry.party].terms
                if entry.party_type is PartyType.CUSTOMER
                else self.catalog.resellers[entry.party].terms
            )
            state, alerts = apply_to_balance(
                state, terms, entry.amount, entry.party_type, entry.party, entry.at, cause
            )
        self.balances[key] = state
        return alerts

    def _post_all(self, postings: list[Posting]) -> list[Alert]:
        alerts: list[Alert] = []
        for entry in postings:
            alerts.extend(self.post(entry))
        return alerts

    def rate(self, cdr: RawCdr) -> Outcome:
        """Rate, settle and post one CDR, then count its minutes against daily limits."""
        catalog = self.catalog
        priced = price_call(cdr, catalog)
        alerts: list[Alert] = []
        if isinstance(priced, Unrated):
            account = catalog.accounts.get(cdr.account)
            line = unrated(cdr, priced.reason, priced.detail, account.customer if account else "")
            postings: list[Posting] = []
        else:
            line, postings, changed = settle_call(priced, catalog, self.packages)
            self.packages.update(changed)
            alerts = self._post_all(postings)
        alerts.extend(self._count_minutes(cdr))
        return Outcome(line, tuple(postings), tuple(alerts))

    def _count_minutes(self, cdr: RawCdr) -> list[Alert]:
        """Minutes a provider or account carried, rated or not, if the CDR itself is sound."""
        catalog = self.catalog
        if (
            cdr.defect is not None
            or cdr.start is None
            or cdr.duration is None
            or cdr.duration > catalog.max_call_seconds
        ):
            return []
        usage = daily.Usage(cdr.start, cdr.duration, cdr.cdr_id)
        alerts: list[Alert] = []
        limited = (
            (PartyType.PROVIDER, catalog.providers.get(cdr.provider)),
            (PartyType.ACCOUNT, catalog.accounts.get(cdr.account)),
        )
        for party_type, party in limited:
            if party is None or party.daily_limit.minutes <= 0:
                continue
            key = (party_type, party.id)
            state, raised = daily.apply(
                self.days.get(key), usage, party.daily_limit, party_type, party.id
            )
            if state is not None:
                self.days[key] = state
            alerts.extend(raised)
        return alerts

    def pay(self, payment: Payment) -> Outcome:
        """Apply a payment (and a distributor's remittance, if it collected it)."""
        check_payment(payment, self.catalog)
        postings = payment_postings(payment, self.catalog)
        return Outcome(postings=tuple(postings), alerts=tuple(self._post_all(postings)))

    def reset_package(self, customer: str, package: str) -> None:
        """The explicit reset command: the customer's package starts over."""
        self.packages.pop((customer, package), None)

    def balance_lines(self) -> list[BalanceLine]:
        """Final balances of every customer, reseller and provider."""
        lines = []
        catalog = self.catalog
        currency_of = {
            PartyType.CUSTOMER: {c.id: c.terms.currency for c in catalog.customers.values()},
            PartyType.RESELLER: {r.id: r.terms.currency for r in catalog.resellers.values()},
            PartyType.PROVIDER: {p.id: p.currency for p in catalog.providers.values()},
        }
        for (party_type, party), state in sorted(
            self.balances.items(), key=lambda item: (item[0][0].value, item[0][1])
        ):
            currency = currency_of[party_type][party]
            lines.append(BalanceLine(party_type, party, state.balance, currency, state.blocked))
        return lines
