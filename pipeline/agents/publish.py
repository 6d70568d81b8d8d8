"""Send a stage's output to its topics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pipeline.app import Pipeline
from pipeline.engine.events import Origin
from pipeline.engine.stages import StageOutput
from pipeline.ledger.alerts import AlertKind
from pipeline.schemas import codec
from pipeline.schemas.batches import sized

T = TypeVar("T")
STATUS_KINDS = frozenset(
    {
        AlertKind.BLOCKED,
        AlertKind.UNBLOCKED,
        AlertKind.PROVIDER_DISABLED,
        AlertKind.PROVIDER_ENABLED,
    }
)


async def publish(
    p: Pipeline, out: StageOutput, topic: str, partition: int, offset: int, payload: bytes
) -> None:
    """Records to the output topics, work to the next stages (its origin: the message in
    hand, `partition` and `offset`), bad events to dead letters
    (with `payload`, the bytes of the message that carried them); returns once the
    broker has every one of them."""
    topics = p.topics
    sent: list[Awaitable[Any]] = []
    sent += await _sent(topics["rated"], codec.encode_rated, out.rated)
    sent += await _sent(topics["postings"], codec.encode_postings, out.postings)
    sent += await _sent(topics["alerts"], codec.encode_alerts, out.alerts)
    sent += await _sent(topics["balances"], codec.encode_balances, out.balances)
    for alert in out.alerts:
        if alert.kind in STATUS_KINDS:
            key = f"{alert.party_type.value}:{alert.party}".encode()
            status = codec.encode_alerts([alert])
            sent.append(await topics["status"].send(key=key, value=status))
    for (role, target), items in out.work.items():
        work = codec.encode_work(items, Origin(partition, offset))
        sent.append(await topics[role].send(value=work, partition=target))
    for reason, detail in out.dead:
        sent.append(await p.dead_letter(topic, partition, offset, reason, detail, payload))
    await asyncio.gather(*sent)


async def _sent(
    topic: Any, encode: Callable[[Sequence[T]], bytes], items: Sequence[T]
) -> list[Awaitable[Any]]:
    """`items` sent to an output topic, in messages under the broker's size limit (the
    sink takes each message on its own, so a large output may be split)."""
    return [await topic.send(value=value) for value in sized(encode, items)] if items else []
