"""Output-topic messages read straight into warehouse columns, for the ClickHouse sink.

The sink's hot path: no domain records and no row dicts between the Avro records and
the insert. Each function checks what the matching `codec.decode_*` checks (the same
`DecodeError` reasons) and gives the columns `pipeline/engine/serialize.py` would give
row by row: DateTime columns as epoch seconds (an unknown or pre-epoch time is 0).
`tests/unit/schemas/test_columns.py` holds the two paths equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime

from pipeline.engine.serialize import UINT32_MAX
from pipeline.ledger.alerts import AlertKind
from pipeline.schemas.batches import (
    PARTY_TYPES,
    POSTING_KINDS,
    Columns,
    balance_columns,
    posting_columns,
    rated_columns,
)
from pipeline.schemas.codec import ALERTS
from pipeline.schemas.framing import DecodeError, read

# how a sink turns one message into its table's columns (and the rated calls' end times)
Reader = Callable[[bytes, int], tuple[Columns, list[float]]]
_PARTY_TYPES = frozenset(PARTY_TYPES)
_POSTING_KINDS = frozenset(POSTING_KINDS)
_ALERT_KINDS = frozenset(k.value for k in AlertKind)
_RATED_AS_IS = (
    "cdr_id",
    "status",
    "reason",
    "detail",
    "source",
    "account",
    "customer",
    "payer",
    "provider",
    "code",
    "code_name",
    "billed_seconds",
    "covered_seconds",
    "currency",
    "provider_currency",
)
_POSTING_AS_IS = ("posting_id", "party_type", "party", "currency", "kind", "cdr_id", "payment_id")
_ALERT_AS_IS = ("alert_id", "party_type", "party", "kind", "threshold", "reason")


def _epoch(at: datetime | None) -> int:
    return 0 if at is None else max(int(at.timestamp()), 0)


def _seconds(us: int | None) -> int:
    """Epoch microseconds as whole epoch seconds, as `_epoch` gives them (None or before
    the epoch: 0)."""
    return 0 if us is None or us < 0 else us // 1_000_000


def _known(values: Iterable[str], allowed: frozenset[str], what: str) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise DecodeError("bad_value", f"unknown {what} {min(unknown)!r}")


def rated(data: bytes, version: int) -> tuple[Columns, list[float]]:
    """A rated-topic message as `rated_cdrs` columns, and the rated calls' end times."""
    c = rated_columns(data)
    columns: Columns = {name: c[name] for name in _RATED_AS_IS}
    starts, durations = c["start"], c["duration"]
    columns["start"] = [_seconds(s) for s in starts]
    columns["start_known"] = [int(s is not None) for s in starts]
    columns["duration"] = [min(d or 0, UINT32_MAX) for d in durations]
    columns["duration_known"] = [int(d is not None) for d in durations]
    columns["cost_micro"] = [cost or 0 for cost in c["cost"]]
    columns["provider_cost_micro"] = [cost or 0 for cost in c["provider_cost"]]
    columns["version"] = [version] * len(starts)
    ends = [
        s / 1_000_000 + (d or 0)
        for status, s, d in zip(c["status"], starts, durations, strict=True)
        if status == "rated" and s is not None
    ]
    return columns, ends


def postings(data: bytes, version: int) -> tuple[Columns, list[float]]:
    """A postings-topic message as `postings` columns."""
    c = posting_columns(data)
    columns: Columns = {name: c[name] for name in _POSTING_AS_IS}
    _known(columns["party_type"], _PARTY_TYPES, "party_type")
    _known(columns["kind"], _POSTING_KINDS, "posting kind")
    columns["amount_micro"] = c["amount"]
    columns["at"] = [_seconds(at) for at in c["at"]]
    columns["version"] = [version] * len(c["at"])
    return columns, []


def alerts(data: bytes, version: int) -> tuple[Columns, list[float]]:
    """An alerts-topic message as `alerts` columns; `details` as JSON text, in order."""
    items = read(ALERTS, data)["items"]
    columns: Columns = {name: [r[name] for r in items] for name in _ALERT_AS_IS}
    _known(columns["party_type"], _PARTY_TYPES, "party_type")
    _known(columns["kind"], _ALERT_KINDS, "alert kind")
    columns["at"] = [_epoch(r["at"]) for r in items]
    columns["details"] = [json.dumps({d["key"]: d["value"] for d in r["details"]}) for r in items]
    columns["version"] = [version] * len(items)
    return columns, []


def balances(data: bytes, _version: int) -> tuple[Columns, list[float]]:
    """A balances-topic message as `balances` columns; each snapshot keeps its version."""
    c = balance_columns(data)
    _known(c["party_type"], _PARTY_TYPES, "party_type")
    return {
        "party_type": c["party_type"],
        "party": c["party"],
        "balance_micro": c["balance"],
        "currency": c["currency"],
        "blocked": [int(b) for b in c["blocked"]],
        "updated_at": [_seconds(at) for at in c["at"]],
        "version": c["version"],
    }, []
