"""The rating, reseller and provider agents."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterable, Callable, Sequence
from typing import Any

from pipeline.agents.publish import publish
from pipeline.app import Pipeline
from pipeline.engine.events import PartyWork, Sequenced, Tick
from pipeline.engine.stages import StageOutput
from pipeline.schemas.codec import decode_raw, decode_work


def register(p: Pipeline) -> None:
    """Attach the three stage agents to the app."""

    def rating(partition: int, items: Sequence[Any]) -> StageOutput:
        assert p.rating is not None
        return p.rating.process(partition, items)

    def resellers(partition: int, items: Sequence[Any]) -> StageOutput:
        assert p.resellers is not None
        return p.resellers.process(partition, items)

    def providers(partition: int, items: Sequence[Any]) -> StageOutput:
        assert p.providers is not None
        return p.providers.process(partition, items)

    p.app.agent(p.topics["raw"], name="cdr.rating")(_agent(p, "rating", decode_raw, rating))
    for table, process in (("resellers", resellers), ("providers", providers)):
        agent = _held_agent(p, table, process)
        p.app.agent(p.topics[table], name=f"cdr.{table}")(agent)

    @p.app.timer(interval=5.0)  # type: ignore[untyped-decorator]
    async def report_lag() -> None:
        p.metrics.lag(p.consumer_lag())


def _agent(
    p: Pipeline,
    table: str,
    decode: Callable[[bytes], Sequence[Sequenced | Tick] | Sequence[PartyWork | Tick]],
    process: Callable[[int, Sequence[Any]], StageOutput],
) -> Callable[[Any], Any]:
    async def agent(stream: AsyncIterable[Any]) -> None:
        async for event in stream.events():  # type: ignore[attr-defined]
            await p.catalog_ready.wait()
            message = event.message
            items = await p.decoded(event, decode)
            if items is None:
                continue
            began = time.perf_counter()
            out = process(message.partition, items)
            p.write_state(table, out.state)
            p.metrics.stage(table, out, time.perf_counter() - began)
            await publish(p, out, message.topic, message.partition, message.offset)

    agent.__name__ = f"{table}_agent"
    return agent


def _held_agent(
    p: Pipeline, table: str, process: Callable[[int, Sequence[Any]], StageOutput]
) -> Callable[[Any], Any]:
    """A reseller or provider agent: a message is acknowledged only when every piece of
    work it carried has been applied, so work the ordered merge still holds back is read
    again after a restart instead of being lost (applying it twice is a no-op).

    Acknowledgements go strictly in offset order per partition: faust-streaming 0.15.3
    commits past an unacknowledged message sitting exactly at the committed offset
    (`Consumer._new_offset` tests `min(acked) - committed > 1`), so gaps must not occur.
    """

    async def agent(stream: AsyncIterable[Any]) -> None:
        owners: dict[int, Any] = {}  # id(work item) -> its event
        waiting: dict[Any, int] = {}  # event -> its items not yet applied
        queues: dict[int, deque[Any]] = {}  # partition -> its events not yet acknowledged
        seen_rebalances = p.rebalances
        async for event in stream.noack().events():  # type: ignore[attr-defined]
            await p.catalog_ready.wait()
            if p.rebalances != seen_rebalances:  # unacknowledged events are read again
                owners.clear()
                waiting.clear()
                queues.clear()
                seen_rebalances = p.rebalances
            message = event.message
            items = await p.decoded(event, decode_work)
            if items is None:
                waiting[event] = 0
                queues.setdefault(message.partition, deque()).append(event)
                _ack_in_order(queues[message.partition], waiting)
                continue
            work = [item for item in items if isinstance(item, PartyWork)]
            for item in work:
                owners[id(item)] = event
            waiting[event] = len(work)
            queues.setdefault(message.partition, deque()).append(event)
            began = time.perf_counter()
            out = process(message.partition, items)
            p.write_state(table, out.state)
            p.metrics.stage(table, out, time.perf_counter() - began)
            await publish(p, out, message.topic, message.partition, message.offset)
            for item in out.applied:
                owner = owners.pop(id(item), None)
                if owner is not None:
                    waiting[owner] -= 1
            for queue in queues.values():
                _ack_in_order(queue, waiting)

    agent.__name__ = f"{table}_agent"
    return agent


def _ack_in_order(queue: deque[Any], waiting: dict[Any, int]) -> None:
    """Acknowledge the partition's oldest events while their work is all applied."""
    while queue and waiting[queue[0]] <= 0:
        event = queue.popleft()
        del waiting[event]
        event.ack()
