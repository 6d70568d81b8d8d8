"""Every schema round-trips its domain records; impossible values are refused as bad_value."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.catalog.model import PartyType
from pipeline.cdrs.model import Defect, RawCdr
from pipeline.engine.events import BalanceSnapshot, Opening, PartyWork, Sequenced, Tick
from pipeline.engine.records import Payment, RatedCdr
from pipeline.ledger.alerts import Alert, AlertKind
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.limits.daily import Usage
from pipeline.schemas import codec, framing, packed, work
from pipeline.schemas.codec import CatalogFile, DeadLetter, DecodeError
from tests.unit.schemas import strategies as gen
from tests.unit.schemas.messages import altered

AT = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
CDR = RawCdr("c1", "1000", "+4930123", "4930999", AT, 61, "carrier-a", "ANSWERED", "a.csv:2")
POSTING = Posting(
    "c1/customer/acme", PartyType.CUSTOMER, "acme", -1_500, "EUR", PostingKind.CALL, AT
)


def _ticks_first(items: list[PartyWork | Tick]) -> list[PartyWork | Tick]:
    """Work items as a work message reads back: its ticks, then its work, each in order."""
    return sorted(items, key=lambda item: isinstance(item, PartyWork))


Encode = Callable[[Any], bytes]
Decode = Callable[[bytes], Any]
ROUND_TRIPS: list[tuple[str, st.SearchStrategy[Any], Encode, Decode]] = [
    ("cdr.RawBatch", gen.raw_events, codec.encode_raw, codec.decode_raw),
    ("cdr.WorkBatch", gen.work_items.map(_ticks_first), codec.encode_work, codec.decode_work),
    ("cdr.RatedBatch", st.lists(gen.rated, max_size=5), codec.encode_rated, codec.decode_rated),
    (
        "cdr.PostingBatch",
        st.lists(gen.postings, max_size=5),
        codec.encode_postings,
        codec.decode_postings,
    ),
    ("cdr.AlertBatch", st.lists(gen.alerts, max_size=5), codec.encode_alerts, codec.decode_alerts),
    (
        "cdr.BalanceBatch",
        st.lists(gen.balances, max_size=5),
        codec.encode_balances,
        codec.decode_balances,
    ),
    ("cdr.DeadLetter", gen.dead_letters, codec.encode_dead_letter, codec.decode_dead_letter),
    ("cdr.CatalogFile", gen.catalog_files, codec.encode_catalog_file, codec.decode_catalog_file),
]


def _times(value: Any) -> list[datetime]:
    """Every datetime inside a decoded value (records, lists, tuples)."""
    if isinstance(value, datetime):
        return [value]
    if isinstance(value, list | tuple):
        return [t for item in value for t in _times(item)]
    if dataclasses.is_dataclass(value):
        return [t for f in dataclasses.fields(value) for t in _times(getattr(value, f.name))]
    return []


@pytest.mark.parametrize(
    ("name", "values", "encode", "decode"), ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS]
)
def test_round_trip(
    name: str, values: st.SearchStrategy[Any], encode: Encode, decode: Decode
) -> None:
    header = framing.CURRENT[name].header

    @given(values)
    def check(value: Any) -> None:
        data = encode(value)
        assert data[: len(header)] == header
        back = decode(data)
        assert back == value  # aware datetimes compare as instants
        assert all(t.tzinfo is UTC for t in _times(back)), "times come back in UTC"

    check()


def test_every_schema_has_a_round_trip_test() -> None:
    assert {name for name, *_ in ROUND_TRIPS} == set(framing.CURRENT)


def test_times_with_any_offset_come_back_as_the_same_instant_in_utc() -> None:
    berlin = datetime(2026, 7, 1, 12, 0, 0, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    minus5 = datetime(2026, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    events = [Sequenced(1, dataclasses.replace(CDR, start=berlin))]
    events.append(Sequenced(2, Payment("p1", minus5, PartyType.CUSTOMER, "acme", 5, "EUR")))
    out = codec.decode_raw(codec.encode_raw(events))
    assert isinstance(out[0], Sequenced) and isinstance(out[0].event, RawCdr)
    assert out[0].event.start == datetime(2026, 7, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert out[0].event.start.tzinfo is UTC
    assert isinstance(out[1], Sequenced) and isinstance(out[1].event, Payment)
    assert out[1].event.at == datetime(2026, 1, 2, 4, 30, tzinfo=UTC)


def test_naive_time_is_refused_on_encode() -> None:
    naive = dataclasses.replace(CDR, start=datetime(2026, 3, 20, 10, 0))
    with pytest.raises(TypeError):
        codec.encode_raw([Sequenced(1, naive)])


def test_raw_batch_keeps_order_of_mixed_events() -> None:
    events: list[Sequenced | Tick] = [
        Sequenced(0, Opening(PartyType.RESELLER, "r1")),
        Sequenced(1, Payment("p1", AT, PartyType.PROVIDER, "carrier-a", -7, "USD", "dist")),
        Sequenced(2, dataclasses.replace(CDR, defect=Defect("bad_start", "no start"), start=None)),
        Tick(2),
        Sequenced(3, dataclasses.replace(CDR, cdr_id="c2", duration=None)),
        Tick(3, source=5),
    ]
    assert codec.decode_raw(codec.encode_raw(events)) == events


def test_work_items_with_and_without_posting_or_usage() -> None:
    later = AT + timedelta(seconds=5)
    items: list[PartyWork | Tick] = [
        PartyWork(4, 0, "acme", POSTING, Usage(AT, 61, "c1")),
        Tick(4, source=1),
        PartyWork(4, 1, "acme", dataclasses.replace(POSTING, posting_id="p2", at=later)),
        PartyWork(5, 0, "carrier-a", None, Usage(later, 0, "c2")),
        PartyWork(6, 0, "carrier-a"),
        Tick(5, source=0),
    ]
    back = codec.decode_work(codec.encode_work(items))
    assert back == [items[1], items[5], items[0], items[2], items[3], items[4]]


def test_work_columns_whose_counts_disagree_are_refused() -> None:
    data = codec.encode_work([PartyWork(4, 0, "acme", POSTING), PartyWork(5, 0, "acme")])
    record = framing.read("cdr.WorkBatch", data)
    columns = packed.unpack(record["packed"], work.PACKING)
    columns["posted"] = [True, True]  # two pieces with a posting, one posting written
    record["packed"] = packed.pack(columns, work.PACKING)
    with pytest.raises(DecodeError) as caught:
        codec.decode_work(framing.write("cdr.WorkBatch", record))
    assert caught.value.reason == "bad_value"
    assert "posting_id 1" in caught.value.detail and "(expected 2)" in caught.value.detail


def test_empty_batches() -> None:
    assert codec.decode_raw(codec.encode_raw([])) == []
    assert codec.decode_rated(codec.encode_rated([])) == []


@pytest.mark.parametrize(
    ("schema", "dataclass", "renames"),
    [
        ("cdr.RawCdr", RawCdr, {}),
        ("cdr.Defect", Defect, {}),
        ("cdr.SequencedPayment", Payment, {"seq": None}),
        ("cdr.SequencedOpening", Opening, {"seq": None}),
        ("cdr.Tick", Tick, {}),
        ("cdr.PartyWork", PartyWork, {}),
        ("cdr.Usage", Usage, {}),
        ("cdr.Posting", Posting, {}),
        ("cdr.RatedCdr", RatedCdr, {}),
        ("cdr.Alert", Alert, {}),
        ("cdr.BalanceSnapshot", BalanceSnapshot, {}),
        ("cdr.DeadLetter", DeadLetter, {}),
        ("cdr.CatalogFile", CatalogFile, {}),
    ],
)
def test_schema_fields_mirror_the_domain_type(
    schema: str, dataclass: type, renames: dict[str, None]
) -> None:
    fields = _record_fields(schema)
    assert [f for f in fields if f not in renames] == [
        f.name for f in dataclasses.fields(dataclass)
    ]


def _record_fields(full_name: str) -> list[str]:
    for sv in framing.CURRENT.values():
        named = sv.parsed["__named_schemas"]
        if full_name in named:
            return [f["name"] for f in named[full_name]["fields"]]
    raise AssertionError(f"{full_name} in no current schema")


def test_a_record_shared_by_two_schemas_is_defined_the_same_in_both() -> None:
    seen: dict[str, Any] = {}
    for sv in framing.CURRENT.values():
        for name, definition in sv.parsed["__named_schemas"].items():
            assert seen.setdefault(name, definition) == definition, name


# --- impossible values -------------------------------------------------------------------------


ALERT = Alert("a", PartyType.CUSTOMER, "acme", AlertKind.BLOCKED, AT)
RATED = RatedCdr(
    "c1", "rated", "", "", "", "1000", "acme", "acme", "carrier-a", "49", "Germany", AT, 60, 60,
    0, 1, "EUR", 1, "EUR",
)  # fmt: skip


def _expect_bad_value(decode: Callable[[bytes], Any], data: bytes, words: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(data)
    assert caught.value.reason == "bad_value"
    assert words in caught.value.detail


@pytest.mark.parametrize(
    ("decode", "data", "words"),
    [
        (
            codec.decode_postings,
            altered("cdr.PostingBatch", codec.encode_postings([POSTING]), kind="refund"),
            "unknown posting kind 'refund'",
        ),
        (
            codec.decode_postings,
            altered("cdr.PostingBatch", codec.encode_postings([POSTING]), party_type="dealer"),
            "unknown party_type 'dealer'",
        ),
        (
            codec.decode_rated,
            altered("cdr.RatedBatch", codec.encode_rated([RATED]), status="maybe"),
            "unknown status 'maybe'",
        ),
        (
            codec.decode_rated,
            codec.encode_rated([dataclasses.replace(RATED, duration=-1)]),
            "duration -1 < 0",
        ),
        (
            codec.decode_rated,
            codec.encode_rated([dataclasses.replace(RATED, billed_seconds=-60)]),
            "billed_seconds -60 is below 0",
        ),
        (
            codec.decode_raw,
            codec.encode_raw([Sequenced(1, dataclasses.replace(CDR, duration=-5))]),
            "duration -5 < 0",
        ),
        (codec.decode_raw, codec.encode_raw([Sequenced(-1, CDR)]), "seq -1 is below 0"),
        (codec.decode_raw, codec.encode_raw([Tick(3, source=-2)]), "tick source -2"),
        (
            codec.decode_raw,
            codec.encode_raw([Sequenced(1, Opening(PartyType.CUSTOMER, "acme"))]).replace(
                b"\x10customer", b"\x10custOmer"
            ),
            "unknown party_type 'custOmer'",
        ),
        (
            codec.decode_work,
            codec.encode_work([PartyWork(1, 0, "carrier-a", None, Usage(AT, -3, "c1"))]),
            "usage seconds -3",
        ),
        (
            codec.read_work,
            framing.write(
                "cdr.WorkBatch", {"items": [], "origin_partition": 0, "origin_offset": -1}
            ),
            "origin offset -1 is below 0",
        ),
        (
            codec.read_work,
            framing.write(
                "cdr.WorkBatch", {"items": [], "origin_partition": -2, "origin_offset": 5}
            ),
            "origin partition -2 is below -1",
        ),
        (
            codec.decode_alerts,
            altered("cdr.AlertBatch", codec.encode_alerts([ALERT]), kind="blockEd"),
            "unknown alert kind 'blockEd'",
        ),
        (
            codec.decode_balances,
            codec.encode_balances(
                [BalanceSnapshot(PartyType.CUSTOMER, "a", 0, "EUR", False, AT, -1)]
            ),
            "version -1",
        ),
        (
            codec.decode_catalog_file,
            codec.encode_catalog_file(CatalogFile("v1", "decks/a.csv", b"", 0)),
            "files 0 is below 1",
        ),
    ],
)
def test_impossible_values_are_bad_value(
    decode: Callable[[bytes], Any], data: bytes, words: str
) -> None:
    _expect_bad_value(decode, data, words)


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../x.csv", "decks/../../x", "a\\..\\b"])
def test_catalog_path_must_stay_inside_the_catalog(path: str) -> None:
    data = codec.encode_catalog_file(CatalogFile("v1", path, b"x", 1))
    _expect_bad_value(codec.decode_catalog_file, data, "leaves the catalog directory")


def test_decode_error_is_a_value_error_with_a_one_line_message() -> None:
    error = DecodeError("bad_value", "unknown party_type 'x'")
    assert isinstance(error, ValueError)
    assert str(error) == "bad_value: unknown party_type 'x'"
    assert (error.reason, error.detail) == ("bad_value", "unknown party_type 'x'")
