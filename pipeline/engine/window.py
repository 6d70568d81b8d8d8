"""How far back the rating stage still tells a repeated CDR from a new one (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

SEQ_EPOCH = 1_600_000_000  # seconds; a run's events are numbered from its start time
RUN_BITS = 20  # a million events per millisecond of start time; good for 270 years

Load = Callable[[str], bytes | None]


def run_started(seq: int) -> datetime:
    """When the `cdr-pipeline produce` run that numbered `seq` started (to the ms)."""
    return datetime.fromtimestamp(SEQ_EPOCH + (seq >> RUN_BITS) / 1000, UTC)


def day_of(moment: datetime) -> str:
    """The UTC day applied ids are kept under: `2026-03-20`."""
    return moment.astimezone(UTC).date().isoformat()


class ReplayWindow:
    """Per raw partition: the newest CDR start rated, and what that makes too late.

    A CDR that starts more than `days` before the newest start its partition has rated
    is too late: the ids of calls that old are forgotten (`SeenIds.expire`), so a repeat
    could no longer be told from a new call, and the stage dead-letters it instead of
    charging it. Within one `produce` run events come in start order, so only a later
    run's CDRs can be too late. The newest start moves forward only, and never past the
    time the run that sent the CDR started (read from its `seq`): a CDR dated years ahead
    cannot make every later call too late. It is stored under `n|<partition>` with the
    batch's other state. With 0 days nothing is too late and no id is forgotten.
    """

    __slots__ = ("_dirty", "_load", "_newest", "days", "span")

    def __init__(self, days: int, load: Load | None = None) -> None:
        self.days = days
        self.span = timedelta(days=days) if days > 0 else None
        self._load = load
        self._newest: dict[int, datetime | None] = {}
        self._dirty: set[int] = set()

    def newest(self, partition: int) -> datetime | None:
        """The newest start the partition has rated (None: none yet, or no window)."""
        if partition not in self._newest:
            raw = self._load(_key(partition)) if self._load and self.span else None
            self._newest[partition] = None if raw is None else datetime.fromisoformat(raw.decode())
        return self._newest[partition]

    def cutoff(self, partition: int) -> datetime | None:
        """CDRs starting before this are too late (None: nothing is)."""
        newest = self.newest(partition)
        return None if newest is None or self.span is None else newest - self.span

    def too_late(self, partition: int, start: datetime | None) -> bool:
        cutoff = self.cutoff(partition)
        return cutoff is not None and start is not None and start < cutoff

    def day(self, partition: int, start: datetime | None) -> str | None:
        """The day a CDR's id is kept under; None (kept for good) without a window, or
        with neither a start nor a newest start to date it by."""
        if self.span is None:
            return None
        moment = start or self.newest(partition)
        return None if moment is None else day_of(moment)

    def rated(self, partition: int, start: datetime | None, seq: int) -> None:
        """A CDR with `start`, numbered `seq`, was rated (or left unrated) here."""
        if self.span is None or start is None:
            return
        start = min(start, run_started(seq))
        newest = self.newest(partition)
        if newest is None or start > newest:
            self._newest[partition] = start
            self._dirty.add(partition)

    def take(self, partition: int) -> dict[str, bytes | None]:
        """The partition's newest start as state, if it moved since the last call."""
        if partition not in self._dirty:
            return {}
        self._dirty.discard(partition)
        newest = self._newest[partition]
        assert newest is not None
        return {_key(partition): newest.isoformat().encode()}

    def forget(self) -> None:
        self._newest.clear()
        self._dirty.clear()


def _key(partition: int) -> str:
    return f"n|{partition}"
