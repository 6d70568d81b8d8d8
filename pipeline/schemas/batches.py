"""The rated, postings and balances messages as columns: v3 written, v1 and v2 read alike.

A v3 message packs each column whole (`pipeline/schemas/packed.py`): fastavro then
reads and writes a few `bytes` fields instead of every value of every line, and times
travel as epoch microseconds, with no datetime made on the way. A v2 message (one Avro
array per field) and a v1 message (`items`, one record per line) read into the same
columns. Each `*_columns` function checks everything `codec.decode_*` relies on, with
the same `DecodeError` reasons, so the sink and the decoders refuse alike.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pipeline.catalog.model import PartyType
from pipeline.engine.events import BalanceSnapshot
from pipeline.engine.records import RatedCdr
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.schemas.framing import DecodeError, read, write
from pipeline.schemas.packed import FLAGS, LONGS, OPTIONAL_LONGS, STRINGS, Kinds, pack, unpack

RATED, POSTINGS, BALANCES = "cdr.RatedBatch", "cdr.PostingBatch", "cdr.BalanceBatch"
Columns = dict[str, list[Any]]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)  # `(at - _EPOCH) // _US`: micros; a naive `at` is a TypeError
RATED_FIELDS = (
    "cdr_id", "status", "reason", "detail", "source", "account", "customer", "payer",
    "provider", "code", "code_name", "start", "duration", "billed_seconds",
    "covered_seconds", "cost", "currency", "provider_cost", "provider_currency",
)  # fmt: skip
POSTING_FIELDS = (
    "posting_id", "party_type", "party", "amount", "currency", "kind", "at", "cdr_id",
    "payment_id",
)  # fmt: skip
BALANCE_FIELDS = ("party_type", "party", "balance", "currency", "blocked", "at", "version")
_STATUSES = frozenset({"rated", "unrated"})
E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")
# under the broker's default message.max.bytes (1,048,588) with room for the record's
# headers: an output message of a large raw batch is split to stay below it
MESSAGE_BYTES = 900_000
PARTY_TYPES = {member.value: member for member in PartyType}
POSTING_KINDS = {member.value: member for member in PostingKind}
_LONG_FIELDS = {"billed_seconds", "covered_seconds", "amount", "at", "balance", "version"}
_OPTIONAL_FIELDS = {"start", "duration", "cost", "provider_cost"}


def _kind(name: str) -> str:
    """How a column packs: times and amounts as longs, `blocked` as flags, text as strings."""
    if name in _LONG_FIELDS:
        return LONGS
    if name in _OPTIONAL_FIELDS:
        return OPTIONAL_LONGS
    return FLAGS if name == "blocked" else STRINGS


RATED_PACKING: Kinds = {name: _kind(name) for name in RATED_FIELDS}
POSTING_PACKING: Kinds = {name: _kind(name) for name in POSTING_FIELDS}
BALANCE_PACKING: Kinds = {name: _kind(name) for name in BALANCE_FIELDS}


def micros(at: datetime) -> int:
    """An aware time as microseconds since the epoch (a naive one is a TypeError)."""
    return (at - _EPOCH) // _US


def moment(us: int) -> datetime:
    """Microseconds since the epoch as a UTC time; out of datetime's range is bad_value."""
    try:
        return _EPOCH + timedelta(microseconds=us)
    except OverflowError:
        raise DecodeError("bad_value", f"time {us} us is out of range") from None


def member(table: dict[str, E], value: str, what: str) -> E:
    """The enum member named `value`; any other value is bad_value."""
    try:
        return table[value]
    except KeyError:
        raise DecodeError("bad_value", f"unknown {what} {value!r}") from None


def _by_field(items: Sequence[Any], names: Sequence[str]) -> Columns:
    return {name: [getattr(item, name) for item in items] for name in names}


def sized(
    encode: Callable[[Sequence[T]], bytes], items: Sequence[T], limit: int = MESSAGE_BYTES
) -> list[bytes]:
    """`items` encoded as one message, or as several of at most `limit` bytes each, in
    order, split in halves while a message is larger (a single line over `limit` is
    still one message)."""
    data = encode(items)
    if len(data) <= limit or len(items) < 2:
        return [data]
    half = len(items) // 2
    return sized(encode, items[:half], limit) + sized(encode, items[half:], limit)


def _write(name: str, columns: Columns, kinds: Kinds) -> bytes:
    return write(name, {"packed": pack(columns, kinds)})


def encode_rated(items: Sequence[RatedCdr]) -> bytes:
    """A rated-topic message: one line per raw CDR, rated or unrated."""
    columns = _by_field(items, RATED_FIELDS)
    columns["start"] = [None if s is None else micros(s) for s in columns["start"]]
    return _write(RATED, columns, RATED_PACKING)


def posting_fields(items: Sequence[Posting]) -> Columns:
    """Ledger lines as Avro columns: enums by value, times in microseconds."""
    columns = _by_field(items, POSTING_FIELDS)
    columns["party_type"] = [t.value for t in columns["party_type"]]
    columns["kind"] = [k.value for k in columns["kind"]]
    columns["at"] = [micros(at) for at in columns["at"]]
    return columns


def postings_of(columns: Columns) -> list[Posting]:
    """Ledger lines from Avro columns of one length, each party type and kind checked."""
    c = dict(columns)
    c["party_type"] = [member(PARTY_TYPES, t, "party_type") for t in c["party_type"]]
    c["kind"] = [member(POSTING_KINDS, k, "posting kind") for k in c["kind"]]
    c["at"] = [moment(at) for at in c["at"]]
    return [Posting(*line) for line in zip(*(c[n] for n in POSTING_FIELDS), strict=True)]


def encode_postings(items: Sequence[Posting]) -> bytes:
    """A postings-topic message: ledger lines."""
    return _write(POSTINGS, posting_fields(items), POSTING_PACKING)


def encode_balances(items: Sequence[BalanceSnapshot]) -> bytes:
    """A balances-topic message: party balances after the events applied so far."""
    columns = _by_field(items, BALANCE_FIELDS)
    columns["party_type"] = [t.value for t in columns["party_type"]]
    columns["at"] = [micros(at) for at in columns["at"]]
    return _write(BALANCES, columns, BALANCE_PACKING)


def same_length(columns: Columns, names: Sequence[str], count: int | None = None) -> None:
    """Refuse columns `names` unless all have one length (`count`, when given)."""
    lengths = {len(columns[n]) for n in names}
    if len(lengths) > 1 or (count is not None and lengths and lengths != {count}):
        counts = ", ".join(f"{n} {len(columns[n])}" for n in names)
        expected = "" if count is None else f" (expected {count})"
        raise DecodeError("bad_value", f"columns of different lengths: {counts}{expected}")


def _columns(
    name: str, data: bytes, names: Sequence[str], times: Iterable[str], kinds: Kinds
) -> Columns:
    """A message's columns: v3's packed ones, or v1 `items` (times as datetimes) then
    v2's arrays."""
    record = read(name, data)
    if (packed := record["packed"]) is not None:
        columns = unpack(packed, kinds)
        same_length(columns, names)
        return columns
    columns = {n: record[n] for n in names}
    if rows := record["items"]:
        old = {n: [r[n] for r in rows] for n in names}
        for n in times:
            old[n] = [None if at is None else micros(at) for at in old[n]]
        columns = {n: old[n] + columns[n] for n in names}
    same_length(columns, names)
    return columns


def at_least(value: int, low: int, what: str) -> int:
    """`value`, unless it is below `low` (bad_value)."""
    if value < low:
        raise DecodeError("bad_value", f"{what} {value} is below {low}")
    return value


def column_at_least(values: list[int], low: int, what: str) -> None:
    """Refuse a column with a value below `low`, naming the lowest."""
    if values and (worst := min(values)) < low:
        raise DecodeError("bad_value", f"{what} {worst} is below {low}")


def rated_columns(data: bytes) -> Columns:
    """A rated-topic message's lines as columns; `start` in microseconds or None."""
    c = _columns(RATED, data, RATED_FIELDS, ("start",), RATED_PACKING)
    if not _STATUSES.issuperset(c["status"]):
        i = next(i for i, s in enumerate(c["status"]) if s not in _STATUSES)
        raise DecodeError("bad_value", f"cdr {c['cdr_id'][i]!r}: unknown status {c['status'][i]!r}")
    for i, d in enumerate(c["duration"]):
        if d is not None and d < 0:
            raise DecodeError("bad_value", f"cdr {c['cdr_id'][i]!r}: duration {d} < 0")
    column_at_least(c["billed_seconds"], 0, "billed_seconds")
    column_at_least(c["covered_seconds"], 0, "covered_seconds")
    return c


def posting_columns(data: bytes) -> Columns:
    """A postings-topic message's lines as columns; `at` in microseconds."""
    return _columns(POSTINGS, data, POSTING_FIELDS, ("at",), POSTING_PACKING)


def balance_columns(data: bytes) -> Columns:
    """A balances-topic message's snapshots as columns; `at` in microseconds."""
    c = _columns(BALANCES, data, BALANCE_FIELDS, ("at",), BALANCE_PACKING)
    column_at_least(c["version"], 0, "version")
    return c
