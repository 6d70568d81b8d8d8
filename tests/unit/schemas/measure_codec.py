"""Codec cost per item for 500-record batches: `python -m tests.unit.schemas.measure_codec`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.catalog.model import PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.engine.events import PartyWork, Sequenced, Tick
from pipeline.engine.records import RatedCdr
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.limits.daily import Usage
from pipeline.schemas import codec

N = 500
START = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)


def _best_us_per_item(run: Callable[[Any], Any], arg: Any, rounds: int = 200) -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(rounds):
            run(arg)
        best = min(best, (time.perf_counter() - t0) / rounds)
    return best / N * 1e6


def _batches() -> dict[str, tuple[Sequence[Any], Callable[[Any], bytes], Callable[[bytes], Any]]]:
    raw: list[Sequenced | Tick] = [
        Sequenced(
            i,
            RawCdr(
                f"cdr-{i:08d}",
                f"acc{i % 300}",
                "+4930123456",
                f"0049151{i:07d}",
                START + timedelta(seconds=i),
                i % 900,
                "carrier-a",
                "ANSWERED",
                f"samples/cdrs/a.csv:{i + 2}",
            ),
        )
        for i in range(N)
    ]
    rated = [
        RatedCdr(
            f"cdr-{i:08d}", "rated", "", "", f"a.csv:{i}", "acc1", "acme", "acme", "carrier-a",
            "49151", "Germany Mobile", START, 61, 61, 0, 12_345, "EUR", 10_000, "EUR",
        )
        for i in range(N)
    ]  # fmt: skip
    posting = Posting("x/reseller/r1", PartyType.RESELLER, "r1", -9, "EUR", PostingKind.CALL, START)
    work = [PartyWork(i, 0, "r1", posting, Usage(START, 61, f"c{i}")) for i in range(N)]
    return {
        "raw (CDRs)": (raw, codec.encode_raw, codec.decode_raw),
        "work (posting + usage)": (work, codec.encode_work, codec.decode_work),
        "rated": (rated, codec.encode_rated, codec.decode_rated),
        "postings": ([posting] * N, codec.encode_postings, codec.decode_postings),
    }


def main() -> None:
    for name, (items, encode, decode) in _batches().items():
        data = encode(items)
        assert decode(data) == list(items)
        enc = _best_us_per_item(encode, items)
        dec = _best_us_per_item(decode, data)
        print(f"{name:24} {len(data) / N:5.0f} B/item  encode {enc:5.2f} us  decode {dec:5.2f} us")


if __name__ == "__main__":
    main()
