"""FreeSWITCH mod_cdr_csv default template, with and without the appended gateway column."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.cdrs.freeswitch import COLUMNS
from pipeline.cdrs.model import Defect, RawCdr
from pipeline.cdrs.readers import read_cdrs
from tests.unit.cdrs.helpers import FIXTURES, utc, write

NEW_YORK = ZoneInfo("America/New_York")
UUID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"

BASE = {
    "caller_id_name": "Alice", "caller_id_number": "1001", "destination_number": "4930123456",
    "context": "default", "start_stamp": "2024-07-01 10:00:00",
    "answer_stamp": "2024-07-01 10:00:05", "end_stamp": "2024-07-01 10:01:07",
    "duration": "67", "billsec": "62", "hangup_cause": "NORMAL_CLEARING", "uuid": UUID,
    "bleg_uuid": "", "accountcode": "acct-1", "read_codec": "PCMU", "write_codec": "PCMU",
    "sip_gateway_name": "carrier-b",
}  # fmt: skip


def line(width: int = 15, /, **changes: str) -> str:
    values = {**BASE, **changes}
    return ",".join(f'"{values[name]}"' for name in COLUMNS[:width])


def read_one(tmp_path: Path, text: str, default_provider: str = "fallback") -> RawCdr:
    path = write(tmp_path, "cdr.csv", text + "\n")
    (cdr,) = read_cdrs(path, "freeswitch", NEW_YORK, default_provider)
    return cdr


@pytest.mark.parametrize(
    ("name", "providers"),
    [
        ("freeswitch.csv", ("fallback", "fallback")),
        ("freeswitch-gateway.csv", ("carrier-b", "fallback")),
    ],
)
def test_fixtures_exact_fields(name: str, providers: tuple[str, str]) -> None:
    path = FIXTURES / name
    cdrs = list(read_cdrs(path, "freeswitch", NEW_YORK, default_provider="fallback"))
    at = f"{path}:"
    assert cdrs == [
        RawCdr(UUID, "acct-1", "1001", "4930123456", utc(2024, 7, 1, 14, 0, 5), 62,
               providers[0], "NORMAL_CLEARING", at + "1"),
        # no answer_stamp: start_stamp; no accountcode: the caller id number
        RawCdr("8a2f1d3e-5b6c-4d7e-8f90-a1b2c3d4e5f6", "1002", "1002", "4930123457",
               utc(2024, 7, 1, 14, 5), 0, providers[1], "NO_ANSWER", at + "2"),
    ]  # fmt: skip


def test_gateway_column_names_the_provider(tmp_path: Path) -> None:
    assert read_one(tmp_path, line(16)).provider == "carrier-b"
    assert read_one(tmp_path, line(16, sip_gateway_name="")).provider == "fallback"
    assert read_one(tmp_path, line(15)).provider == "fallback"


@pytest.mark.parametrize("width", [11, 14, 17])
def test_other_column_counts_are_bad_records(tmp_path: Path, width: int) -> None:
    text = line(16) + ',"x"' if width == 17 else line(width)
    cdr = read_one(tmp_path, text)
    assert cdr.defect is not None
    assert cdr.defect.reason == "bad_record"
    assert cdr.defect.detail.startswith(f"has {width} columns;")
    assert (cdr.cdr_id, cdr.caller) == ("cdr.csv:1", "")


DEFECTS = [
    ({"uuid": ""}, Defect("missing_field", "uuid is missing"), "cdr.csv:1"),
    ({"answer_stamp": "", "start_stamp": ""}, Defect("missing_field", "start_stamp is missing"),
     UUID),
    ({"answer_stamp": "2124-07-01 10:00:05"},
     Defect("bad_start", "answer_stamp '2124-07-01 10:00:05' is outside the years 1970-2100"),
     UUID),
    ({"billsec": "abc"}, Defect("bad_duration", "billsec 'abc' is not a number of seconds"), UUID),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "defect", "cdr_id"), DEFECTS)
def test_defects(tmp_path: Path, changes: dict[str, str], defect: Defect, cdr_id: str) -> None:
    cdr = read_one(tmp_path, line(**changes))
    assert cdr.defect == defect
    assert (cdr.cdr_id, cdr.caller, cdr.callee) == (cdr_id, "1001", "4930123456")
