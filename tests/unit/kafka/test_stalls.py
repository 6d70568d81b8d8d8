"""StallWatch: a partition is read directly only after two checks saw it behind, unmoved."""

from __future__ import annotations

from pipeline.kafka.stalls import DIRECT_READ_MESSAGES, Seen, StallWatch


def test_a_partition_behind_and_unmoved_for_two_checks_is_stalled() -> None:
    watch = StallWatch()
    seen = {0: Seen(next=11, read=10, end=17), 1: Seen(next=10, read=None, end=17)}
    assert watch.stalled(seen) == {}  # one check proves nothing
    assert watch.stalled(seen) == seen


def test_the_reader_or_the_consumer_moving_is_no_stall() -> None:
    watch = StallWatch()
    watch.stalled({0: Seen(10, 9, 17), 1: Seen(10, 9, 17)})
    now = {0: Seen(11, 9, 17), 1: Seen(10, 12, 17)}
    assert watch.stalled(now) == {}
    assert watch.stalled(now) == now  # and still so at the next check: stalled


def test_new_messages_arriving_undelivered_is_still_a_stall() -> None:
    watch = StallWatch()
    watch.stalled({0: Seen(10, 9, 17)})
    assert watch.stalled({0: Seen(10, 9, 30)}) == {0: Seen(10, 9, 30)}


def test_a_partition_read_to_its_end_is_never_stalled() -> None:
    watch = StallWatch()
    done = {0: Seen(17, 16, 17), 1: Seen(None, None, 0), 2: Seen(5, None, 5)}
    watch.stalled(done)
    assert watch.stalled(done) == {}


def test_an_unknown_end_may_hide_messages() -> None:
    watch = StallWatch()
    watch.stalled({0: Seen(None, None, None)})
    assert list(watch.stalled({0: Seen(None, None, None)})) == [0]


def test_a_check_without_the_partition_forgets_it() -> None:
    watch = StallWatch()
    watch.stalled({0: Seen(10, 9, 17)})
    watch.stalled({})  # during a rebalance the check sees nothing
    assert watch.stalled({0: Seen(10, 9, 17)}) == {}
    watch.forget()
    assert watch.stalled({0: Seen(10, 9, 17)}) == {}


def test_the_span_starts_at_the_next_offset_and_is_bounded() -> None:
    assert Seen(11, 10, 17).span() == (11, 17)
    assert Seen(None, None, 3).span() == (0, 3)
    assert Seen(5, None, 10_000).span() == (5, 5 + DIRECT_READ_MESSAGES)
    assert Seen(5, None, None).span() == (5, 5 + DIRECT_READ_MESSAGES)
