"""How `produce` groups events into raw messages (no broker)."""

from pipeline.engine.events import Sequenced, Tick
from pipeline.engine.routing import Router, partition_of
from pipeline.kafka.produce import raw_chunks
from tests.builders import catalog, cdr


def test_each_chunk_is_a_message_per_partition_ending_with_the_chunks_last_seq() -> None:
    router = Router(catalog([], customers=[], accounts=[], providers=[]))
    events = [cdr(f"c-{i}", account=f"a{i}") for i in range(5)]
    chunks = list(raw_chunks(events, 100, router, partitions=2, batch=2))
    assert [size for size, _ in chunks] == [4, 1]
    assert [[m[-1] for m in messages] for _, messages in chunks] == [
        [Tick(103), Tick(103)],
        [Tick(104), Tick(104)],
    ]
    for _, messages in chunks:
        for partition, items in enumerate(messages):
            for item in items[:-1]:
                assert isinstance(item, Sequenced)
                assert partition_of(router.key(item.event), 2) == partition
    numbered = sorted(
        (item.seq, item.event)
        for _, messages in chunks
        for items in messages
        for item in items
        if isinstance(item, Sequenced)
    )
    assert numbered == [(100 + n, e) for n, e in enumerate(events)]


def test_events_ending_on_a_chunks_edge_still_end_with_ticks_alone() -> None:
    router = Router(catalog([], customers=[], accounts=[], providers=[]))
    chunks = list(raw_chunks([cdr("c-0"), cdr("c-1")], 0, router, partitions=1, batch=2))
    assert chunks[-1] == (0, [[Tick(1)]])
