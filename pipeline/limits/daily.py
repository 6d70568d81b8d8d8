"""Daily minute limits: usage per local day, threshold alerts once a day, disable at 100 %."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from pipeline.catalog.model import DailyLimit, PartyType
from pipeline.ledger.alerts import Alert, AlertKind, make_alert


@dataclass(frozen=True, slots=True)
class DayUsage:
    """Answered seconds a party carried on one local day, and which alarms fired that day."""

    day: date
    seconds: int = 0
    fired: tuple[int, ...] = ()
    exhausted: bool = False


@dataclass(frozen=True, slots=True)
class Usage:
    """One call's answered seconds, counted on the local day of its start."""

    start: datetime
    seconds: int
    cause: str


_STATUS = {
    PartyType.PROVIDER: (AlertKind.PROVIDER_DISABLED, AlertKind.PROVIDER_ENABLED),
    PartyType.ACCOUNT: (AlertKind.BLOCKED, AlertKind.UNBLOCKED),
}


def apply(
    state: DayUsage | None,
    usage: Usage,
    limit: DailyLimit,
    party_type: PartyType,
    party: str,
) -> tuple[DayUsage | None, list[Alert]]:
    """Count a call against the party's day; alert at each threshold and disable at 100 %.

    A party disabled by the limit is disabled until the next local day starts: its
    alerts say when (`until`). The enabling alert comes with its next call on a later
    day, dated at that day's local midnight: nothing else here knows the day has turned.
    A late call for a day before the current one does not count against any limit.
    """
    if limit.minutes <= 0:
        return state, []
    day = usage.start.astimezone(limit.timezone).date()
    disabled_kind, enabled_kind = _STATUS[party_type]
    alerts: list[Alert] = []
    if state is not None and day < state.day:
        return state, []
    if state is None or day > state.day:
        if state is not None and state.exhausted:
            midnight = datetime.combine(day, time(0), limit.timezone)
            alerts.append(
                make_alert(
                    party_type,
                    party,
                    enabled_kind,
                    midnight,
                    day.isoformat(),
                    reason="daily_minutes_limit",
                )
            )
        state = DayUsage(day)
    seconds = state.seconds + usage.seconds
    allowed = limit.minutes * 60
    crossed = [t for t in limit.thresholds if t not in state.fired and seconds * 100 >= t * allowed]
    exhausting = not state.exhausted and seconds >= allowed
    if not crossed and not exhausting:
        return DayUsage(day, seconds, state.fired, state.exhausted), alerts
    facts: tuple[tuple[str, str], ...] = (
        ("day", day.isoformat()),
        ("minutes_used", f"{Decimal(seconds) / 60:.2f}"),
        ("limit_minutes", str(limit.minutes)),
    )
    for threshold in crossed:
        alerts.append(
            make_alert(
                party_type,
                party,
                AlertKind.DAILY_MINUTES_THRESHOLD,
                usage.start,
                usage.cause,
                threshold=str(threshold),
                details=facts,
            )
        )
    if exhausting:  # disabled until the next local day starts (DOMAIN.md)
        until = datetime.combine(day + timedelta(days=1), time(0), limit.timezone)
        facts = (*facts, ("until", until.isoformat()))
        for kind in (AlertKind.DAILY_MINUTES_EXHAUSTED, disabled_kind):
            alerts.append(
                make_alert(
                    party_type,
                    party,
                    kind,
                    usage.start,
                    usage.cause,
                    reason="daily_minutes_limit",
                    details=facts,
                )
            )
    fired = (*state.fired, *crossed)
    return DayUsage(day, seconds, fired, state.exhausted or exhausting), alerts
