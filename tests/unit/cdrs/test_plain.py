"""The project's own CSV and JSON Lines CDR files: fields, line numbers and every defect."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.cdrs.model import Defect, RawCdr
from pipeline.cdrs.readers import CdrFormatError, read_cdrs
from tests.unit.cdrs.helpers import FIXTURES, reason, utc, write

HEADER = "cdr_id,account,caller,callee,start,duration,provider,disposition\n"


def test_csv_fixture_exact_fields() -> None:
    path = FIXTURES / "calls.csv"
    cdrs = list(read_cdrs(path, "csv", default_provider="fallback"))
    at = f"{path}:"
    assert cdrs == [
        RawCdr("c-1", "acct-1", "+15551230001", "+4930123456", utc(2024, 7, 1, 10), 62,
               "carrier-a", "ANSWERED", at + "2"),
        RawCdr("c-2", "acct-1", "+15551230001", "00441632960000", utc(2024, 7, 1, 10), 31,
               "carrier-b", "ANSWERED", at + "3"),
        # line 4 is blank; this row's quoted note runs over lines 5 and 6
        RawCdr("c-3", "acct-2", "15551230002", "4930123457", utc(2024, 7, 1, 10), 0,
               "fallback", "NO ANSWER", at + "5"),
        RawCdr("c-4", "acct-2", "15551230002", "4930123458",
               datetime(2024, 7, 1, 10, 0, 0, 250000, tzinfo=UTC), 5,
               "carrier-a", "ANSWERED", at + "7"),
    ]  # fmt: skip
    second = cdrs[1].start
    assert second is not None
    assert second.utcoffset() == timedelta(hours=2)  # the written offset is kept


def test_jsonl_fixture_exact_fields() -> None:
    path = FIXTURES / "calls.jsonl"
    cdrs = list(read_cdrs(path, default_provider="fallback"))  # detected by the suffix
    at = f"{path}:"
    assert cdrs == [
        RawCdr("j-1", "acct-1", "+15551230001", "+4930123456", utc(2024, 7, 1, 10), 62,
               "carrier-a", "ANSWERED", at + "1"),
        RawCdr("j-2", "acct-2", "15551230002", "4930123457",
               datetime(2024, 7, 1, 10, 0, 0, 500000, tzinfo=UTC), 1,
               "carrier-b", "", at + "3"),
        RawCdr("3", "acct-2", "15551230002", "4930123458", utc(2024, 7, 1, 10), 7,
               "fallback", "", at + "5"),
    ]  # fmt: skip


GOOD = "c-9,acct-9,1555,4930,2024-07-01T10:00:00Z,60,carrier-a,ANSWERED"

CSV_DEFECTS = [
    # data row, reason, detail, (cdr_id, start, duration) carried
    ("c-9,acct-9,1555,4930,2024-07-01 10:00:00,60,carrier-a,",
     "bad_start", "start '2024-07-01 10:00:00' has no UTC offset", ("c-9", None, 60)),
    ("c-9,acct-9,1555,4930,9999-01-01T00:00:00Z,60,carrier-a,",
     "bad_start", "start '9999-01-01T00:00:00Z' is outside the years 1970-2100",
     ("c-9", None, 60)),
    ("c-9,acct-9,1555,4930,soon,60,carrier-a,",
     "bad_start", "start 'soon' is not an ISO 8601 time or epoch seconds", ("c-9", None, 60)),
    ("c-9,acct-9,1555,4930,2024-07-01T10:00:00Z,-3,carrier-a,",
     "bad_duration", "duration '-3' is negative", ("c-9", utc(2024, 7, 1, 10), None)),
    ("c-9,acct-9,1555,4930,2024-07-01T10:00:00Z,1m,carrier-a,",
     "bad_duration", "duration '1m' is not a number of seconds",
     ("c-9", utc(2024, 7, 1, 10), None)),
    (",acct-9,1555,4930,2024-07-01T10:00:00Z,60,carrier-a,",
     "missing_field", "cdr_id is missing", ("t.csv:2", utc(2024, 7, 1, 10), 60)),
    ("c-9,acct-9,1555,4930,,60,carrier-a,",
     "missing_field", "start is missing", ("c-9", None, 60)),
    ("c-9,acct-9,1555,4930,2024-07-01T10:00:00Z, ,carrier-a,",
     "missing_field", "duration is missing", ("c-9", utc(2024, 7, 1, 10), None)),
    ("c-9,acct-9,1555,4930",  # a short row: the absent columns read as empty
     "missing_field", "start is missing; duration is missing", ("c-9", None, None)),
    # several problems: the first names the reason, the detail lists them all
    (",acct-9,1555,4930,2024-07-01 10:00:00,x,carrier-a,",
     "missing_field",
     "cdr_id is missing; start '2024-07-01 10:00:00' has no UTC offset; "
     "duration 'x' is not a number of seconds",
     ("t.csv:2", None, None)),
]  # fmt: skip


@pytest.mark.parametrize(("row", "why", "detail", "carried"), CSV_DEFECTS)
def test_csv_defects(
    tmp_path: Path,
    row: str,
    why: str,
    detail: str,
    carried: tuple[str, datetime | None, int | None],
) -> None:
    path = write(tmp_path, "t.csv", HEADER + row + "\n" + GOOD + "\n")
    bad, good = read_cdrs(path, "csv")
    assert bad.defect == Defect(why, detail)
    assert (bad.cdr_id, bad.start, bad.duration) == carried
    assert (bad.account, bad.caller, bad.callee) == ("acct-9", "1555", "4930")
    assert bad.source == f"{path}:2"
    assert good.defect is None
    assert good.source == f"{path}:3"


def test_missing_account_and_callee_are_not_the_readers_business(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", HEADER + "c-1,,1555,,2024-07-01T10:00:00Z,60,p,\n")
    (cdr,) = read_cdrs(path)
    assert cdr.defect is None
    assert (cdr.account, cdr.callee) == ("", "")


def test_csv_columns_in_any_order_extra_ignored_disposition_optional(tmp_path: Path) -> None:
    text = (
        "\ufeffProvider, start ,duration,extra,callee,caller,account,cdr_id\n"
        "carrier-a,2024-07-01T10:00:00Z,60,x,4930,1555,acct-1,c-1\n"
    )
    (cdr,) = read_cdrs(write(tmp_path, "t.csv", text))
    assert cdr == RawCdr(
        "c-1", "acct-1", "1555", "4930", utc(2024, 7, 1, 10), 60, "carrier-a", "",
        f"{tmp_path / 't.csv'}:2",
    )  # fmt: skip


def test_csv_fields_are_stripped(tmp_path: Path) -> None:
    row = " c-1 , acct-1 , 1555 , 4930 , 2024-07-01T10:00:00Z , 60 , carrier-a , ANSWERED \n"
    (cdr,) = read_cdrs(write(tmp_path, "t.csv", HEADER + row))
    assert (cdr.cdr_id, cdr.account, cdr.caller, cdr.callee) == ("c-1", "acct-1", "1555", "4930")
    assert (cdr.duration, cdr.provider, cdr.disposition) == (60, "carrier-a", "ANSWERED")


def test_csv_missing_header_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "cdr_id,caller,callee,start\nc-1,1,2,3\n")
    with pytest.raises(CdrFormatError) as caught:
        read_cdrs(path, "csv")  # raised at once, before any row is read
    message = str(caught.value)
    assert str(path) in message
    assert "account, duration, provider" in message
    assert "\n" not in message


def test_csv_bad_encoding_spoils_only_its_line(tmp_path: Path) -> None:
    content = HEADER + "c-1,acct-1,1555\xff,4930,2024-07-01T10:00:00Z,60,p,\n" + GOOD + "\n"
    path = write(tmp_path, "t.csv", content.encode("latin-1"))
    bad, good = read_cdrs(path)
    assert bad.defect == Defect("bad_encoding", "not UTF-8: byte 0xff at offset 15")
    assert (bad.cdr_id, bad.account, bad.caller, bad.duration) == (
        "c-1",
        "acct-1",
        "1555\ufffd",
        60,
    )
    assert bad.source == f"{path}:2"
    assert good.defect is None
    assert good.cdr_id == "c-9"


def test_csv_row_the_csv_module_refuses(tmp_path: Path) -> None:
    huge = "x" * 200_000  # over the csv module's field size limit
    path = write(tmp_path, "t.csv", HEADER + f"c-1,{huge},1,2,3,4,5,6\n" + GOOD + "\n")
    bad, good = read_cdrs(path)
    assert reason(bad) == "bad_record"
    assert bad.defect is not None
    assert "field larger than field limit" in bad.defect.detail
    assert (bad.cdr_id, bad.account, bad.source) == ("t.csv:2", "", f"{path}:2")
    assert (good.cdr_id, good.source) == ("c-9", f"{path}:3")


@pytest.mark.parametrize("rows", [5, 5_000])  # to the end of the file; past the field limit
def test_an_unterminated_quote_loses_none_of_the_rows_it_swallowed(
    tmp_path: Path, rows: int
) -> None:
    good = [GOOD.replace("c-9", f"g-{i}") for i in range(rows)]
    path = write(tmp_path, "t.csv", HEADER + 'c-1,"acct\n' + "\n".join(good) + "\n")
    bad, *read = read_cdrs(path)
    assert reason(bad) == "bad_record" and bad.source == f"{path}:2"
    assert [(c.cdr_id, c.source, c.defect) for c in read] == [
        (f"g-{i}", f"{path}:{i + 3}", None) for i in range(rows)
    ]


def test_a_quoted_note_over_two_lines_is_one_row(tmp_path: Path) -> None:
    note = 'c-1,a,1,2,2024-07-01T10:00:00Z,5,p,ANSWERED,"a note\nover, two lines"\n'
    path = write(tmp_path, "t.csv", HEADER + note + GOOD + "\n")
    one, two = read_cdrs(path)
    assert (one.cdr_id, one.defect, two.cdr_id, two.source) == ("c-1", None, "c-9", f"{path}:4")


def test_csv_with_only_a_header_or_nothing_yields_nothing(tmp_path: Path) -> None:
    assert list(read_cdrs(write(tmp_path, "a.csv", HEADER), "csv")) == []
    assert list(read_cdrs(write(tmp_path, "b.csv", "\n\n"), "csv")) == []


def test_csv_crlf_line_ends(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", (HEADER + GOOD + "\n\n" + GOOD + "\n").replace("\n", "\r\n"))
    first, second = read_cdrs(path)
    assert (first.defect, first.disposition, first.source) == (None, "ANSWERED", f"{path}:2")
    assert second.source == f"{path}:4"


JSON_RECORD = (
    '{"cdr_id": "j-9", "account": "acct-9", "caller": "1555", "callee": "4930", '
    '"start": "2024-07-01T10:00:00Z", "duration": 60, "provider": "carrier-a"}'
)

JSONL_DEFECTS = [
    # line, reason, detail, cdr_id carried
    ('{"cdr_id": "j-1", ', "bad_record",
     "not valid JSON: Expecting property name enclosed in double quotes at the end of the line",
     "t.jsonl:1"),
    ('{"cdr_id": j-1}', "bad_record", "not valid JSON: Expecting value at character 12",
     "t.jsonl:1"),
    ("[1, 2]", "bad_record", "a JSON array, not an object", "t.jsonl:1"),
    ('"j-1"', "bad_record", "a JSON string, not an object", "t.jsonl:1"),
    ("42", "bad_record", "a JSON number, not an object", "t.jsonl:1"),
    ("null", "bad_record", "a JSON null, not an object", "t.jsonl:1"),
    ('{"cdr_id": "j-1", "caller": ["1555"], "start": "2024-07-01T10:00:00Z", "duration": 1}',
     "bad_record", "caller is a JSON array, not text", "j-1"),
    ('{"cdr_id": "j-1", "start": 1719828000, "duration": 5, "callee": 1.2125550100e10}',
     "bad_record", "callee is a JSON number with a fraction or exponent (12125550100.0), not "
     "text; write it as a string", "j-1"),
    ('{"cdr_id": "j-1", "start": "2024-07-01T10:00:00", "duration": 1}',
     "bad_start", "start '2024-07-01T10:00:00' has no UTC offset", "j-1"),
    ('{"cdr_id": "j-1", "start": 99999999999, "duration": 1}',
     "bad_start", "start 99999999999 is outside the years 1970-2100", "j-1"),
    ('{"cdr_id": "j-1", "start": true, "duration": 1}',
     "bad_start", "start True is not an ISO 8601 time or epoch seconds", "j-1"),
    ('{"cdr_id": "j-1", "start": 1719828000, "duration": -1.5}',
     "bad_duration", "duration -1.5 is negative", "j-1"),
    ('{"cdr_id": "j-1", "start": 1719828000, "duration": "NaN"}',
     "bad_duration", "duration 'NaN' is not a number of seconds", "j-1"),
    ('{"cdr_id": "j-1", "start": 1719828000}', "missing_field", "duration is missing", "j-1"),
    ('{"cdr_id": "j-1", "start": null, "duration": 3}', "missing_field", "start is missing", "j-1"),
    ('{"start": 1719828000, "duration": 3}', "missing_field", "cdr_id is missing", "t.jsonl:1"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "why", "detail", "cdr_id"), JSONL_DEFECTS)
def test_jsonl_defects(tmp_path: Path, line: str, why: str, detail: str, cdr_id: str) -> None:
    path = write(tmp_path, "t.jsonl", line + "\n" + JSON_RECORD + "\n")
    bad, good = read_cdrs(path)
    assert bad.defect == Defect(why, detail)
    assert (bad.cdr_id, bad.source) == (cdr_id, f"{path}:1")
    assert good.defect is None
    assert (good.cdr_id, good.source) == ("j-9", f"{path}:2")


def test_jsonl_non_utf8_line_is_a_defect_and_the_next_line_is_read(tmp_path: Path) -> None:
    content = (
        b'{"cdr_id": "j-1", "account": "M\xfcller", "start": 1719828000, "duration": 1}\n'
        + b"\xff\xfe garbage\n"
        + JSON_RECORD.encode()
        + b"\n"
    )
    path = write(tmp_path, "t.jsonl", content)
    first, second, third = read_cdrs(path)
    assert first.defect == Defect("bad_encoding", "not UTF-8: byte 0xfc at offset 31")
    assert (first.cdr_id, first.account, first.duration) == ("j-1", "M\ufffdller", 1)
    assert second.defect is not None
    assert second.defect.reason == "bad_encoding"
    assert "not valid JSON" in second.defect.detail
    assert (second.cdr_id, second.source) == ("t.jsonl:2", f"{path}:2")
    assert third.defect is None
    assert third.start == utc(2024, 7, 1, 10)


def test_jsonl_byte_order_mark_and_offsets(tmp_path: Path) -> None:
    record = JSON_RECORD.replace("2024-07-01T10:00:00Z", "2024-07-01T05:00:00-05:00")
    (cdr,) = read_cdrs(write(tmp_path, "t.ndjson", "\ufeff" + record + "\n"))
    assert cdr.defect is None
    assert cdr.start == utc(2024, 7, 1, 10)
    assert cdr.start is not None
    assert cdr.start.tzinfo == timezone(timedelta(hours=-5))


def test_a_huge_field_is_a_bad_record_cut_for_the_report(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    record = {
        "cdr_id": "big-1",
        "account": "1000",
        "caller": "1",
        "callee": "4" * 10_000_000,
        "start": "2026-03-20T09:00:00Z",
        "duration": 60,
        "provider": "p",
    }
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (cdr,) = read_cdrs(path)
    assert cdr.cdr_id == "big-1"
    assert cdr.defect is not None and cdr.defect.reason == "bad_record"
    assert "callee is 10000000 characters long" in cdr.defect.detail
    assert len(cdr.callee) == 256
