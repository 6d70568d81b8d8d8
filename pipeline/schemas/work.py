"""The resellers and providers topics' messages: party work as packed columns (v4), ticks
as items.

A v4 message carries each piece of work as one element of `seq`, `sub`, `party`,
`posted` and `used`; the postings and usages of the pieces that have one sit in their
own columns, in the same order; all of them packed whole in `packed`
(`pipeline/schemas/packed.py`). A v3 message has the same columns as Avro arrays. Ticks
stay Avro records in `items` (a few per message), and v1/v2 messages, whose `items` hold
the work too, still read. A stage takes a message whole (`OrderedMerge.add`), so ticks
read before the work lose nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.engine.events import Origin, PartyWork, Tick, WorkMessage
from pipeline.ledger.postings import Posting
from pipeline.limits.daily import Usage
from pipeline.schemas.batches import (
    PARTY_TYPES,
    POSTING_FIELDS,
    POSTING_KINDS,
    POSTING_PACKING,
    Columns,
    at_least,
    column_at_least,
    member,
    micros,
    moment,
    posting_fields,
    postings_of,
    same_length,
)
from pipeline.schemas.framing import read, write
from pipeline.schemas.packed import FLAGS, LONGS, STRINGS, Kinds, pack, unpack

WORK = "cdr.WorkBatch"
# A record in a union is written as fastavro's (name, record) tuple: without the name,
# fastavro validates the whole record against each branch to choose one (3x slower).
_TICK = "cdr.Tick"
_PIECES = ("seq", "sub", "party", "posted", "used")
_USAGES = ("usage_start", "usage_seconds", "usage_cause")
_POSTINGS = {n: n if n == "posting_id" else f"posting_{n}" for n in POSTING_FIELDS}
PACKING: Kinds = {
    "seq": LONGS,
    "sub": LONGS,
    "party": STRINGS,
    "posted": FLAGS,
    "used": FLAGS,
    **{column: POSTING_PACKING[n] for n, column in _POSTINGS.items()},
    "usage_start": LONGS,
    "usage_seconds": LONGS,
    "usage_cause": STRINGS,
}


def encode_work(items: Sequence[PartyWork | Tick], origin: Origin | None = None) -> bytes:
    """A resellers- or providers-topic message: party work and forwarded ticks, and the
    rating stage's input message that produced them."""
    ticks = [
        (_TICK, {"watermark": t.watermark, "source": t.source})
        for t in items
        if isinstance(t, Tick)
    ]
    work = [w for w in items if isinstance(w, PartyWork)]
    postings = [w.posting for w in work if w.posting is not None]
    usages = [w.usage for w in work if w.usage is not None]
    partition, offset = (-1, -1) if origin is None else origin
    columns: dict[str, Any] = {
        "seq": [w.seq for w in work],
        "sub": [w.sub for w in work],
        "party": [w.party for w in work],
        "posted": [w.posting is not None for w in work],
        "used": [w.usage is not None for w in work],
        "usage_start": [micros(u.start) for u in usages],
        "usage_seconds": [u.seconds for u in usages],
        "usage_cause": [u.cause for u in usages],
    }
    for name, values in posting_fields(postings).items():
        columns[_POSTINGS[name]] = values
    record = {
        "items": ticks,
        "origin_partition": partition,
        "origin_offset": offset,
        "packed": pack(columns, PACKING),
    }
    return write(WORK, record)


def decode_work(data: bytes) -> list[PartyWork | Tick]:
    return read_work(data).items


def read_work(data: bytes) -> WorkMessage:
    """A work message's ticks and work (in that order) and its origin (None for a
    message written without one)."""
    record = read(WORK, data)
    items = [_item(r) for r in record["items"]]
    packed = record["packed"]
    items.extend(_pieces(record if packed is None else unpack(packed, PACKING)))
    partition = at_least(record["origin_partition"], -1, "origin partition")
    if partition < 0:
        return WorkMessage(items)
    offset = at_least(record["origin_offset"], 0, "origin offset")
    return WorkMessage(items, Origin(partition, offset))


def _pieces(c: Columns) -> list[PartyWork]:
    """The work in a v3 or v4 message's columns, every count and value checked."""
    same_length(c, _PIECES)
    column_at_least(c["seq"], 0, "seq")
    column_at_least(c["sub"], 0, "sub")
    posted, used = c["posted"], c["used"]
    same_length(c, list(_POSTINGS.values()), sum(posted))
    same_length(c, _USAGES, sum(used))
    column_at_least(c["usage_seconds"], 0, "usage seconds")
    postings = iter(postings_of({n: c[column] for n, column in _POSTINGS.items()}))
    starts = [moment(us) for us in c["usage_start"]]
    usages = iter(map(Usage, starts, c["usage_seconds"], c["usage_cause"]))
    return [
        PartyWork(seq, sub, party, next(postings) if p else None, next(usages) if u else None)
        for seq, sub, party, p, u in zip(*(c[n] for n in _PIECES), strict=True)
    ]


def _item(r: dict[str, Any]) -> PartyWork | Tick:
    """A tick, or a piece of work as v1 and v2 wrote it (times already datetimes)."""
    if "watermark" in r:
        return Tick(r["watermark"], at_least(r["source"], -1, "tick source"))
    p, u = r["posting"], r["usage"]
    usage = None
    if u is not None:
        usage = Usage(u["start"], at_least(u["seconds"], 0, "usage seconds"), u["cause"])
    seq, sub = at_least(r["seq"], 0, "seq"), at_least(r["sub"], 0, "sub")
    return PartyWork(seq, sub, r["party"], None if p is None else _posting(p), usage)


def _posting(r: dict[str, Any]) -> Posting:
    return Posting(
        r["posting_id"],
        member(PARTY_TYPES, r["party_type"], "party_type"),
        r["party"],
        r["amount"],
        r["currency"],
        member(POSTING_KINDS, r["kind"], "posting kind"),
        r["at"],
        r["cdr_id"],
        r["payment_id"],
    )
