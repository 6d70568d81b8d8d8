"""A reader of the current schema reads messages written with an older version."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.catalog.model import PartyType
from pipeline.cdrs.model import Defect, RawCdr
from pipeline.engine.events import BalanceSnapshot, Sequenced, Tick
from pipeline.engine.records import RatedCdr
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.schemas import batches, codec, columns, framing, packed
from pipeline.schemas.batches import POSTING_FIELDS
from pipeline.schemas.framing import DecodeError
from tests.unit.schemas.messages import PACKING

AT = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
POSTING = Posting("c1/customer/acme", PartyType.CUSTOMER, "acme", -1, "EUR", PostingKind.CALL, AT)
V1_CDR = {
    "cdr_id": "c1",
    "account": "1000",
    "caller": "+4930123",
    "callee": "4930999",
    "start": AT,
    "duration": 61,
    "provider": "carrier-a",
    "source": "a.csv:2",
    "defect": None,
}


def test_raw_batch_v1_has_no_disposition_and_v2_adds_it_with_a_default() -> None:
    v1, v2 = framing.versions("cdr.RawBatch")[:2]
    v1_fields = [f["name"] for f in v1.parsed["__named_schemas"]["cdr.RawCdr"]["fields"]]
    v2_fields = {f["name"]: f for f in v2.parsed["__named_schemas"]["cdr.RawCdr"]["fields"]}
    assert "disposition" not in v1_fields
    assert v2_fields["disposition"]["default"] == ""
    assert v1.fingerprint != v2.fingerprint


def test_a_v1_message_is_read_into_the_current_schema_with_the_default_filled() -> None:
    v1 = framing.versions("cdr.RawBatch")[0]
    defective = {**V1_CDR, "cdr_id": "c2", "defect": {"reason": "bad_start", "detail": "x"}}
    events = [
        ("cdr.SequencedCdr", {"seq": 0, "cdr": V1_CDR}),
        ("cdr.SequencedCdr", {"seq": 1, "cdr": defective}),
        ("cdr.Tick", {"watermark": 1, "source": -1}),
    ]
    data = framing.write("cdr.RawBatch", {"events": events}, schema=v1)
    assert data[2:10] == v1.fingerprint

    out = codec.decode_raw(data)

    cdr = RawCdr("c1", "1000", "+4930123", "4930999", AT, 61, "carrier-a", "", "a.csv:2")
    bad = replace(cdr, cdr_id="c2", defect=Defect("bad_start", "x"))
    assert out == [Sequenced(0, cdr), Sequenced(1, bad), Tick(1)]
    assert isinstance(out[0], Sequenced) and isinstance(out[0].event, RawCdr)
    assert out[0].event.disposition == ""


def test_the_codec_writes_the_current_version() -> None:
    data = codec.encode_raw([Tick(1)])
    assert data[2:10] == framing.CURRENT["cdr.RawBatch"].fingerprint


def test_a_v1_work_message_is_read_with_no_origin_and_v2_keeps_it() -> None:
    from pipeline.engine.events import Origin, PartyWork

    v1 = framing.versions("cdr.WorkBatch")[0]
    work = {"seq": 3, "sub": 0, "party": "carrier-a", "posting": None, "usage": None}
    data = framing.write("cdr.WorkBatch", {"items": [("cdr.PartyWork", work)]}, schema=v1)
    assert data[2:10] == v1.fingerprint
    old = codec.read_work(data)
    assert old.items == [PartyWork(3, 0, "carrier-a")] and old.origin is None

    new = codec.read_work(codec.encode_work(old.items, Origin(2, 41)))
    assert new == (old.items, Origin(2, 41))
    assert codec.read_work(codec.encode_work(old.items)).origin is None


# --- output batches: v2 writes columns, v1 rows still read -------------------------------------

V1_RATED = {
    "cdr_id": "c1", "status": "rated", "reason": "", "detail": "", "source": "a.csv:2",
    "account": "1000", "customer": "acme", "payer": "acme", "provider": "carrier-a",
    "code": "49", "code_name": "Germany", "start": AT, "duration": 61, "billed_seconds": 120,
    "covered_seconds": 0, "cost": 2_500, "currency": "EUR", "provider_cost": 900,
    "provider_currency": "USD",
}  # fmt: skip
V1_POSTING = {
    "posting_id": "c1/customer/acme", "party_type": "customer", "party": "acme",
    "amount": -2_500, "currency": "EUR", "kind": "call", "at": AT, "cdr_id": "c1",
    "payment_id": "",
}  # fmt: skip
V1_BALANCE = {
    "party_type": "provider", "party": "carrier-a", "balance": 900, "currency": "USD",
    "blocked": True, "at": AT, "version": 7,
}  # fmt: skip
FIELDS = {
    "cdr.RatedBatch": batches.RATED_FIELDS,
    "cdr.PostingBatch": batches.POSTING_FIELDS,
    "cdr.BalanceBatch": batches.BALANCE_FIELDS,
}
V1_BATCHES = [
    ("cdr.RatedBatch", V1_RATED, codec.decode_rated, codec.encode_rated, columns.rated),
    (
        "cdr.PostingBatch",
        V1_POSTING,
        codec.decode_postings,
        codec.encode_postings,
        columns.postings,
    ),
    (
        "cdr.BalanceBatch",
        V1_BALANCE,
        codec.decode_balances,
        codec.encode_balances,
        columns.balances,
    ),
]


@pytest.mark.parametrize(
    ("name", "row", "decode", "encode", "read"), V1_BATCHES, ids=[b[0] for b in V1_BATCHES]
)
def test_v1_and_v2_output_batches_read_as_the_same_records_and_columns_as_v3(
    name: str, row: dict[str, Any], decode: Any, encode: Any, read: Any
) -> None:
    v1, v2, v3 = framing.versions(name)
    old = framing.write(name, {"items": [row, {**row, "currency": "GBP"}]}, schema=v1)
    assert old[2:10] == v1.fingerprint

    records = decode(old)
    new = encode(records)

    assert new[2:10] == v3.fingerprint
    written = framing.read(name, new)
    assert written["items"] == [] and written["packed"] is not None  # v3 packs only
    assert all(written[n] == [] for n in FIELDS[name])
    assert decode(new) == records
    assert len(records) == 2 and {f.name: getattr(records[0], f.name) for f in fields(records[0])}
    assert read(old, 5) == read(new, 5)
    times = [getattr(r, "start" if name == "cdr.RatedBatch" else "at") for r in records]
    assert times == [AT, AT] and all(t.tzinfo is UTC for t in times)

    arrays = packed.unpack(written["packed"], PACKING[name])  # v2: the same columns as arrays
    middle = framing.write(name, {"items": [], **arrays}, schema=v2)
    assert middle[2:10] == v2.fingerprint
    assert decode(middle) == records and read(middle, 5) == read(new, 5)


def _posting_columns(lines: int) -> dict[str, list[Any]]:
    data = codec.encode_postings([POSTING] * lines)
    return packed.unpack(framing.read("cdr.PostingBatch", data)["packed"], batches.POSTING_PACKING)


def test_a_batch_with_columns_of_different_lengths_is_refused() -> None:
    v2 = framing.versions("cdr.PostingBatch")[1]
    columns_of_two = _posting_columns(2)
    columns_of_two["amount"].pop()  # a line without its amount: refused, not silently cut
    as_arrays = framing.write("cdr.PostingBatch", {"items": [], **columns_of_two}, schema=v2)
    as_packed = framing.write(
        "cdr.PostingBatch", {"packed": packed.pack(columns_of_two, batches.POSTING_PACKING)}
    )
    for data in (as_arrays, as_packed):
        for read in (codec.decode_postings, lambda d: columns.postings(d, 1)):
            with pytest.raises(DecodeError) as caught:
                read(data)
            assert caught.value.reason == "bad_value"
            assert "columns of different lengths" in caught.value.detail
            assert "amount 1" in caught.value.detail


def test_column_order_is_the_records_field_order() -> None:
    assert tuple(f.name for f in fields(RatedCdr)) == batches.RATED_FIELDS
    assert tuple(f.name for f in fields(Posting)) == batches.POSTING_FIELDS
    assert tuple(f.name for f in fields(BalanceSnapshot)) == batches.BALANCE_FIELDS


def test_a_time_out_of_range_in_a_v2_or_v3_batch_is_bad_value() -> None:
    v2 = framing.versions("cdr.PostingBatch")[1]
    line = {field: [V1_POSTING[field] if field != "at" else 2**62] for field in POSTING_FIELDS}
    as_arrays = framing.write("cdr.PostingBatch", {"items": [], **line}, schema=v2)
    as_packed = framing.write(
        "cdr.PostingBatch", {"packed": packed.pack(line, batches.POSTING_PACKING)}
    )
    for data in (as_arrays, as_packed):
        with pytest.raises(DecodeError) as caught:
            codec.decode_postings(data)
        assert caught.value.reason == "bad_value" and "out of range" in caught.value.detail


def test_a_v2_work_message_reads_as_the_same_work_as_the_current_writer_writes() -> None:
    from pipeline.engine.events import Origin, PartyWork
    from pipeline.limits.daily import Usage

    v2 = framing.versions("cdr.WorkBatch")[1]
    posting = {
        **V1_POSTING,
        "party_type": "provider",
        "party": "carrier-a",
        "kind": "provider_call",
    }
    usage = {"start": AT, "seconds": 61, "cause": "c1"}
    work = {"seq": 3, "sub": 1, "party": "carrier-a", "posting": ("cdr.Posting", posting)}
    items = [
        ("cdr.PartyWork", {**work, "usage": ("cdr.Usage", usage)}),
        ("cdr.Tick", {"watermark": 3, "source": 0}),
    ]
    record = {"items": items, "origin_partition": 1, "origin_offset": 9}
    old = codec.read_work(framing.write("cdr.WorkBatch", record, schema=v2))

    assert old.origin == Origin(1, 9)
    assert old.items[1] == Tick(3, 0)
    piece = old.items[0]
    assert isinstance(piece, PartyWork) and piece.usage == Usage(AT, 61, "c1")
    assert piece.posting is not None and piece.posting.amount == -2_500
    new = codec.encode_work(old.items, old.origin)
    assert new[2:10] == framing.CURRENT["cdr.WorkBatch"].fingerprint != v2.fingerprint
    assert codec.read_work(new) == ([old.items[1], piece], Origin(1, 9))


def test_a_large_output_is_split_into_messages_under_the_limit_in_order() -> None:
    lines = [replace(POSTING, posting_id=f"c{i}/customer/acme") for i in range(1_000)]
    whole = codec.encode_postings(lines)

    parts = batches.sized(codec.encode_postings, lines, limit=len(whole) // 3)

    assert len(parts) == 4 and all(len(part) <= len(whole) // 3 for part in parts)
    assert [p for part in parts for p in codec.decode_postings(part)] == lines
    assert batches.sized(codec.encode_postings, lines) == [whole]  # under the default limit
    assert batches.sized(codec.encode_postings, lines[:1], limit=10) == [
        codec.encode_postings(lines[:1])
    ]  # one line over the limit still goes, as one message


def test_a_v2_raw_message_reads_as_the_same_events_as_v3_writes() -> None:
    from pipeline.engine.events import Opening
    from pipeline.engine.records import Payment

    cdr = RawCdr("c1", "1000", "+4930123", "4930999", AT, 61, "carrier-a", "ANSWERED", "a.csv:2")
    events: list[Sequenced | Tick] = [
        Sequenced(0, Opening(PartyType.CUSTOMER, "acme")),
        Sequenced(1, cdr),
        Sequenced(2, replace(cdr, cdr_id="c2", start=None, defect=Defect("bad_start", "x"))),
        Sequenced(3, Payment("p1", AT, PartyType.CUSTOMER, "acme", 5_000_000, "EUR")),
        Sequenced(4, replace(cdr, cdr_id="c3", duration=None)),
        Tick(4),
    ]
    v2, v3 = framing.versions("cdr.RawBatch")[1:]
    as_v2 = framing.write(
        "cdr.RawBatch", {"events": [codec._raw_record(e) for e in events]}, schema=v2
    )

    new = codec.encode_raw(events)

    assert new[2:10] == v3.fingerprint and as_v2[2:10] == v2.fingerprint
    written = framing.read("cdr.RawBatch", new)
    assert len(written["events"]) == 3  # the opening, the payment and the tick
    assert codec.decode_raw(as_v2) == codec.decode_raw(new) == events


@pytest.mark.parametrize("positions", [[0], [2, 1], [-1, 3], [0, 4], [0, 1, 2]])
def test_raw_events_whose_positions_do_not_fit_the_message_are_refused(
    positions: list[int],
) -> None:
    cdr = RawCdr("c1", "1000", "+4930123", "4930999", AT, 61, "carrier-a")
    record = framing.read("cdr.RawBatch", codec.encode_raw([Sequenced(0, cdr), Tick(0), Tick(1)]))
    assert packed.unpack_longs(record["packed"]["positions"], "") == [1, 2]
    record["packed"]["positions"] = packed.pack_longs(positions)
    with pytest.raises(DecodeError) as caught:
        codec.decode_raw(framing.write("cdr.RawBatch", record))
    assert caught.value.reason == "bad_value" and "positions" in caught.value.detail
