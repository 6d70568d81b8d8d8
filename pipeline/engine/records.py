"""Engine records: the rated (or unrated) CDR line and the payment event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.catalog.model import PartyType
from pipeline.cdrs.model import RawCdr


@dataclass(frozen=True, slots=True)
class RatedCdr:
    """The outcome of one raw CDR: rated with its costs, or unrated with a reason.

    Amounts are micro-units; `cost` is in the paying customer's currency.
    """

    cdr_id: str
    status: str  # "rated" | "unrated"
    reason: str
    detail: str
    source: str
    account: str
    customer: str
    payer: str
    provider: str
    code: str
    code_name: str
    start: datetime | None
    duration: int | None
    billed_seconds: int
    covered_seconds: int
    cost: int | None
    currency: str
    provider_cost: int | None
    provider_currency: str


def unrated(cdr: RawCdr, reason: str, detail: str, customer: str = "") -> RatedCdr:
    """The line for a CDR that could not be rated: kept and reported, never dropped."""
    return RatedCdr(
        cdr_id=cdr.cdr_id,
        status="unrated",
        reason=reason,
        detail=detail,
        source=cdr.source,
        account=cdr.account,
        customer=customer,
        payer="",
        provider=cdr.provider,
        code="",
        code_name="",
        start=cdr.start,
        duration=cdr.duration,
        billed_seconds=0,
        covered_seconds=0,
        cost=None,
        currency="",
        provider_cost=None,
        provider_currency="",
    )


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received from a customer or reseller, or paid to a provider (micro-units).

    `recorded_by` is empty for the operator, or the distributor that collected it.
    """

    payment_id: str
    at: datetime
    party_type: PartyType
    party: str
    amount: int
    currency: str
    recorded_by: str = ""
