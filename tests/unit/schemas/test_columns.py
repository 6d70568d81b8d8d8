"""The sink's column readers give what decoding and the row serializers give, and refuse
what the decoders refuse."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.catalog.model import PartyType
from pipeline.engine.book import BalanceLine
from pipeline.engine.events import BalanceSnapshot
from pipeline.engine.records import RatedCdr
from pipeline.engine.serialize import alert_row, balance_row, posting_row, rated_row
from pipeline.ledger.alerts import Alert, AlertKind
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.schemas import codec, columns
from pipeline.schemas.codec import DecodeError
from pipeline.warehouse.ddl import TABLES
from tests.unit.schemas import strategies as gen
from tests.unit.schemas.messages import altered

VERSION = 1_764_000_000_123
AT = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)


def _as_columns(table: str, rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows as the server warehouse turns them into columns: DateTime text to epoch s."""
    out: dict[str, list[Any]] = {}
    for column in TABLES[table].columns:
        cells = [row[column.name] for row in rows]
        if column.type.startswith("DateTime"):
            cells = [int(datetime.fromisoformat(c).replace(tzinfo=UTC).timestamp()) for c in cells]
        out[column.name] = cells
    return out


def _check_keys(table: str, got: dict[str, list[Any]]) -> None:
    assert set(got) == set(TABLES[table].column_names())


@given(st.lists(gen.rated, max_size=6))
def test_rated_columns_equal_rated_rows(records: list[RatedCdr]) -> None:
    data = codec.encode_rated(records)
    got, ends = columns.rated(data, VERSION)
    _check_keys("rated_cdrs", got)
    decoded = codec.decode_rated(data)
    assert got == _as_columns("rated_cdrs", [rated_row(r, VERSION) for r in decoded])
    assert ends == [
        r.start.timestamp() + (r.duration or 0)
        for r in decoded
        if r.status == "rated" and r.start is not None
    ]


@given(st.lists(gen.postings, max_size=6))
def test_posting_columns_equal_posting_rows(records: list[Posting]) -> None:
    data = codec.encode_postings(records)
    got, ends = columns.postings(data, VERSION)
    _check_keys("postings", got)
    rows = [posting_row(p, VERSION) for p in codec.decode_postings(data)]
    assert (got, ends) == (_as_columns("postings", rows), [])


@given(st.lists(gen.alerts, max_size=6))
def test_alert_columns_equal_alert_rows(records: list[Alert]) -> None:
    data = codec.encode_alerts(records)
    got, _ = columns.alerts(data, VERSION)
    _check_keys("alerts", got)
    rows = [alert_row(a, VERSION) for a in codec.decode_alerts(data)]
    assert got == _as_columns("alerts", rows)


@given(st.lists(gen.balances, max_size=6))
def test_balance_columns_equal_balance_rows(records: list[BalanceSnapshot]) -> None:
    data = codec.encode_balances(records)
    got, _ = columns.balances(data, VERSION)
    _check_keys("balances", got)
    rows = [
        balance_row(
            BalanceLine(s.party_type, s.party, s.balance, s.currency, s.blocked), s.at, s.version
        )
        for s in codec.decode_balances(data)
    ]
    assert got == _as_columns("balances", rows)


def test_every_column_has_one_value_per_record() -> None:
    rated = RatedCdr(
        "c1", "unrated", "no_rate", "", "a.csv:2", "1000", "acme", "acme", "", "", "", None,
        None, 0, 0, None, "EUR", None, "EUR",
    )  # fmt: skip
    got, ends = columns.rated(codec.encode_rated([rated, rated]), VERSION)
    assert {len(values) for values in got.values()} == {2}
    assert got["start"] == [0, 0] and got["start_known"] == [0, 0]
    assert got["duration_known"] == [0, 0] and got["cost_micro"] == [0, 0]
    assert ends == []  # unrated calls have no end-to-end lag


POSTING = Posting("c1/customer/acme", PartyType.CUSTOMER, "acme", -1, "EUR", PostingKind.CALL, AT)
ALERT = Alert("a", PartyType.CUSTOMER, "acme", AlertKind.BLOCKED, AT)
RATED = RatedCdr(
    "c1", "rated", "", "", "", "1000", "acme", "acme", "carrier-a", "49", "Germany", AT, 60, 60,
    0, 1, "EUR", 1, "EUR",
)  # fmt: skip
BAD: list[tuple[Callable[[bytes], Any], Callable[[bytes, int], Any], bytes]] = [
    (
        codec.decode_postings,
        columns.postings,
        altered("cdr.PostingBatch", codec.encode_postings([POSTING]), kind="refund"),
    ),
    (
        codec.decode_postings,
        columns.postings,
        altered("cdr.PostingBatch", codec.encode_postings([POSTING]), party_type="dealer"),
    ),
    (
        codec.decode_rated,
        columns.rated,
        altered("cdr.RatedBatch", codec.encode_rated([RATED]), status="maybe"),
    ),
    (
        codec.decode_rated,
        columns.rated,
        codec.encode_rated([dataclasses.replace(RATED, covered_seconds=-1)]),
    ),
    (
        codec.decode_alerts,
        columns.alerts,
        altered("cdr.AlertBatch", codec.encode_alerts([ALERT]), kind="blockEd"),
    ),
    (
        codec.decode_alerts,
        columns.alerts,
        altered("cdr.AlertBatch", codec.encode_alerts([ALERT]), party_type="x"),
    ),
    (
        codec.decode_balances,
        columns.balances,
        codec.encode_balances([BalanceSnapshot(PartyType.CUSTOMER, "a", 0, "EUR", False, AT, -1)]),
    ),
    (codec.decode_rated, columns.rated, b"\xc3\x01" + bytes(8) + b"junk"),
    (codec.decode_postings, columns.postings, codec.encode_rated([RATED])),
]


@pytest.mark.parametrize(("decode", "read", "data"), BAD)
def test_what_a_decoder_refuses_the_column_reader_refuses_alike(
    decode: Callable[[bytes], Any], read: Callable[[bytes, int], Any], data: bytes
) -> None:
    with pytest.raises(DecodeError) as by_decoder:
        decode(data)
    with pytest.raises(DecodeError) as by_reader:
        read(data, VERSION)
    assert (by_reader.value.reason, by_reader.value.detail) == (
        by_decoder.value.reason,
        by_decoder.value.detail,
    )
