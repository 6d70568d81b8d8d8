"""Rating-step throughput on a 50,000-code deck: CDRs priced per second on one core."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.generate import duration, numbers, write_catalog
from pipeline.catalog.loader import load_catalog
from pipeline.cdrs.model import RawCdr
from pipeline.engine.book import Book
from pipeline.rating.numbers import normalise_number
from pipeline.rating.rater import price_call
from pipeline.rating.tariff import exact_cost, to_micro


def make_cdrs(codes: list[str], count: int, accounts: int, providers: int) -> list[RawCdr]:
    rng = random.Random(11)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    callees = numbers(codes, count, rng)
    return [
        RawCdr(
            f"b{i}",
            f"a{rng.randrange(accounts)}",
            "1000",
            callees[i],
            start + timedelta(seconds=i // 50),
            duration(rng),
            f"p{rng.randrange(providers)}",
        )
        for i in range(count)
    ]


def best_rate(label: str, count: int, func: object, repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        began = time.perf_counter()
        func()  # type: ignore[operator]
        best = max(best, count / (time.perf_counter() - began))
    print(f"{label:<48} {best:>12,.0f} CDRs/s")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--codes", type=int, default=50_000)
    parser.add_argument("--cdrs", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        codes = write_catalog(Path(tmp), args.codes, 10_000, 100, seed=7)
        catalog = load_catalog(Path(tmp))
        print(
            f"catalog: {args.codes} codes x 3 decks loaded in {time.perf_counter() - began:.2f} s"
        )
    cdrs = make_cdrs(codes, args.cdrs, 10_000, 100)
    retail = catalog.tariffs["retail"]

    def lookup_and_cost() -> None:
        for c in cdrs:
            assert c.start is not None and c.duration is not None
            found, _ = retail.find(normalise_number(c.callee), int(c.start.timestamp()))
            if found is not None:
                to_micro(exact_cost(found, found.billed_seconds(c.duration)), retail)

    def all_sides() -> None:
        for c in cdrs:
            price_call(c, catalog)

    def whole_engine() -> None:
        book = Book(catalog)
        book.open()
        for c in cdrs:
            book.rate(c)

    print(f"{args.cdrs} CDRs, best of {args.repeats}, one core:")
    best_rate(
        "rating step (normalise, lookup, billed, cost)", args.cdrs, lookup_and_cost, args.repeats
    )
    best_rate("price_call (customer, reseller chain, provider)", args.cdrs, all_sides, args.repeats)
    best_rate("Book.rate (price, settle, post, limits)", args.cdrs, whole_engine, args.repeats)


if __name__ == "__main__":
    main()
