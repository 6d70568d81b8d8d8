"""Asterisk cdr_csv (Master.csv): 16, 17 and 18 columns, peer names, local times, defects."""

from __future__ import annotations

from datetime import timedelta
from hashlib import sha1
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.cdrs.asterisk import COLUMNS, peer_name
from pipeline.cdrs.model import Defect, RawCdr
from pipeline.cdrs.readers import read_cdrs
from tests.unit.cdrs.helpers import FIXTURES, utc, write

NEW_YORK = ZoneInfo("America/New_York")

BASE = {
    "accountcode": "acct-1", "src": "1001", "dst": "4930123456", "dcontext": "from-internal",
    "clid": '"Alice" <1001>', "channel": "SIP/1001-00000001",
    "dstchannel": "SIP/carrier-a-0000001f", "lastapp": "Dial",
    "lastdata": "SIP/carrier-a/4930123456,60", "start": "2024-07-01 10:00:00",
    "answer": "2024-07-01 10:00:05", "end": "2024-07-01 10:01:07", "duration": "67",
    "billsec": "62", "disposition": "ANSWERED", "amaflags": "DOCUMENTATION",
    "uniqueid": "1719842400.1", "userfield": "",
}  # fmt: skip


def line(width: int = 18, /, **changes: str) -> str:
    """A Master.csv line of the first `width` columns, quoted as Asterisk writes them."""
    values = {**BASE, **changes}
    return ",".join('"' + values[name].replace('"', '""') + '"' for name in COLUMNS[:width])


def read_one(tmp_path: Path, text: str, **options: str) -> RawCdr:
    path = write(tmp_path, "Master.csv", text + "\n")
    (cdr,) = read_cdrs(path, "asterisk", NEW_YORK, **options)
    return cdr


def test_fixture_exact_fields() -> None:
    path = FIXTURES / "Master.csv"
    cdrs = list(read_cdrs(path, "asterisk", NEW_YORK, default_provider="fallback"))
    at = f"{path}:"
    sixteen = [
        "acct-3", "1003", "4930123458", "from-internal", '"Carol, Jr." <1003>', "IAX2/1003-7",
        "IAX2/peer-123", "Dial", "IAX2/peer/4930123458", "2024-07-01 10:10:00",
        "2024-07-01 10:10:02", "2024-07-01 10:10:33", "33", "31", "ANSWERED", "BILLING",
    ]  # fmt: skip
    digest = sha1("\x1f".join(sixteen).encode()).hexdigest()
    assert cdrs == [
        # 18 columns; answered: the start is the answer time, 10:00:05 EDT
        RawCdr("1719842400.1", "acct-1", "1001", "4930123456", utc(2024, 7, 1, 14, 0, 5), 62,
               "carrier-a", "ANSWERED", at + "1"),
        # 17 columns; no accountcode (src stands in), unanswered, no dstchannel
        RawCdr("1719842700.2", "1002", "1002", "4930123457", utc(2024, 7, 1, 14, 5), 0,
               "fallback", "NO ANSWER", at + "2"),
        # 16 columns: no uniqueid, so a digest of the row
        RawCdr("ast-" + digest, "acct-3", "1003", "4930123458", utc(2024, 7, 1, 14, 10, 2), 31,
               "peer", "ANSWERED", at + "3"),
    ]  # fmt: skip
    first = cdrs[0].start
    assert first is not None
    assert first.utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize("width", [16, 17, 18])
def test_column_counts(tmp_path: Path, width: int) -> None:
    cdr = read_one(tmp_path, line(width))
    assert cdr.defect is None
    assert (cdr.account, cdr.caller, cdr.callee) == ("acct-1", "1001", "4930123456")
    assert cdr.duration == 62
    assert (cdr.provider, cdr.disposition) == ("carrier-a", "ANSWERED")
    assert cdr.start == utc(2024, 7, 1, 14, 0, 5)
    if width == 16:  # no uniqueid column: "ast-" and a sha1 of the row
        assert cdr.cdr_id.startswith("ast-")
        assert len(cdr.cdr_id) == 44
    else:
        assert cdr.cdr_id == "1719842400.1"


@pytest.mark.parametrize("width", [1, 15, 19])
def test_other_column_counts_are_bad_records(tmp_path: Path, width: int) -> None:
    text = line(18) + ',"x"' if width == 19 else line(width)
    cdr = read_one(tmp_path, text)
    detail = f"has {width} columns; Asterisk cdr_csv rows have 16, 17 or 18"
    assert cdr.defect == Defect("bad_record", detail)
    assert (cdr.cdr_id, cdr.account, cdr.start) == ("Master.csv:1", "", None)


def test_digest_id_is_stable_and_tells_rows_apart(tmp_path: Path) -> None:
    first = read_one(tmp_path, line(16))
    again = read_one(tmp_path, line(16) + "\r")  # CRLF line end
    other = read_one(tmp_path, line(16, channel="SIP/1001-00000002"))
    empty = read_one(tmp_path, line(17, uniqueid=" "))
    assert first.cdr_id == again.cdr_id
    assert first.cdr_id != other.cdr_id
    assert empty.cdr_id.startswith("ast-")


@pytest.mark.parametrize(
    ("channel", "peer"),
    [
        ("SIP/carrier-a-0000001f", "carrier-a"),
        ("PJSIP/carrier-b-00000a2c", "carrier-b"),
        ("IAX2/peer-123", "peer"),
        ("SIP/10.0.0.1-0000002a", "10.0.0.1"),
        ("PJSIP/trunk_1-0000ABCD", "trunk_1"),
        ("Local/200@from-internal-00000012;1", "200@from-internal"),
        ("SIP/carrier", "carrier"),
        ("SIP/carrier-x", "carrier-x"),  # `x` is no channel number
        ("PJSIP/carrier-b", "carrier-b"),  # nor is `b`, hex as it is
        ("SIP/cafe-beef", "cafe-beef"),
        ("DAHDI/1-1", "1"),
        ("", ""),
    ],
)
def test_peer_name(channel: str, peer: str) -> None:
    assert peer_name(channel) == peer


def test_provider_from_dstchannel_or_default(tmp_path: Path) -> None:
    cdr = read_one(tmp_path, line(dstchannel="PJSIP/carrier-b-00000a2c"), default_provider="d")
    assert cdr.provider == "carrier-b"
    assert read_one(tmp_path, line(dstchannel=""), default_provider="d").provider == "d"


@pytest.mark.parametrize(
    ("zone", "answer", "instant"),
    [
        ("America/New_York", "2024-07-01 10:00:05", utc(2024, 7, 1, 14, 0, 5)),  # EDT
        ("America/New_York", "2024-12-01 10:00:05", utc(2024, 12, 1, 15, 0, 5)),  # EST
        ("America/New_York", "2024-11-03 01:30:00", utc(2024, 11, 3, 5, 30)),  # first 01:30
        ("Europe/Berlin", "2024-07-01 10:00:05", utc(2024, 7, 1, 8, 0, 5)),
        ("UTC", "2024-07-01 10:00:05", utc(2024, 7, 1, 10, 0, 5)),
    ],
)
def test_local_times_in_source_zone(
    tmp_path: Path, zone: str, answer: str, instant: object
) -> None:
    path = write(tmp_path, "Master.csv", line(answer=answer) + "\n")
    (cdr,) = read_cdrs(path, "asterisk", ZoneInfo(zone))
    assert cdr.start == instant


DEFECTS = [
    # changes, defect
    ({"answer": "", "start": ""}, Defect("missing_field", "start is missing")),
    ({"answer": "9999-01-01 00:00:00"},
     Defect("bad_start", "answer '9999-01-01 00:00:00' is outside the years 1970-2100")),
    ({"answer": "", "start": "01/07/2024 10:00"},
     Defect("bad_start", "start '01/07/2024 10:00' is not an ISO 8601 time or epoch seconds")),
    ({"billsec": ""}, Defect("missing_field", "billsec is missing")),
    ({"billsec": "-1"}, Defect("bad_duration", "billsec '-1' is negative")),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "defect"), DEFECTS)
def test_defects(tmp_path: Path, changes: dict[str, str], defect: Defect) -> None:
    cdr = read_one(tmp_path, line(**changes))
    assert cdr.defect == defect
    assert (cdr.cdr_id, cdr.account, cdr.provider) == ("1719842400.1", "acct-1", "carrier-a")


def test_answer_time_without_offset_is_fine_here(tmp_path: Path) -> None:
    assert read_one(tmp_path, line()).defect is None


def test_quotes_and_commas_inside_fields(tmp_path: Path) -> None:
    cdr = read_one(tmp_path, line(clid='"Smith, John" <1001>', lastdata='a,"b"'))
    assert cdr.defect is None
    assert cdr.provider == "carrier-a"
