"""The one map between Avro messages and domain records: an encode and a decode per topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from itertools import pairwise
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
    column_at_least,
    member,
    micros,
    moment,
    posting_columns,
    postings_of,
    rated_columns,
    same_length,
)
from pipeline.schemas.batches import encode_balances as encode_balances
from pipeline.schemas.batches import encode_postings as encode_postings
from pipeline.schemas.batches import encode_rated as encode_rated
from pipeline.schemas.framing import DecodeError as DecodeError
from pipeline.schemas.framing import read, write
from pipeline.schemas.packed import (
    FLAGS,
    LONGS,
    OPTIONAL_LONGS,
    STRINGS,
    Kinds,
    pack,
    pack_longs,
    unpack,
    unpack_longs,
)
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


_RAW_CDR_FIELDS = tuple(f.name for f in fields(RawCdr) if f.name != "defect")
_RAW_CDR = itemgetter(*_RAW_CDR_FIELDS)
_RAW_AS_IS = tuple(name for name in _RAW_CDR_FIELDS if name != "start")
_RAW_PACKING: Kinds = {
    "seq": LONGS,
    **{name: STRINGS for name in _RAW_AS_IS if name != "duration"},
    "start": OPTIONAL_LONGS,
    "duration": OPTIONAL_LONGS,
    "defective": FLAGS,
    "defect_reason": STRINGS,
    "defect_detail": STRINGS,
}
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
    """A raw-topic message (v3): the CDRs as packed columns, the payments, openings and
    ticks as records with their places in the message."""
    seqs: list[int] = []
    raw: list[RawCdr] = []
    others: list[tuple[str, dict[str, Any]]] = []
    positions: list[int] = []
    for place, e in enumerate(events):
        if isinstance(e, Sequenced) and isinstance(e.event, RawCdr):
            seqs.append(e.seq)
            raw.append(e.event)
        else:
            positions.append(place)
            others.append(_raw_record(e))
    columns: dict[str, list[Any]] = {name: [getattr(c, name) for c in raw] for name in _RAW_AS_IS}
    columns["seq"] = seqs
    columns["start"] = [None if c.start is None else micros(c.start) for c in raw]
    defects = [c.defect for c in raw]
    columns["defective"] = [d is not None for d in defects]
    columns["defect_reason"] = ["" if d is None else d.reason for d in defects]
    columns["defect_detail"] = ["" if d is None else d.detail for d in defects]
    record = pack(columns, _RAW_PACKING)
    record["positions"] = pack_longs(positions)
    return write(RAW, {"events": others, "packed": record})


def _raw_record(e: Sequenced | Tick) -> tuple[str, dict[str, Any]]:
    """An event other than a CDR, or a CDR as v1 and v2 wrote it, as its union branch."""
    if isinstance(e, Tick):
        return _TICK, {"watermark": e.watermark, "source": e.source}
    ev = e.event
    if isinstance(ev, RawCdr):
        s, d = ev.start, ev.defect
        defect = None if d is None else (_DEFECT, {"reason": d.reason, "detail": d.detail})
        cdr = {name: getattr(ev, name) for name in _RAW_AS_IS}
        cdr.update(start=None if s is None else micros(s), defect=defect)
        return _CDR, {"seq": e.seq, "cdr": cdr}
    if isinstance(ev, Payment):
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
        return _PAYMENT, payment
    return _OPENING, {"seq": e.seq, "party_type": ev.party_type.value, "party": ev.party}


def decode_raw(data: bytes) -> list[Sequenced | Tick]:
    """The events of a raw-topic message, in the order they were written."""
    record = read(RAW, data)
    events = [_raw_event(r) for r in record["events"]]
    if record["packed"] is None:  # v1 and v2: every event a record
        return events
    cdrs: list[Sequenced | Tick] = _packed_cdrs(record["packed"])
    positions = unpack_longs(record["packed"]["positions"], "positions")
    bounds = [-1, *positions, len(cdrs) + len(events)]  # ascending, each inside the message
    if len(positions) != len(events) or any(p >= q for p, q in pairwise(bounds)):
        raise DecodeError("bad_value", f"positions {positions[:5]} of {len(events)} events")
    merged: list[Sequenced | Tick] = []
    taken = 0
    for place, event in zip(positions, events, strict=True):
        filled = place - len(merged)
        merged.extend(cdrs[taken : taken + filled])
        taken += filled
        merged.append(event)
    return merged + cdrs[taken:]


def _packed_cdrs(packed: dict[str, Any]) -> list[Sequenced | Tick]:
    c = unpack(packed, _RAW_PACKING)
    same_length(c, list(_RAW_PACKING))
    column_at_least(c["seq"], 0, "seq")
    for i, d in enumerate(c["duration"]):
        if d is not None and d < 0:
            raise DecodeError("bad_value", f"cdr {c['cdr_id'][i]!r}: duration {d} < 0")
    c["start"] = [None if us is None else moment(us) for us in c["start"]]
    fields = (c[name] for name in _RAW_CDR_FIELDS)
    cdrs = list(map(RawCdr, *fields))
    if any(c["defective"]):  # rare: a row that could not be read carries its defect
        for i, bad in enumerate(c["defective"]):
            if bad:
                defect = Defect(c["defect_reason"][i], c["defect_detail"][i])
                cdrs[i] = replace(cdrs[i], defect=defect)
    return list(map(Sequenced, c["seq"], cdrs))


def _raw_event(r: dict[str, Any]) -> Sequenced | Tick:
    """A record of `events`; union branches are told apart by their fields."""
    if "watermark" in r:
        return Tick(r["watermark"], at_least(r["source"], -1, "tick source"))
    seq = at_least(r["seq"], 0, "seq")
    if "cdr" in r:
        c = r["cdr"]
        if (duration := c["duration"]) is not None and duration < 0:
            raise DecodeError("bad_value", f"cdr {c['cdr_id']!r}: duration {duration} < 0")
        cdr = RawCdr(*_RAW_CDR(c))
        if (d := c["defect"]) is not None:  # rare: the Avro record becomes a Defect
            cdr = replace(cdr, defect=Defect(d["reason"], d["detail"]))
        return Sequenced(seq, cdr)
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
        return Sequenced(seq, payment)
    return Sequenced(seq, Opening(party_type, r["party"]))


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
