"""The Faust application: its topics and tables, and the stages its agents drive."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust

from pipeline.catalog.model import Catalog, PartyType
from pipeline.engine.stages import PartyStage, RatingStage
from pipeline.metrics import Metrics
from pipeline.schemas.codec import DeadLetter, DecodeError, encode_dead_letter
from pipeline.settings import Settings
from pipeline.topics import TopicNames

log = logging.getLogger("cdr.app")
T = TypeVar("T")


class Pipeline:
    """Holds the app, its topics and tables, the live catalog and the stage objects."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.names = TopicNames.from_settings(settings)
        partitions = settings.partitions
        self.app = faust.App(
            settings.app_id,
            broker=f"kafka://{settings.kafka_brokers}",
            store="memory://",
            topic_partitions=partitions,
            web_enabled=False,
            datadir=str(settings.worker_data_dir),
            consumer_auto_offset_reset="earliest",
            producer_max_request_size=8_000_000,
            consumer_max_fetch_size=8_000_000,
            stream_wait_empty=False,
            key_serializer="raw",
            value_serializer="raw",
        )
        self.topics: dict[str, Any] = {
            name: self.app.topic(
                getattr(self.names, name),
                partitions=partitions,
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
            )
            for name in (
                "raw",
                "resellers",
                "providers",
                "rated",
                "postings",
                "alerts",
                "balances",
                "status",
                "deadletter",
            )
        }
        self.tables = {
            name: self.app.Table(
                f"{name}-state",
                default=None,
                partitions=partitions,
                key_type=bytes,
                value_type=bytes,
            )
            for name in ("rating", "resellers", "providers")
        }
        self.metrics = Metrics()
        self.catalog: Catalog | None = None
        self.catalog_ready = asyncio.Event()
        self.rating: RatingStage | None = None
        self.resellers: PartyStage | None = None
        self.providers: PartyStage | None = None
        self.rebalances = 0  # agents drop their own per-partition bookkeeping when it moves
        self.app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]

    async def _on_revoked(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        """Partitions move: memory copies of their state may go stale elsewhere; drop all."""
        self.rebalances += 1
        for stage in (self.rating, self.resellers, self.providers):
            if stage is not None:
                stage.forget()
        log.info("partitions revoked; stage memory dropped")

    def _load(self, table: str) -> Any:
        store = self.tables[table]

        def load(key: str) -> bytes | None:
            value: bytes | None = store.get(key.encode())
            return value

        return load

    def _scan(self, table: str) -> Any:
        store = self.tables[table]

        def scan(prefix: str) -> list[bytes]:
            wanted = prefix.encode()
            return [value for key, value in store.items() if key.startswith(wanted) and value]

        return scan

    def use_catalog(self, catalog: Catalog) -> None:
        """Swap in a newly published catalog; the first one creates the stages."""
        self.catalog = catalog
        if self.rating is None:
            partitions = self.settings.partitions
            self.rating = RatingStage(
                catalog, partitions, self._load("rating"), self._scan("rating")
            )
            self.resellers = PartyStage(
                catalog,
                PartyType.RESELLER,
                partitions,
                self._load("resellers"),
                self._scan("resellers"),
            )
            self.providers = PartyStage(
                catalog,
                PartyType.PROVIDER,
                partitions,
                self._load("providers"),
                self._scan("providers"),
            )
        else:
            for stage in (self.rating, self.resellers, self.providers):
                assert stage is not None
                stage.set_catalog(catalog)
        self.catalog_ready.set()
        log.info("catalog %s in use", catalog.version)

    def write_state(self, table: str, changes: dict[str, bytes | None]) -> None:
        """Store changed stage state (inside an agent, so it goes to the right changelog)."""
        store = self.tables[table]
        for key, value in changes.items():
            if value is None:
                store.pop(key.encode(), None)
            else:
                store[key.encode()] = value

    def consumer_lag(self) -> dict[str, int]:
        """Messages not yet read per topic, over this worker's assigned partitions."""
        consumer = self.app.consumer
        lag: dict[str, int] = {}
        for tp in consumer.assignment():
            read = consumer._read_offset.get(tp)  # type: ignore[attr-defined]  # last read
            behind = consumer.highwater(tp) - (read + 1 if read is not None else 0)
            lag[tp.topic] = lag.get(tp.topic, 0) + max(behind, 0)
        return lag

    async def decoded(self, event: Any, decode: Callable[[bytes], T]) -> T | None:
        """The event's value decoded, or None after dead-lettering it with the reason."""
        try:
            return decode(event.value)
        except DecodeError as error:
            message = event.message
            await self.dead_letter(
                message.topic,
                message.partition,
                message.offset,
                error.reason,
                error.detail,
                event.value,
            )
            return None

    async def dead_letter(
        self, topic: str, partition: int, offset: int, reason: str, detail: str, payload: bytes
    ) -> None:
        letter = DeadLetter(topic, partition, offset, reason, detail, payload, datetime.now(UTC))
        self.metrics.dead_letter(reason)
        log.warning("dead letter from %s[%s]@%s: %s: %s", topic, partition, offset, reason, detail)
        await self.topics["deadletter"].send(value=encode_dead_letter(letter))
