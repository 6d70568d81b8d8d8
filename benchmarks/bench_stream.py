"""End-to-end benchmark: CDRs from produce to visible in ClickHouse, throughput and latency.

A CDR counts as visible once its rated line and every posting it caused (customer,
resellers, provider) are in ClickHouse; the rated lines alone, which the rating stage
writes without waiting for the reseller and provider stages, are reported as well.

Needs the servers the CDR_* settings point at (`eval "$(deploy/local/up)"`). Each run
uses its own topics, consumer group and database, and a worker subprocess.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks.generate import write_catalog, write_cdrs
from benchmarks.scratch import remove_at_exit
from pipeline.catalog.model import Catalog
from pipeline.cdrs.model import RawCdr
from pipeline.cdrs.readers import read_cdrs
from pipeline.engine.ordering import time_order
from pipeline.engine.records import Payment
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.produce import EventProducer, publish_catalog, run_base
from pipeline.settings import Settings
from pipeline.warehouse.server import ServerWarehouse


def data(args: argparse.Namespace) -> Path:
    """Generated catalog and CDRs, cached per parameters."""
    root = Path(f"/tmp/cdr-bench-{args.codes}-{args.accounts}-{args.providers}-{args.cdrs}")
    if not (root / "cdrs.csv").exists():
        from datetime import UTC, datetime

        codes = write_catalog(root / "catalog", args.codes, args.accounts, args.providers, 7)
        write_cdrs(
            root / "cdrs.csv",
            codes,
            args.cdrs,
            args.accounts,
            args.providers,
            7,
            datetime(2026, 3, 2, tzinfo=UTC),
        )
    return root


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The generated data's size, the same for every end-to-end benchmark."""
    parser.add_argument("--cdrs", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=50_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--providers", type=int, default=100)


def prepare(settings: Settings, root: Path) -> tuple[Catalog, list[RawCdr | Payment]]:
    """Topics and schema created, the catalog published, the CDRs read in offline order."""
    ensure_topics(settings)
    with ServerWarehouse.from_settings(settings) as db:
        db.migrate()
    catalog, _ = publish_catalog(settings, root / "catalog")
    return catalog, time_order(list(read_cdrs(root / "cdrs.csv")), [])


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "worker"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while b"in use" not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker did not start; see {log}")
        time.sleep(0.5)
    time.sleep(3)  # partitions assigned, tables recovered
    return worker


_JOINED = re.compile(rb"Joined group .* \(generation (\d+)\)")


def group_settled(logs: list[Path], timeout: float = 120) -> None:
    """Wait until every worker has joined the group's latest generation and become ready
    after it: a send during a rebalance waits for it, which is not what latency
    measures (two workers: a first send 1.5 s slower than the rest, 2026-12-03)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [log.read_bytes() for log in logs]
        joins = [list(_JOINED.finditer(text)) for text in texts]
        generations = {int(found[-1].group(1)) if found else -1 for found in joins}
        ready = all(
            found and b"Worker ready" in text[found[-1].end() :]
            for found, text in zip(joins, texts, strict=True)
        )
        if ready and len(generations) == 1:
            time.sleep(1)  # the stages' catch-up reads after recovery
            return
        time.sleep(0.5)
    raise SystemExit(f"the consumer group did not settle in {timeout:.0f} s; see {logs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_data_arguments(parser)
    parser.add_argument("--rate", type=float, default=0, help="CDRs/s to send (0: flat out)")
    parser.add_argument(
        "--chunk",
        type=int,
        default=0,
        help="CDRs per send call (default: the producer's own, CDR_PRODUCE_BATCH per partition)",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    args = parser.parse_args()
    root = data(args)

    name = f"bench{uuid.uuid4().hex[:8]}"
    env = dict(
        os.environ,
        CDR_TOPIC_PREFIX=name,
        CDR_APP_ID=name,
        CDR_CLICKHOUSE_DATABASE=name,
        CDR_WORKER_DATA_DIR=f"/tmp/{name}",
    )
    settings = Settings.from_env(env)
    remove_at_exit(name, settings)
    args.chunk = args.chunk or settings.produce_batch * settings.partitions
    catalog, events = prepare(settings, root)
    workers = [
        start_worker(
            dict(env, CDR_METRICS_PORT=str(19108 + i), CDR_WORKER_DATA_DIR=f"/tmp/{name}-{i}"),
            Path(f"/tmp/{name}-{i}.log"),
        )
        for i in range(args.workers)
    ]
    group_settled([Path(f"/tmp/{name}-{i}.log") for i in range(args.workers)])
    # CPU spent starting (imports, catalog, recovery) is not spent on the CDRs.
    started_cpu = {w.pid: _cpu_seconds(w.pid) for w in workers}
    try:
        producer = EventProducer(settings, catalog)
        base = run_base()
        sent_at: list[float] = []
        began = time.time()
        for start in range(0, len(events), args.chunk):
            chunk = events[start : start + args.chunk]
            if args.rate:
                due = began + start / args.rate
                time.sleep(max(0.0, due - time.time()))
            producer.send(chunk, base + start)
            sent_at.append(time.time())
        produced = time.time()
        with ServerWarehouse.from_settings(settings) as db:
            deadline = time.time() + 1800
            count = 0
            while count < len(events) and time.time() < deadline:
                time.sleep(1)
                rows = db.rows(f"SELECT count() AS n FROM {name}.rated_cdrs")
                count = int(str(rows[0]["n"]))
            seen = db.rows(f"SELECT cdr_id, version FROM {name}.rated_cdrs")
            rated_cpu = sum(_cpu_seconds(w.pid) - started_cpu[w.pid] for w in workers)
            settled(db, f"SELECT count() AS n FROM {name}.postings", deadline)
            done = db.rows(
                f"SELECT cdr_id, max(version) AS version FROM {name}.postings "
                "WHERE cdr_id != '' GROUP BY cdr_id"
            )
        worker_cpu = sum(_cpu_seconds(w.pid) - started_cpu[w.pid] for w in workers)
        startup_cpu = sum(started_cpu.values())
        worker_peak = max(_peak_rss_mib(w.pid) for w in workers)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(60)
    index = {cdr.cdr_id: i for i, cdr in enumerate(events)}  # type: ignore[union-attr]
    latencies = sorted(
        int(str(r["version"])) / 1000 - sent_at[index[str(r["cdr_id"])] // args.chunk] for r in seen
    )
    visible = max(int(str(r["version"])) for r in seen) / 1000
    total = len(seen)
    last = {str(r["cdr_id"]): int(str(r["version"])) for r in seen}
    for r in done:  # a CDR is done once its rated line and every posting are in
        cdr_id = str(r["cdr_id"])
        last[cdr_id] = max(last.get(cdr_id, 0), int(str(r["version"])))
    everything = max(last.values()) / 1000
    whole = sorted(v / 1000 - sent_at[index[cdr_id] // args.chunk] for cdr_id, v in last.items())
    print(f"CDRs {total} of {len(events)}; produce {len(events) / (produced - began):,.0f}/s")
    print(
        f"end to end: {total / (everything - began):,.0f} CDRs/s sustained "
        f"({everything - began:.1f} s from first send until every rated line and posting "
        "was visible)"
    )
    print(
        f"latency produce -> all visible: p50 {statistics.median(whole):.2f} s, "
        f"p99 {whole[int(0.99 * (len(whole) - 1))]:.2f} s, max {whole[-1]:.2f} s"
    )
    worst: dict[int, float] = {}  # each send's slowest CDR: is a tail one send, or many?
    for cdr_id, v in last.items():
        send = index[cdr_id] // args.chunk
        worst[send] = max(worst.get(send, 0.0), v / 1000 - sent_at[send])
    slow = sorted(worst, key=worst.__getitem__, reverse=True)[:3]
    print(
        "slowest sends: "
        + ", ".join(f"#{i} (+{sent_at[i] - began:.1f} s) {worst[i]:.2f} s" for i in slow)
        + f" of {len(sent_at)}"
    )
    print(
        f"{args.workers} worker(s) CPU {worker_cpu:.1f} s "
        f"({worker_cpu / total * 1e6:.0f} us per CDR) from the first send, after "
        f"{startup_cpu:.1f} s starting; peak RSS {worker_peak:.0f} MiB"
    )
    print(
        f"rated lines alone (the measure before 2026-12-02): {total / (visible - began):,.0f} "
        f"CDRs/s ({visible - began:.1f} s); latency p50 {statistics.median(latencies):.2f} s, "
        f"p99 {latencies[int(0.99 * (total - 1))]:.2f} s; worker CPU until then "
        f"{rated_cpu / total * 1e6:.0f} us per CDR"
    )


def settled(db: ServerWarehouse, count: str, deadline: float, quiet: float = 10.0) -> None:
    """Wait until the `count` query has given the same number for `quiet` seconds: the
    reseller and provider stages may still be writing after the last rated line."""
    last, since = -1, time.time()
    while time.time() < deadline:
        now = int(str(db.rows(count)[0]["n"]))
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= quiet:
            return
        time.sleep(1)


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
