"""Balance transitions: blocking, thresholds and provider balance limits, as pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.catalog.model import BalanceTerms, PartyType, Provider, Threshold, ThresholdKind
from pipeline.ledger.alerts import Alert, AlertKind, make_alert
from pipeline.rating.money import format_micro


@dataclass(frozen=True, slots=True)
class BalanceState:
    """A party's live balance (micro-units) and which of its alarms are currently raised.

    For a customer or reseller `blocked` means available funds are exhausted; for a
    provider it means disabled by its balance limit. `fired` holds the keys of the
    thresholds that have fired and not yet re-armed.
    """

    balance: int
    blocked: bool = False
    fired: frozenset[str] = frozenset()


def _crossed(threshold: Threshold, balance: int, credit_limit: int) -> bool:
    if threshold.kind is ThresholdKind.LOW_BALANCE:
        assert threshold.micro is not None
        return balance + credit_limit <= threshold.micro
    used = max(0, -balance)  # a warning once the credit used exceeds the level (seed 002)
    if threshold.share is not None:
        return credit_limit > 0 and used > threshold.share * credit_limit
    assert threshold.micro is not None
    return used > threshold.micro


def _raised(terms: BalanceTerms, balance: int) -> frozenset[str]:
    return frozenset(t.key for t in terms.thresholds if _crossed(t, balance, terms.credit_limit))


def open_balance(terms: BalanceTerms) -> BalanceState:
    """The state before the first event: opening balance, silently blocked or past thresholds."""
    balance = terms.opening_balance
    return BalanceState(balance, balance + terms.credit_limit <= 0, _raised(terms, balance))


def apply_to_balance(
    state: BalanceState,
    terms: BalanceTerms,
    amount: int,
    party_type: PartyType,
    party: str,
    at: datetime,
    cause: str,
) -> tuple[BalanceState, list[Alert]]:
    """Post `amount` to a customer or reseller balance; alert on blocking and thresholds.

    A charge is always applied in full, even past the credit limit. Each threshold fires
    once when crossed downward and re-arms when the balance is lifted back above it.
    """
    balance = state.balance + amount
    available = balance + terms.credit_limit
    blocked = available <= 0
    raised = _raised(terms, balance) if terms.thresholds else state.fired
    if blocked == state.blocked and raised <= state.fired:
        return BalanceState(balance, blocked, raised), []  # the common case: nothing to say
    facts = (
        ("balance", format_micro(balance)),
        ("available", format_micro(available)),
        ("currency", terms.currency),
    )
    alerts: list[Alert] = []
    if blocked != state.blocked:
        kind = AlertKind.BLOCKED if blocked else AlertKind.UNBLOCKED
        alerts.append(make_alert(party_type, party, kind, at, cause, details=facts))
    for threshold in terms.thresholds:
        if threshold.key in raised and threshold.key not in state.fired:
            kind = AlertKind(threshold.kind.value)
            alerts.append(
                make_alert(
                    party_type,
                    party,
                    kind,
                    at,
                    cause,
                    threshold=threshold.level,
                    details=(*facts, ("audience", threshold.audience.value)),
                    level=threshold.key,
                )
            )
    return BalanceState(balance, blocked, raised), alerts


def open_provider(provider: Provider) -> BalanceState:
    limit = provider.balance_limit
    balance = provider.opening_balance
    return BalanceState(balance, limit is not None and balance >= limit)


def apply_to_provider(
    state: BalanceState, provider: Provider, amount: int, at: datetime, cause: str
) -> tuple[BalanceState, list[Alert]]:
    """Post to a provider's balance (what we owe it); disable it at its balance limit.

    A provider stays disabled until a payment brings the balance back under the limit.
    """
    balance = state.balance + amount
    limit = provider.balance_limit
    disabled = limit is not None and balance >= limit
    alerts: list[Alert] = []
    if disabled != state.blocked:
        kind = AlertKind.PROVIDER_DISABLED if disabled else AlertKind.PROVIDER_ENABLED
        details = (
            ("balance", format_micro(balance)),
            ("balance_limit", format_micro(limit or 0)),
            ("currency", provider.currency),
        )
        alerts.append(
            make_alert(
                PartyType.PROVIDER,
                provider.id,
                kind,
                at,
                cause,
                reason="balance_limit",
                details=details,
            )
        )
    return BalanceState(balance, disabled, state.fired), alerts
