"""The one map between Avro messages and domain records: an encode and a decode per topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from operator import itemgetter
from pathlib import PurePosixPath
from typing import Any

from pipeline.cdrs.model import Defect, RawCdr
from pipeline.engine.events import (
    BalanceSnapshot,
    Opening,
    Sequenced,
    Tick,
)
from pipeline.engine.records import Payment, RatedCdr
from pipeline.ledger.alerts import Alert, AlertKind
from pipeline.ledger.postings import Posting
from pipeline.schemas.batches import (
    BALANCE_FIELDS,
    PARTY_TYPES,
    RATED_FIELDS,
    at_least,
    balance_columns,
    member,
    micros,
    moment,
    posting_columns,
    postings_of,
    rated_columns,
)
from pipeline.schemas.batches import encode_balances as encode_balances
from pipeline.schemas.batches import encode_postings as encode_postings
from pipeline.schemas.batches import encode_rated as encode_rated
from pipeline.schemas.framing import DecodeError as DecodeError
from pipeline.schemas.framing import read, write
from pipeline.schemas.work import WORK as WORK
from pipeline.schemas.work import decode_work as decode_work
from pipeline.schemas.work import encode_work as encode_work
from pipeline.schemas.work import read_work as read_work

RAW, ALERTS = "cdr.RawBatch", "cdr.AlertBatch"
DEAD_LETTER, CATALOG_FILE = "cdr.DeadLetter", "cdr.CatalogFile"
# A record in a union is written as fastavro's (name, record) tuple: without the name,
# fastavro validates the whole record against each branch to choose one (3x slower).
_CDR, _PAYMENT, _OPENING = "cdr.SequencedCdr", "cdr.SequencedPayment", "cdr.SequencedOpening"
_TICK, _DEFECT = "cdr.Tick", "cdr.Defect"


def _fields(record: type[Any]) -> Callable[[dict[str, Any]], Any]:
    """The values of a decoded record in the dataclass's order: positional args, C speed.

    A test checks that each schema's fields are its dataclass's fields, in order.
    """
    return itemgetter(*[f.name for f in fields(record)])


_RAW_CDR = _fields(RawCdr)
_ALERT_KINDS = {kind.value: kind for kind in AlertKind}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message no stage could read: where it was, why, and its bytes as received."""

    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    payload: bytes
    at: datetime


@dataclass(frozen=True, slots=True)
class CatalogFile:
    """One file of a published catalog `version`, which has `files` files in all."""

    version: str
    path: str
    content: bytes
    files: int


def encode_raw(events: Sequence[Sequenced | Tick]) -> bytes:
    """A raw-topic message: CDRs, payments and openings with their `seq`, and ticks."""
    out: list[tuple[str, dict[str, Any]]] = []
    for e in events:
        if isinstance(e, Tick):
            out.append((_TICK, {"watermark": e.watermark, "source": e.source}))
            continue
        ev = e.event
        if isinstance(ev, RawCdr):
            s, d = ev.start, ev.defect
            defect = None if d is None else (_DEFECT, {"reason": d.reason, "detail": d.detail})
            cdr = {
                "cdr_id": ev.cdr_id,
                "account": ev.account,
                "caller": ev.caller,
                "callee": ev.callee,
                "start": None if s is None else micros(s),
                "duration": ev.duration,
                "provider": ev.provider,
                "disposition": ev.disposition,
                "source": ev.source,
                "defect": defect,
            }
            out.append((_CDR, {"seq": e.seq, "cdr": cdr}))
        elif isinstance(ev, Payment):
            payment = {
                "seq": e.seq,
                "payment_id": ev.payment_id,
                "at": micros(ev.at),
                "party_type": ev.party_type.value,
                "party": ev.party,
                "amount": ev.amount,
                "currency": ev.currency,
                "recorded_by": ev.recorded_by,
            }
            out.append((_PAYMENT, payment))
        else:
            opening = {"seq": e.seq, "party_type": ev.party_type.value, "party": ev.party}
            out.append((_OPENING, opening))
    return write(RAW, {"events": out})


def decode_raw(data: bytes) -> list[Sequenced | Tick]:
    """The events of a raw-topic message; union branches are told apart by their fields."""
    events: list[Sequenced | Tick] = []
    for r in read(RAW, data)["events"]:
        if "watermark" in r:
            events.append(Tick(r["watermark"], at_least(r["source"], -1, "tick source")))
            continue
        seq = at_least(r["seq"], 0, "seq")
        if "cdr" in r:
            c = r["cdr"]
            if (duration := c["duration"]) is not None and duration < 0:
                raise DecodeError("bad_value", f"cdr {c['cdr_id']!r}: duration {duration} < 0")
            cdr = RawCdr(*_RAW_CDR(c))
            if (d := c["defect"]) is not None:  # rare: the Avro record becomes a Defect
                cdr = replace(cdr, defect=Defect(d["reason"], d["detail"]))
            events.append(Sequenced(seq, cdr))
            continue
        party_type = member(PARTY_TYPES, r["party_type"], "party_type")
        if "payment_id" in r:
            payment = Payment(
                r["payment_id"],
                r["at"],
                party_type,
                r["party"],
                r["amount"],
                r["currency"],
                r["recorded_by"],
            )
            events.append(Sequenced(seq, payment))
        else:
            events.append(Sequenced(seq, Opening(party_type, r["party"])))
    return events


def decode_rated(data: bytes) -> list[RatedCdr]:
    """A rated-topic message's lines (v1 rows or v2 columns) as records."""
    c = rated_columns(data)
    c["start"] = [None if s is None else moment(s) for s in c["start"]]
    return [RatedCdr(*line) for line in zip(*(c[n] for n in RATED_FIELDS), strict=True)]


def decode_postings(data: bytes) -> list[Posting]:
    """A postings-topic message's ledger lines (v1 rows or v2 columns) as records."""
    return postings_of(posting_columns(data))


def decode_balances(data: bytes) -> list[BalanceSnapshot]:
    """A balances-topic message's snapshots (v1 rows or v2 columns) as records."""
    c = balance_columns(data)
    c["party_type"] = [member(PARTY_TYPES, t, "party_type") for t in c["party_type"]]
    c["at"] = [moment(at) for at in c["at"]]
    return [BalanceSnapshot(*line) for line in zip(*(c[n] for n in BALANCE_FIELDS), strict=True)]


def encode_alerts(items: Sequence[Alert]) -> bytes:
    """An alerts-topic message; `details` keep their order as key/value pairs."""
    out = [
        {
            "alert_id": a.alert_id,
            "party_type": a.party_type.value,
            "party": a.party,
            "kind": a.kind.value,
            "at": micros(a.at),
            "threshold": a.threshold,
            "reason": a.reason,
            "details": [{"key": k, "value": v} for k, v in a.details],
        }
        for a in items
    ]
    return write(ALERTS, {"items": out})


def decode_alerts(data: bytes) -> list[Alert]:
    return [
        Alert(
            r["alert_id"],
            member(PARTY_TYPES, r["party_type"], "party_type"),
            r["party"],
            member(_ALERT_KINDS, r["kind"], "alert kind"),
            r["at"],
            r["threshold"],
            r["reason"],
            tuple((d["key"], d["value"]) for d in r["details"]),
        )
        for r in read(ALERTS, data)["items"]
    ]


def encode_dead_letter(letter: DeadLetter) -> bytes:
    """A dead-letter-topic message: one unreadable message with where it was and why."""
    return write(
        DEAD_LETTER,
        {
            "topic": letter.topic,
            "partition": letter.partition,
            "offset": letter.offset,
            "reason": letter.reason,
            "detail": letter.detail,
            "payload": letter.payload,
            "at": micros(letter.at),
        },
    )


def decode_dead_letter(data: bytes) -> DeadLetter:
    return DeadLetter(**read(DEAD_LETTER, data))


def encode_catalog_file(file: CatalogFile) -> bytes:
    """A catalog-topic message: one file of a published catalog version."""
    record = {"version": file.version, "path": file.path, "content": file.content}
    return write(CATALOG_FILE, {**record, "files": file.files})


def decode_catalog_file(data: bytes) -> CatalogFile:
    """A catalog file; its `path` must be relative and stay inside the catalog directory."""
    r = read(CATALOG_FILE, data)
    path = PurePosixPath(r["path"])
    if not r["path"] or path.is_absolute() or ".." in path.parts or "\\" in r["path"]:
        raise DecodeError("bad_value", f"catalog path {r['path']!r} leaves the catalog directory")
    at_least(r["files"], 1, "files")
    return CatalogFile(**r)
