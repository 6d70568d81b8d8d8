"""Telling a file's format, and the whole-file errors of read_cdrs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cdrs.readers import FORMATS, CdrFormatError, detect_format, read_cdrs
from tests.unit.cdrs.helpers import FIXTURES, write

FS_ROW = (
    '"Alice","1001","4930","default","2024-07-01 10:00:00","","2024-07-01 10:00:20","20","0",'
    '"NO_ANSWER","3f2504e0-4f89-41d3-9a0c-0305e82c3301","","","PCMU","PCMU"'
)
AST_ROW = (
    '"","1001","4930","from-internal","""A"" <1001>","SIP/1001-01","","Dial","",'
    '"2024-07-01 10:00:00","","2024-07-01 10:00:20","20","0","NO ANSWER","DOCUMENTATION"'
)

CASES = [
    # file name, content, format
    ("x.jsonl", "not even json\n", "jsonl"),
    ("x.NDJSON", "", "jsonl"),
    ("x.log", '{"cdr_id": "a"}\n', "jsonl"),
    ("x.txt", "cdr_id,account,caller,callee,start,duration,provider\n", "csv"),
    ("x.txt", '"account","cdr_id"\n', "csv"),
    ("x.csv", "\ufeffcdr_id;account\n", "unknown"),  # ; separated: not our CSV
    ("x.csv", "\n\n  \ncdr_id,account\n", "csv"),
    ("Master.csv", AST_ROW + "\n", "asterisk"),
    ("Master.csv", AST_ROW + ',"1719842400.1"\n', "asterisk"),
    ("Master.csv", AST_ROW + ',"1719842400.1","userfield"\n', "asterisk"),
    ("Master.csv", AST_ROW + ',"1","2","3"\n', "unknown"),  # 19 fields
    ("cdr.csv", FS_ROW + "\n", "freeswitch"),
    ("cdr.csv", FS_ROW + ',"carrier-b"\n', "freeswitch"),
    ("cdr.csv", FS_ROW.replace("3f2504e0", "nope") + ',"carrier-b"\n', "asterisk"),
    ("cdr.csv", FS_ROW.replace('"', "") + "\n", "unknown"),  # not quoted
    ("cdr.csv", FS_ROW[: FS_ROW.index(',"PCMU"')] + "\n", "unknown"),  # 14 fields
    ("x.csv", "a,b,c\n", "unknown"),
    ("x.csv", "", "unknown"),
    ("x.csv", "\n \n", "unknown"),
]


@pytest.mark.parametrize(("name", "content", "fmt"), CASES)
def test_detect_format(tmp_path: Path, name: str, content: str, fmt: str) -> None:
    path = write(tmp_path, name, content)
    if fmt != "unknown":
        assert detect_format(path) == fmt
        return
    with pytest.raises(CdrFormatError, match=r"cannot tell the format of .*; pass --format"):
        detect_format(path)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("calls.csv", "csv"),
        ("calls.jsonl", "jsonl"),
        ("Master.csv", "asterisk"),
        ("freeswitch.csv", "freeswitch"),
        ("freeswitch-gateway.csv", "freeswitch"),
    ],
)
def test_fixtures_are_detected_and_read_alike(name: str, fmt: str) -> None:
    path = FIXTURES / name
    assert detect_format(path) == fmt
    assert list(read_cdrs(path)) == list(read_cdrs(path, fmt))


def test_auto_reads_an_empty_file_as_no_rows(tmp_path: Path) -> None:
    assert list(read_cdrs(write(tmp_path, "empty.csv", "\n"))) == []


def test_auto_refuses_an_unknown_file_at_once(tmp_path: Path) -> None:
    with pytest.raises(CdrFormatError, match="cannot tell the format"):
        read_cdrs(write(tmp_path, "x.csv", "hello\n"))


def test_unknown_format(tmp_path: Path) -> None:
    path = shutil.copy(FIXTURES / "calls.csv", tmp_path / "calls.csv")
    with pytest.raises(CdrFormatError, match="unknown CDR format 'xml'; expected one of auto"):
        read_cdrs(Path(path), "xml")


def test_explicit_format_overrides_detection() -> None:
    cdrs = list(read_cdrs(FIXTURES / "freeswitch.csv", "asterisk"))  # 15 columns
    assert len(cdrs) == 2
    assert all(cdr.defect is not None and cdr.defect.reason == "bad_record" for cdr in cdrs)


def test_formats_list() -> None:
    assert FORMATS == ("auto", "csv", "jsonl", "asterisk", "freeswitch")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_file_raises_at_once(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(FileNotFoundError):
        read_cdrs(tmp_path / "nope.csv", fmt)
