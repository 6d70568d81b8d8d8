"""The worker's garbage-collector settings."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from pipeline import heap


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


class Node:
    """A container that can be part of a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def test_tune_collects_young_objects_less_often_and_keeps_the_older_ratios() -> None:
    gc.set_threshold(700, 10, 10)
    heap.tune()
    assert gc.get_threshold() == (heap.YOUNG_OBJECTS, 10, 10)


def test_settle_moves_what_is_alive_out_of_the_collectors_reach() -> None:
    kept = [Node() for _ in range(100)]
    heap.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert not any(obj is kept[0] for obj in gc.get_objects())


def test_a_replaced_catalog_held_by_a_cycle_is_collected_at_the_next_settle() -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first  # only the collector can free these
    gone = weakref.ref(first)
    heap.settle()
    del first, second
    gc.collect()
    assert gone() is not None  # frozen: collections leave it alone
    heap.settle()
    assert gone() is None
