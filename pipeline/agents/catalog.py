"""Every worker reads the whole catalog topic and swaps in each new complete version;
it notes how far it has read, for messages that need a newer catalog."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from aiokafka.structs import TopicPartition  # type: ignore[import-untyped]

from pipeline.app import Pipeline
from pipeline.catalog.loader import load_catalog
from pipeline.catalog.model import Catalog
from pipeline.engine.succession import succession_errors
from pipeline.kafka.catalog import CatalogAssembler, load_files
from pipeline.kafka.catalog_marks import CatalogMarks
from pipeline.schemas.codec import DecodeError, decode_catalog_file
from pipeline.topics import CATALOG_MESSAGE_BYTES

log = logging.getLogger("cdr.catalog")


def register(p: Pipeline) -> None:
    @p.app.task  # type: ignore[untyped-decorator]
    async def watch_catalog() -> None:
        loop = asyncio.get_running_loop()
        directory = p.settings.catalog_dir if p.catalog is None else None
        if directory is not None:
            p.use_catalog(await loop.run_in_executor(None, load_catalog, directory))
        consumer = AIOKafkaConsumer(
            bootstrap_servers=p.settings.kafka_brokers,
            enable_auto_commit=False,
            max_partition_fetch_bytes=CATALOG_MESSAGE_BYTES + 65_536,
            fetch_max_bytes=CATALOG_MESSAGE_BYTES + 65_536,
        )
        await consumer.start()
        try:
            await _follow(p, consumer, loop, from_directory=directory is not None)
        finally:
            await consumer.stop()


async def _follow(
    p: Pipeline, consumer: Any, loop: asyncio.AbstractEventLoop, from_directory: bool
) -> None:
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
    marks, first = p.catalog_marks, assigned[0]  # the topic has one partition (topics.py)
    while True:
        if marks.start_end is None and (end := await _end(consumer, first)) is not None:
            marks.started(end)
        try:
            batches = await consumer.getmany(timeout_ms=1000)
        except Exception as error:  # the watcher must outlive a broker's trouble
            log.warning("catalog topic not read (%r); reading again", error)
            await asyncio.sleep(1)
            continue
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
            catalog = await _load(loop, assembler, newest, p.catalog, not from_directory)
            newest = None  # its files: freed once loaded
            if catalog is not None:
                p.use_catalog(catalog)
                from_directory = False
        await _read_through(marks, consumer, first)


async def _read_through(marks: CatalogMarks, consumer: Any, partition: Any) -> None:
    """Tell `marks` how far what was read is dealt with (the consumer's position)."""
    try:
        read = await consumer.position(partition)
    except Exception as error:  # not known now: told after the next read
        log.warning("catalog watcher position not read (%r)", error)
        return
    marks.read_through(read)


async def _end(consumer: Any, partition: Any) -> int | None:
    """Where the catalog topic ends now; None while the broker cannot say (it is
    restarting, say): the next round asks again."""
    try:
        ends: dict[Any, int] = await consumer.end_offsets([partition])
    except Exception as error:  # aiokafka's errors vary
        log.warning("catalog topic end offset not read (%r); asking again", error)
        return None
    return ends.get(partition)


async def _load(
    loop: asyncio.AbstractEventLoop,
    assembler: CatalogAssembler,
    newest: tuple[str, dict[str, bytes]],
    in_use: Catalog | None,
    published: bool,
) -> Catalog | None:
    """The catalog of a complete version, None if it is refused (broken, or unfit to
    follow the one `in_use`, `published` or read from `CDR_CATALOG_DIR`); the assembler
    lets go of its files and older versions'."""
    version, files = newest
    assembler.forget_through(version)
    try:
        catalog: Catalog = await loop.run_in_executor(None, load_files, files)
        errors = (
            []
            if in_use is None
            else await loop.run_in_executor(
                None, partial(succession_errors, in_use, catalog, published=published)
            )
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
