"""Alerts: balance thresholds, blocking, provider and account status, daily minutes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from pipeline.catalog.model import PartyType


class AlertKind(enum.Enum):
    LOW_BALANCE = "low_balance"
    CREDIT_WARNING = "credit_warning"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    PROVIDER_DISABLED = "provider_disabled"
    PROVIDER_ENABLED = "provider_enabled"
    DAILY_MINUTES_THRESHOLD = "daily_minutes_threshold"
    DAILY_MINUTES_EXHAUSTED = "daily_minutes_exhausted"


@dataclass(frozen=True, slots=True)
class Alert:
    """Something an operator (or the customer) must hear about, once.

    `alert_id` is derived from the party, kind, level and the event that caused it,
    so replaying the same event yields the same id.
    """

    alert_id: str
    party_type: PartyType
    party: str
    kind: AlertKind
    at: datetime
    threshold: str = ""
    reason: str = ""
    details: tuple[tuple[str, str], ...] = ()


def make_alert(
    party_type: PartyType,
    party: str,
    kind: AlertKind,
    at: datetime,
    cause: str,
    *,
    threshold: str = "",
    reason: str = "",
    details: tuple[tuple[str, str], ...] = (),
    level: str = "",
) -> Alert:
    """An alert with its deterministic id `type/party/kind/level/cause`.

    `level` tells apart alerts of one kind for one event (defaults to threshold or reason).
    """
    level = level or threshold or reason
    alert_id = f"{party_type.value}/{party}/{kind.value}/{level}/{cause}"
    return Alert(alert_id, party_type, party, kind, at, threshold, reason, details)
