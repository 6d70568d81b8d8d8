"""Applied-id memory and cost: the rating stage's replay check over N ids, batch by batch
as a worker stores them. `python -m benchmarks.bench_seen --ids 2000000`; with
`--days 70 --window 7` the ids are spread over 70 days of calls and a 7-day replay
window forgets them as the days pass, as the rating stage does.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

from pipeline.engine.seen import SeenIds


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--days", type=int, default=0, help="days of calls the ids span")
    parser.add_argument("--window", type=int, default=0, help="replay window in days")
    args = parser.parse_args()
    first_day = date(2026, 1, 1)
    per_day = args.ids / args.days if args.days else 0
    table: dict[str, bytes] = {}  # the stage table's stored entries

    def scan(prefix: str) -> list[bytes]:
        return [value for key, value in sorted(table.items()) if key.startswith(prefix)]

    applied = SeenIds(scan)
    applied.use_partition(0)
    before = _rss_mib()
    peak = 0.0
    began = time.perf_counter()
    for start in range(0, args.ids, args.batch):
        day = first_day + timedelta(days=int(start / per_day)) if per_day else None
        applied.day = day.isoformat() if day else None
        for i in range(start, min(start + args.batch, args.ids)):
            cdr_id = f"c{i:012d}"
            if cdr_id not in applied:  # as Book.rate does: check, then record
                applied[cdr_id] = True
        table.update(applied.take_new(start))
        if day is not None and args.window:
            for key in applied.expire((day - timedelta(days=args.window)).isoformat()):
                del table[key]
            if start % (args.batch * 200) == 0:
                peak = max(peak, _rss_mib() - before)
    spent = time.perf_counter() - began
    if args.window:
        kept = sum(len(bucket or ()) for bucket in applied._buckets)
        print(
            f"{args.days} days of calls, a {args.window}-day window: {kept:,} ids kept "
            f"at the end, {len(table):,} stored entries; memory peaked at +{peak:.0f} MiB"
        )
    stored = sum(len(value) for value in table.values()) / 2**20
    print(
        f"{args.ids:,} ids: {spent / args.ids * 1e6:.2f} us per id checked and added; "
        f"memory +{_rss_mib() - before:.0f} MiB, of which {stored:.0f} MiB stored entries"
    )
    began = time.perf_counter()
    repeats = sum(f"c{i:012d}" in applied for i in range(0, args.ids, 20))
    print(
        f"{repeats:,} repeats found in {time.perf_counter() - began:.2f} s "
        f"(the exact ids read back once); memory +{_rss_mib() - before:.0f} MiB"
    )


if __name__ == "__main__":
    main()
