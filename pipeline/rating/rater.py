"""Price one call on every side (customer, reseller chain, provider); stateless and pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.catalog.model import Account, Catalog, Customer, PartyType, Provider
from pipeline.cdrs.model import RawCdr
from pipeline.rating.deck import DeckRow
from pipeline.rating.numbers import BadNumberError, normalise_number
from pipeline.rating.tariff import Tariff, exact_cost, to_micro


@dataclass(frozen=True, slots=True)
class Charge:
    """What one party is charged (or credited, for a provider) for a call, in micro-units."""

    party_type: PartyType
    party: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class Unrated:
    """Why a CDR cannot be rated: a reason code and a detail for the operator."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class PricedCall:
    """A call priced on every side; the customer's cost waits for package coverage."""

    cdr: RawCdr
    start: datetime
    duration: int
    number: str
    account: Account
    customer: Customer
    payer: Customer
    tariff: Tariff
    row: DeckRow
    factor: tuple[int, int]
    billed: int
    resellers: tuple[Charge, ...]
    provider: Provider
    provider_row: DeckRow
    provider_charge: Charge

    def customer_cost(self, covered: int) -> int:
        """The payer's charge when `covered` of the billed seconds come from a package."""
        return to_micro(exact_cost(self.row, self.billed - covered), self.tariff, self.factor)


def _side(
    catalog: Catalog, tariff_name: str, number: str, at: int, duration: int, currency: str
) -> tuple[Tariff, DeckRow, tuple[int, int], int] | str:
    """Find the row, the exchange factor and billed seconds, or a reason code."""
    tariff = catalog.tariffs[tariff_name]
    row, _ = tariff.find(number, at)
    if row is None:
        return "no_rate"
    factor = catalog.exchange_rates.factor(tariff.currency, currency, at)
    if factor is None:
        return "no_exchange_rate"
    return tariff, row, factor, row.billed_seconds(duration)


def price_call(cdr: RawCdr, catalog: Catalog) -> PricedCall | Unrated:
    """Price a raw CDR against the catalog, or say why it cannot be rated."""
    if cdr.defect is not None:
        return Unrated(cdr.defect.reason, cdr.defect.detail)
    start, duration = cdr.start, cdr.duration
    if start is None or duration is None:
        return Unrated("missing_field", "start and duration are required")
    if duration > catalog.max_call_seconds:
        return Unrated(
            "bad_duration",
            f"{duration} s is longer than max_call_seconds {catalog.max_call_seconds}",
        )
    account = catalog.accounts.get(cdr.account)
    if account is None:
        return Unrated("unknown_account", f"account {cdr.account!r} is not in the catalog")
    provider = catalog.providers.get(cdr.provider)
    if provider is None:
        if not cdr.provider:  # FreeSWITCH's default template has no provider column
            detail = "the row names no provider; pass --provider NAME, or add the column"
            return Unrated("unknown_provider", detail)
        return Unrated("unknown_provider", f"provider {cdr.provider!r} is not in the catalog")
    try:
        number = normalise_number(cdr.callee)
    except BadNumberError as error:
        return Unrated("bad_number", f"callee {error}")
    at = int(start.timestamp())
    customer = catalog.customers[account.customer]
    payer = catalog.customers[account.payer]

    side = _side(catalog, customer.tariff, number, at, duration, payer.terms.currency)
    if isinstance(side, str):
        return Unrated(side, f"customer {customer.id} tariff {customer.tariff}, number {number}")
    tariff, row, factor, billed = side

    resellers: list[Charge] = []
    for reseller in catalog.reseller_chain(customer):
        currency = reseller.terms.currency
        level = _side(catalog, reseller.tariff, number, at, duration, currency)
        if isinstance(level, str):
            reason = "no_reseller_rate" if level == "no_rate" else level
            return Unrated(
                reason, f"reseller {reseller.id} tariff {reseller.tariff}, number {number}"
            )
        r_tariff, r_row, r_factor, r_billed = level
        amount = to_micro(exact_cost(r_row, r_billed), r_tariff, r_factor)
        resellers.append(Charge(PartyType.RESELLER, reseller.id, amount, currency))

    carried = _side(catalog, provider.tariff, number, at, duration, provider.currency)
    if isinstance(carried, str):
        reason = "no_provider_rate" if carried == "no_rate" else carried
        return Unrated(reason, f"provider {provider.id} tariff {provider.tariff}, number {number}")
    p_tariff, p_row, p_factor, p_billed = carried
    buy = to_micro(exact_cost(p_row, p_billed), p_tariff, p_factor)

    return PricedCall(
        cdr=cdr,
        start=start,
        duration=duration,
        number=number,
        account=account,
        customer=customer,
        payer=payer,
        tariff=tariff,
        row=row,
        factor=factor,
        billed=billed,
        resellers=tuple(resellers),
        provider=provider,
        provider_row=p_row,
        provider_charge=Charge(PartyType.PROVIDER, provider.id, buy, provider.currency),
    )
