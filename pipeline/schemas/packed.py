"""Columns packed into Avro `bytes`, read and written whole instead of value by value.

fastavro reads and writes an Avro array one value at a time, at 100-600 ns a value
(benchmarks/RESULTS.md); a column packed into one `bytes` field costs about 20 ns a
value. The layouts, named in the schemas' `doc`s:

- `longs`: signed 64-bit integers, little-endian, 8 bytes each;
- `flags`: one byte each, 0 (false) or 1 (true);
- `optional longs`: a `Longs` record, `values` packed as `longs` (0 where unknown) and
  `known` packed as `flags`;
- `strings`: a `Strings` record, `values` each distinct string once (array<string>) and
  `index` the position in `values` of each element, unsigned 32-bit little-endian.

A message's columns are packed by a map from column name to one of these kinds.
Anything that does not unpack into whole values is `bad_value`, like any other
impossible value, so a broken message is dead-lettered, never half read.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pipeline.schemas.framing import DecodeError

LONGS, FLAGS, OPTIONAL_LONGS, STRINGS = "longs", "flags", "optional longs", "strings"
Kinds = Mapping[str, str]
_SWAP = sys.byteorder == "big"  # the layouts are little-endian; x86 and ARM need no swap
_BOOLS = b"\x00\x01"


def _packed(values: array[int]) -> bytes:
    if _SWAP:
        values.byteswap()
    return values.tobytes()


def _unpacked(code: str, data: bytes, what: str) -> array[int]:
    values = array(code)
    if len(data) % values.itemsize:
        raise DecodeError("bad_value", f"{what}: {len(data)} bytes, not whole values")
    values.frombytes(data)
    if _SWAP:
        values.byteswap()
    return values


def pack_longs(values: Sequence[int]) -> bytes:
    try:
        return _packed(array("q", values))
    except OverflowError:
        raise ValueError(f"a value of {min(values)}..{max(values)} is outside 64 bits") from None


def unpack_longs(data: bytes, what: str) -> list[int]:
    return _unpacked("q", data, what).tolist()


def pack_flags(values: Sequence[bool]) -> bytes:
    return bytes(map(bool, values))


def unpack_flags(data: bytes, what: str) -> list[bool]:
    if data.translate(None, _BOOLS):
        raise DecodeError("bad_value", f"{what}: a flag that is neither 0 nor 1")
    return [b == 1 for b in data]


def pack_optional(values: Sequence[int | None]) -> dict[str, bytes]:
    return {
        "values": pack_longs([0 if v is None else v for v in values]),
        "known": pack_flags([v is not None for v in values]),
    }


def unpack_optional(column: Mapping[str, bytes], what: str) -> list[int | None]:
    values = unpack_longs(column["values"], what)
    known = unpack_flags(column["known"], what)
    if len(values) != len(known):
        raise DecodeError("bad_value", f"{what}: {len(values)} values, {len(known)} flags")
    return [v if k else None for v, k in zip(values, known, strict=True)]


def pack_strings(values: Sequence[str]) -> dict[str, Any]:
    positions: dict[str, int] = {}
    index = [positions.setdefault(v, len(positions)) for v in values]
    return {"values": list(positions), "index": _packed(array("I", index))}


def unpack_strings(column: Mapping[str, Any], what: str) -> list[str]:
    values: list[str] = column["values"]
    index = _unpacked("I", column["index"], what)
    if index and max(index) >= len(values):
        raise DecodeError("bad_value", f"{what}: index {max(index)} of {len(values)} strings")
    return list(map(values.__getitem__, index))


_PACK: dict[str, Callable[[Any], Any]] = {
    LONGS: pack_longs,
    FLAGS: pack_flags,
    OPTIONAL_LONGS: pack_optional,
    STRINGS: pack_strings,
}
_UNPACK: dict[str, Callable[[Any, str], list[Any]]] = {
    LONGS: unpack_longs,
    FLAGS: unpack_flags,
    OPTIONAL_LONGS: unpack_optional,
    STRINGS: unpack_strings,
}


def pack(columns: Mapping[str, Sequence[Any]], kinds: Kinds) -> dict[str, Any]:
    """The Avro record of `columns`, each packed as `kinds` says."""
    return {name: _PACK[kind](columns[name]) for name, kind in kinds.items()}


def unpack(record: Mapping[str, Any], kinds: Kinds) -> dict[str, list[Any]]:
    """The columns of a packed record (lengths not yet compared)."""
    return {name: _UNPACK[kind](record[name], name) for name, kind in kinds.items()}
