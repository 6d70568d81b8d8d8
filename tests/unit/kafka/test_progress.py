"""Which delivered offsets a sink writes and which ranges it reads directly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.kafka.progress import Progress, plan


def test_a_contiguous_batch_from_the_next_offset_is_written_as_is() -> None:
    step = plan(4, [4, 5, 6])
    assert step.write == [4, 5, 6]
    assert step.missing == []


def test_a_batch_after_a_gap_reads_the_gap_first() -> None:
    """The failure this exists for: @15 of a postings partition was never delivered
    after a rebalance, and @16.. were."""
    step = plan(15, [16, 17])
    assert step.missing == [(15, 16)]
    assert step.write == [16, 17]


def test_offsets_written_before_are_left_out_and_repeats_written_once() -> None:
    step = plan(10, [3, 9, 10, 12, 12])
    assert step.write == [10, 12]
    assert step.missing == [(11, 12)]


def test_a_partition_never_written_starts_at_zero() -> None:
    assert plan(None, [0, 1]).missing == []
    assert plan(None, [2]).missing == [(0, 2)]


@given(
    st.one_of(st.none(), st.integers(0, 50)),
    st.lists(st.integers(0, 80), max_size=30),
)
def test_every_offset_from_the_next_to_the_last_delivered_is_covered_once(
    expected: int | None, delivered: list[int]
) -> None:
    step = plan(expected, delivered)
    covered = list(step.write)
    for start, end in step.missing:
        assert start < end
        covered += range(start, end)
    start = expected or 0
    last = max((o for o in delivered if o >= start), default=start - 1)
    assert sorted(covered) == list(range(start, last + 1))
    assert step.write == sorted({o for o in delivered if o >= start})


def test_progress_never_moves_a_partition_back() -> None:
    progress = Progress()
    assert not progress.loaded and progress.next(0) is None
    progress.advance(0, 7)
    progress.load({0: 5, 1: 3})
    assert progress.loaded
    assert (progress.next(0), progress.next(1)) == (7, 3)
    progress.advance(1, 2)
    assert progress.next(1) == 3


def test_forgetting_makes_the_sink_load_again() -> None:
    progress = Progress()
    progress.load({0: 5})
    progress.forget()
    assert not progress.loaded and progress.next(0) is None
