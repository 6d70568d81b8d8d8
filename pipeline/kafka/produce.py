"""Send events to the raw topic in the offline order, numbered, batched, with watermarks."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from confluent_kafka import KafkaError, Message, Producer
from tqdm import tqdm

from pipeline.catalog.loader import CatalogError, load_catalog_files
from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.cdrs.readers import id_names, read_cdrs
from pipeline.engine.events import Opening, Sequenced, Tick
from pipeline.engine.ordering import time_order
from pipeline.engine.records import Payment
from pipeline.engine.routing import Router, inherited_names, partition_of
from pipeline.engine.succession import succession_errors
from pipeline.engine.window import RUN_BITS, SEQ_EPOCH
from pipeline.kafka.catalog import (
    GROUP_NAMES_FILE,
    group_names_file,
    load_files,
    publish_files,
    read_group_names,
    read_published,
    read_published_files,
)
from pipeline.kafka.catalog_marks import Headers, catalog_end_header
from pipeline.kafka.clients import client_config
from pipeline.kafka.errors import NoCatalogError
from pipeline.offline.payments import read_payments
from pipeline.schemas.codec import encode_raw
from pipeline.settings import Settings
from pipeline.topics import TopicNames

UTC_ZONE = ZoneInfo("UTC")


def run_base(now: float | None = None) -> int:
    """The first seq of a run, from its start in milliseconds: a run started later numbers
    its events after an earlier one's (two runs started within the same second used to
    share numbers). A run of N events needs N / 2**20 ms before the next one starts.
    """
    started = time.time() if now is None else now
    return int((started - SEQ_EPOCH) * 1000) << RUN_BITS


class EventProducer:
    """Routes events to raw partitions and sends them, `batch` events per message.

    After every chunk it sends a tick to every partition: "all events up to this seq
    have been sent", which the stages use to restore the global order.
    """

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.topic = TopicNames.from_settings(settings).raw
        self.partitions = settings.partitions
        self.batch = settings.produce_batch
        self.router = Router(catalog)
        self.failures: list[str] = []
        self.producer = Producer(
            client_config(
                settings,
                {
                    "linger.ms": 20,
                    "enable.idempotence": True,
                    "message.max.bytes": 8_000_000,
                },
            )
        )

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.failures.append(f"partition {message.partition()}: {error}")

    def send(
        self,
        events: Iterable[RawCdr | Payment | Opening],
        base: int,
        progress: tqdm | None = None,
        headers: Headers | None = None,
    ) -> int:
        count = 0
        for size, messages in raw_chunks(events, base, self.router, self.partitions, self.batch):
            for partition, items in enumerate(messages):
                self.producer.produce(
                    self.topic,
                    value=encode_raw(items),
                    partition=partition,
                    on_delivery=self._delivered,
                    headers=headers,
                )
                self.producer.poll(0)
            count += size
            if progress is not None:
                progress.update(size)
        remaining = self.producer.flush(60)
        if remaining or self.failures:
            problems = "; ".join(self.failures[:3]) or f"{remaining} messages not delivered"
            raise RuntimeError(f"sending to {self.topic} failed: {problems}")
        return count


def raw_chunks(
    events: Iterable[RawCdr | Payment | Opening],
    base: int,
    router: Router,
    partitions: int,
    batch: int,
) -> Iterator[tuple[int, list[list[Sequenced | Tick]]]]:
    """The raw topic's messages for `events` numbered from `base`: per chunk of `batch`
    events a partition, one message per partition ending with a tick of the chunk's last
    seq, then a last chunk (ticks alone if the events ended on a chunk's edge). Yields
    each chunk's number of events and its messages' items by partition."""
    pending: list[list[Sequenced | Tick]] = [[] for _ in range(partitions)]
    chunk = batch * partitions
    count = 0
    for count, event in enumerate(events, start=1):
        seq = base + count - 1
        pending[partition_of(router.key(event), partitions)].append(Sequenced(seq, event))
        if count % chunk == 0:
            yield chunk, [[*items, Tick(seq)] for items in pending]
            pending = [[] for _ in range(partitions)]
    yield count % chunk, [[*items, Tick(base + count - 1)] for items in pending]


def openings(catalog: Catalog) -> list[Opening]:
    """Every party of a catalog enters the books (repeats are skipped by the stages)."""
    return [
        *(Opening(PartyType.CUSTOMER, c) for c in catalog.customers),
        *(Opening(PartyType.RESELLER, r) for r in catalog.resellers),
        *(Opening(PartyType.PROVIDER, p) for p in catalog.providers),
    ]


def publish_catalog(settings: Settings, directory: Path) -> tuple[Catalog, int]:
    """Publish the catalog's files, then open its parties; returns the catalog and parties.

    Refused whole (CatalogError) if it may not follow the catalog published before it:
    a party changing its currency, or state moving partitions (`succession_errors`)."""
    catalog, files = load_catalog_files(directory)
    previous = read_published_files(settings)
    if previous is not None and previous[0] == catalog.version:  # the same files: no check
        names = previous[1].get(GROUP_NAMES_FILE)
        if names is not None:
            catalog = replace(catalog, group_names=read_group_names(names))
    elif previous is not None:
        before = load_files(previous[1])
        catalog = replace(catalog, group_names=inherited_names(before, catalog))
        if errors := succession_errors(before, catalog):
            raise CatalogError(directory, errors)
    if catalog.group_names:
        files = {**files, GROUP_NAMES_FILE: group_names_file(catalog.group_names)}
    end = publish_files(settings, catalog.version, files)
    # then a message to every raw partition: what is produced after it needs the catalog
    # topic read through `end` (pipeline/kafka/catalog_marks.py)
    producer = EventProducer(settings, catalog)
    parties = producer.send(openings(catalog), run_base(), headers=catalog_end_header(end))
    return catalog, parties


def published_catalog(settings: Settings) -> Catalog:
    catalog = read_published(settings)
    if catalog is None:
        raise NoCatalogError(
            "no catalog has been published; run `cdr-pipeline catalog publish DIR` first"
        )
    return catalog


def produce_files(
    settings: Settings,
    inputs: Sequence[Path],
    *,
    fmt: str = "auto",
    source_tz: ZoneInfo = UTC_ZONE,
    default_provider: str = "",
    payments: Path | None = None,
    progress: bool = False,
) -> int:
    """Read CDR files (and payments), order them as the offline command does, send them."""
    catalog = published_catalog(settings)
    paid = read_payments(payments, catalog) if payments else []
    cdrs = [
        cdr
        for path, name in zip(inputs, id_names(inputs), strict=True)
        for cdr in tqdm(
            read_cdrs(path, fmt, source_tz, default_provider, name),
            desc=f"reading {path.name}",
            unit=" CDRs",
            disable=not progress,
        )
    ]
    events = time_order(cdrs, paid)
    with tqdm(total=len(events), desc="producing", unit=" events", disable=not progress) as bar:
        return EventProducer(settings, catalog).send(events, run_base(), bar)


def produce_payments(settings: Settings, payments: Path) -> int:
    """Record payments live: they apply when they arrive, after what was sent before.

    They travel on the raw topic, which carries the global order the stages apply; each
    is also written to the payments topic, keyed by its id, for anyone auditing them.
    """
    catalog = published_catalog(settings)
    paid = time_order([], read_payments(payments, catalog))
    base = run_base()
    producer = EventProducer(settings, catalog)
    audit = TopicNames.from_settings(settings).payments
    for seq, payment in enumerate(paid, start=base):
        assert isinstance(payment, Payment)
        producer.producer.produce(
            audit, key=payment.payment_id.encode(), value=encode_raw([Sequenced(seq, payment)])
        )
    return producer.send(paid, base)
