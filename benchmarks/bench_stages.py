"""What a worker's own logic costs per CDR, with no Kafka, Faust or ClickHouse: the raw
messages the producer would send, run in one process through everything the worker does
to them (decode, rating stage, state commit, encode outputs and work; reseller and
provider stages likewise; the sink's column reads), each step timed. The difference to
the worker's CPU per CDR in `bench_stream` is what moving the messages costs.
`python -m benchmarks.bench_stages --cdrs 100000`.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from benchmarks.bench_stream import add_data_arguments, data
from pipeline.catalog.loader import load_catalog
from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.readers import read_cdrs
from pipeline.engine.commits import CommittedTable
from pipeline.engine.events import Origin
from pipeline.engine.ordering import time_order
from pipeline.engine.routing import Router
from pipeline.engine.stages import PartyStage, RatingStage, StageOutput
from pipeline.kafka.produce import raw_chunks
from pipeline.schemas import codec, columns
from pipeline.settings import Settings

T = TypeVar("T")


class Clock:
    """Seconds spent per step."""

    def __init__(self) -> None:
        self.spent: defaultdict[str, float] = defaultdict(float)

    def time(self, step: str, call: Callable[..., T], *args: Any) -> T:
        began = time.perf_counter()
        result = call(*args)
        self.spent[step] += time.perf_counter() - began
        return result


def raw_messages(catalog: Catalog, root: Any, partitions: int, batch: int) -> list[list[bytes]]:
    """The raw messages `EventProducer.send` writes, by partition."""
    events = time_order(list(read_cdrs(root / "cdrs.csv")), [])
    out: list[list[bytes]] = [[] for _ in range(partitions)]
    for _, messages in raw_chunks(events, 0, Router(catalog), partitions, batch):
        for partition, items in enumerate(messages):
            out[partition].append(codec.encode_raw(items))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_data_arguments(parser)
    args = parser.parse_args()
    root = data(args)
    settings = Settings.from_env()
    partitions = settings.partitions
    catalog = load_catalog(root / "catalog")
    raw = raw_messages(catalog, root, partitions, settings.produce_batch)
    cdrs = args.cdrs
    clock = Clock()
    tables = {name: CommittedTable({}) for name in ("rating", "resellers", "providers")}
    rating = RatingStage(
        catalog,
        partitions,
        tables["rating"].get,
        tables["rating"].scan,
        settings.replay_window_days,  # as the worker runs it
    )
    parties = {
        role: PartyStage(
            catalog, kind, partitions, tables[role].get, tables[role].scan, codec.read_work
        )
        for role, kind in (("resellers", PartyType.RESELLER), ("providers", PartyType.PROVIDER))
    }
    offsets: Counter[tuple[str, int]] = Counter()
    records: Counter[str] = Counter()  # stage-table changes: one changelog record each
    outputs: dict[str, list[bytes]] = defaultdict(list)
    encoders: dict[str, Callable[[Any], bytes]] = {
        "rated": codec.encode_rated,
        "postings": codec.encode_postings,
        "alerts": codec.encode_alerts,
        "balances": codec.encode_balances,
    }

    def emit(stage: str, out: StageOutput, origin: Origin) -> list[tuple[str, int, bytes]]:
        for topic, encode in encoders.items():
            if items := getattr(out, topic):
                outputs[topic].append(clock.time(f"{stage}: encode outputs", encode, items))
        work = []
        for (role, target), items in out.work.items():
            value = clock.time(f"{stage}: encode work", codec.encode_work, items, origin)
            work.append((role, target, value))
        return work

    began = time.perf_counter()
    for index in range(max(len(messages) for messages in raw)):
        for partition in range(partitions):
            if index >= len(raw[partition]):
                continue
            value = raw[partition][index]
            items = clock.time("rating: decode raw", codec.decode_raw, value)
            out = clock.time("rating: process", rating.process, partition, items)
            clock.time("rating: commit state", tables["rating"].write, partition, out.state)
            records["rating"] += len(out.state)
            for role, target, work in emit("rating", out, Origin(partition, index)):
                offset = offsets[role, target]
                offsets[role, target] += 1
                message = clock.time(f"{role}: decode work", codec.read_work, work)
                stage = parties[role]
                done = clock.time(
                    f"{role}: process",
                    stage.process,
                    target,
                    message.items,
                    offset,
                    work,
                    message.origin,
                )
                clock.time(f"{role}: commit state", tables[role].write, target, done.state)
                records[role] += len(done.state)
                emit(role, done, Origin(target, offset))
    readers = {
        "rated": columns.rated,
        "postings": columns.postings,
        "alerts": columns.alerts,
        "balances": columns.balances,
    }
    for topic, values in outputs.items():
        for value in values:
            clock.time(f"sink: read {topic} columns", readers[topic], value, 1)
    total = time.perf_counter() - began
    print(f"{cdrs:,} CDRs, {partitions} partitions, {settings.produce_batch} per raw message")
    for step, seconds in sorted(clock.spent.items()):
        print(f"  {step:<32} {seconds / cdrs * 1e6:6.1f} us per CDR")
    print(f"  {'all (one process, no messaging)':<32} {total / cdrs * 1e6:6.1f} us per CDR")
    print(f"messages: {sum(offsets.values()):,} work, {sum(map(len, outputs.values())):,} output")
    per_stage = ", ".join(f"{stage} {count:,}" for stage, count in sorted(records.items()))
    total_records = sum(records.values())
    print(f"state records: {total_records:,} ({total_records / cdrs:.2f} per CDR; {per_stage})")


if __name__ == "__main__":
    main()
