"""Baseline for the pipeline: the same raw CDRs consumed from Kafka and inserted into
ClickHouse with no logic (decode, a row per CDR, batched insert). Compare with
bench_stream.py on the same data: `python -m benchmarks.bench_passthrough`.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

from confluent_kafka import Consumer

from benchmarks.bench_stream import add_data_arguments, data, prepare
from benchmarks.scratch import remove_at_exit
from pipeline.catalog.model import Catalog
from pipeline.cdrs.model import RawCdr
from pipeline.engine import serialize
from pipeline.engine.events import Sequenced
from pipeline.engine.records import Payment, unrated
from pipeline.kafka.produce import EventProducer, run_base
from pipeline.schemas.codec import decode_raw
from pipeline.settings import Settings
from pipeline.warehouse.server import ServerWarehouse


def raw_run(
    kind: str, description: str | None
) -> tuple[Settings, Catalog, list[RawCdr | Payment], Consumer]:
    """A benchmark run of its own (topics, database): its settings, the catalog and CDRs
    of the arguments' data, and a consumer of its raw topic from the start."""
    parser = argparse.ArgumentParser(description=description)
    add_data_arguments(parser)
    root = data(parser.parse_args())
    name = f"{kind}{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, CDR_TOPIC_PREFIX=name, CDR_CLICKHOUSE_DATABASE=name)
    settings = Settings.from_env(env)
    remove_at_exit(name, settings)
    catalog, events = prepare(settings, root)
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_brokers,
            "group.id": name,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([f"{name}.raw"])
    return settings, catalog, events, consumer


def main() -> None:
    settings, catalog, events, consumer = raw_run("pass", __doc__)
    began = time.time()
    EventProducer(settings, catalog).send(events, run_base())
    inserted = 0
    with ServerWarehouse.from_settings(settings) as db:
        while inserted < len(events):
            messages = consumer.consume(200, 1.0)
            rows = []
            for message in messages:
                value = message.value()
                if message.error() or value is None:
                    continue
                for item in decode_raw(value):
                    if isinstance(item, Sequenced) and isinstance(item.event, RawCdr):
                        rows.append(serialize.rated_row(unrated(item.event, "", ""), 1))
            if rows:
                db.insert("rated_cdrs", rows)
                consumer.commit(asynchronous=False)
                inserted += len(rows)
    elapsed = time.time() - began
    consumer.close()
    print(f"pass-through: {inserted} CDRs in {elapsed:.1f} s = {inserted / elapsed:,.0f} CDRs/s")


if __name__ == "__main__":
    main()
