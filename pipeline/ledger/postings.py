"""Ledger postings: signed amounts on a party's balance, each with a deterministic id."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from pipeline.catalog.model import PartyType


class PostingKind(enum.Enum):
    CALL = "call"  # customer or reseller charged for a call (negative)
    PROVIDER_CALL = "provider_call"  # provider's balance rises by the buy cost (positive)
    PAYMENT = "payment"  # a customer or reseller pays (positive); a provider is paid (negative)
    DISTRIBUTOR_PAYMENT = (
        "distributor_payment"  # distributor owes a collected payment less commission
    )
    DISTRIBUTOR_SALE = "distributor_sale"  # distributor owes an opening balance less commission


# What a CDR id may not start with and keep as its origin: the other kinds of origin
# (and, for the ids that do start so, the CDR's own tag)
_RESERVED = ("payment:", "opening:", "usage:", "cdr:")


def cdr_origin(cdr_id: str) -> str:
    """A CDR's id as the origin of its postings and in the applied-id set: the id itself,
    or `cdr:<id>` if it starts like another kind of origin, so that no CDR id can be
    taken for a payment's or an opening's (DOMAIN.md: every CDR ends exactly once)."""
    return "cdr:" + cdr_id if cdr_id.startswith(_RESERVED) else cdr_id


def payment_origin(payment_id: str) -> str:
    """A payment's id as the origin of its postings and in the applied-id set: tagged,
    since a payment id may equal a CDR id (both are chosen by others)."""
    return "payment:" + payment_id


@dataclass(frozen=True, slots=True)
class Posting:
    """`amount` micro-units of `currency` on the party's balance; negative lowers it."""

    posting_id: str
    party_type: PartyType
    party: str
    amount: int
    currency: str
    kind: PostingKind
    at: datetime
    cdr_id: str = ""
    payment_id: str = ""


def posting(
    party_type: PartyType,
    party: str,
    amount: int,
    currency: str,
    kind: PostingKind,
    at: datetime,
    *,
    cdr_id: str = "",
    payment_id: str = "",
    cause: str = "",
) -> Posting:
    """A posting whose id is `origin/type/party`: one per party per event, stable on
    replay. The origin is `cause`, or else the CDR's or the payment's (`cdr_origin`,
    `payment_origin`)."""
    origin = cause or (
        cdr_origin(cdr_id) if cdr_id else payment_origin(payment_id) if payment_id else ""
    )
    posting_id = f"{origin}/{party_type.value}/{party}"
    return Posting(posting_id, party_type, party, amount, currency, kind, at, cdr_id, payment_id)
