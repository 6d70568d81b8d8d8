"""The rating, reseller and provider agents."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Callable, Sequence
from typing import Any

from pipeline.agents.publish import publish
from pipeline.app import Pipeline
from pipeline.engine.events import PartyWork, Sequenced, Tick
from pipeline.engine.stages import StageOutput
from pipeline.schemas.codec import DecodeError, decode_raw, decode_work


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

    stages: list[tuple[str, str, Callable[[bytes], Sequence[Any]], Any]] = [
        ("raw", "rating", decode_raw, rating),
        ("resellers", "resellers", decode_work, resellers),
        ("providers", "providers", decode_work, providers),
    ]
    for topic, table, decode, process in stages:
        p.app.agent(p.topics[topic], name=f"cdr.{table}")(_agent(p, table, decode, process))

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
            try:
                items = decode(event.value)
            except DecodeError as error:
                await p.dead_letter(
                    message.topic,
                    message.partition,
                    message.offset,
                    error.reason,
                    error.detail,
                    event.value,
                )
                continue
            began = time.perf_counter()
            out = process(message.partition, items)
            p.write_state(table, out.state)
            p.metrics.stage(table, out, time.perf_counter() - began)
            await publish(p, out, message.topic, message.partition, message.offset)

    agent.__name__ = f"{table}_agent"
    return agent
