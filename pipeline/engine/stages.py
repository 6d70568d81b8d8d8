"""The stream's stateful stages as plain classes: batches in, batches and state changes out.

The Faust agents only decode, call `process`, write the changed state to their table and
send what comes back, so everything here is tested without Kafka.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.engine import state_codec
from pipeline.engine.book import Book, Deferred, Outcome, PartyKey
from pipeline.engine.calls import PackageKey
from pipeline.engine.events import (
    BalanceSnapshot,
    Opening,
    Origin,
    PartyWork,
    Sequenced,
    Tick,
    WorkMessage,
)
from pipeline.engine.ordering import OrderedMerge
from pipeline.engine.origins import Origins
from pipeline.engine.payments import PaymentError
from pipeline.engine.records import Payment, RatedCdr
from pipeline.engine.routing import partition_of
from pipeline.engine.seen import Scan, SeenIds
from pipeline.engine.tracked import TrackedDict
from pipeline.engine.window import ReplayWindow, day_of
from pipeline.ledger.alerts import Alert
from pipeline.ledger.balances import BalanceState
from pipeline.ledger.packages import PackageUsage
from pipeline.ledger.postings import Posting
from pipeline.limits.daily import DayUsage

RESELLERS = "resellers"
PROVIDERS = "providers"
ROLE_OF = {PartyType.RESELLER: RESELLERS, PartyType.PROVIDER: PROVIDERS}
EPOCH = datetime.fromtimestamp(0, UTC)

Load = Callable[[str], bytes | None]
Decode = Callable[[bytes], WorkMessage]
_OFFSET = struct.Struct(">q")


@dataclass(slots=True)
class StageOutput:
    """Everything one batch produced: records to publish, work for other stages, state."""

    rated: list[RatedCdr] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    balances: list[BalanceSnapshot] = field(default_factory=list)
    work: dict[tuple[str, int], list[PartyWork | Tick]] = field(default_factory=dict)
    dead: list[tuple[str, str]] = field(default_factory=list)  # (reason, detail)
    applied: list[PartyWork] = field(default_factory=list)  # work released and applied
    state: dict[str, bytes | None] = field(default_factory=dict)
    duplicates: int = 0
    too_late: int = 0  # CDRs dead-lettered as too late to tell from a repeat


# what a batch can lack from the catalog in use: a newer one may have it
CATALOG_MISSES = frozenset(
    {
        "unknown_account",
        "unknown_provider",
        "no_rate",
        "no_reseller_rate",
        "no_provider_rate",
        "no_exchange_rate",
        "bad_duration",  # longer than the catalog's max_call_seconds
        "unknown_party",
        "bad_payment",
    }
)


def missed_catalog(out: StageOutput) -> bool:
    """Whether a batch unrated a CDR or dead-lettered an event for want of something in
    the catalog (an account, a rate, a party...) rather than for bad input."""
    return any(reason in CATALOG_MISSES for reason, _ in out.dead) or any(
        line.reason in CATALOG_MISSES for line in out.rated if line.status == "unrated"
    )


class _Store:
    """The Book's mappings over one stage table: typed keys and values, tracked changes."""

    def __init__(self, load: Load | None, scan: Scan | None) -> None:
        def via(prefix: str, decode: Callable[[bytes], object]) -> Callable[[object], object]:
            def fetch(key: object) -> object:
                raw = load(prefix + _key_text(key)) if load else None
                return None if raw is None else decode(raw)

            return fetch

        self.balances: TrackedDict[PartyKey, BalanceState] = TrackedDict(
            via("b|", state_codec.decode_balance)  # type: ignore[arg-type]
        )
        self.packages: TrackedDict[PackageKey, PackageUsage] = TrackedDict(
            via("p|", state_codec.decode_package)  # type: ignore[arg-type]
        )
        self.days: TrackedDict[PartyKey, DayUsage] = TrackedDict(
            via("d|", state_codec.decode_day)  # type: ignore[arg-type]
        )
        self.seen = SeenIds(scan)

    def book(self, catalog: Catalog, owns: frozenset[PartyType]) -> Book:
        return Book(catalog, owns, self.balances, self.packages, self.days, self.seen)

    def changes(self, seq: int) -> tuple[dict[str, bytes | None], list[PartyKey]]:
        state: dict[str, bytes | None] = dict(self.seen.take_new(seq))
        balances = self.balances.take_dirty()
        for key, value in balances.items():
            state["b|" + _key_text(key)] = state_codec.encode_balance(value) if value else None
        for pkey, usage in self.packages.take_dirty().items():
            state["p|" + _key_text(pkey)] = state_codec.encode_package(usage) if usage else None
        for dkey, day in self.days.take_dirty().items():
            state["d|" + _key_text(dkey)] = state_codec.encode_day(day) if day else None
        return state, list(balances)

    def forget(self) -> None:
        for mapping in (self.balances, self.packages, self.days, self.seen):
            mapping.forget()


def _key_text(key: object) -> str:
    if isinstance(key, tuple):
        return "|".join(k.value if isinstance(k, PartyType) else str(k) for k in key)
    return str(key)


class _Stage:
    def __init__(
        self,
        catalog: Catalog,
        owns: frozenset[PartyType],
        load: Load | None,
        scan: Scan | None,
    ) -> None:
        self.store = _Store(load, scan)
        self.owns = owns
        self.book = self.store.book(catalog, owns)

    def forget(self) -> None:
        """Drop what memory holds (partitions moved): the table is read again on use."""
        self.store.forget()

    def set_catalog(self, catalog: Catalog) -> None:
        """A newly published catalog applies to the events processed from now on."""
        self.book.catalog = catalog

    def _collect(self, outcome: Outcome, out: StageOutput) -> None:
        if outcome.duplicate:
            out.duplicates += 1
            return
        if outcome.rated is not None:
            out.rated.append(outcome.rated)
        out.postings.extend(outcome.postings)
        out.alerts.extend(outcome.alerts)

    def _finish(self, out: StageOutput, last_seq: int, last_at: datetime) -> StageOutput:
        state, changed = self.store.changes(last_seq)
        out.state.update(state)
        for party_type, party in changed:
            line = self.book.balance_line(party_type, party)
            out.balances.append(
                BalanceSnapshot(
                    line.party_type,
                    line.party,
                    line.balance,
                    line.currency,
                    line.blocked,
                    last_at,
                    last_seq,
                )
            )
        return out


class RatingStage(_Stage):
    """Stage A: rates CDRs and applies customer and account state of its billing groups."""

    def __init__(
        self,
        catalog: Catalog,
        partitions: int,
        load: Load | None = None,
        scan: Scan | None = None,
        replay_window_days: int = 0,
    ) -> None:
        owns = frozenset({PartyType.CUSTOMER, PartyType.ACCOUNT})
        super().__init__(catalog, owns, load, scan)
        self.partitions = partitions
        self.window = ReplayWindow(replay_window_days, load)

    def forget(self) -> None:
        super().forget()
        self.window.forget()

    def process(self, partition: int, events: Sequence[Sequenced | Tick]) -> StageOutput:
        out = StageOutput()
        seen, window = self.store.seen, self.window
        seen.use_partition(partition)
        last_seq, last_at = -1, EPOCH
        watermark = -1
        late: list[RawCdr] = []
        for item in events:
            if isinstance(item, Tick):
                watermark = max(watermark, item.watermark)
                continue
            event = item.event
            last_seq = item.seq
            try:
                if isinstance(event, RawCdr):
                    if window.too_late(partition, event.start):
                        late.append(event)
                        continue
                    seen.day = window.day(partition, event.start)
                    outcome = self.book.rate(event)
                    window.rated(partition, event.start, item.seq)
                    last_at = event.start or last_at
                elif isinstance(event, Payment):
                    seen.day = None
                    outcome = self.book.pay(event)
                    last_at = event.at
                else:
                    seen.day = None
                    if (missing := self._not_in_catalog(event)) is not None:
                        out.dead.append(("unknown_party", missing))
                        continue
                    outcome = self._open(event)
            except PaymentError as error:
                out.dead.append(("bad_payment", f"{_describe(event)}: {error}"))
                continue
            self._collect(outcome, out)
            for sub, deferred in enumerate(outcome.deferred):
                self._forward(out, item.seq, sub, deferred)
        if watermark >= 0:
            for role in (RESELLERS, PROVIDERS):
                for target in range(self.partitions):
                    out.work.setdefault((role, target), []).append(Tick(watermark, partition))
        if late:
            out.dead.append(("too_late", self._late(partition, late)))
            out.too_late = len(late)
        self._finish(out, last_seq, last_at)
        out.state.update(window.take(partition))
        cutoff = window.cutoff(partition)
        if cutoff is not None:
            out.state.update(seen.expire(day_of(cutoff)))
        return out

    def _late(self, partition: int, late: list[RawCdr]) -> str:
        """One dead letter's detail for a message's CDRs that came too late."""
        ids = ", ".join(cdr.cdr_id for cdr in late)
        return (
            f"{len(late)} CDR(s) started before {self.window.cutoff(partition)}, more than "
            f"{self.window.days} days before the newest call rated in raw partition "
            f"{partition}: ids that old are no longer kept, so a repeat could not be told "
            f"from a new call and nothing was charged. If they were never billed, raise "
            f"CDR_REPLAY_WINDOW_DAYS and produce them again. Ids: {ids}"
        )

    def _not_in_catalog(self, event: Opening) -> str | None:
        """Why an opening cannot be applied: its party is not in the catalog in use (a
        catalog published without it, or whose openings came before the catalog did)."""
        catalog = self.book.catalog
        if event.party in catalog.parties(event.party_type):
            return None
        return (
            f"{_describe(event)}: no such {event.party_type.value} in catalog "
            f"{catalog.version}; nothing was opened. Publish a catalog that has it "
            f"(`cdr-pipeline catalog publish DIR` sends its openings again; each party "
            f"opens once)"
        )

    def _open(self, event: Opening) -> Outcome:
        outcome = self.book.open_party(event.party_type, event.party)
        if event.party_type in self.owns or outcome.duplicate:
            return outcome
        return Outcome(deferred=(Deferred(event.party_type, event.party),))

    def _forward(self, out: StageOutput, seq: int, sub: int, deferred: Deferred) -> None:
        role = ROLE_OF[deferred.party_type]
        target = partition_of(f"{deferred.party_type.value}:{deferred.party}", self.partitions)
        work = PartyWork(seq, sub, deferred.party, deferred.posting, deferred.usage)
        out.work.setdefault((role, target), []).append(work)


def _describe(event: RawCdr | Payment | Opening) -> str:
    if isinstance(event, Payment):
        return f"payment {event.payment_id}"
    if isinstance(event, RawCdr):
        return f"cdr {event.cdr_id}"
    return f"opening of {event.party_type.value} {event.party}"


class PartyStage(_Stage):
    """Stage B (resellers) or C (providers): applies work in the global order.

    Work the ordered merge holds back is part of the state: a message's work is stored
    under `h|<partition>|<offset>` (its bytes, decoded again by `decode`) until all of it
    has been applied, so the message can be acknowledged at once and a restarted or
    rebalanced worker holds the same work.

    A repeated work message is recognised by its origin (`pipeline/engine/origins.py`);
    work without one (a message written before origins were recorded) falls back to
    the applied-id set, by posting id or usage cause.
    """

    def __init__(
        self,
        catalog: Catalog,
        kind: PartyType,
        sources: int,
        load: Load | None = None,
        scan: Scan | None = None,
        decode: Decode | None = None,
    ) -> None:
        super().__init__(catalog, frozenset({kind}), load, scan)
        self._scan = scan
        self._decode = decode
        self.kind = kind
        self.sources = sources
        self.merges: dict[int, OrderedMerge] = {}
        self.held: dict[int, dict[int, int]] = {}  # partition -> offset -> work not applied
        self._owner: dict[int, tuple[int, int]] = {}  # id(work) -> (partition, offset)
        self.origins = Origins(scan)
        self._by_id: set[int] = set()  # id(work) of work without an origin: checked by id

    def process(
        self,
        partition: int,
        items: Sequence[PartyWork | Tick],
        offset: int | None = None,
        payload: bytes = b"",
        origin: Origin | None = None,
    ) -> StageOutput:
        """Apply what the batch releases; with an `offset`, hold the rest as state.

        A message from an `origin` taken before is a repeat: nothing of it applies.
        """
        out = StageOutput()
        if origin is None:
            self._check_by_id(items)
        elif self.origins.repeats(partition, origin):
            out.duplicates = sum(isinstance(item, PartyWork) for item in items)
            return out
        else:
            out.state.update(self.origins.take(partition, origin))
        merge = self.merges.get(partition)
        incoming: list[PartyWork | Tick] = []
        if merge is None:
            merge = self.merges[partition] = OrderedMerge(self.sources, self._marks(partition))
            incoming.extend(self._restore(partition))
        before = merge.watermarks()
        held = self.held.setdefault(partition, {})
        if offset is None:
            incoming.extend(items)
        elif offset not in held:  # else restored from the table already
            incoming.extend(items)
            if self._hold(partition, offset, items):
                out.state[_held_key(partition, offset)] = _OFFSET.pack(offset) + payload
        self.store.seen.use_partition(partition)
        last_seq, last_at = -1, EPOCH
        for work in merge.add(incoming):
            if work.posting is not None:
                last_at = work.posting.at
            elif work.usage is not None:
                last_at = work.usage.start
            cause = None  # its message's origin was checked on arrival, unless:
            if id(work) in self._by_id:
                self._by_id.discard(id(work))
                cause = self._cause(work)
            last_seq = work.seq
            deferred = Deferred(self.kind, work.party, work.posting, work.usage)
            self._collect(self.book.apply(deferred, cause), out)
            out.applied.append(work)
            self._release(work, out.state)
        self._finish(out, last_seq, last_at)
        for source, mark in merge.watermarks().items():
            if before.get(source) != mark:  # watermarks are state: a restart needs them
                out.state[f"w|{partition}|{source}"] = json.dumps([source, mark]).encode()
        return out

    def _cause(self, work: PartyWork) -> str:
        """The id of work without an origin, for the applied-id set."""
        if work.posting is not None:
            return work.posting.posting_id
        if work.usage is not None:
            return f"usage:{work.usage.cause}:{work.party}"
        return f"opening:{self.kind.value}:{work.party}"

    def _check_by_id(self, items: Sequence[PartyWork | Tick]) -> None:
        """Work from a message without an origin: repeats are told by `_cause` ids."""
        self._by_id.update(id(item) for item in items if isinstance(item, PartyWork))

    def _hold(self, partition: int, offset: int, items: Sequence[PartyWork | Tick]) -> int:
        """Remember which message each piece of work came from; how many it carried."""
        count = 0
        for item in items:
            if isinstance(item, PartyWork):
                self._owner[id(item)] = (partition, offset)
                count += 1
        if count:
            self.held[partition][offset] = count
        return count

    def _release(self, work: PartyWork, state: dict[str, bytes | None]) -> None:
        owner = self._owner.pop(id(work), None)
        if owner is None:
            return
        partition, offset = owner
        held = self.held[partition]
        held[offset] -= 1
        if held[offset] == 0:
            del held[offset]
            key = _held_key(partition, offset)
            if state.get(key) is not None:  # held and released in the same batch
                del state[key]
            else:
                state[key] = None

    def _restore(self, partition: int) -> list[PartyWork | Tick]:
        """The work of messages still held when this partition was last written."""
        if self._scan is None or self._decode is None:
            return []
        restored: list[PartyWork | Tick] = []
        self.held.setdefault(partition, {})
        for value in self._scan(f"h|{partition}|"):
            (offset,) = _OFFSET.unpack_from(value)
            items, origin = self._decode(value[_OFFSET.size :])
            if origin is None:
                self._check_by_id(items)
            self._hold(partition, offset, items)
            restored.extend(items)
        return restored

    def _marks(self, partition: int) -> dict[int, int]:
        if self._scan is None:
            return {}
        marks = (json.loads(value) for value in self._scan(f"w|{partition}|"))
        return {int(source): int(mark) for source, mark in marks}

    def forget(self) -> None:
        """Also drop the merges and held work: the table has them for whoever owns the
        partition now."""
        super().forget()
        self.merges.clear()
        self.held.clear()
        self._owner.clear()
        self.origins.forget()
        self._by_id.clear()

    def pending(self) -> int:
        return sum(merge.pending() for merge in self.merges.values())


def _held_key(partition: int, offset: int) -> str:
    return f"h|{partition}|{offset:020d}"
