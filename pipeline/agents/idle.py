"""A stream's events, with something to do whenever none has come for a while."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def with_idle(
    events: AsyncIterable[T], seconds: float, on_idle: Callable[[], Awaitable[None]]
) -> AsyncIterator[T]:
    """Yield `events`; each time none arrives for `seconds`, await `on_idle` first.

    The wait for the next event is not cancelled by the pause: it goes on in its own
    task, so an event that arrives while `on_idle` runs is yielded afterwards, not lost.
    """
    source = aiter(events)
    waiting: asyncio.Future[T] | None = None
    try:
        while True:
            if waiting is None:
                waiting = asyncio.ensure_future(anext(source))
            done, _ = await asyncio.wait((waiting,), timeout=seconds)
            if not done:
                await on_idle()
                continue
            finished, waiting = waiting, None
            try:
                event = finished.result()
            except StopAsyncIteration:
                return
            yield event
    finally:
        if waiting is not None:
            waiting.cancel()
