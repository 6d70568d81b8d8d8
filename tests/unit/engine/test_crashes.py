"""The stages driven as the agents drive them, crashed at random points, equal the offline book.

A model of the worker: topics are lists, each stage table is a store whose writes form a
changelog, offsets are committed now and then after a flush. A crash loses the
unflushed tail of every changelog at a random cut, the stages' memory and the read
positions; a new worker restores the tables and reads again from the committed offsets.
Outputs are kept as ClickHouse keeps them: one row per id.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.catalog.model import Catalog, PartyType
from pipeline.engine import serialize
from pipeline.engine.book import BalanceLine
from pipeline.engine.commits import CommittedTable
from pipeline.engine.events import BalanceSnapshot, Origin, Sequenced, Tick
from pipeline.engine.routing import Router, partition_of
from pipeline.engine.stages import PROVIDERS, RESELLERS, PartyStage, RatingStage, StageOutput
from pipeline.engine.window import RUN_BITS, SEQ_EPOCH
from pipeline.schemas.codec import encode_work, read_work
from tests.unit.engine.test_commits import LoggedStore, restored
from tests.unit.engine.test_stages import canonical, offline, openings, sample_events

Topic = tuple[str, int]  # (role, partition)
TABLES = ("rating", RESELLERS, PROVIDERS)


@dataclass
class Warehouse:
    """ReplacingMergeTree seen through FINAL: one row per id, the highest version wins."""

    rows: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    balances: dict[tuple[PartyType, str], BalanceSnapshot] = field(default_factory=dict)

    def insert(self, out: StageOutput) -> None:
        for r in out.rated:
            self._keep("rated", r.cdr_id, serialize.rated_line(r))
        for p in out.postings:
            self._keep("postings", p.posting_id, serialize.posting_line(p))
        for a in out.alerts:
            self._keep("alerts", a.alert_id, serialize.alert_line(a))
        for snap in out.balances:
            key = (snap.party_type, snap.party)
            known = self.balances.get(key)
            if known is None or snap.version > known.version:
                self.balances[key] = snap
            elif snap.version == known.version:
                assert snap == known, "a replay changed a balance snapshot"

    def _keep(self, kind: str, key: str, line: dict[str, Any]) -> None:
        known = self.rows[kind].setdefault(key, line)
        assert known == line, f"a replay changed {kind} {key}"

    def outputs(self) -> dict[str, list[str]]:
        lines = [
            serialize.balance_line(
                BalanceLine(s.party_type, s.party, s.balance, s.currency, s.blocked)
            )
            for s in self.balances.values()
        ]
        got = {kind: canonical(list(rows.values())) for kind, rows in self.rows.items()}
        return {**got, "balances": canonical(lines)}


class Worker:
    """One worker process: stages over tables restored from the changelogs."""

    def __init__(
        self, catalog: Catalog, partitions: int, logs: dict[str, LoggedStore], days: int
    ) -> None:
        self.tables = {name: CommittedTable(logs[name]) for name in TABLES}
        rating, resellers, providers = (self.tables[name] for name in TABLES)
        self.stages: dict[str, Any] = {
            "rating": RatingStage(catalog, partitions, rating.get, rating.scan, days),
            RESELLERS: PartyStage(
                catalog, PartyType.RESELLER, partitions, resellers.get, resellers.scan, read_work
            ),
            PROVIDERS: PartyStage(
                catalog, PartyType.PROVIDER, partitions, providers.get, providers.scan, read_work
            ),
        }


def raw_messages(
    catalog: Catalog, events: list[Any], partitions: int, chunk: int, base: int = 0
) -> dict[Topic, list[bytes | list[Any]]]:
    router = Router(catalog)
    everything = [*openings(catalog), *events]
    topics: dict[Topic, list[bytes | list[Any]]] = defaultdict(list)
    for start in range(0, len(everything), chunk):
        batch: dict[int, list[Sequenced | Tick]] = defaultdict(list)
        last = min(start + chunk, len(everything)) - 1
        for seq in range(start, last + 1):
            event = everything[seq]
            batch[partition_of(router.key(event), partitions)].append(Sequenced(base + seq, event))
        for p in range(partitions):
            topics[("rating", p)].append([*batch[p], Tick(base + last)])
    return topics


def run_with_crashes(
    catalog: Catalog,
    events: list[Any],
    partitions: int,
    seed: int,
    crash_chance: float,
    days: int = 0,
) -> tuple[dict[str, list[str]], int]:
    """With `days`, a replay window that forgets ids as the sample's five days pass."""
    rnd = random.Random(seed)
    started = datetime(2026, 4, 1, tzinfo=UTC).timestamp()  # after the sample's calls
    base = int((started - SEQ_EPOCH) * 1000) << RUN_BITS
    topics = raw_messages(catalog, events, partitions, chunk=5, base=base)
    logs = {name: LoggedStore() for name in TABLES}
    flushed = dict.fromkeys(TABLES, 0)  # changelog records the broker surely has
    committed: dict[Topic, int] = defaultdict(int)
    warehouse = Warehouse()
    worker, position, crashes = Worker(catalog, partitions, logs, days), dict(committed), 0
    while True:
        ready = [t for t, messages in topics.items() if position.get(t, 0) < len(messages)]
        if not ready:
            break
        topic = rnd.choice(ready)
        role, partition = topic
        offset = position.get(topic, 0)
        message = topics[topic][offset]
        if role == "rating":
            out = worker.stages[role].process(partition, message)
        else:
            assert isinstance(message, bytes)
            work = read_work(message)
            out = worker.stages[role].process(partition, work.items, offset, message, work.origin)
        crash = rnd.random() < crash_chance
        if not (crash and rnd.random() < 0.3):  # delivered (the agent waits for this)...
            warehouse.insert(out)
            for target, items in out.work.items():
                topics[target].append(encode_work(items, Origin(partition, offset)))
            if not (crash and rnd.random() < 0.3):  # ...before the state is written
                worker.tables[role].write(partition, out.state)
                position[topic] = offset + 1
        if rnd.random() < 0.2:  # Faust flushes its producer, then commits offsets
            flushed = {name: len(logs[name].log) for name in TABLES}
            committed.update(position)
        if crash:
            crashes += 1
            for name in TABLES:  # the unflushed tail is lost at some point
                cut = rnd.randint(flushed[name], len(logs[name].log))
                logs[name] = restored(logs[name].log[:cut])
                flushed[name] = cut
            worker, position = Worker(catalog, partitions, logs, days), dict(committed)
    assert worker.stages[RESELLERS].pending() == worker.stages[PROVIDERS].pending() == 0
    return warehouse.outputs(), crashes


@pytest.mark.parametrize("seed", range(20))
def test_crashes_at_random_points_lose_and_double_nothing(seed: int) -> None:
    """About a thousand crashes over the twenty runs; half of them with a one-day replay
    window, so ids are forgotten (and their entries deleted) as the days pass."""
    partitions = 1 + seed % 4
    catalog, events = sample_events()
    expected = offline(catalog, events)
    days = 1 if seed % 2 else 0
    got, crashes = run_with_crashes(catalog, events, partitions, seed, 0.15, days)
    assert crashes > 0
    for name in ("rated", "postings", "alerts", "balances"):
        assert got.get(name, []) == expected[name], name
