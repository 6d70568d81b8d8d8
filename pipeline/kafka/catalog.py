"""Publish a catalog to its compacted topic, and read the newest complete one back."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Message, Producer

from pipeline.catalog.loader import CatalogError, inside, load_catalog
from pipeline.catalog.model import Catalog
from pipeline.kafka.clients import client_config
from pipeline.kafka.whole import read_to_end
from pipeline.schemas.codec import CatalogFile, decode_catalog_file, encode_catalog_file
from pipeline.settings import Settings
from pipeline.topics import CATALOG_MESSAGE_BYTES, TopicNames


class CatalogAssembler:
    """Collects published files per version; knows the newest version that is complete."""

    def __init__(self) -> None:
        self._versions: dict[str, dict[str, bytes]] = {}
        self._sizes: dict[str, int] = {}
        self._order: list[str] = []

    def add(self, file: CatalogFile) -> None:
        if file.version not in self._versions:
            self._versions[file.version] = {}
            self._order.append(file.version)
        self._versions[file.version][file.path] = file.content
        self._sizes[file.version] = file.files

    def newest_complete(self) -> tuple[str, dict[str, bytes]] | None:
        for version in reversed(self._order):
            files = self._versions[version]
            if len(files) == self._sizes[version]:
                return version, files
        return None

    def forget_through(self, version: str) -> None:
        """Drop the files of `version` and of every version that came before it: once
        loaded, they are never needed again (tens of MB with a million accounts)."""
        if version not in self._versions:
            return
        done = self._order[: self._order.index(version) + 1]
        self._order = self._order[len(done) :]
        for old in done:
            del self._versions[old], self._sizes[old]


def load_files(files: dict[str, bytes]) -> Catalog:
    """Load a catalog from its published files (written to a temporary directory), with
    the names its billing groups keep (`GROUP_NAMES_FILE`)."""
    outside = sorted(path for path in files if not inside(path))
    if outside:  # never written outside the temporary directory, whoever published it
        raise CatalogError(
            Path("(published)"), [f"{p}: not a path inside a catalog" for p in outside]
        )
    with tempfile.TemporaryDirectory(prefix="cdr-catalog-") as tmp:
        root = Path(tmp)
        for path, content in files.items():
            if path != GROUP_NAMES_FILE:  # read below, not by the loader
                target = root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        catalog = load_catalog(root)
    names = files.get(GROUP_NAMES_FILE)
    return catalog if names is None else replace(catalog, group_names=read_group_names(names))


GROUP_NAMES_FILE = "_group_names.json"  # written by `catalog publish`, not by the operator


def group_names_file(names: Mapping[str, str]) -> bytes:
    """The published file of a catalog's `group_names` (customer -> group name)."""
    return json.dumps(dict(sorted(names.items())), ensure_ascii=False).encode()


def read_group_names(data: bytes) -> dict[str, str]:
    """`group_names_file` read back; CatalogError if it is not an object of strings."""
    try:
        names = json.loads(data)
    except ValueError as error:
        names = error
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in names.items()
    ):
        raise CatalogError(Path(GROUP_NAMES_FILE), ["not an object of customer: group name"])
    return names


def publish_files(settings: Settings, version: str, files: dict[str, bytes]) -> int:
    """Write a version's files to the catalog topic; returns the topic's end offset once
    they are all in (the offset after the last one's)."""
    topic = TopicNames.from_settings(settings).catalog
    producer = Producer(
        client_config(
            settings,
            {
                "linger.ms": 5,
                "message.max.bytes": CATALOG_MESSAGE_BYTES + 65_536,
            },
        )
    )
    for path, content in files.items():
        if len(content) > CATALOG_MESSAGE_BYTES:
            raise ValueError(
                f"{path} is {len(content)} bytes; a catalog file may have at most "
                f"{CATALOG_MESSAGE_BYTES} (split the deck across tariffs)"
            )
    offsets: list[int] = []
    failed: list[str] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            failed.append(str(error))
        else:
            offsets.append(message.offset() or 0)

    for path, content in files.items():
        message = CatalogFile(version=version, path=path, content=content, files=len(files))
        producer.produce(
            topic, key=path.encode(), value=encode_catalog_file(message), on_delivery=delivered
        )
    if producer.flush(30) != 0 or failed or not offsets:
        problem = failed[0] if failed else "not delivered"
        raise RuntimeError(f"catalog to {topic} at {settings.kafka_brokers}: {problem}")
    return max(offsets) + 1


def read_published(settings: Settings, timeout: float = 30.0) -> Catalog | None:
    """The newest complete catalog on the topic, or None when nothing was published."""
    newest = read_published_files(settings, timeout)
    return None if newest is None else load_files(newest[1])


def read_published_files(
    settings: Settings, timeout: float = 30.0
) -> tuple[str, dict[str, bytes]] | None:
    """The version and files of the newest complete catalog on the topic, not loaded."""
    topic = TopicNames.from_settings(settings).catalog
    consumer = Consumer(
        client_config(
            settings,
            {
                "group.id": "cdr-catalog-reader",
                "enable.auto.commit": False,
                "fetch.message.max.bytes": CATALOG_MESSAGE_BYTES + 65_536,
            },
        )
    )
    try:
        assembler = CatalogAssembler()
        for message in read_to_end(consumer, topic, timeout):
            assembler.add(decode_catalog_file(message))
        return assembler.newest_complete()
    finally:
        consumer.close()
