"""When a raw message that needs a newer catalog waits for the catalog watcher (no broker)."""

from __future__ import annotations

import asyncio

import pytest

from pipeline.kafka.catalog_marks import (
    CATALOG_END_HEADER,
    CatalogMarks,
    catalog_end_header,
    catalog_end_of,
)


@pytest.mark.parametrize(
    ("headers", "end"),
    [
        (None, 0),
        ([], 0),
        (catalog_end_header(42), 42),
        ((("other", b"1"), (CATALOG_END_HEADER, b"7")), 7),  # as aiokafka gives them
        ({CATALOG_END_HEADER: b"12"}, 12),
        ([(CATALOG_END_HEADER, b"x1")], 0),  # not a number: no mark
        ([(CATALOG_END_HEADER, None)], 0),
    ],
)
def test_the_catalog_end_a_message_announces(headers: object, end: int) -> None:
    assert catalog_end_of(headers) == end  # type: ignore[arg-type]


def test_a_partition_needs_its_highest_mark_or_the_topics_end_at_start() -> None:
    marks = CatalogMarks(1.0)
    assert marks.needed(0) is None  # the end at start not known yet: never ready
    assert not marks.ready(0)
    marks.started(10)
    marks.started(99)  # only the first counts
    assert marks.needed(0) == 10
    marks.note(0, catalog_end_header(25))
    marks.note(0, catalog_end_header(20))  # an older publish's message, read later
    marks.note(0, None)
    assert (marks.needed(0), marks.needed(1)) == (25, 10)
    marks.read_through(10)
    assert (marks.ready(0), marks.ready(1)) == (False, True)
    marks.read_through(5)  # never backwards
    marks.read_through(25)
    assert marks.ready(0) and marks.read == 25


def test_a_message_waits_until_the_watcher_has_read_through_its_partitions_mark() -> None:
    marks = CatalogMarks(0.3)
    marks.started(4)
    marks.read_through(4)

    async def run() -> None:
        await asyncio.wait_for(marks.published_by(0, "x.raw[0]@1"), 0.05)  # no wait
        marks.note(0, catalog_end_header(6))
        waiting = asyncio.ensure_future(marks.published_by(0, "x.raw[0]@2"))
        await asyncio.sleep(0.15)
        assert not waiting.done()
        marks.read_through(6)  # the watcher has loaded (or refused) what was published
        await asyncio.wait_for(waiting, 0.2)
        # a mark the watcher never reaches: it goes on after the wait...
        marks.note(0, catalog_end_header(9))
        clock = asyncio.get_running_loop().time
        began = clock()
        await asyncio.wait_for(marks.published_by(0, "x.raw[0]@3"), 2)
        assert clock() - began >= 0.3
        assert marks.behind == 9
        # ...and no message waits again (a dead watcher would stall every one)...
        marks.note(1, catalog_end_header(12))
        await asyncio.wait_for(marks.published_by(1, "x.raw[1]@1"), 0.05)
        marks.read_through(8)
        await asyncio.wait_for(marks.published_by(1, "x.raw[1]@2"), 0.05)
        # ...until the watcher has read through what that wait needed
        marks.read_through(9)
        assert marks.behind is None
        waiting = asyncio.ensure_future(marks.published_by(1, "x.raw[1]@3"))
        await asyncio.sleep(0.15)
        assert not waiting.done()
        marks.read_through(12)
        await asyncio.wait_for(waiting, 0.2)

    asyncio.run(run())


def test_a_wait_that_ran_out_before_the_topics_end_was_known_ends_once_it_is_reached() -> None:
    marks = CatalogMarks(0.1)

    async def run() -> None:
        await asyncio.wait_for(marks.published_by(0, "x.raw[0]@1"), 2)  # runs out
        assert marks.behind == 0
        marks.read_through(3)  # read some, but the end at start is not known
        assert marks.behind == 0
        marks.started(5)
        assert marks.behind == 0
        marks.read_through(5)
        assert marks.behind is None

    asyncio.run(run())
