"""The one map between Avro messages and domain records: an encode and a decode per topic."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import PurePosixPath
from typing import Any, TypeVar

from pipeline.catalog.model import PartyType
from pipeline.cdrs.model import Defect, RawCdr
from pipeline.engine.events import (
    BalanceSnapshot,
    Opening,
    Origin,
    PartyWork,
    Sequenced,
    Tick,
    WorkMessage,
)
from pipeline.engine.records import Payment, RatedCdr
from pipeline.ledger.alerts import Alert, AlertKind
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.limits.daily import Usage
from pipeline.schemas.batches import (
    BALANCE_FIELDS,
    POSTING_FIELDS,
    RATED_FIELDS,
    balance_columns,
    moment,
    posting_columns,
    rated_columns,
)
from pipeline.schemas.batches import encode_balances as encode_balances
from pipeline.schemas.batches import encode_postings as encode_postings
from pipeline.schemas.batches import encode_rated as encode_rated
from pipeline.schemas.framing import DecodeError as DecodeError
from pipeline.schemas.framing import read, write

RAW, WORK, ALERTS = "cdr.RawBatch", "cdr.WorkBatch", "cdr.AlertBatch"
DEAD_LETTER, CATALOG_FILE = "cdr.DeadLetter", "cdr.CatalogFile"
# A record in a union is written as fastavro's (name, record) tuple: without the name,
# fastavro validates the whole record against each branch to choose one (3x slower).
_CDR, _PAYMENT, _OPENING = "cdr.SequencedCdr", "cdr.SequencedPayment", "cdr.SequencedOpening"
_TICK, _WORK, _DEFECT = "cdr.Tick", "cdr.PartyWork", "cdr.Defect"
_POSTING, _USAGE = "cdr.Posting", "cdr.Usage"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)  # `(at - _EPOCH) // _US`: micros; a naive `at` is a TypeError

E = TypeVar("E", bound=enum.Enum)


def _table(kind: type[E]) -> dict[str, E]:
    return {member.value: member for member in kind}


def _fields(record: type[Any]) -> Callable[[dict[str, Any]], Any]:
    """The values of a decoded record in the dataclass's order: positional args, C speed.

    A test checks that each schema's fields are its dataclass's fields, in order.
    """
    return itemgetter(*[f.name for f in fields(record)])


_RAW_CDR = _fields(RawCdr)
_PARTY_TYPES = _table(PartyType)
_POSTING_KINDS = _table(PostingKind)
_ALERT_KINDS = _table(AlertKind)


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


def _member(table: dict[str, E], value: str, what: str) -> E:
    try:
        return table[value]
    except KeyError:
        raise DecodeError("bad_value", f"unknown {what} {value!r}") from None


def _at_least(value: int, low: int, what: str) -> int:
    if value < low:
        raise DecodeError("bad_value", f"{what} {value} is below {low}")
    return value


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
                "start": None if s is None else (s - _EPOCH) // _US,
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
                "at": (ev.at - _EPOCH) // _US,
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
            events.append(Tick(r["watermark"], _at_least(r["source"], -1, "tick source")))
            continue
        seq = _at_least(r["seq"], 0, "seq")
        if "cdr" in r:
            c = r["cdr"]
            if (duration := c["duration"]) is not None and duration < 0:
                raise DecodeError("bad_value", f"cdr {c['cdr_id']!r}: duration {duration} < 0")
            cdr = RawCdr(*_RAW_CDR(c))
            if (d := c["defect"]) is not None:  # rare: the Avro record becomes a Defect
                cdr = replace(cdr, defect=Defect(d["reason"], d["detail"]))
            events.append(Sequenced(seq, cdr))
            continue
        party_type = _member(_PARTY_TYPES, r["party_type"], "party_type")
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


def _posting_record(p: Posting) -> dict[str, Any]:
    return {
        "posting_id": p.posting_id,
        "party_type": p.party_type.value,
        "party": p.party,
        "amount": p.amount,
        "currency": p.currency,
        "kind": p.kind.value,
        "at": (p.at - _EPOCH) // _US,
        "cdr_id": p.cdr_id,
        "payment_id": p.payment_id,
    }


def _posting(r: dict[str, Any]) -> Posting:
    return Posting(
        r["posting_id"],
        _member(_PARTY_TYPES, r["party_type"], "party_type"),
        r["party"],
        r["amount"],
        r["currency"],
        _member(_POSTING_KINDS, r["kind"], "posting kind"),
        r["at"],
        r["cdr_id"],
        r["payment_id"],
    )


def encode_work(items: Sequence[PartyWork | Tick], origin: Origin | None = None) -> bytes:
    """A resellers- or providers-topic message: party work and forwarded ticks, and the
    rating stage's input message that produced them."""
    out: list[tuple[str, dict[str, Any]]] = []
    for w in items:
        if isinstance(w, Tick):
            out.append((_TICK, {"watermark": w.watermark, "source": w.source}))
            continue
        p, u = w.posting, w.usage
        usage = None
        if u is not None:
            at = (u.start - _EPOCH) // _US
            usage = (_USAGE, {"start": at, "seconds": u.seconds, "cause": u.cause})
        work = {
            "seq": w.seq,
            "sub": w.sub,
            "party": w.party,
            "posting": None if p is None else (_POSTING, _posting_record(p)),
            "usage": usage,
        }
        out.append((_WORK, work))
    partition, offset = (-1, -1) if origin is None else origin
    return write(WORK, {"items": out, "origin_partition": partition, "origin_offset": offset})


def decode_work(data: bytes) -> list[PartyWork | Tick]:
    return read_work(data).items


def read_work(data: bytes) -> WorkMessage:
    """A work message's items and origin (None for a message written without one)."""
    record = read(WORK, data)
    items: list[PartyWork | Tick] = []
    for r in record["items"]:
        if "watermark" in r:
            items.append(Tick(r["watermark"], _at_least(r["source"], -1, "tick source")))
            continue
        p, u = r["posting"], r["usage"]
        usage = None
        if u is not None:
            usage = Usage(u["start"], _at_least(u["seconds"], 0, "usage seconds"), u["cause"])
        seq, sub = _at_least(r["seq"], 0, "seq"), _at_least(r["sub"], 0, "sub")
        items.append(PartyWork(seq, sub, r["party"], None if p is None else _posting(p), usage))
    partition = _at_least(record["origin_partition"], -1, "origin partition")
    if partition < 0:
        return WorkMessage(items)
    return WorkMessage(
        items, Origin(partition, _at_least(record["origin_offset"], 0, "origin offset"))
    )


def decode_rated(data: bytes) -> list[RatedCdr]:
    """A rated-topic message's lines (v1 rows or v2 columns) as records."""
    c = rated_columns(data)
    c["start"] = [None if s is None else moment(s) for s in c["start"]]
    return [RatedCdr(*line) for line in zip(*(c[n] for n in RATED_FIELDS), strict=True)]


def decode_postings(data: bytes) -> list[Posting]:
    """A postings-topic message's ledger lines (v1 rows or v2 columns) as records."""
    c = posting_columns(data)
    c["party_type"] = [_member(_PARTY_TYPES, t, "party_type") for t in c["party_type"]]
    c["kind"] = [_member(_POSTING_KINDS, k, "posting kind") for k in c["kind"]]
    c["at"] = [moment(at) for at in c["at"]]
    return [Posting(*line) for line in zip(*(c[n] for n in POSTING_FIELDS), strict=True)]


def decode_balances(data: bytes) -> list[BalanceSnapshot]:
    """A balances-topic message's snapshots (v1 rows or v2 columns) as records."""
    c = balance_columns(data)
    c["party_type"] = [_member(_PARTY_TYPES, t, "party_type") for t in c["party_type"]]
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
            "at": (a.at - _EPOCH) // _US,
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
            _member(_PARTY_TYPES, r["party_type"], "party_type"),
            r["party"],
            _member(_ALERT_KINDS, r["kind"], "alert kind"),
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
            "at": (letter.at - _EPOCH) // _US,
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
    _at_least(r["files"], 1, "files")
    return CatalogFile(**r)
