"""Messages written again with a value changed, for the tests of what decoders refuse."""

from __future__ import annotations

from typing import Any

from pipeline.schemas import batches, framing, packed, work

PACKING = {
    batches.RATED: batches.RATED_PACKING,
    batches.POSTINGS: batches.POSTING_PACKING,
    batches.BALANCES: batches.BALANCE_PACKING,
    work.WORK: work.PACKING,
}


def altered(name: str, data: bytes, **change: Any) -> bytes:
    """`data` written again with `change` applied to its first line: the first item of a
    v1 batch, the first element of each named column of a v2 or packed one, the CDR of a
    raw one."""
    record = framing.read(name, data)
    if record.get("packed") is not None:
        columns = packed.unpack(record["packed"], PACKING[name])
        for field, value in change.items():
            columns[field][0] = value
        record["packed"] = packed.pack(columns, PACKING[name])
    elif "events" in record:
        record["events"][0].get("cdr", record["events"][0]).update(change)
    elif record.get("items"):
        record["items"][0].update(change)
    elif "items" in record:
        for field, value in change.items():
            record[field][0] = value
    else:
        record.update(change)
    return framing.write(name, record)
