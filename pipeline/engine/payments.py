"""Postings for payments, distributor commissions and opening sales."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from pipeline.catalog.model import Catalog, Customer, PartyType
from pipeline.engine.records import Payment
from pipeline.ledger.commissions import owed_after_commission
from pipeline.ledger.postings import Posting, PostingKind, posting

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PaymentError(ValueError):
    """A payment the catalog cannot accept (unknown party, distributor out of scope...)."""


def check_payment(payment: Payment, catalog: Catalog) -> None:
    """Raise PaymentError unless the payment names a known party and an allowed recorder."""
    kind = payment.party_type
    if kind is PartyType.ACCOUNT:
        raise PaymentError(f"party_type {kind.value!r} cannot receive payments")
    if payment.party not in catalog.parties(kind):
        raise PaymentError(f"unknown {kind.value} {payment.party!r}")
    if not payment.recorded_by:
        return
    if kind is not PartyType.CUSTOMER:
        raise PaymentError("recorded_by is only for customer payments collected by a distributor")
    if payment.recorded_by not in catalog.resellers:
        raise PaymentError(f"recorded_by {payment.recorded_by!r} is not a reseller")
    chain = [r.id for r in catalog.reseller_chain(catalog.customers[payment.party])]
    if payment.recorded_by not in chain:
        raise PaymentError(
            f"reseller {payment.recorded_by!r} may only record payments of its own customers"
        )


def payment_postings(payment: Payment, catalog: Catalog) -> list[Posting]:
    """A payment raises a customer's or reseller's balance and lowers a provider's.

    A payment collected by a distributor also charges the distributor the amount less
    its payment commission, converted to its currency at the payment time.
    """
    sign = -1 if payment.party_type is PartyType.PROVIDER else 1
    postings = [
        posting(
            payment.party_type,
            payment.party,
            sign * payment.amount,
            payment.currency,
            PostingKind.PAYMENT,
            payment.at,
            payment_id=payment.payment_id,
        )
    ]
    if payment.recorded_by:
        distributor = catalog.resellers[payment.recorded_by]
        currency = distributor.terms.currency
        factor = catalog.exchange_rates.factor(
            payment.currency, currency, int(payment.at.timestamp())
        )
        if factor is None:
            raise PaymentError(f"no exchange rate {payment.currency}->{currency} at {payment.at}")
        owed = owed_after_commission(
            payment.amount, distributor.payment_commission or Decimal(0), factor
        )
        postings.append(
            posting(
                PartyType.RESELLER,
                distributor.id,
                -owed,
                currency,
                PostingKind.DISTRIBUTOR_PAYMENT,
                payment.at,
                payment_id=payment.payment_id,
            )
        )
    return postings


def opened_at(customer: Customer) -> datetime:
    """When a customer's opening balance counts: its `created` local midnight, else the epoch."""
    if customer.created is None:
        return EPOCH
    return datetime.combine(customer.created, time(0), customer.timezone)


def sale_posting(customer: Customer, catalog: Catalog) -> Posting | None:
    """A distributor owes a new customer's opening balance less its sales commission."""
    opening = customer.terms.opening_balance
    if customer.reseller is None or opening <= 0:
        return None
    distributor = catalog.resellers[customer.reseller]
    if distributor.sales_commission is None:
        return None
    at = opened_at(customer)
    currency = distributor.terms.currency
    factor = catalog.exchange_rates.factor(customer.terms.currency, currency, int(at.timestamp()))
    if factor is None:
        raise PaymentError(
            f"no exchange rate {customer.terms.currency}->{currency} for customer "
            f"{customer.id}'s opening balance"
        )
    owed = owed_after_commission(opening, distributor.sales_commission, factor)
    return posting(
        PartyType.RESELLER,
        distributor.id,
        -owed,
        currency,
        PostingKind.DISTRIBUTOR_SALE,
        at,
        cause=f"opening:{customer.id}",
    )
