"""A reader of the current schema reads messages written with an older version."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from pipeline.cdrs.model import Defect, RawCdr
from pipeline.engine.events import Sequenced, Tick
from pipeline.schemas import codec, framing

AT = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
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
    v1, v2 = framing.versions("cdr.RawBatch")
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
