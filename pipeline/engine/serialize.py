"""Engine records as output lines (JSON-ready dicts) and as warehouse rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pipeline.engine.book import BalanceLine
from pipeline.engine.records import RatedCdr
from pipeline.ledger.alerts import Alert
from pipeline.ledger.postings import Posting
from pipeline.rating.money import format_micro

UINT32_MAX = 2**32 - 1  # the `duration` column is UInt32; a longer (unrated) call is cut


def iso(at: datetime | None) -> str | None:
    """UTC, whole seconds (the warehouse's precision): `2026-03-20T10:00:00Z`."""
    if at is None:
        return None
    return datetime.fromtimestamp(int(at.timestamp()), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def db_time(at: datetime | None) -> str:
    """A warehouse DateTime('UTC') literal; an unknown time is the epoch."""
    return _db_time(0 if at is None else max(int(at.timestamp()), 0))


@lru_cache(maxsize=8192)
def _db_time(seconds: int) -> str:
    # cached: a call's postings, and calls in the same second, share their time
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _amount(units: int | None) -> str | None:
    return None if units is None else format_micro(units)


def rated_line(r: RatedCdr) -> dict[str, Any]:
    return {
        "cdr_id": r.cdr_id,
        "status": r.status,
        "reason": r.reason,
        "account": r.account,
        "customer": r.customer,
        "provider": r.provider,
        "code": r.code,
        "code_name": r.code_name,
        "billed_seconds": r.billed_seconds,
        "cost": _amount(r.cost),
        "currency": r.currency,
        "provider_cost": _amount(r.provider_cost),
        "provider_currency": r.provider_currency,
        "payer": r.payer,
        "covered_seconds": r.covered_seconds,
        "start": iso(r.start),
        "duration": r.duration,
        "detail": r.detail,
        "source": r.source,
    }


def posting_line(p: Posting) -> dict[str, Any]:
    return {
        "posting_id": p.posting_id,
        "party_type": p.party_type.value,
        "party": p.party,
        "amount": format_micro(p.amount),
        "currency": p.currency,
        "kind": p.kind.value,
        "cdr_id": p.cdr_id,
        "payment_id": p.payment_id,
        "at": iso(p.at),
    }


def alert_line(a: Alert) -> dict[str, Any]:
    line: dict[str, Any] = {
        "alert_id": a.alert_id,
        "party_type": a.party_type.value,
        "party": a.party,
        "kind": a.kind.value,
        "at": iso(a.at),
        "threshold": a.threshold,
        "reason": a.reason,
    }
    line.update(a.details)
    return line


def balance_line(b: BalanceLine) -> dict[str, Any]:
    return {
        "party_type": b.party_type.value,
        "party": b.party,
        "balance": format_micro(b.balance),
        "currency": b.currency,
        "blocked": b.blocked,
    }


def rated_row(r: RatedCdr, version: int) -> dict[str, Any]:
    return {
        "cdr_id": r.cdr_id,
        "status": r.status,
        "reason": r.reason,
        "detail": r.detail,
        "source": r.source,
        "account": r.account,
        "customer": r.customer,
        "payer": r.payer,
        "provider": r.provider,
        "code": r.code,
        "code_name": r.code_name,
        "start": db_time(r.start),
        "start_known": int(r.start is not None),
        "duration": min(r.duration or 0, UINT32_MAX),
        "duration_known": int(r.duration is not None),
        "billed_seconds": r.billed_seconds,
        "covered_seconds": r.covered_seconds,
        "cost_micro": r.cost or 0,
        "currency": r.currency,
        "provider_cost_micro": r.provider_cost or 0,
        "provider_currency": r.provider_currency,
        "version": version,
    }


def posting_row(p: Posting, version: int) -> dict[str, Any]:
    return {
        "posting_id": p.posting_id,
        "party_type": p.party_type.value,
        "party": p.party,
        "amount_micro": p.amount,
        "currency": p.currency,
        "kind": p.kind.value,
        "cdr_id": p.cdr_id,
        "payment_id": p.payment_id,
        "at": db_time(p.at),
        "version": version,
    }


def alert_row(a: Alert, version: int) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        "party_type": a.party_type.value,
        "party": a.party,
        "kind": a.kind.value,
        "at": db_time(a.at),
        "threshold": a.threshold,
        "reason": a.reason,
        "details": json.dumps(dict(a.details)),  # in order: the export flattens it back
        "version": version,
    }


def balance_row(b: BalanceLine, at: datetime, version: int) -> dict[str, Any]:
    return {
        "party_type": b.party_type.value,
        "party": b.party,
        "balance_micro": b.balance,
        "currency": b.currency,
        "blocked": int(b.blocked),
        "updated_at": db_time(at),
        "version": version,
    }
