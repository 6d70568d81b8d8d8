"""Any bytes at all: every decoder returns records or raises DecodeError, never anything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.schemas import codec, framing
from pipeline.schemas.codec import DecodeError
from tests.unit.schemas import strategies as gen

Decode = Callable[[bytes], Any]
CASES: list[tuple[str, Decode, st.SearchStrategy[bytes]]] = [
    ("cdr.RawBatch", codec.decode_raw, gen.raw_events.map(codec.encode_raw)),
    ("cdr.WorkBatch", codec.decode_work, gen.work_items.map(codec.encode_work)),
    ("cdr.RatedBatch", codec.decode_rated, st.lists(gen.rated, max_size=3).map(codec.encode_rated)),
    (
        "cdr.PostingBatch",
        codec.decode_postings,
        st.lists(gen.postings, max_size=3).map(codec.encode_postings),
    ),
    (
        "cdr.AlertBatch",
        codec.decode_alerts,
        st.lists(gen.alerts, max_size=3).map(codec.encode_alerts),
    ),
    (
        "cdr.BalanceBatch",
        codec.decode_balances,
        st.lists(gen.balances, max_size=3).map(codec.encode_balances),
    ),
    ("cdr.DeadLetter", codec.decode_dead_letter, gen.dead_letters.map(codec.encode_dead_letter)),
    (
        "cdr.CatalogFile",
        codec.decode_catalog_file,
        gen.catalog_files.map(codec.encode_catalog_file),
    ),
]
IDS = [name for name, *_ in CASES]
FUZZ = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


def _decodes_or_refuses(decode: Decode, data: bytes) -> None:
    reason = None
    try:
        decode(data)
    except DecodeError as e:
        reason = e.reason
    assert reason in {None, "bad_frame", "unknown_schema", "bad_avro", "bad_value"}


@pytest.mark.parametrize(("name", "decode", "messages"), CASES, ids=IDS)
def test_random_bytes(name: str, decode: Decode, messages: st.SearchStrategy[bytes]) -> None:
    header = framing.CURRENT[name].header

    @FUZZ
    @given(st.binary(max_size=200), st.booleans())
    def check(body: bytes, framed: bool) -> None:
        _decodes_or_refuses(decode, header + body if framed else body)

    check()


@pytest.mark.parametrize(("name", "decode", "messages"), CASES, ids=IDS)
def test_every_truncation_is_refused(
    name: str, decode: Decode, messages: st.SearchStrategy[bytes]
) -> None:
    @settings(max_examples=50, deadline=None)
    @given(messages)
    def check(data: bytes) -> None:
        decode(data)
        for cut in range(len(data)):
            with pytest.raises(DecodeError):
                decode(data[:cut])

    check()


@pytest.mark.parametrize(("name", "decode", "messages"), CASES, ids=IDS)
def test_corrupted_bytes(name: str, decode: Decode, messages: st.SearchStrategy[bytes]) -> None:
    @FUZZ
    @given(messages, st.data())
    def check(data: bytes, draw: st.DataObject) -> None:
        corrupted = bytearray(data)
        for _ in range(draw.draw(st.integers(1, 4))):
            at = draw.draw(st.integers(framing.HEADER_SIZE, len(data) - 1))
            corrupted[at] = draw.draw(st.integers(0, 255))
        _decodes_or_refuses(decode, bytes(corrupted))

    check()
