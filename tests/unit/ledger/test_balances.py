"""Balances: blocking once, unblocking on payment, thresholds that fire once and re-arm."""

from datetime import UTC, datetime
from decimal import Decimal

from pipeline.catalog.model import (
    Audience,
    BalanceTerms,
    PartyType,
    Provider,
    Threshold,
    ThresholdKind,
)
from pipeline.ledger.alerts import AlertKind
from pipeline.ledger.balances import (
    BalanceState,
    apply_to_balance,
    apply_to_provider,
    open_balance,
    open_provider,
)
from tests.builders import money

AT = datetime(2026, 3, 20, tzinfo=UTC)
LOW = Threshold(ThresholdKind.LOW_BALANCE, Audience.CUSTOMER, micro=money("2"))
CREDIT_90 = Threshold(ThresholdKind.CREDIT_WARNING, Audience.ADMIN, share=Decimal("0.9"))


def post(
    state: BalanceState, terms: BalanceTerms, amount: str, cause: str = "e"
) -> tuple[BalanceState, list[str]]:
    new, alerts = apply_to_balance(state, terms, money(amount), PartyType.CUSTOMER, "c1", AT, cause)
    return new, [f"{a.kind.value}:{a.threshold}" if a.threshold else a.kind.value for a in alerts]


def test_prepaid_blocks_once_and_unblocks_on_payment() -> None:
    terms = BalanceTerms("USD", opening_balance=money("10"), thresholds=(LOW,))
    state = open_balance(terms)
    assert state == BalanceState(money("10"), False, frozenset())
    state, alerts = post(state, terms, "-7.5")
    assert alerts == []
    state, alerts = post(state, terms, "-0.5")  # available 2.00 <= 2: low balance
    assert alerts == ["low_balance:2.00"]
    state, alerts = post(state, terms, "-1")  # still low: does not fire again
    assert alerts == []
    state, alerts = post(state, terms, "-3")  # a call that happened is charged in full
    assert alerts == ["blocked"]
    assert state.balance == money("-2") and state.blocked
    state, alerts = post(state, terms, "-1")
    assert alerts == []
    state, alerts = post(state, terms, "3")  # payment: 0 available is still blocked
    assert alerts == [] and state.blocked
    state, alerts = post(state, terms, "1")  # available 1: unblocked, low balance still raised
    assert alerts == ["unblocked"]
    state, alerts = post(state, terms, "5")  # lifted above 2: re-armed, silently
    assert alerts == [] and state.fired == frozenset()
    state, alerts = post(state, terms, "-4.5")
    assert alerts == ["low_balance:2.00"]


def test_postpaid_credit_limit_and_percentage_warning() -> None:
    terms = BalanceTerms("USD", credit_limit=money("1000"), thresholds=(CREDIT_90,))
    state = open_balance(terms)
    state, alerts = post(state, terms, "-899.99")
    assert alerts == []
    state, alerts = post(state, terms, "-0.01")  # 900 of 1000 used: not above 90 %
    assert alerts == []
    state, alerts = post(state, terms, "-0.000001")  # above it
    assert alerts == ["credit_warning:90%"]
    state, alerts = post(state, terms, "-99.999999")  # available 0: blocked
    assert alerts == ["blocked"]
    state, alerts = post(state, terms, "200")
    assert alerts == ["unblocked"] and state.fired == frozenset()


def test_absolute_credit_warning() -> None:
    absolute = Threshold(ThresholdKind.CREDIT_WARNING, Audience.CUSTOMER, micro=money("50"))
    terms = BalanceTerms("USD", credit_limit=money("100"), thresholds=(absolute,))
    state, alerts = post(open_balance(terms), terms, "-50")  # at the level, not above it
    assert alerts == []
    state, alerts = post(state, terms, "-0.01")
    assert alerts == ["credit_warning:50.00"]


def test_opening_state_is_silent() -> None:
    terms = BalanceTerms("USD", opening_balance=0, thresholds=(LOW,))
    assert open_balance(terms) == BalanceState(0, True, frozenset({LOW.key}))


def test_alert_ids_are_deterministic() -> None:
    terms = BalanceTerms("USD", opening_balance=money("1"))
    _, first = apply_to_balance(
        open_balance(terms), terms, money("-1"), PartyType.CUSTOMER, "c1", AT, "cdr-9"
    )
    _, again = apply_to_balance(
        open_balance(terms), terms, money("-1"), PartyType.CUSTOMER, "c1", AT, "cdr-9"
    )
    assert (
        [a.alert_id for a in first] == [a.alert_id for a in again] == ["customer/c1/blocked//cdr-9"]
    )


def test_provider_disabled_at_balance_limit_until_paid() -> None:
    provider = Provider("carrier-a", "t", "EUR", balance_limit=money("100"))
    state = open_provider(provider)
    state, alerts = apply_to_provider(state, provider, money("99.99"), AT, "x")
    assert alerts == []
    state, alerts = apply_to_provider(state, provider, money("0.01"), AT, "y")
    assert [a.kind for a in alerts] == [AlertKind.PROVIDER_DISABLED] and state.blocked
    state, alerts = apply_to_provider(state, provider, money("5"), AT, "z")
    assert alerts == []
    state, alerts = apply_to_provider(
        state, provider, money("-5"), AT, "pay"
    )  # back to 100: still at limit
    assert alerts == []
    state, alerts = apply_to_provider(state, provider, money("-0.01"), AT, "pay2")
    assert [a.kind for a in alerts] == [AlertKind.PROVIDER_ENABLED] and not state.blocked


def test_provider_without_limit_is_never_disabled() -> None:
    provider = Provider("p", "t", "USD")
    state, alerts = apply_to_provider(open_provider(provider), provider, money("1000000"), AT, "x")
    assert alerts == [] and not state.blocked
