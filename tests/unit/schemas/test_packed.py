"""Packed columns: every value back as written, and anything else refused as bad_value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.schemas import framing, packed
from pipeline.schemas.framing import DecodeError
from tests.unit.schemas.messages import PACKING

LONG = st.integers(-(2**63), 2**63 - 1)
KINDS = {"n": packed.LONGS, "f": packed.FLAGS, "o": packed.OPTIONAL_LONGS, "s": packed.STRINGS}


@given(
    st.integers(0, 30).flatmap(
        lambda size: st.fixed_dictionaries(
            {
                "n": st.lists(LONG, min_size=size, max_size=size),
                "f": st.lists(st.booleans(), min_size=size, max_size=size),
                "o": st.lists(st.none() | LONG, min_size=size, max_size=size),
                "s": st.lists(st.text(), min_size=size, max_size=size),
            }
        )
    )
)
def test_columns_come_back_as_written(columns: dict[str, list[Any]]) -> None:
    record = packed.pack(columns, KINDS)
    assert packed.unpack(record, KINDS) == columns


def test_a_string_is_stored_once_however_often_it_occurs() -> None:
    column = packed.pack_strings(["EUR", "USD", "EUR", "EUR", ""])
    assert column["values"] == ["EUR", "USD", ""]
    assert len(column["index"]) == 5 * 4


def test_longs_are_little_endian_64_bit() -> None:
    assert packed.pack_longs([1, -2]) == (1).to_bytes(8, "little") + (-2).to_bytes(
        8, "little", signed=True
    )


def test_a_long_outside_64_bits_is_refused_on_write() -> None:
    with pytest.raises(ValueError, match="outside 64 bits"):
        packed.pack_longs([0, 2**63])


@pytest.mark.parametrize(
    ("kind", "column", "words"),
    [
        (packed.LONGS, b"\x00" * 9, "9 bytes, not whole values"),
        (packed.FLAGS, b"\x00\x02", "neither 0 nor 1"),
        (packed.STRINGS, {"values": ["a"], "index": b"\x00\x00\x00"}, "3 bytes"),
        (packed.STRINGS, {"values": ["a"], "index": b"\x01\x00\x00\x00"}, "index 1 of 1"),
        (packed.STRINGS, {"values": [], "index": b"\x00\x00\x00\x00"}, "index 0 of 0"),
        (packed.OPTIONAL_LONGS, {"values": bytes(16), "known": b"\x01"}, "2 values, 1 flags"),
    ],
)
def test_a_column_that_does_not_unpack_whole_is_bad_value(
    kind: str, column: Any, words: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        packed.unpack({"c": column}, {"c": kind})
    assert caught.value.reason == "bad_value"
    assert caught.value.detail.startswith("c: ") and words in caught.value.detail


SCHEMA_TYPES = {
    packed.LONGS: "bytes",
    packed.FLAGS: "bytes",
    packed.OPTIONAL_LONGS: "cdr.Longs",
    packed.STRINGS: "cdr.Strings",
}


def _declared(name: str) -> dict[str, str]:
    """The fields of the current schema's `packed` record, and their types' names."""
    branches = framing.CURRENT[name].parsed["fields"][-1]["type"]
    record = next(b for b in branches if b != "null")
    return {
        f["name"]: f["type"] if isinstance(f["type"], str) else f["type"]["name"]
        for f in record["fields"]
    }


@pytest.mark.parametrize("name", sorted(PACKING))
def test_each_packed_schema_has_the_columns_its_writer_packs(name: str) -> None:
    assert _declared(name) == {n: SCHEMA_TYPES[kind] for n, kind in PACKING[name].items()}


def test_the_raw_schema_has_the_columns_produce_packs_and_the_event_positions() -> None:
    from pipeline.schemas import codec

    expected = {n: SCHEMA_TYPES[kind] for n, kind in codec._RAW_PACKING.items()}
    assert _declared(codec.RAW) == {**expected, "positions": "bytes"}
