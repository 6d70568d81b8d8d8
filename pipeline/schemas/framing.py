"""The schema registry (every `.avsc` here, parsed once) and Avro single-object framing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from io import BytesIO
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form

# Avro spec, "Single-object encoding": the marker C3 01, the 8-byte little-endian
# CRC-64-AVRO fingerprint of the writer schema's parsing canonical form, then the body.
MARKER = b"\xc3\x01"
HEADER_SIZE = len(MARKER) + 8
_FILE = re.compile(r"(?P<stem>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.avsc")
_DETAIL_MAX = 300


class DecodeError(ValueError):
    """Bytes that are not a readable message; `reason` is a stable code for dead letters.

    Reasons: `bad_frame` (marker or header), `unknown_schema` (fingerprint not in the
    registry, or a schema of another message type), `bad_avro` (body unreadable, truncated
    or with trailing bytes), `bad_value` (readable but impossible, e.g. an unknown kind).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail[:_DETAIL_MAX]

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


class RegistryError(RuntimeError):
    """The `.avsc` files themselves are inconsistent (a packaging bug, found at import)."""


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One `.avsc` file: `name` is the record's full name, `parsed` is fastavro's form."""

    name: str
    version: int
    file: str
    parsed: Any
    fingerprint: bytes
    canonical: str

    @property
    def header(self) -> bytes:
        return MARKER + self.fingerprint


def load(directory: Traversable) -> tuple[dict[bytes, SchemaVersion], dict[str, SchemaVersion]]:
    """Every `.avsc` in `directory` by fingerprint, and the newest version of each record."""
    by_fingerprint: dict[bytes, SchemaVersion] = {}
    stems: dict[str, str] = {}
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".avsc"):
            continue
        match = _FILE.fullmatch(entry.name)
        if match is None:
            raise RegistryError(f"{entry.name}: name is not <stem>.v<N>.avsc")
        parsed: Any = parse_schema(json.loads(entry.read_text(encoding="utf-8")))
        canonical = to_parsing_canonical_form(parsed)
        sv = SchemaVersion(
            name=parsed["name"],
            version=int(match.group("version")),
            file=entry.name,
            parsed=parsed,
            fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
            canonical=canonical,
        )
        stem = stems.setdefault(match.group("stem"), sv.name)
        if stem != sv.name:
            raise RegistryError(f"{entry.name}: {sv.name}, but its other versions are {stem}")
        if (twin := by_fingerprint.get(sv.fingerprint)) is not None:
            raise RegistryError(f"{entry.name}: same canonical schema as {twin.file}")
        by_fingerprint[sv.fingerprint] = sv
    current: dict[str, SchemaVersion] = {}
    for sv in by_fingerprint.values():
        seen = current.get(sv.name)
        if seen is not None and seen.version == sv.version:
            raise RegistryError(f"{sv.file}: version {sv.version} of {sv.name} twice")
        if seen is None or sv.version > seen.version:
            current[sv.name] = sv
    return by_fingerprint, current


BY_FINGERPRINT, CURRENT = load(resources.files("pipeline.schemas"))


def versions(name: str) -> list[SchemaVersion]:
    """Every known version of the record `name`, oldest first."""
    found = [sv for sv in BY_FINGERPRINT.values() if sv.name == name]
    return sorted(found, key=lambda sv: sv.version)


def write(name: str, record: Any, schema: SchemaVersion | None = None) -> bytes:
    """A framed message: `record` written with `schema` (default: the current version)."""
    sv = schema or CURRENT[name]
    out = BytesIO()
    out.write(MARKER)
    out.write(sv.fingerprint)
    schemaless_writer(out, sv.parsed, record)
    return out.getvalue()


def read(name: str, data: bytes) -> Any:
    """The record in a framed message, resolved into the current schema of `name`.

    Raises DecodeError, and nothing else, for any bytes that are not such a message.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError("bad_frame", f"value is {type(data).__name__}, not bytes")
    if len(data) < HEADER_SIZE:
        raise DecodeError("bad_frame", f"{len(data)} bytes, shorter than the header")
    if data[:2] != MARKER:
        raise DecodeError("bad_frame", f"marker {bytes(data[:2]).hex()}, not c301")
    writer = BY_FINGERPRINT.get(bytes(data[2:HEADER_SIZE]))
    reader = CURRENT[name]
    if writer is None:
        raise DecodeError("unknown_schema", f"fingerprint {bytes(data[2:HEADER_SIZE]).hex()}")
    if writer.name != reader.name:
        raise DecodeError("unknown_schema", f"{writer.file} where {reader.name} was expected")
    body = BytesIO(data)
    body.seek(HEADER_SIZE)
    try:
        record = schemaless_reader(body, writer.parsed, None if writer is reader else reader.parsed)
    except Exception as e:  # fastavro raises many types on bad input; all mean bad_avro
        raise DecodeError("bad_avro", f"{writer.file}: {type(e).__name__}: {e}") from e
    if (extra := len(data) - body.tell()) != 0:
        raise DecodeError("bad_avro", f"{writer.file}: {extra} trailing bytes")
    return record
