"""The Faust application: its topics and tables, and the stages its agents drive."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import faust

from pipeline import heap
from pipeline.catalog.model import Catalog, PartyType
from pipeline.changelog import Changelogged
from pipeline.engine.commits import CommittedTable
from pipeline.engine.stages import PartyStage, RatingStage
from pipeline.kafka.catalog_marks import CatalogMarks
from pipeline.kafka.consumer import consumer_class
from pipeline.kafka.gaps import Fetched, read_range
from pipeline.kafka.progress import Progress
from pipeline.kafka.stalls import Seen
from pipeline.metrics import Metrics, lag_by_topic
from pipeline.schemas.codec import DeadLetter, DecodeError, encode_dead_letter, read_work
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
            broker_session_timeout=settings.session_timeout_seconds,
            broker_heartbeat_interval=min(3.0, settings.session_timeout_seconds / 3),
            producer_max_request_size=8_000_000,
            # per partition and fetch (docs/streaming.md, "Backlogs"); Kafka still
            # returns a larger message whole (KIP-74)
            consumer_max_fetch_size=settings.fetch_partition_bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        # before anything asks for `app.consumer`, which builds it from the transport;
        # set on this app's transport object only, not on Faust's class
        consumer = consumer_class(settings.fetch_wait_ms)
        self.app.transport.Consumer = consumer  # type: ignore[misc]
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
        # raw messages fetched ahead of the rating agent (docs/streaming.md, "Backlogs").
        # Set on the topic: faust-streaming 0.15.3's `app.topic(maxsize=...)` does not
        # pass it on.
        self.topics["raw"].maxsize = settings.raw_buffer_messages
        self._fetch_raw_in_step()
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
        self.stores = {name: Changelogged(table) for name, table in self.tables.items()}
        self.state = {name: CommittedTable(store) for name, store in self.stores.items()}
        self.metrics = Metrics()
        self.catalog: Catalog | None = None
        self.catalog_ready = asyncio.Event()
        # how far the catalog topic must be read for each raw partition, and is read
        self.catalog_marks = CatalogMarks(settings.catalog_wait_seconds)
        self.idle_work = asyncio.Lock()  # held by agents' work outside a message
        self.rating: RatingStage | None = None
        self.resellers: PartyStage | None = None
        self.providers: PartyStage | None = None
        self.sinks: dict[str, Progress] = {}  # per output topic, where its sink stands
        self.failure: Exception | None = None  # a stage's, which stops the worker
        self.stop_worker: Callable[[], None] | None = None  # the worker command's
        self.app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]

    def _fetch_raw_in_step(self) -> None:
        """Keep fetching every raw partition while the rating agent's buffer is full.

        faust-streaming stops fetching the partition whose message finds a topic's
        buffer under pressure, and starts it again only once the buffer drains below 40 %.
        The raw topic's buffer is shared by all its partitions, so with a backlog the
        others keep it above that and the stopped one starves: a 2-million-CDR run had
        one raw partition wait minutes while another was read to its end, and the reseller
        and provider stages held about a million items of work for ordering. For raw
        messages the consumer waits for room instead (Faust's path for a full buffer), so
        the partitions stay in fetch order (docs/streaming.md, "Backlogs")."""
        consumer = self.app.consumer
        pause = consumer.on_buffer_full
        raw = self.names.raw

        def on_buffer_full(tp: Any) -> None:
            if tp.topic != raw:
                pause(tp)

        consumer.on_buffer_full = on_buffer_full  # type: ignore[method-assign]

    async def _on_revoked(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        """Partitions move: memory copies of their state may go stale elsewhere; drop all.

        Faust sends this after every message an agent had started is acknowledged
        (`stream_wait_empty`, on by default), so no stage is midway through a message.
        """
        async with self.idle_work:
            for stage in (self.rating, self.resellers, self.providers):
                if stage is not None:
                    stage.forget()
            for state in self.state.values():
                state.forget()
            for progress in self.sinks.values():
                progress.forget()
        log.info("partitions revoked; stage memory dropped")

    async def fail(self, stage: str, error: Exception, message: Any) -> NoReturn:
        """A stage raised on `message`, which is a bug: stop the worker (it exits with
        status 1) and process nothing more; waits here until the stop cancels it.

        Going on would risk money: the stage's memory may be half changed. Nothing is
        lost by stopping: the message's state was not stored, so the next start
        processes it again, and again fails until the bug is fixed, which keeps the
        partition's order (docs/delivery.md, "A stage that fails")."""
        log.critical(
            "the %s stage failed on %s; stopping the worker (exit status 1). The message "
            "is processed again when it starts",
            stage,
            _where(message),
            exc_info=error,
        )
        if self.failure is None:
            self.failure = error
            # nothing to wait for: this message is never acknowledged, and what the
            # stop leaves unfinished is redone on the next start
            self.app.conf.stream_wait_empty = False
            if self.stop_worker is not None:
                self.stop_worker()
        await asyncio.Future()  # never done
        raise AssertionError("unreachable")

    def use_catalog(self, catalog: Catalog) -> None:
        """Swap in a newly published catalog; the first one creates the stages."""
        self.catalog = catalog
        if self.rating is None:
            partitions = self.settings.partitions
            rating, resellers, providers = (
                self.state[name] for name in ("rating", "resellers", "providers")
            )
            self.rating = RatingStage(
                catalog, partitions, rating.get, rating.scan, self.settings.replay_window_days
            )
            self.resellers = PartyStage(
                catalog, PartyType.RESELLER, partitions, resellers.get, resellers.scan, read_work
            )
            self.providers = PartyStage(
                catalog, PartyType.PROVIDER, partitions, providers.get, providers.scan, read_work
            )
        else:
            for stage in (self.rating, self.resellers, self.providers):
                assert stage is not None
                stage.set_catalog(catalog)
        heap.settle()  # the catalog and state so far: long-lived, not walked again
        self.catalog_ready.set()
        log.info("catalog %s in use", catalog.version)

    async def catalog_published_by(self, message: Any) -> None:
        """Wait until every catalog published before the raw `message` was produced is in
        use or refused, for at most `CDR_CATALOG_WAIT_SECONDS`.

        `catalog publish` returns once the broker has the files, before any worker has
        loaded them (docs/delivery.md, "Messages that need a newer catalog").
        """
        await self.catalog_marks.published_by(message.partition, _where(message))

    async def write_state(self, table: str, message: Any, changes: dict[str, bytes | None]) -> None:
        """Store the state `message` changed, and that it is done, as one commit of its
        partition; returns once the broker has all of its changelog records."""
        store = self.stores[table]
        store.partition = partition = message.partition
        changes[_next_key(partition)] = b"%d" % (message.offset + 1)
        self.state[table].write(partition, changes)
        await store.delivered()

    def next_offset(self, table: str, partition: int) -> int | None:
        """The offset of `partition` its stage has to process next (None before the
        stage's first commit for that partition).

        Each stage commit stores it, so the stage does not depend on the consumer
        group's committed offsets: a message before it was done already (read again
        after a restart) and one after it means the consumer skipped some
        (faust-streaming 0.15.3 drops messages it re-reads after a rebalance when its
        read position is stale, and can commit past an unacknowledged message).
        """
        stored = self.state[table].get(_next_key(partition))
        return None if stored is None else int(stored)

    async def skipped(self, message: Any, expected: int, known: bool = True) -> list[Fetched]:
        """The messages from `expected` up to `message` that the consumer skipped, read
        directly from the partition (the Faust consumer is left alone). Without a `known`
        stored offset, the partition is read from its start and a later start is no gap."""
        topic, partition, offset = message.topic, message.partition, message.offset
        log.warning(
            "%s[%s]: read @%s with @%s not processed; reading @%s..@%s directly",
            topic,
            partition,
            offset,
            expected,
            expected,
            offset - 1,
        )
        return await self.read_directly(topic, partition, expected, offset, known)

    def positions(self, topic: str, next_of: Callable[[int], int | None]) -> dict[int, Seen]:
        """What a stall check sees of each of this worker's partitions of `topic`: the
        reader's next offset (`next_of`), the consumer's last delivered offset and the
        partition's end; empty while a rebalance or recovery is under way."""
        if not self.settled():
            return {}
        consumer = self.app.consumer
        read_offsets = consumer._read_offset  # type: ignore[attr-defined]  # last read
        return {
            tp.partition: Seen(next_of(tp.partition), read_offsets.get(tp), consumer.highwater(tp))
            for tp in consumer.assignment()
            if tp.topic == topic
        }

    async def read_stalled(
        self, topic: str, partition: int, seen: Seen, reader: str
    ) -> list[Fetched]:
        """Read directly the next messages of a partition the consumer stopped delivering
        to the `reader` (`StallWatch`)."""
        start, end = seen.span()
        log.warning(
            "%s[%s]: the %s is at @%s, the partition ends at @%s and the consumer (last "
            "delivered @%s) has delivered nothing since the last check; reading @%s..@%s "
            "directly",
            topic,
            partition,
            reader,
            start,
            "?" if seen.end is None else seen.end,
            "-" if seen.read is None else seen.read,
            start,
            end - 1,
        )
        return await self.read_directly(topic, partition, start, end, seen.next is not None)

    def settled(self) -> bool:
        """No rebalance or table recovery is under way: the tables hold this worker's
        partitions' state."""
        app = self.app
        flowing = app.consumer.flow_active  # type: ignore[attr-defined]
        return not (app.rebalancing or app.in_recovery) and flowing

    def owns(self, topic: str, partition: int) -> bool:
        """Whether `partition` of `topic` is this worker's, with its state restored."""
        assigned = self.app.consumer.assignment()
        return self.settled() and any(
            (tp.topic, tp.partition) == (topic, partition) for tp in assigned
        )

    async def read_directly(
        self, topic: str, partition: int, start: int, end: int, known: bool
    ) -> list[Fetched]:
        """The messages at `start`..`end`-1 of a partition, read by offset (not through
        the Faust consumer). With a `known` start, a first offset after it means
        retention deleted unprocessed messages: logged and counted."""
        loop = asyncio.get_running_loop()
        read = await loop.run_in_executor(
            None, read_range, self.settings, topic, partition, start, end
        )
        if known and read.low > start:  # gone: deleted by retention unprocessed
            log.error(
                "%s[%s]: @%s..@%s were deleted before being processed (retention "
                "shorter than the time the pipeline was behind); going on from @%s",
                topic,
                partition,
                start,
                read.low - 1,
                read.low,
            )
            self.metrics.retention_gaps.labels(topic).inc()
        self.metrics.missed_messages.labels(topic).inc(len(read.found))
        return read.found

    def consumer_lag(self) -> dict[str, int]:
        """Messages not yet read per topic, over this worker's assigned partitions."""
        consumer = self.app.consumer
        read = consumer._read_offset  # type: ignore[attr-defined]  # last offset read
        return lag_by_topic(
            (tp.topic, read.get(tp), consumer.highwater(tp)) for tp in consumer.assignment()
        )

    async def decoded(self, event: Any, decode: Callable[[bytes], T]) -> T | None:
        """The event's value decoded, or None after dead-lettering it with the reason.

        The codec raises DecodeError and nothing else; anything else is a bug in it, met
        on this message's bytes, which are dead-lettered as `decode_failed` to be
        produced again once it is fixed.
        """
        try:
            return decode(event.value)
        except DecodeError as error:
            reason, detail = error.reason, error.detail
        except Exception as error:
            log.exception("decoding %s failed", _where(event.message))
            reason, detail = "decode_failed", f"{type(error).__name__}: {error}"
        message = event.message
        sent = await self.dead_letter(
            message.topic, message.partition, message.offset, reason, detail, event.value
        )
        await sent  # delivered before the message can be marked done
        return None

    async def dead_letter(
        self, topic: str, partition: int, offset: int, reason: str, detail: str, payload: bytes
    ) -> Any:
        """Send a dead letter; returns what resolves once the broker has it."""
        letter = DeadLetter(topic, partition, offset, reason, detail, payload, datetime.now(UTC))
        self.metrics.dead_letter(reason)
        log.warning("dead letter from %s[%s]@%s: %s: %s", topic, partition, offset, reason, detail)
        return await self.topics["deadletter"].send(value=encode_dead_letter(letter))


def _where(message: Any) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"


def _next_key(partition: int) -> str:
    """The table key of the next offset a stage has to process in `partition`."""
    return f"o|{partition}"
