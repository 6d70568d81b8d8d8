"""The replay window: CDRs older than it are dead-lettered, ids older than it forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.catalog.loader import load_catalog
from pipeline.cdrs.model import RawCdr
from pipeline.engine.commits import CommittedTable
from pipeline.engine.events import Sequenced
from pipeline.engine.stages import RatingStage, StageOutput
from pipeline.engine.window import RUN_BITS, SEQ_EPOCH, ReplayWindow

CATALOG = load_catalog(Path(__file__).resolve().parents[3] / "samples" / "catalog")
MARCH = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
HOUR, FIVE_MINUTES = timedelta(hours=1), timedelta(minutes=5)


def numbered(cdrs: list[RawCdr], run_started: datetime) -> list[Sequenced]:
    """The CDRs as one `produce` run started at `run_started` numbers them."""
    base = int((run_started.timestamp() - SEQ_EPOCH) * 1000) << RUN_BITS
    return [Sequenced(base + i, cdr) for i, cdr in enumerate(cdrs)]


def calls(prefix: str, first: datetime, n: int, every: timedelta = HOUR) -> list[RawCdr]:
    return [
        RawCdr(f"{prefix}-{i}", "1000", "1000", "+442079460000", first + i * every, 60, "carrier-a")
        for i in range(n)
    ]


class Worker:
    """A rating stage over a committed table, restarted at will (memory dropped)."""

    def __init__(self, days: int) -> None:
        self.days = days
        self.table = CommittedTable({})
        self.stage = self.restart()

    def restart(self) -> RatingStage:
        """A new process over the same table."""
        self.stage = RatingStage(CATALOG, 1, self.table.get, self.table.scan, self.days)
        return self.stage

    def process(self, batch: list[Sequenced]) -> StageOutput:
        out = self.stage.process(0, batch)
        self.table.write(0, out.state)
        return out

    def id_entries(self) -> list[bytes]:
        return self.table.scan("s|0|")

    def fingerprints(self) -> int:
        return sum(len(bucket or ()) for bucket in self.stage.store.seen._buckets)


def test_a_cdr_older_than_the_window_is_a_dead_letter_and_charges_nothing() -> None:
    worker = Worker(days=35)
    march = calls("m", MARCH, 3)
    first = worker.process(numbered(march, MARCH + timedelta(days=1)))
    assert [r.status for r in first.rated] == ["rated"] * 3 and not first.dead
    may = MARCH + timedelta(days=60)
    worker.process(numbered(calls("may", may, 2), may + timedelta(hours=2)))

    again = worker.process(numbered(march, may + timedelta(days=1)))  # the March file again
    assert not again.rated and not again.postings and again.duplicates == 0
    assert again.too_late == 3
    [(reason, detail)] = again.dead
    assert reason == "too_late"
    assert "m-0, m-1, m-2" in detail and "CDR_REPLAY_WINDOW_DAYS" in detail
    assert "35 days" in detail


def test_within_the_window_a_repeat_is_still_recognised() -> None:
    worker = Worker(days=35)
    march = calls("m", MARCH, 3)
    worker.process(numbered(march, MARCH + timedelta(days=1)))
    later = MARCH + timedelta(days=20)
    worker.process(numbered(calls("l", later, 2), later + timedelta(hours=2)))
    again = worker.process(numbered(march, later + timedelta(days=1)))
    assert again.duplicates == 3 and not again.dead and not again.rated


def test_ids_of_days_before_the_window_are_forgotten_in_memory_and_in_the_table() -> None:
    worker = Worker(days=2)
    for day in range(6):  # one run a day, four calls each
        at = MARCH + timedelta(days=day)
        worker.process(numbered(calls(f"d{day}", at, 4, FIVE_MINUTES), at + HOUR))
    # newest start: day 5 09:15; cutoff: day 3 09:15; days 0, 1 and 2 forgotten
    assert worker.fingerprints() == 12
    assert len(worker.id_entries()) == 3
    assert all(b'"2026-03-2' in entry for entry in worker.id_entries())
    assert worker.table.get("n|0") == b"2026-03-25T09:15:00+00:00"

    worker.restart()
    day3 = calls("d3", MARCH + timedelta(days=3), 4, FIVE_MINUTES)
    out = worker.process(numbered(day3, MARCH + timedelta(days=7)))
    # d3-0..d3-2 started before the cutoff (day 3 09:15); d3-3 at 09:15 is in and a repeat
    assert out.too_late == 3 and out.duplicates == 1
    assert worker.fingerprints() == 12  # read back from the table: days 3 to 5


def test_a_call_dated_ahead_of_its_run_does_not_make_later_calls_too_late() -> None:
    worker = Worker(days=35)
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    bogus = calls("bogus", datetime(2099, 1, 1, tzinfo=UTC), 1)
    worker.process(numbered(bogus, now))
    assert worker.table.get("n|0") == now.isoformat().encode()  # not 2099
    today = worker.process(numbered(calls("t", now - HOUR, 2), now + HOUR))
    assert [r.cdr_id for r in today.rated] == ["t-0", "t-1"] and not today.dead


def test_without_a_window_nothing_is_too_late_and_ids_are_kept_for_good() -> None:
    worker = Worker(days=0)
    march = calls("m", MARCH, 3)
    worker.process(numbered(march, MARCH + timedelta(days=1)))
    later = MARCH + timedelta(days=400)
    worker.process(numbered(calls("l", later, 2), later))
    again = worker.process(numbered(march, later + timedelta(days=1)))
    assert again.duplicates == 3 and not again.dead
    assert worker.table.get("n|0") is None
    assert all(entry.startswith(b"[") for entry in worker.id_entries())  # kept for good


def test_the_window_alone() -> None:
    stored: dict[str, bytes | None] = {}
    window = ReplayWindow(10, stored.get)
    assert not window.too_late(0, MARCH) and window.day(0, None) is None
    window.rated(0, MARCH, 1 << 62)  # a seq far in the future: no clamp
    assert window.too_late(0, MARCH - timedelta(days=10, seconds=1))
    assert not window.too_late(0, MARCH - timedelta(days=10))
    assert not window.too_late(0, None)  # an unreadable start is left to the book
    assert window.day(0, None) == "2026-03-20"  # dated by the newest start
    assert window.day(1, None) is None  # another partition: nothing rated yet
    stored.update(window.take(0))
    assert window.take(0) == {}  # nothing moved since
    window.rated(0, MARCH - timedelta(hours=1), 1 << 62)  # older: newest stays
    assert window.take(0) == {}
    assert ReplayWindow(10, stored.get).cutoff(0) == MARCH - timedelta(days=10)
