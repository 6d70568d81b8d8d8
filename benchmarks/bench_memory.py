"""Worker memory as accounts and providers grow: peak RSS of loading a catalog and running
CDRs that touch every account and every provider through the rating and provider stages,
in a fresh process per size. `python -m benchmarks.bench_memory` (accounts 10k, 100k, 1M;
100 providers); `--sizes 100000 --providers 100,1000,10000` for providers.
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
    stage and its provider work through the provider stage, each keeping its state in a
    table as the worker does (the stage's memory plus the table's wrapped copy), print
    the peak RSS."""
    from benchmarks.generate import duration, numbers
    from pipeline.catalog.loader import load_catalog
    from pipeline.catalog.model import PartyType
    from pipeline.cdrs.model import RawCdr
    from pipeline.engine.commits import CommittedTable
    from pipeline.engine.events import Sequenced, Tick
    from pipeline.engine.stages import PROVIDERS, PartyStage, RatingStage

    began = time.time()
    catalog = load_catalog(root)
    loaded = time.time() - began
    with open("/proc/self/statm") as statm:  # resident now, the load's garbage freed
        resident = int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    codes = sorted(catalog.tariffs["retail"].deck.codes())
    rng = random.Random(3)
    table, provider_table = CommittedTable({}), CommittedTable({})
    stage = RatingStage(catalog, 1, table.get, table.scan)
    provider_stage = PartyStage(
        catalog, PartyType.PROVIDER, 1, provider_table.get, provider_table.scan
    )
    touched: set[str] = set()
    start = datetime(2026, 3, 2, tzinfo=UTC)
    seq = 0
    cdrs = 2 * max(accounts, providers)
    for batch in range(0, cdrs, 1000):
        events: list[Sequenced | Tick] = []
        for i in range(batch, min(batch + 1000, cdrs)):
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
        events.append(Tick(seq - 1))
        out = stage.process(0, events)
        table.write(0, out.state)
        for (role, target), work in out.work.items():
            if role == PROVIDERS:
                done = provider_stage.process(target, work)
                provider_table.write(target, done.state)
                touched.update(item.party for item in done.applied)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{accounts:>9,} accounts, {providers:>6,} providers: catalog loaded in {loaded:5.1f} s "
        f"({resident:,.0f} MiB resident), {cdrs:,} CDRs rated, {len(touched):,} providers "
        f"charged, peak RSS {peak:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="accounts, comma list")
    parser.add_argument("--codes", type=int, default=50_000)
    parser.add_argument("--providers", default="100", help="providers, comma list")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(Path(args.child[0]), int(args.child[1]), int(args.child[2]))
        return
    from benchmarks.generate import write_catalog

    for accounts in (int(size) for size in args.sizes.split(",")):
        for providers in (int(size) for size in args.providers.split(",")):
            root = Path(f"/tmp/cdr-mem-{args.codes}-{accounts}-{providers}")
            if not (root / "catalog.yaml").exists():
                write_catalog(root, args.codes, accounts, providers, 7)
            child = [str(root), str(accounts), str(providers)]
            command = [sys.executable, "-m", "benchmarks.bench_memory", "--child", *child]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
