"""The rating, reseller and provider agents."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from typing import Any

from pipeline.agents.idle import with_idle
from pipeline.agents.publish import publish
from pipeline.app import Pipeline
from pipeline.engine.stages import StageOutput, missed_catalog
from pipeline.kafka.stalls import StallWatch
from pipeline.schemas.codec import decode_raw, read_work

log = logging.getLogger("cdr.agents")
IDLE_SECONDS = 1.0  # no message for this long: check for partitions stalled
BUSY_CHECK_SECONDS = 10.0  # and while messages come, check this often
Process = Callable[[int, Sequence[Any], int, bytes], StageOutput]


def register(p: Pipeline) -> None:
    """Attach the three stage agents to the app."""

    def rating(partition: int, items: Sequence[Any], _offset: int, _payload: bytes) -> StageOutput:
        assert p.rating is not None
        return p.rating.process(partition, items)

    def resellers(partition: int, work: Any, offset: int, payload: bytes) -> StageOutput:
        assert p.resellers is not None
        out = p.resellers.process(partition, work.items, offset, payload, work.origin)
        p.metrics.held_work.labels("resellers").set(p.resellers.pending())
        return out

    def providers(partition: int, work: Any, offset: int, payload: bytes) -> StageOutput:
        assert p.providers is not None
        out = p.providers.process(partition, work.items, offset, payload, work.origin)
        p.metrics.held_work.labels("providers").set(p.providers.pending())
        return out

    async def with_newer_catalog(
        message: Any, items: Sequence[Any], out: StageOutput
    ) -> StageOutput | None:
        """The batch rated again with the catalog published before it, if the catalog in
        use lacked something it needed and that one was not loaded yet; else None.

        `catalog publish` returns before the workers have loaded the catalog: a new
        account's calls, or a new party's opening, produced right after it could meet
        the old one (docs/delivery.md, "Messages that need a newer catalog").
        """
        p.catalog_marks.note(message.partition, message.headers)
        if not missed_catalog(out):
            return None
        used = p.catalog
        await p.catalog_published_by(message)
        if p.catalog is used:
            return None
        assert p.rating is not None
        p.rating.forget()  # the batch's changes, in memory only, go; the tables are read
        return p.rating.process(message.partition, items)

    rating_agent = _agent(p, "rating", "raw", decode_raw, rating, with_newer_catalog)
    p.app.agent(p.topics["raw"], name="cdr.rating")(rating_agent)
    for table, process in (("resellers", resellers), ("providers", providers)):
        agent = _agent(p, table, table, read_work, process)
        p.app.agent(p.topics[table], name=f"cdr.{table}")(agent)

    @p.app.timer(interval=5.0)  # type: ignore[untyped-decorator]
    async def report_lag() -> None:
        try:
            p.metrics.lag(p.consumer_lag())
        except Exception as error:  # a timer's exception would stop the whole worker
            log.warning("consumer lag not measured: %r", error)


def _agent(
    p: Pipeline,
    table: str,
    source: str,
    decode: Callable[[bytes], Sequence[Any]],
    process: Process,
    again: Callable[[Any, Any, StageOutput], Awaitable[StageOutput | None]] | None = None,
) -> Callable[[Any], Any]:
    """Decode, run the stage, deliver its output, then store its state as one commit.

    The order is what makes a kill at any point harmless. Output that was delivered
    before the state was stored is sent again, with the same ids, when the message is
    read again. State is stored only after its output is delivered, so a message whose
    state survived is skipped on replay without losing output. The commit makes the
    state all or nothing (`pipeline/engine/commits.py`); it also records the message as
    done, so the stage processes each offset once, in order, whatever offsets the
    consumer group commits (`Pipeline.next_offset`, `Pipeline.skipped`); when idle, and
    every so often while busy, it reads directly a partition the consumer has stopped
    delivering (`StallWatch`). `again` may replace a message's output by a second run.
    A rebalance waits for the message in hand to be acknowledged, and for that idle
    work, so state is always written by the partition's owner.
    """
    topic = p.topics[source].get_topic_name()

    async def handle(event: Any) -> None:
        message = event.message
        items = await p.decoded(event, decode)
        state: dict[str, bytes | None] = {}
        if items is not None:
            began = time.perf_counter()
            try:
                out = process(message.partition, items, message.offset, event.value)
                if again is not None and (redone := await again(message, items, out)):
                    out = redone
            except Exception as error:
                await p.fail(table, error, message)
            p.metrics.stage(table, out, time.perf_counter() - began)
            await publish(p, out, message.topic, message.partition, message.offset, event.value)
            state = out.state
        await p.write_state(table, message, state)

    watch = StallWatch()
    next_of = functools.partial(p.next_offset, table)
    checked = 0.0  # when catch_up last looked

    async def catch_up() -> None:
        nonlocal checked
        checked = time.monotonic()
        if not p.catalog_ready.is_set():
            return
        async with p.idle_work:  # a rebalance waits for it
            for partition, seen in watch.stalled(p.positions(topic, next_of)).items():
                for missed in await p.read_stalled(topic, partition, seen, "stage"):
                    stored = next_of(partition)
                    if not p.owns(topic, partition):
                        break
                    if stored is None or missed.message.offset >= stored:
                        await handle(missed)

    async def agent(stream: AsyncIterable[Any]) -> None:
        events = stream.events()  # type: ignore[attr-defined]
        async for event in with_idle(events, IDLE_SECONDS, catch_up):
            await p.catalog_ready.wait()
            stored = next_of(event.message.partition)
            offset = event.message.offset
            if stored is not None and offset < stored:
                continue  # done before: its state and outputs are in already
            if offset > (stored or 0):  # the consumer skipped some: read them
                for missed in await p.skipped(event.message, stored or 0, stored is not None):
                    await handle(missed)
            await handle(event)
            if time.monotonic() - checked > BUSY_CHECK_SECONDS:
                await catch_up()  # a partition may stall while others keep it busy

    agent.__name__ = f"{table}_agent"
    return agent
