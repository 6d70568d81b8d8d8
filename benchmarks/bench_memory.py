"""Worker memory as accounts grow: peak RSS of loading a catalog and rating CDRs that touch
every account, in a fresh process per size. `python -m benchmarks.bench_memory`.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def measure(root: Path, accounts: int, providers: int) -> None:
    """In the child: load (RSS after it), rate 2 CDRs per account through the rating
    stage, keeping its state in a table as the worker does (the stage's memory plus the
    table's wrapped copy), print the peak RSS."""
    from benchmarks.generate import duration, numbers
    from pipeline.catalog.loader import load_catalog
    from pipeline.cdrs.model import RawCdr
    from pipeline.engine.commits import CommittedTable
    from pipeline.engine.events import Sequenced
    from pipeline.engine.stages import RatingStage

    began = time.time()
    catalog = load_catalog(root)
    loaded = time.time() - began
    with open("/proc/self/statm") as statm:  # resident now, the load's garbage freed
        resident = int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    codes = sorted(catalog.tariffs["retail"].deck.codes())
    rng = random.Random(3)
    table = CommittedTable({})
    stage = RatingStage(catalog, 1, table.get, table.scan)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    seq = 0
    for batch in range(0, 2 * accounts, 1000):
        events = []
        for i in range(batch, min(batch + 1000, 2 * accounts)):
            callee = numbers(codes, 1, rng)[0]
            cdr = RawCdr(
                f"m{i}",
                f"a{i % accounts}",
                "1",
                callee,
                start + timedelta(seconds=i),
                duration(rng),
                f"p{i % providers}",
            )
            events.append(Sequenced(seq, cdr))
            seq += 1
        table.write(0, stage.process(0, events).state)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{accounts:>9,} accounts: catalog loaded in {loaded:5.1f} s ({resident:,.0f} MiB "
        f"resident), {2 * accounts:,} CDRs rated, peak RSS {peak:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--codes", type=int, default=50_000)
    parser.add_argument("--providers", type=int, default=100)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(Path(args.child[0]), int(args.child[1]), args.providers)
        return
    from benchmarks.generate import write_catalog

    for accounts in (int(size) for size in args.sizes.split(",")):
        root = Path(f"/tmp/cdr-mem-{args.codes}-{accounts}")
        if not (root / "catalog.yaml").exists():
            write_catalog(root, args.codes, accounts, args.providers, 7)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_memory",
                "--providers",
                str(args.providers),
                "--child",
                str(root),
                str(accounts),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
