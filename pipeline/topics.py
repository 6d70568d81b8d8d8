"""Every Kafka topic name, derived from the settings' prefix, and how each topic is created."""

from __future__ import annotations

from dataclasses import dataclass, fields

from pipeline.settings import Settings


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The topics of one pipeline: `{prefix}.{attribute}` each."""

    raw: str  # CDRs, payments and openings in the global order, and ticks (RawBatch)
    resellers: str  # stage A -> B work and ticks (WorkBatch)
    providers: str  # stage A -> C work and ticks (WorkBatch)
    rated: str  # rated and unrated CDR lines (RatedBatch)
    postings: str  # ledger lines (PostingBatch)
    alerts: str  # alerts (AlertBatch)
    balances: str  # balance snapshots per party (BalanceBatch)
    status: str  # provider and account enabled/disabled, compacted
    payments: str  # payments recorded live, keyed by id (an audit copy; they apply via raw)
    deadletter: str  # messages no stage could read (DeadLetter)
    catalog: str  # published catalog files (CatalogFile), compacted

    @classmethod
    def from_prefix(cls, prefix: str) -> TopicNames:
        return cls(**{f.name: f"{prefix}.{f.name}" for f in fields(cls)})

    @classmethod
    def from_settings(cls, settings: Settings) -> TopicNames:
        return cls.from_prefix(settings.topic_prefix)

    def all(self) -> list[str]:
        return [getattr(self, f.name) for f in fields(self)]


COMPACTED = frozenset({"status", "catalog"})
# One partition keeps a catalog version's files in order for every worker that reads it.
SINGLE_PARTITION = frozenset({"catalog"})
CATALOG_MESSAGE_BYTES = 32 * 1024 * 1024  # one catalog file per message: decks are large


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """How to create a topic: its name, partition count and cleanup policy."""

    name: str
    partitions: int
    compacted: bool

    @property
    def config(self) -> dict[str, str]:
        """Topic-level Kafka config for creating it."""
        config = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.name.endswith(".catalog"):
            config["max.message.bytes"] = str(CATALOG_MESSAGE_BYTES)  # a whole rate deck
        return config


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic of the pipeline, in TopicNames order."""
    names = TopicNames.from_settings(settings)
    return [
        TopicSpec(
            getattr(names, f.name),
            1 if f.name in SINGLE_PARTITION else settings.partitions,
            f.name in COMPACTED,
        )
        for f in fields(names)
    ]
