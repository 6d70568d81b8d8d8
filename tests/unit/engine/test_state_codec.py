"""Stage state survives its changelog encoding exactly."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from pipeline.engine import state_codec as codec
from pipeline.ledger.balances import BalanceState
from pipeline.ledger.packages import PackageUsage
from pipeline.limits.daily import DayUsage


@given(st.integers(-(2**62), 2**62), st.booleans(), st.frozensets(st.text(max_size=20)))
def test_balance(balance: int, blocked: bool, fired: frozenset[str]) -> None:
    state = BalanceState(balance, blocked, fired)
    assert codec.decode_balance(codec.encode_balance(state)) == state


@given(st.text(max_size=12), st.integers(0, 10**9))
def test_package(cycle: str, used: int) -> None:
    usage = PackageUsage(cycle, used)
    assert codec.decode_package(codec.encode_package(usage)) == usage


@given(
    st.dates(date(1970, 1, 1), date(2100, 12, 31)),
    st.integers(0, 10**7),
    st.lists(st.integers(1, 100), unique=True),
    st.booleans(),
)
def test_day(day: date, seconds: int, fired: list[int], exhausted: bool) -> None:
    usage = DayUsage(day, seconds, tuple(fired), exhausted)
    assert codec.decode_day(codec.encode_day(usage)) == usage
