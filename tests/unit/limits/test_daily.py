"""Daily minute limits: thresholds once a day in the party's timezone, disable at 100 %."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pipeline.catalog.model import DailyLimit, PartyType
from pipeline.limits.daily import DayUsage, Usage, apply

BERLIN = ZoneInfo("Europe/Berlin")
LIMIT = DailyLimit(10, (50, 80, 100), BERLIN)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def run(
    state: DayUsage | None, when: str, seconds: int, party_type: PartyType = PartyType.PROVIDER
) -> tuple[DayUsage | None, list[str]]:
    new, alerts = apply(state, Usage(at(when), seconds, f"cdr@{when}"), LIMIT, party_type, "p1")
    return new, [f"{a.kind.value}:{a.threshold or a.reason}@{a.at.isoformat()}" for a in alerts]


def test_thresholds_fire_once_and_disable_at_the_limit() -> None:
    state, alerts = run(None, "2026-03-20T09:00:00+00:00", 299)
    assert alerts == []
    state, alerts = run(state, "2026-03-20T09:10:00+00:00", 1)  # 300 s = 50 %
    assert alerts == ["daily_minutes_threshold:50@2026-03-20T09:10:00+00:00"]
    state, alerts = run(state, "2026-03-20T09:20:00+00:00", 300)  # 600 s = 100 %: 80 and 100
    assert alerts == [
        "daily_minutes_threshold:80@2026-03-20T09:20:00+00:00",
        "daily_minutes_threshold:100@2026-03-20T09:20:00+00:00",
        "daily_minutes_exhausted:daily_minutes_limit@2026-03-20T09:20:00+00:00",
        "provider_disabled:daily_minutes_limit@2026-03-20T09:20:00+00:00",
    ]
    state, alerts = run(state, "2026-03-20T09:30:00+00:00", 60)  # over the limit: no repeats
    assert alerts == []
    assert state == DayUsage(date(2026, 3, 20), 660, (50, 80, 100), True)


def test_day_is_the_local_day_and_next_day_enables() -> None:
    state, _ = run(None, "2026-03-20T10:00:00+00:00", 600)
    assert state is not None and state.exhausted
    # 22:30 UTC is 23:30 in Berlin: still March 20
    state, alerts = run(state, "2026-03-20T22:30:00+00:00", 60)
    assert alerts == []
    # 23:30 UTC is 00:30 on March 21 in Berlin: a new day, enabled at local midnight
    state, alerts = run(state, "2026-03-20T23:30:00+00:00", 60)
    assert alerts == ["provider_enabled:daily_minutes_limit@2026-03-21T00:00:00+01:00"]
    assert state == DayUsage(date(2026, 3, 21), 60)


def test_disabled_until_the_next_local_midnight() -> None:
    _, alerts = apply(
        None, Usage(at("2026-03-20T23:10:00+00:00"), 600, "c"), LIMIT, PartyType.PROVIDER, "p1"
    )
    untils = {a.kind.value: dict(a.details).get("until") for a in alerts}
    # 23:10 UTC is 00:10 on March 21 in Berlin: disabled until March 22 begins there
    assert untils == {
        "daily_minutes_threshold": None,
        "daily_minutes_exhausted": "2026-03-22T00:00:00+01:00",
        "provider_disabled": "2026-03-22T00:00:00+01:00",
    }


def test_late_call_for_a_past_day_is_not_counted() -> None:
    state, _ = run(None, "2026-03-21T10:00:00+00:00", 60)
    again, alerts = run(state, "2026-03-20T10:00:00+00:00", 600)
    assert again == state and alerts == []


def test_accounts_are_blocked_and_unblocked() -> None:
    state, alerts = run(None, "2026-03-20T10:00:00+00:00", 600, PartyType.ACCOUNT)
    assert alerts[-1].startswith("blocked:daily_minutes_limit")
    _, alerts = run(state, "2026-03-22T10:00:00+00:00", 1, PartyType.ACCOUNT)
    assert alerts == ["unblocked:daily_minutes_limit@2026-03-22T00:00:00+01:00"]


def test_zero_limit_means_none() -> None:
    state, alerts = apply(
        None,
        Usage(at("2026-03-20T10:00:00+00:00"), 10**6, "x"),
        DailyLimit(0),
        PartyType.PROVIDER,
        "p",
    )
    assert state is None and alerts == []
