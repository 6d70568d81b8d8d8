"""Billing groups, partition keys, and the ordered merge of work from several partitions."""

import random

from hypothesis import given
from hypothesis import strategies as st

from pipeline.catalog.model import PartyType
from pipeline.engine.events import PartyWork, Tick
from pipeline.engine.ordering import OrderedMerge
from pipeline.engine.routing import Router, billing_groups, partition_of
from tests.builders import cdr
from tests.unit.engine.scenario import scenario


def test_shared_funds_put_customers_in_one_group() -> None:
    groups = billing_groups(scenario())
    assert groups["c1"] == groups["c2"] == "c1"  # account 1001 of c2 draws on c1
    assert groups["c3"] == "c3"


def test_keys() -> None:
    router = Router(scenario())
    assert router.cdr_key(cdr(account="1001")) == "group:c1"
    assert router.cdr_key(cdr(account="nobody")) == "account:nobody"
    assert router.party_key(PartyType.CUSTOMER, "c2") == "group:c1"
    assert router.party_key(PartyType.PROVIDER, "carrier-a") == "provider:carrier-a"
    assert partition_of("group:c1", 4) == partition_of("group:c1", 4)
    assert {partition_of(f"k{i}", 4) for i in range(100)} == {0, 1, 2, 3}


def work(seq: int, sub: int = 0) -> PartyWork:
    return PartyWork(seq, sub, "r1")


def test_nothing_is_released_until_every_source_has_ticked() -> None:
    merge = OrderedMerge(sources=2)
    assert merge.add([work(5), work(1), Tick(5, source=0)]) == []
    assert merge.watermark == -1
    released = merge.add([work(3), Tick(3, source=1)])
    assert [w.seq for w in released] == [1, 3]
    assert merge.pending() == 1
    assert [w.seq for w in merge.add([Tick(9, source=1)])] == [5]


def test_ticks_never_go_backwards() -> None:
    merge = OrderedMerge(sources=1)
    merge.add([Tick(10, 0)])
    merge.add([Tick(4, 0)])
    assert merge.watermark == 10


@given(st.lists(st.integers(0, 3), min_size=1, max_size=200), st.randoms())
def test_any_interleaving_comes_out_in_global_order(owners: list[int], rnd: random.Random) -> None:
    """Each source sends its own items in order, interleaved arbitrarily with the others."""
    per_source: dict[int, list[PartyWork | Tick]] = {s: [] for s in range(4)}
    for seq, owner in enumerate(owners):
        per_source[owner].append(work(seq))
        if rnd.random() < 0.3:
            per_source[owner].append(Tick(seq, owner))
    for source in range(4):
        per_source[source].append(Tick(len(owners), source))
    merge = OrderedMerge(sources=4)
    out: list[int] = []
    cursors = dict.fromkeys(range(4), 0)
    while any(cursors[s] < len(per_source[s]) for s in range(4)):
        source = rnd.choice([s for s in range(4) if cursors[s] < len(per_source[s])])
        take = rnd.randint(1, 3)
        batch = per_source[source][cursors[source] : cursors[source] + take]
        cursors[source] += len(batch)
        out.extend(w.seq for w in merge.add(batch))
    assert out == list(range(len(owners)))
