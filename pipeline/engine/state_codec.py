"""Compact byte encodings of stage state for table changelogs (pure)."""

from __future__ import annotations

import json
from datetime import date

from pipeline.ledger.balances import BalanceState
from pipeline.ledger.packages import PackageUsage
from pipeline.limits.daily import DayUsage


def encode_balance(state: BalanceState) -> bytes:
    return json.dumps([state.balance, state.blocked, sorted(state.fired)]).encode()


def decode_balance(data: bytes) -> BalanceState:
    balance, blocked, fired = json.loads(data)
    return BalanceState(int(balance), bool(blocked), frozenset(fired))


def encode_package(usage: PackageUsage) -> bytes:
    return json.dumps([usage.cycle, usage.used]).encode()


def decode_package(data: bytes) -> PackageUsage:
    cycle, used = json.loads(data)
    return PackageUsage(str(cycle), int(used))


def encode_day(day: DayUsage) -> bytes:
    return json.dumps([day.day.isoformat(), day.seconds, list(day.fired), day.exhausted]).encode()


def decode_day(data: bytes) -> DayUsage:
    when, seconds, fired, exhausted = json.loads(data)
    return DayUsage(date.fromisoformat(when), int(seconds), tuple(fired), bool(exhausted))
