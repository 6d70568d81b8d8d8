"""Single-object framing and the schema registry: header layout, fingerprints, bad frames."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
from fastavro import parse_schema
from fastavro.schema import to_parsing_canonical_form

from pipeline.engine.events import Tick
from pipeline.schemas import codec, framing
from pipeline.schemas.codec import DecodeError

EMPTY_64 = 0xC15D213AA4D7A795


def rabin64(data: bytes) -> int:
    """CRC-64-AVRO exactly as the Avro specification writes it ("Schema Fingerprints")."""
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY_64 & -(fp & 1))
        table.append(fp)
    fp = EMPTY_64
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def test_reference_fingerprint_of_the_null_schema() -> None:
    # The Avro project's own test vector (share/test/data/schema-tests.txt).
    assert rabin64(b'"null"') == 7195948357588979594


def test_header_is_marker_then_little_endian_fingerprint_of_the_canonical_form() -> None:
    for sv in framing.BY_FINGERPRINT.values():
        assert sv.header[:2] == b"\xc3\x01"
        assert int.from_bytes(sv.header[2:], "little") == rabin64(sv.canonical.encode())
        assert sv.canonical == to_parsing_canonical_form(parse_schema(sv.parsed))
    data = codec.encode_raw([Tick(7)])
    assert data[:10] == framing.CURRENT["cdr.RawBatch"].header


def test_every_avsc_file_is_registered_and_the_highest_version_is_current() -> None:
    files = sorted(
        e.name for e in resources.files("pipeline.schemas").iterdir() if e.name.endswith(".avsc")
    )
    assert sorted(sv.file for sv in framing.BY_FINGERPRINT.values()) == files
    assert framing.CURRENT["cdr.RawBatch"].file == "raw_batch.v3.avsc"
    assert [sv.version for sv in framing.versions("cdr.RawBatch")] == [1, 2, 3]
    for sv in framing.CURRENT.values():
        assert sv.version == max(v.version for v in framing.versions(sv.name))
        source = json.loads(resources.files("pipeline.schemas").joinpath(sv.file).read_text())
        assert source["namespace"] == "cdr"


def test_docs_do_not_change_the_fingerprint() -> None:
    sv = framing.CURRENT["cdr.DeadLetter"]
    source = json.loads(resources.files("pipeline.schemas").joinpath(sv.file).read_text())
    source["doc"] = "another text"
    assert to_parsing_canonical_form(parse_schema(source)) == sv.canonical


GOOD = codec.encode_raw([Tick(7)])


@pytest.mark.parametrize(
    ("data", "reason", "words"),
    [
        (b"", "bad_frame", "0 bytes, shorter than the header"),
        (GOOD[:9], "bad_frame", "shorter than the header"),
        (b"\x00\x01" + GOOD[2:], "bad_frame", "marker 0001"),
        (b"{" + b'"json": true}', "bad_frame", "marker"),
        (GOOD[:2] + bytes(8) + GOOD[10:], "unknown_schema", "fingerprint 0000000000000000"),
        (
            codec.encode_rated([]),
            "unknown_schema",
            f"{framing.CURRENT['cdr.RatedBatch'].file} where cdr.RawBatch",
        ),
        (GOOD + b"\x00", "bad_avro", "1 trailing bytes"),
        (GOOD[:-1], "bad_avro", "raw_batch.v3.avsc"),
        (GOOD[:10], "bad_avro", "raw_batch.v3.avsc"),
        (GOOD[:10] + b"\x02\x09", "bad_avro", "raw_batch.v3.avsc"),  # union index 4 of 0..3
    ],
)
def test_bad_bytes_raise_decode_error_with_a_stable_reason(
    data: bytes, reason: str, words: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        codec.decode_raw(data)
    assert caught.value.reason == reason
    assert words in caught.value.detail


def test_a_tombstone_is_a_bad_frame() -> None:
    with pytest.raises(DecodeError) as caught:
        codec.decode_balances(None)  # type: ignore[arg-type]
    assert (caught.value.reason, caught.value.detail) == (
        "bad_frame",
        "value is NoneType, not bytes",
    )


def test_memoryview_and_bytearray_are_read() -> None:
    assert codec.decode_raw(memoryview(GOOD)) == [Tick(7)]  # type: ignore[arg-type]
    assert codec.decode_raw(bytearray(GOOD)) == [Tick(7)]  # type: ignore[arg-type]


def test_a_time_out_of_datetime_range_is_bad_avro() -> None:
    record = {"topic": "t", "partition": 0, "offset": 0, "reason": "r", "detail": ""}
    data = framing.write("cdr.DeadLetter", {**record, "payload": b"", "at": 2**62})
    with pytest.raises(DecodeError) as caught:
        codec.decode_dead_letter(data)
    assert caught.value.reason == "bad_avro"


def test_detail_is_bounded() -> None:
    assert len(DecodeError("bad_avro", "x" * 10_000).detail) == 300


TICK = {
    "type": "record",
    "name": "Tick",
    "namespace": "cdr",
    "fields": [{"name": "w", "type": "long"}],
}


def _write(directory: Path, files: dict[str, object]) -> Path:
    for name, schema in files.items():
        (directory / name).write_text(json.dumps(schema))
    return directory


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"tick.avsc": TICK}, "tick.avsc: name is not <stem>.v<N>.avsc"),
        ({"tick.v1.avsc": TICK, "tick.v2.avsc": TICK}, "tick.v2.avsc: same canonical schema"),
        (
            {"tick.v1.avsc": TICK, "tick.v2.avsc": {**TICK, "name": "Tock"}},
            "tick.v2.avsc: cdr.Tock, but its other versions are cdr.Tick",
        ),
        (
            {"tick.v1.avsc": TICK, "tack.v1.avsc": {**TICK, "fields": []}},
            "version 1 of cdr.Tick twice",
        ),
    ],
)
def test_inconsistent_schema_files_are_refused_at_load(
    tmp_path: Path, files: dict[str, object], problem: str
) -> None:
    with pytest.raises(framing.RegistryError, match=re.escape(problem)):
        framing.load(_write(tmp_path, files))


def test_load_keeps_every_version_and_picks_the_newest(tmp_path: Path) -> None:
    v2 = {**TICK, "fields": [*TICK["fields"], {"name": "s", "type": "int", "default": -1}]}
    by_fingerprint, current = framing.load(
        _write(tmp_path, {"tick.v1.avsc": TICK, "tick.v2.avsc": v2, "notes.txt": {}})
    )
    assert sorted(sv.file for sv in by_fingerprint.values()) == ["tick.v1.avsc", "tick.v2.avsc"]
    assert current["cdr.Tick"].file == "tick.v2.avsc"
