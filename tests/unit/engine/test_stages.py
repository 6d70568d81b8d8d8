"""The stream's stages, wired in-process with random interleavings, equal the offline book."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.catalog.loader import load_catalog
from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.cdrs.readers import read_cdrs
from pipeline.engine import serialize
from pipeline.engine.book import BalanceLine, Book
from pipeline.engine.events import Opening, Origin, PartyWork, Sequenced, Tick
from pipeline.engine.ordering import time_order
from pipeline.engine.records import Payment
from pipeline.engine.routing import Router, partition_of
from pipeline.engine.stages import PROVIDERS, RESELLERS, PartyStage, RatingStage, StageOutput
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.offline.payments import read_payments

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
NY = ZoneInfo("America/New_York")


def sample_events() -> tuple[Catalog, list[RawCdr | Payment]]:
    catalog = load_catalog(SAMPLES / "catalog")
    cdrs = [
        cdr
        for name in ("calls.csv", "Master.csv", "freeswitch.csv")
        for cdr in read_cdrs(SAMPLES / "cdrs" / name, source_tz=NY)
    ]
    payments = read_payments(SAMPLES / "payments.csv", catalog)
    return catalog, time_order(cdrs, payments)


def openings(catalog: Catalog) -> list[Opening]:
    return [
        *(Opening(PartyType.CUSTOMER, c) for c in catalog.customers),
        *(Opening(PartyType.RESELLER, r) for r in catalog.resellers),
        *(Opening(PartyType.PROVIDER, p) for p in catalog.providers),
    ]


def canonical(lines: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(line, sort_keys=True) for line in lines)


def offline(catalog: Catalog, events: list[RawCdr | Payment]) -> dict[str, list[str]]:
    book = Book(catalog)
    outcomes = [book.open()]
    outcomes += [book.pay(e) if isinstance(e, Payment) else book.rate(e) for e in events]
    return {
        "rated": canonical([serialize.rated_line(o.rated) for o in outcomes if o.rated]),
        "postings": canonical([serialize.posting_line(p) for o in outcomes for p in o.postings]),
        "alerts": canonical([serialize.alert_line(a) for o in outcomes for a in o.alerts]),
        "balances": canonical([serialize.balance_line(b) for b in book.balance_lines()]),
    }


def interleave(queues: dict[Any, list[Any]], rnd: random.Random) -> list[tuple[Any, Any]]:
    """Deliver each queue in its own order, queues interleaved at random."""
    order: list[tuple[Any, Any]] = []
    cursors = dict.fromkeys(queues, 0)
    while live := [q for q in queues if cursors[q] < len(queues[q])]:
        q = rnd.choice(live)
        order.append((q, queues[q][cursors[q]]))
        cursors[q] += 1
    return order


def stream(
    catalog: Catalog, events: list[RawCdr | Payment], partitions: int, chunk: int, seed: int
) -> dict[str, list[str]]:
    rnd = random.Random(seed)
    router = Router(catalog)
    everything: list[RawCdr | Payment | Opening] = [*openings(catalog), *events]
    raw: dict[int, list[list[Sequenced | Tick]]] = {p: [] for p in range(partitions)}
    for start in range(0, len(everything), chunk):  # the producer: a chunk, then ticks
        batch: dict[int, list[Sequenced | Tick]] = defaultdict(list)
        for seq in range(start, min(start + chunk, len(everything))):
            event = everything[seq]
            batch[partition_of(router.key(event), partitions)].append(Sequenced(seq, event))
        last = min(start + chunk, len(everything)) - 1
        for p in range(partitions):
            raw[p].append([*batch[p], Tick(last)])

    outputs: list[StageOutput] = []
    rating = RatingStage(catalog, partitions)
    channels: dict[tuple[str, int, int], list[list[PartyWork | Tick]]] = defaultdict(list)
    for p, message in interleave(raw, rnd):
        out = rating.process(p, message)
        outputs.append(out)
        for (role, target), items in out.work.items():
            channels[(role, p, target)].append(items)
    stages = {
        RESELLERS: PartyStage(catalog, PartyType.RESELLER, partitions),
        PROVIDERS: PartyStage(catalog, PartyType.PROVIDER, partitions),
    }
    for (role, _, target), message in interleave(channels, rnd):
        outputs.append(stages[role].process(target, message))
    assert stages[RESELLERS].pending() == stages[PROVIDERS].pending() == 0

    latest: dict[tuple[PartyType, str], Any] = {}
    for out in outputs:
        for snap in out.balances:
            key = (snap.party_type, snap.party)
            if key not in latest or snap.version >= latest[key].version:
                latest[key] = snap
    balances = [
        BalanceLine(s.party_type, s.party, s.balance, s.currency, s.blocked)
        for s in latest.values()
    ]
    return {
        "rated": canonical([serialize.rated_line(r) for o in outputs for r in o.rated]),
        "postings": canonical([serialize.posting_line(p) for o in outputs for p in o.postings]),
        "alerts": canonical([serialize.alert_line(a) for o in outputs for a in o.alerts]),
        "balances": canonical([serialize.balance_line(b) for b in balances]),
    }


@pytest.mark.parametrize(
    ("partitions", "chunk", "seed"), [(1, 50, 0), (3, 4, 1), (4, 1, 2), (4, 7, 3)]
)
def test_stream_stages_equal_the_offline_book(partitions: int, chunk: int, seed: int) -> None:
    catalog, events = sample_events()
    expected = offline(catalog, events)
    got = stream(catalog, events, partitions, chunk, seed)
    for name in ("rated", "postings", "alerts", "balances"):
        assert got[name] == expected[name], name
    assert len(expected["alerts"]) > 10 and len(expected["rated"]) == 35


def test_replaying_the_same_events_changes_nothing() -> None:
    catalog, events = sample_events()
    rating = RatingStage(catalog, 1)
    first = rating.process(0, [Sequenced(i, e) for i, e in enumerate(events)])
    again = rating.process(0, [Sequenced(1000 + i, e) for i, e in enumerate(events)])
    assert first.rated and not again.rated and not again.postings and not again.work
    assert again.duplicates == len(events)


def test_stage_state_survives_a_restart_through_its_table_entries() -> None:
    """A new stage reading the stored entries carries on exactly where the old one stopped."""
    catalog, events = sample_events()
    sequenced = [Sequenced(i, e) for i, e in enumerate(events)]
    table: dict[str, bytes] = {}

    def load(key: str) -> bytes | None:
        return table.get(key)

    def scan(prefix: str) -> list[bytes]:
        return [v for k, v in table.items() if k.startswith(prefix)]

    def persist(out: StageOutput) -> None:
        for key, value in out.state.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value

    half = len(sequenced) // 2
    first = RatingStage(catalog, 1, load, scan)
    outputs = [first.process(0, sequenced[:half])]
    persist(outputs[0])
    second = RatingStage(catalog, 1, load, scan)  # a restarted worker: empty memory
    replayed = second.process(0, sequenced[:half])
    assert replayed.duplicates == half and not replayed.rated and not replayed.postings
    outputs.append(second.process(0, sequenced[half:]))
    persist(outputs[-1])

    whole = RatingStage(catalog, 1).process(0, sequenced)
    rated = [serialize.rated_line(r) for o in outputs for r in o.rated]
    assert canonical(rated) == canonical([serialize.rated_line(r) for r in whole.rated])
    postings = [serialize.posting_line(p) for o in outputs for p in o.postings]
    assert canonical(postings) == canonical([serialize.posting_line(p) for p in whole.postings])
    assert sum(1 for k in table if k.startswith("s|")) == 2  # one entry per batch, not per id


def test_party_stage_watermarks_survive_a_restart() -> None:
    from pipeline.engine.ordering import OrderedMerge

    catalog, _ = sample_events()
    table: dict[str, bytes] = {}

    def scan(prefix: str) -> list[bytes]:
        return [v for k, v in table.items() if k.startswith(prefix)]

    first = PartyStage(catalog, PartyType.PROVIDER, 2, table.get, scan)
    out = first.process(1, [Tick(10, source=0)])
    table.update({k: v for k, v in out.state.items() if v is not None})
    restarted = PartyStage(catalog, PartyType.PROVIDER, 2, table.get, scan)
    work = PartyWork(5, 0, "carrier-a")  # an opening: nothing to post, state to create
    assert restarted.process(1, [work, Tick(7, source=1)]).applied == [work]
    assert OrderedMerge(2, {0: 10, 1: 7}).watermark == 7


def test_held_work_is_state_a_restarted_stage_applies_it() -> None:
    """Work still held when a worker stops is in its table, not in unacknowledged input."""
    from pipeline.engine.commits import CommittedTable
    from pipeline.schemas.codec import encode_work, read_work

    catalog, _ = sample_events()
    table = CommittedTable({})
    first = PartyStage(catalog, PartyType.PROVIDER, 2, table.get, table.scan, read_work)
    held: list[PartyWork | Tick] = [PartyWork(5, 0, "carrier-a"), Tick(7, source=1)]
    out = first.process(1, held, 3, encode_work(held))
    assert out.applied == [] and first.pending() == 1  # source 0 has not spoken yet
    table.write(1, out.state)
    assert table.scan("h|1|")

    restarted = PartyStage(catalog, PartyType.PROVIDER, 2, table.get, table.scan, read_work)
    replay = restarted.process(1, held, 3, encode_work(held))  # the same message again
    assert replay.applied == [] and restarted.pending() == 1  # held once, not twice
    table.write(1, replay.state)
    tick: list[PartyWork | Tick] = [Tick(9, source=0)]
    released = restarted.process(1, tick, 4, encode_work(tick))
    assert [w.party for w in released.applied] == ["carrier-a"]
    table.write(1, released.state)
    assert table.scan("h|1|") == [] and restarted.pending() == 0


def test_a_payment_the_catalog_refuses_is_a_dead_letter_and_the_batch_goes_on() -> None:
    catalog, events = sample_events()
    cdrs = [e for e in events if isinstance(e, RawCdr) and e.start is not None][:3]
    first = cdrs[0].start
    assert first is not None
    stranger = Payment("pay-x", first, PartyType.CUSTOMER, "no-such-customer", 5_000_000, "USD")
    batch = [
        Sequenced(0, cdrs[0]),
        Sequenced(1, stranger),
        *(Sequenced(i + 2, c) for i, c in enumerate(cdrs[1:])),
    ]
    out = RatingStage(catalog, 1).process(0, batch)
    assert [reason for reason, _ in out.dead] == ["bad_payment"]
    assert "no-such-customer" in out.dead[0][1]
    assert [r.cdr_id for r in out.rated] == [c.cdr_id for c in cdrs]  # the rest rated
    assert all(p.payment_id != "pay-x" for p in out.postings)


def _provider_work(seq: int, cdr_id: str) -> PartyWork:
    posting = Posting(
        f"{cdr_id}/provider/carrier-a",
        PartyType.PROVIDER,
        "carrier-a",
        -100_000,
        "USD",
        PostingKind.CALL,
        datetime(2026, 3, 20, 10, tzinfo=UTC),
        cdr_id,
    )
    return PartyWork(seq, 0, "carrier-a", posting)


def test_a_work_message_from_an_origin_taken_before_is_a_repeat() -> None:
    """The rating stage sends a message's work again after a crash: the provider stage
    recognises it by its origin, across a restart, without remembering any id."""
    from pipeline.engine.commits import CommittedTable
    from pipeline.schemas.codec import read_work

    catalog, _ = sample_events()
    table = CommittedTable({})

    def stage() -> PartyStage:
        return PartyStage(catalog, PartyType.PROVIDER, 1, table.get, table.scan, read_work)

    first = stage()
    work: list[PartyWork | Tick] = [_provider_work(5, "c5"), Tick(5, source=0)]
    out = first.process(0, work, 0, b"", Origin(0, 7))
    assert [p.posting_id for p in out.postings] == ["c5/provider/carrier-a"]
    table.write(0, out.state)
    assert len(first.store.seen) == 0  # no id kept

    restarted = stage()
    for origin in (Origin(0, 7), Origin(0, 6)):  # sent again, and an older one
        again = restarted.process(0, work, 1, b"", origin)
        assert (again.postings, again.applied, again.duplicates) == ([], [], 1)
        assert again.state == {}
    later: list[PartyWork | Tick] = [_provider_work(6, "c6"), Tick(6, source=0)]
    out = restarted.process(0, later, 2, b"", Origin(0, 8))
    assert [p.posting_id for p in out.postings] == ["c6/provider/carrier-a"]
    balance = {(b.party_type, b.party): b.balance for b in out.balances}
    assert balance[(PartyType.PROVIDER, "carrier-a")] == out.balances[-1].balance
    fresh: list[PartyWork | Tick] = [_provider_work(7, "c7"), Tick(7, source=0)]
    other = restarted.process(0, fresh, 3, b"", Origin(1, 0))
    assert [p.posting_id for p in other.postings] == ["c7/provider/carrier-a"]  # another source


def test_work_without_an_origin_is_checked_by_its_posting_id() -> None:
    catalog, _ = sample_events()
    stage = PartyStage(catalog, PartyType.PROVIDER, 1)
    work: list[PartyWork | Tick] = [_provider_work(5, "c5"), Tick(5, source=0)]
    assert len(stage.process(0, work).postings) == 1
    same: list[PartyWork | Tick] = [_provider_work(5, "c5"), Tick(6, source=0)]
    again = stage.process(0, same)
    assert (again.postings, again.duplicates) == ([], 1)


@pytest.mark.parametrize("party_type", [PartyType.CUSTOMER, PartyType.RESELLER, PartyType.PROVIDER])
def test_an_opening_of_a_party_not_in_the_catalog_is_a_dead_letter_and_the_batch_goes_on(
    party_type: PartyType,
) -> None:
    """A catalog published without the party, or whose openings came before the
    catalog did: the rating agent crashed on it over and over, and nothing else ran."""
    catalog, events = sample_events()
    cdrs = [e for e in events if isinstance(e, RawCdr) and e.start is not None][:2]
    batch = [
        Sequenced(0, cdrs[0]),
        Sequenced(1, Opening(party_type, "c8")),
        Sequenced(2, cdrs[1]),
    ]
    out = RatingStage(catalog, 1).process(0, batch)
    assert [reason for reason, _ in out.dead] == ["unknown_party"]
    detail = out.dead[0][1]
    assert f"opening of {party_type.value} c8" in detail and "catalog publish" in detail
    assert [r.cdr_id for r in out.rated] == [c.cdr_id for c in cdrs]  # the rest rated
    assert all(getattr(w, "party", "") != "c8" for work in out.work.values() for w in work)


@pytest.mark.parametrize(
    ("party_type", "role"), [(PartyType.RESELLER, RESELLERS), (PartyType.PROVIDER, PROVIDERS)]
)
def test_work_for_a_party_a_new_catalog_dropped_is_still_posted_in_full(
    party_type: PartyType, role: str
) -> None:
    """Priced under the catalog that had the party, applied after one without it was
    published: the stage raised KeyError, and the worker stopped on it for good."""
    from dataclasses import replace

    catalog, events = sample_events()
    items = [Sequenced(i, e) for i, e in enumerate([*openings(catalog), *events])]
    work = RatingStage(catalog, 1).process(0, [*items, Tick(len(items))]).work[(role, 0)]
    kept = PartyStage(catalog, party_type, 1).process(0, work)
    smaller = (
        replace(catalog, resellers={})
        if party_type is PartyType.RESELLER
        else replace(catalog, providers={})
    )
    stage = PartyStage(catalog, party_type, 1)
    stage.set_catalog(smaller)
    gone = stage.process(0, work)

    assert gone.postings == kept.postings and gone.postings  # every amount posted
    assert gone.alerts == []  # no terms: no block, no threshold
    if party_type is PartyType.PROVIDER:
        assert kept.alerts  # carrier-b's balance limit: disabled under the catalog that had it
    balances = {(b.party, b.balance, b.currency) for b in gone.balances}
    assert balances == {(b.party, b.balance, b.currency) for b in kept.balances}


def test_a_batch_misses_the_catalog_only_for_what_a_newer_catalog_could_have() -> None:
    from pipeline.engine.stages import missed_catalog

    catalog, events = sample_events()
    cdrs = [e for e in events if isinstance(e, RawCdr)]
    known = next(c for c in cdrs if c.defect is None and c.start is not None and c.duration)
    unknown = RawCdr("x-1", "9999", "9999", known.callee, known.start, 60, known.provider)
    out = RatingStage(catalog, 1).process(0, [Sequenced(0, known)])
    assert not missed_catalog(out)
    out = RatingStage(catalog, 1).process(0, [Sequenced(0, known), Sequenced(1, unknown)])
    assert [r.reason for r in out.rated if r.status == "unrated"] == ["unknown_account"]
    assert missed_catalog(out)
    bad_input = [c for c in cdrs if c.defect is not None]  # a defect is the row's fault
    assert bad_input and not missed_catalog(
        RatingStage(catalog, 1).process(0, [Sequenced(0, bad_input[0])])
    )
    opening = Sequenced(0, Opening(PartyType.CUSTOMER, "c8"))
    assert missed_catalog(RatingStage(catalog, 1).process(0, [opening]))
