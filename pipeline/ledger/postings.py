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
    """A posting whose id is `cause/type/party`: one per party per event, stable on replay."""
    origin = cause or cdr_id or payment_id
    posting_id = f"{origin}/{party_type.value}/{party}"
    return Posting(posting_id, party_type, party, amount, currency, kind, at, cdr_id, payment_id)
