"""For any sequence of calls and payments, each party's postings add up to its balance."""

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.catalog.model import PartyType
from pipeline.engine.book import Book
from pipeline.engine.records import Payment
from pipeline.ledger.alerts import AlertKind
from tests.builders import cdr
from tests.unit.engine.scenario import scenario

START = datetime.fromisoformat("2026-03-20T00:00:00+00:00")


@dataclass(frozen=True)
class Call:
    account: str
    callee: str
    duration: int


@dataclass(frozen=True)
class Pay:
    party_type: str
    party: str
    recorded_by: str
    cents: int


calls = st.builds(
    Call,
    st.sampled_from(["1000", "1001", "2000", "3000", "4000", "9999"]),
    st.sampled_from(["4412", "447911", "3312", "1212", "9912", "8612", "x1"]),
    st.integers(0, 7_200),
)
payments = st.builds(
    lambda who, cents: Pay(who[0], who[1], who[2], cents),
    st.sampled_from(
        [
            ("customer", "c1", "r1"),
            ("customer", "c2", ""),
            ("customer", "c3", ""),
            ("reseller", "r1", ""),
            ("provider", "carrier-a", ""),
        ]
    ),
    st.integers(1, 5_000),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(calls, payments), max_size=60), st.integers(1, 7_200))
def test_postings_sum_to_balance_change(events: list[Call | Pay], gap: int) -> None:
    catalog = scenario()
    opening = {
        (PartyType.CUSTOMER, c.id): c.terms.opening_balance for c in catalog.customers.values()
    }
    opening |= {
        (PartyType.RESELLER, r.id): r.terms.opening_balance for r in catalog.resellers.values()
    }
    opening |= {(PartyType.PROVIDER, p.id): p.opening_balance for p in catalog.providers.values()}
    book = Book(catalog)
    outcome = book.open()
    totals: dict[tuple[PartyType, str], int] = defaultdict(int)
    for p in outcome.postings:
        totals[(p.party_type, p.party)] += p.amount
    blocked: dict[tuple[PartyType, str], list[AlertKind]] = defaultdict(list)
    for i, event in enumerate(events):
        at = START + timedelta(seconds=gap * i)
        if isinstance(event, Call):
            raw = cdr(
                f"e{i}",
                account=event.account,
                callee=event.callee,
                duration=event.duration,
                start=at.isoformat(),
            )
            result = book.rate(raw)
        else:
            amount = event.cents * 10_000
            payment = Payment(
                f"p{i}",
                at,
                PartyType(event.party_type),
                event.party,
                amount,
                "USD",
                event.recorded_by,
            )
            result = book.pay(payment)
        for p in result.postings:
            totals[(p.party_type, p.party)] += p.amount
        for a in result.alerts:
            if (
                a.kind in (AlertKind.BLOCKED, AlertKind.UNBLOCKED)
                and a.party_type is not PartyType.ACCOUNT
            ):
                blocked[(a.party_type, a.party)].append(a.kind)
    for key, state in book.balances.items():
        assert state.balance - opening[key] == totals.get(key, 0), key
        if key[0] is not PartyType.PROVIDER:
            terms = (book.catalog.customers.get(key[1]) or book.catalog.resellers[key[1]]).terms
            assert state.blocked == (state.balance + terms.credit_limit <= 0)
    for kinds in blocked.values():  # blocked and unblocked alternate: each fires once
        assert all(a != b for a, b in itertools.pairwise(kinds))
