"""Applied-id memory and cost: the rating stage's replay check over N ids, batch by batch
as a worker stores them. `python -m benchmarks.bench_seen --ids 2000000`.
"""

from __future__ import annotations

import argparse
import time

from pipeline.engine.seen import SeenIds


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    table: dict[str, bytes] = {}  # the stage table's stored entries

    def scan(prefix: str) -> list[bytes]:
        return [value for key, value in sorted(table.items()) if key.startswith(prefix)]

    applied = SeenIds(scan)
    applied.use_partition(0)
    before = _rss_mib()
    began = time.perf_counter()
    for start in range(0, args.ids, args.batch):
        for i in range(start, min(start + args.batch, args.ids)):
            cdr_id = f"c{i:012d}"
            if cdr_id not in applied:  # as Book.rate does: check, then record
                applied[cdr_id] = True
        table.update(applied.take_new(start))
    spent = time.perf_counter() - began
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
