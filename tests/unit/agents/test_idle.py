"""A stream's events with idle work in the pauses between them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pipeline.agents.idle import with_idle


async def _slow(pauses: list[float]) -> AsyncIterator[int]:
    for n, pause in enumerate(pauses):
        await asyncio.sleep(pause)
        yield n


def test_idle_work_runs_in_pauses_and_loses_no_event() -> None:
    calls: list[float] = []

    async def on_idle() -> None:
        calls.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.15)  # longer than the pause: the next event arrives meanwhile

    async def run() -> list[int]:
        return [n async for n in with_idle(_slow([0, 0.25, 0, 0.25]), 0.1, on_idle)]

    assert asyncio.run(run()) == [0, 1, 2, 3]
    assert len(calls) >= 2  # once in each of the two pauses


def test_no_idle_work_while_events_keep_coming() -> None:
    calls: list[int] = []

    async def on_idle() -> None:
        calls.append(1)

    async def run() -> list[int]:
        return [n async for n in with_idle(_slow([0.01] * 20), 1.0, on_idle)]

    assert asyncio.run(run()) == list(range(20))
    assert calls == []


def test_stopping_the_reader_cancels_the_wait_for_the_next_event() -> None:
    closed: list[bool] = []

    async def endless() -> AsyncIterator[int]:
        try:
            yield 0
            await asyncio.sleep(60)
            yield 1
        finally:
            closed.append(True)

    async def noop() -> None:
        return None

    async def run() -> list[int]:
        got: list[int] = []

        async def read() -> None:
            async for n in with_idle(endless(), 0.05, noop):
                got.append(n)

        reader = asyncio.ensure_future(read())
        await asyncio.sleep(0.2)  # the reader waits for event 1, idling
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await asyncio.sleep(0)
        return got

    assert asyncio.run(run()) == [0]
    assert closed == [True]  # the source's wait was cancelled, not left behind
