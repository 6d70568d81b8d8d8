"""Every worker reads the whole catalog topic and swaps in each new complete version;
it notes when it has caught up, for messages that need a newer catalog."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from aiokafka.structs import TopicPartition  # type: ignore[import-untyped]

from pipeline.app import Pipeline
from pipeline.catalog.loader import load_catalog
from pipeline.catalog.model import Catalog
from pipeline.engine.succession import succession_errors
from pipeline.kafka.catalog import CatalogAssembler, load_files
from pipeline.schemas.codec import DecodeError, decode_catalog_file
from pipeline.topics import CATALOG_MESSAGE_BYTES

log = logging.getLogger("cdr.catalog")


def register(p: Pipeline) -> None:
    @p.app.task  # type: ignore[untyped-decorator]
    async def watch_catalog() -> None:
        loop = asyncio.get_running_loop()
        if p.settings.catalog_dir is not None and p.catalog is None:
            p.use_catalog(await loop.run_in_executor(None, load_catalog, p.settings.catalog_dir))
        consumer = AIOKafkaConsumer(
            bootstrap_servers=p.settings.kafka_brokers,
            enable_auto_commit=False,
            max_partition_fetch_bytes=CATALOG_MESSAGE_BYTES + 65_536,
            fetch_max_bytes=CATALOG_MESSAGE_BYTES + 65_536,
        )
        await consumer.start()
        try:
            await _follow(p, consumer, loop)
        finally:
            await consumer.stop()


async def _follow(p: Pipeline, consumer: Any, loop: asyncio.AbstractEventLoop) -> None:
    topic = p.names.catalog
    partitions = consumer.partitions_for_topic(topic) or set()
    while not partitions:
        await asyncio.sleep(1)
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
    assigned = [TopicPartition(topic, partition) for partition in sorted(partitions)]
    consumer.assign(assigned)
    await consumer.seek_to_beginning()
    assembler = CatalogAssembler()
    current = p.catalog.version if p.catalog else None
    busy = False  # from a fetch until what it brought is dealt with

    async def caught_up(asked: float, ends: dict[Any, int]) -> bool:
        """Whether everything on the topic at `ends` (asked for at `asked`) is read and
        dealt with: then every catalog published before `asked` is loaded or refused."""
        if busy or not ends:
            return False
        try:
            positions = {tp: await consumer.position(tp) for tp in ends}
        except Exception as error:  # not known now: asked again
            log.warning("catalog watcher position not read (%r)", error)
            return False
        if busy or not all(positions[tp] >= end for tp, end in ends.items()):
            return False
        p.catalog_read_to(asked)
        return True

    async def caught_up_now() -> bool:
        asked = time.time()
        return await caught_up(asked, await _ends(consumer, assigned))

    p.catalog_caught_up = caught_up_now
    while True:
        asked = time.time()
        ends = await _ends(consumer, assigned)
        try:
            batches = await consumer.getmany(timeout_ms=1000)
        except Exception as error:  # the watcher must outlive a broker's trouble
            log.warning("catalog topic not read (%r); reading again", error)
            await asyncio.sleep(1)
            continue
        busy = True
        try:
            for messages in batches.values():
                for message in messages:
                    try:
                        assembler.add(decode_catalog_file(message.value))
                    except DecodeError as error:
                        await p.dead_letter(
                            topic,
                            message.partition,
                            message.offset,
                            error.reason,
                            error.detail,
                            message.value,
                        )
            newest = assembler.newest_complete()
            if newest is not None and newest[0] != current:
                current = newest[0]
                catalog = await _load(loop, assembler, newest, p.catalog)
                newest = None  # its files: freed once loaded
                if catalog is not None:
                    p.use_catalog(catalog)
        finally:
            busy = False
        await caught_up(asked, ends)


async def _ends(consumer: Any, assigned: list[Any]) -> dict[Any, int]:
    """Where each catalog partition ends now; empty while the broker cannot say (it is
    restarting, say): the watcher then reads on but does not count itself caught up."""
    try:
        ends: dict[Any, int] = await consumer.end_offsets(assigned)
    except Exception as error:  # aiokafka's errors vary; the next round asks again
        log.warning("catalog topic end offsets not read (%r); asking again", error)
        return {}
    return ends


async def _load(
    loop: asyncio.AbstractEventLoop,
    assembler: CatalogAssembler,
    newest: tuple[str, dict[str, bytes]],
    in_use: Catalog | None,
) -> Catalog | None:
    """The catalog of a complete version, None if it is refused (broken, or unfit to
    follow the one `in_use`); the assembler lets go of its files and older versions'."""
    version, files = newest
    assembler.forget_through(version)
    try:
        catalog: Catalog = await loop.run_in_executor(None, load_files, files)
        errors = (
            []
            if in_use is None
            else await loop.run_in_executor(None, succession_errors, in_use, catalog)
        )
    except Exception as error:  # a refused catalog must not stop the worker
        log.error("published catalog %s refused: %s", version, error)
        return None
    if errors:
        log.error(
            "published catalog %s refused; %s stays in use: %s",
            version,
            in_use.version if in_use else "",
            "; ".join(errors),
        )
        return None
    return catalog
