"""The book: party state driven event by event through the pure steps.

The offline runner holds one Book that owns every kind of party. In the stream each
stage holds a Book that owns some kinds (the rating stage customers and accounts, the
reseller stage resellers, the provider stage providers); postings and minutes for the
kinds it does not own come back as `deferred` work for the stage that does.

Work can outlive its party's definition: a catalog published while work priced under
the previous one is in flight (or held back for ordering) may no longer have that
reseller or provider. Such a posting is still applied, in full, to the party's
balance: the money was owed when the call was priced. With no terms left, it moves
no block, threshold or limit and raises no alert; minutes for such a party are not
counted (docs/delivery.md, "Work for a party the catalog no longer has").
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field

from pipeline.catalog.accounts import AccountTable
from pipeline.catalog.model import BalanceTerms, Catalog, PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.engine.calls import PackageKey, settle_call
from pipeline.engine.payments import check_payment, payment_postings, sale_posting
from pipeline.engine.records import Payment, RatedCdr, unrated
from pipeline.ledger.alerts import Alert, AlertKind, make_alert
from pipeline.ledger.balances import (
    BalanceState,
    apply_to_balance,
    apply_to_provider,
    open_balance,
    open_provider,
)
from pipeline.ledger.packages import PackageUsage
from pipeline.ledger.postings import Posting, cdr_origin, payment_origin
from pipeline.limits import daily
from pipeline.rating.rater import Unrated, price_call

PartyKey = tuple[PartyType, str]
EVERY_PARTY = frozenset(PartyType)


@dataclass(frozen=True, slots=True)
class Deferred:
    """Work for a party this book does not own: a posting, or minutes a provider carried."""

    party_type: PartyType
    party: str
    posting: Posting | None = None
    usage: daily.Usage | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one event produced here, and what it leaves to other stages."""

    rated: RatedCdr | None = None
    postings: tuple[Posting, ...] = ()
    alerts: tuple[Alert, ...] = ()
    deferred: tuple[Deferred, ...] = ()
    duplicate: bool = False


def _with_minutes(deferred: tuple[Deferred, ...], minutes: list[Deferred]) -> tuple[Deferred, ...]:
    """One piece of work per party: a provider's minutes ride with its buy-cost posting."""
    merged = list(deferred)
    for extra in minutes:
        for i, work in enumerate(merged):
            if (work.party_type, work.party) == (extra.party_type, extra.party) and not work.usage:
                merged[i] = Deferred(work.party_type, work.party, work.posting, extra.usage)
                break
        else:
            merged.append(extra)
    return tuple(merged)


@dataclass(frozen=True, slots=True)
class BalanceLine:
    party_type: PartyType
    party: str
    balance: int
    currency: str
    blocked: bool


@dataclass(slots=True)
class Book:
    """Holds the state the pure transitions produce, in any mutable mappings given."""

    catalog: Catalog
    owns: frozenset[PartyType] = EVERY_PARTY
    balances: MutableMapping[PartyKey, BalanceState] = field(default_factory=dict)
    packages: MutableMapping[PackageKey, PackageUsage] = field(default_factory=dict)
    days: MutableMapping[PartyKey, daily.DayUsage] = field(default_factory=dict)
    seen: MutableMapping[str, bool] = field(default_factory=dict)
    # the currency of postings applied to parties the catalog in use does not have
    gone: dict[PartyKey, str] = field(default_factory=dict)
    # customer -> the accounts of other customers drawing on its funds, for `catalog`
    _drawing: tuple[Catalog | None, dict[str, tuple[str, ...]]] = (None, {})

    def open(self) -> Outcome:
        """Every party's opening balance, then the distributors' sales commissions."""
        catalog = self.catalog
        for kind, parties in (
            (PartyType.CUSTOMER, catalog.customers),
            (PartyType.RESELLER, catalog.resellers),
            (PartyType.PROVIDER, catalog.providers),
        ):
            for party in parties:
                self.state(kind, party)
        outcomes = [self.open_party(PartyType.CUSTOMER, c) for c in catalog.customers]
        return Outcome(
            postings=tuple(p for o in outcomes for p in o.postings),
            alerts=tuple(a for o in outcomes for a in o.alerts),
            deferred=tuple(d for o in outcomes for d in o.deferred),
        )

    def open_party(self, party_type: PartyType, party: str) -> Outcome:
        """A party enters the books; a distributor's customer brings its sale posting."""
        if f"opening:{party_type.value}:{party}" in self.seen:
            return Outcome(duplicate=True)
        self.seen[f"opening:{party_type.value}:{party}"] = True
        if party_type in self.owns:
            self.state(party_type, party)
        if party_type is not PartyType.CUSTOMER:
            return Outcome()
        sale = sale_posting(self.catalog.customers[party], self.catalog)
        return self._settle([sale] if sale else [])

    def state(self, party_type: PartyType, party: str) -> BalanceState:
        """A party's balance state, opened from the catalog on first use."""
        key = (party_type, party)
        state = self.balances.get(key)
        if state is None:
            catalog = self.catalog
            if party_type is PartyType.PROVIDER:
                provider = catalog.providers.get(party)
                state = BalanceState(0) if provider is None else open_provider(provider)
            else:
                terms = self._terms(party_type, party)
                state = BalanceState(0) if terms is None else open_balance(terms)
            self.balances[key] = state
        return state

    def _terms(self, party_type: PartyType, party: str) -> BalanceTerms | None:
        """A customer's or reseller's balance terms; None if the catalog lacks the party."""
        catalog = self.catalog
        found = (
            catalog.customers.get(party)
            if party_type is PartyType.CUSTOMER
            else catalog.resellers.get(party)
        )
        return None if found is None else found.terms

    def post(self, entry: Posting) -> list[Alert]:
        """Apply one posting to its party's balance (the party must be owned here)."""
        state = self.state(entry.party_type, entry.party)
        cause = (  # in the ids of the alerts it causes
            cdr_origin(entry.cdr_id)
            if entry.cdr_id
            else payment_origin(entry.payment_id)
            if entry.payment_id
            else entry.posting_id
        )
        if entry.party_type is PartyType.PROVIDER:
            provider = self.catalog.providers.get(entry.party)
            if provider is None:
                return self._post_gone(state, entry)
            state, alerts = apply_to_provider(state, provider, entry.amount, entry.at, cause)
            if alerts and _exhausted(self.days.get((entry.party_type, entry.party))):
                alerts = _without_status(alerts)  # disabled by its daily minutes all along
        else:
            terms = self._terms(entry.party_type, entry.party)
            if terms is None:
                return self._post_gone(state, entry)
            state, alerts = apply_to_balance(
                state, terms, entry.amount, entry.party_type, entry.party, entry.at, cause
            )
            if alerts and entry.party_type is PartyType.CUSTOMER:
                alerts += self._drawing_accounts(entry.party, alerts, cause)
        self.balances[(entry.party_type, entry.party)] = state
        return alerts

    def _post_gone(self, state: BalanceState, entry: Posting) -> list[Alert]:
        """A posting for a party the catalog no longer has: the amount, nothing else."""
        key = (entry.party_type, entry.party)
        self.balances[key] = BalanceState(state.balance + entry.amount, state.blocked, state.fired)
        self.gone[key] = entry.currency
        return []

    def _settle(self, postings: list[Posting], rated: RatedCdr | None = None) -> Outcome:
        """Apply the postings this book owns; defer the others."""
        applied: list[Posting] = []
        alerts: list[Alert] = []
        deferred: list[Deferred] = []
        for entry in postings:
            if entry.party_type in self.owns:
                applied.append(entry)
                alerts.extend(self.post(entry))
            else:
                deferred.append(Deferred(entry.party_type, entry.party, posting=entry))
        return Outcome(rated, tuple(applied), tuple(alerts), tuple(deferred))

    def rate(self, cdr: RawCdr) -> Outcome:
        """Rate, settle and post one CDR, then count its minutes against daily limits.

        A CDR id seen before is a replay: it is skipped and charges nothing.
        """
        key = cdr_origin(cdr.cdr_id)
        if key in self.seen:
            return Outcome(duplicate=True)
        self.seen[key] = True
        catalog = self.catalog
        priced = price_call(cdr, catalog)
        if isinstance(priced, Unrated):
            account = catalog.accounts.get(cdr.account)
            line = unrated(cdr, priced.reason, priced.detail, account.customer if account else "")
            outcome = Outcome(rated=line)
        else:
            line, postings, changed = settle_call(priced, catalog, self.packages)
            self.packages.update(changed)
            outcome = self._settle(postings, line)
        alerts, minutes = self._count_minutes(cdr)
        if not alerts and not minutes:
            return outcome
        return Outcome(
            outcome.rated,
            outcome.postings,
            outcome.alerts + tuple(alerts),
            _with_minutes(outcome.deferred, minutes),
        )

    def _count_minutes(self, cdr: RawCdr) -> tuple[list[Alert], list[Deferred]]:
        """Minutes a provider or account carried, rated or not, if the CDR itself is sound."""
        catalog = self.catalog
        if (
            cdr.defect is not None
            or cdr.start is None
            or cdr.duration is None
            or cdr.duration > catalog.max_call_seconds
        ):
            return [], []
        usage = daily.Usage(cdr.start, cdr.duration, cdr.cdr_id)
        alerts: list[Alert] = []
        deferred: list[Deferred] = []
        limited = (
            (PartyType.PROVIDER, catalog.providers.get(cdr.provider)),
            (PartyType.ACCOUNT, catalog.accounts.get(cdr.account)),
        )
        for party_type, party in limited:
            if party is None or party.daily_limit.minutes <= 0:
                continue
            if party_type not in self.owns:
                deferred.append(Deferred(party_type, party.id, usage=usage))
                continue
            alerts.extend(self.count(party_type, party.id, usage))
        return alerts, deferred

    def count(self, party_type: PartyType, party: str, usage: daily.Usage) -> list[Alert]:
        """Count minutes against a provider's or account's daily limit."""
        defined = (
            self.catalog.providers.get(party)
            if party_type is PartyType.PROVIDER
            else self.catalog.accounts.get(party)
        )
        if defined is None:  # no longer in the catalog: no limit to count against
            return []
        limit = defined.daily_limit
        key = (party_type, party)
        before = self.days.get(key)
        state, alerts = daily.apply(before, usage, limit, party_type, party)
        if alerts and party_type is PartyType.PROVIDER and self.state(party_type, party).blocked:
            alerts = _without_status(alerts)  # disabled by its balance limit all along
        elif alerts and party_type is PartyType.ACCOUNT and self._funds_blocked(party):
            alerts = _without_status(alerts)  # blocked by the funds it draws on all along
        if state is not None:
            self.days[key] = state
            if party_type is PartyType.PROVIDER and _exhausted(before) != state.exhausted:
                self.balances[key] = self.state(party_type, party)  # its balance line changed
        return alerts

    def _drawing_accounts(self, customer: str, alerts: list[Alert], cause: str) -> list[Alert]:
        """A customer blocked or unblocked blocks or unblocks the accounts of other
        customers drawing on its funds (DOMAIN.md, shared funds), unless an account's
        own daily minutes keep it blocked."""
        catalog = self.catalog
        if self._drawing[0] is not catalog:
            self._drawing = (catalog, drawing_on(catalog))
        accounts = self._drawing[1].get(customer)
        if not accounts:
            return []
        status = [a for a in alerts if a.kind in _ACCOUNT_STATUS and a.party == customer]
        return [
            make_alert(
                PartyType.ACCOUNT,
                account,
                alert.kind,
                alert.at,
                cause,
                reason="funds_blocked",
                details=(("funds_from", customer),),
            )
            for alert in status
            for account in accounts
            if not _exhausted(self.days.get((PartyType.ACCOUNT, account)))
        ]

    def _funds_blocked(self, account: str) -> bool:
        """Whether the account draws on another customer's funds, now blocked."""
        found = self.catalog.accounts.get(account)
        if found is None or found.funds_from is None:
            return False
        payer = found.funds_from
        if payer == found.customer or payer not in self.catalog.customers:
            return False
        state = self.balances.get((PartyType.CUSTOMER, payer))
        if state is None:  # not opened here yet: as the catalog opens it
            terms = self._terms(PartyType.CUSTOMER, payer)
            return terms is not None and open_balance(terms).blocked
        return state.blocked

    def pay(self, payment: Payment) -> Outcome:
        """Apply a payment (and a distributor's remittance, if it collected it).

        A payment id seen before is a retry: it is skipped and pays nothing twice.
        """
        key = payment_origin(payment.payment_id)
        if key in self.seen:
            return Outcome(duplicate=True)
        check_payment(payment, self.catalog)
        self.seen[key] = True
        return self._settle(payment_postings(payment, self.catalog))

    def apply(self, work: Deferred, cause: str | None) -> Outcome:
        """Work deferred by another stage, applied once: `cause` identifies it for replays
        (None: the caller has made sure it is not a repeat)."""
        if cause is not None:
            if cause in self.seen:
                return Outcome(duplicate=True)
            self.seen[cause] = True
        if work.party_type in self.owns and work.party_type is not PartyType.ACCOUNT:
            self.state(work.party_type, work.party)  # an opening, or the first work
        outcome = self._settle([work.posting]) if work.posting is not None else Outcome()
        if work.usage is None:
            return outcome
        alerts = self.count(work.party_type, work.party, work.usage)
        return Outcome(postings=outcome.postings, alerts=outcome.alerts + tuple(alerts))

    def balance_line(self, party_type: PartyType, party: str) -> BalanceLine:
        state = self.state(party_type, party)
        if party_type is PartyType.PROVIDER:
            provider = self.catalog.providers.get(party)
            currency = None if provider is None else provider.currency
        else:
            terms = self._terms(party_type, party)
            currency = None if terms is None else terms.currency
        if currency is None:  # no longer in the catalog
            currency = self.gone.get((party_type, party), "")
        blocked = state.blocked
        if party_type is PartyType.PROVIDER:  # disabled by its balance or its daily minutes
            blocked = blocked or _exhausted(self.days.get((party_type, party)))
        return BalanceLine(party_type, party, state.balance, currency, blocked)

    def balance_lines(self) -> list[BalanceLine]:
        """Final balances of every party held here, ordered by type and id."""
        keys = sorted(
            (k for k in self.balances if k[0] is not PartyType.ACCOUNT),
            key=lambda k: (k[0].value, k[1]),
        )
        return [self.balance_line(kind, party) for kind, party in keys]


_STATUS = frozenset((AlertKind.PROVIDER_DISABLED, AlertKind.PROVIDER_ENABLED))
_ACCOUNT_STATUS = frozenset((AlertKind.BLOCKED, AlertKind.UNBLOCKED))


def drawing_on(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Customer -> the accounts of other customers whose calls its funds pay."""
    accounts = catalog.accounts
    found = (
        accounts.drawing()
        if isinstance(accounts, AccountTable)
        else (a for a in accounts.values() if a.funds_from)
    )
    result: dict[str, list[str]] = {}
    for account in found:
        if account.funds_from and account.funds_from != account.customer:
            result.setdefault(account.funds_from, []).append(account.id)
    return {customer: tuple(sorted(ids)) for customer, ids in result.items()}


def _without_status(alerts: list[Alert]) -> list[Alert]:
    """A provider's alerts but its status changes: it is disabled while its balance limit
    or its daily minutes say so, and enabled once neither does (one event each way)."""
    return [alert for alert in alerts if alert.kind not in _STATUS]


def _exhausted(day: daily.DayUsage | None) -> bool:
    """Whether a daily minute limit has disabled its party (until its next day's call)."""
    return day is not None and day.exhausted
