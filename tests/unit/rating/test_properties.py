"""Properties of billed duration and cost that must hold for every deck row."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pipeline.rating.deck import DeckRow
from pipeline.rating.money import MICRO, Rounding
from pipeline.rating.tariff import exact_cost, to_micro
from tests.builders import row, tariff

rows = st.builds(
    lambda rate, setup, min_volume, interval, grace: row(
        "1",
        f"{rate / 10_000:.4f}",
        setup=f"{setup / 100:.2f}",
        min_volume=min_volume,
        interval=interval,
        grace=grace,
    ),
    rate=st.integers(0, 100_000),
    setup=st.integers(0, 500),
    min_volume=st.integers(0, 120),
    interval=st.integers(0, 120),
    grace=st.integers(0, 30),
)
durations = st.integers(0, 86_400)


@given(rows, durations)
def test_billed_seconds_rules(deck_row: DeckRow, answered: int) -> None:
    billed = deck_row.billed_seconds(answered)
    if answered == 0 or answered <= deck_row.grace_volume:
        assert billed == 0
        return
    step = deck_row.interval or 1
    assert billed >= answered
    assert billed >= deck_row.min_volume
    if answered > deck_row.min_volume:
        assert (billed - deck_row.min_volume) % step == 0
        assert billed - answered < step


@given(rows, durations, durations)
def test_billed_seconds_never_decrease_with_duration(deck_row: DeckRow, a: int, b: int) -> None:
    low, high = sorted((a, b))
    if low > deck_row.grace_volume:
        assert deck_row.billed_seconds(low) <= deck_row.billed_seconds(high)


@given(rows, durations, st.integers(0, 6), st.sampled_from(list(Rounding)))
def test_cost_is_rounded_once_from_the_exact_value(
    deck_row: DeckRow, answered: int, decimals: int, rounding: Rounding
) -> None:
    t = tariff("t", [deck_row], decimals=decimals, rounding=rounding)
    billed = deck_row.billed_seconds(answered)
    exact = (Fraction(deck_row.setup_fee) if billed else 0) + Fraction(deck_row.rate) * billed / 60
    cost = Fraction(to_micro(exact_cost(deck_row, billed), t), MICRO)
    unit = Fraction(1, 10**decimals)
    assert abs(cost - exact) < unit
    if rounding is Rounding.UP:
        assert cost >= exact
    elif rounding is Rounding.DOWN:
        assert cost <= exact
    else:
        assert abs(cost - exact) <= unit / 2
    assert cost % unit == 0
