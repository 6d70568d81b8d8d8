"""Hypothesis strategies for the domain records the codec carries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from pipeline.catalog.model import PartyType
from pipeline.cdrs.model import Defect, RawCdr
from pipeline.engine.events import BalanceSnapshot, Opening, PartyWork, Sequenced, Tick
from pipeline.engine.records import Payment, RatedCdr
from pipeline.ledger.alerts import Alert, AlertKind
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.limits.daily import Usage
from pipeline.schemas.codec import CatalogFile, DeadLetter

LONG = st.integers(-(2**63), 2**63 - 1)
COUNT = st.integers(0, 2**63 - 1)
INT = st.integers(-(2**31), 2**31 - 1)
text = st.text(max_size=12)
# Fixed offsets only: == between zones is False for fold-dependent ZoneInfo times (PEP 495).
offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23))
times = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.builds(timezone, offsets),
)
party_types = st.sampled_from(PartyType)

defects = st.builds(Defect, text, text)
raw_cdrs = st.builds(
    RawCdr,
    cdr_id=text,
    account=text,
    caller=text,
    callee=text,
    start=st.none() | times,
    duration=st.none() | COUNT,
    provider=text,
    disposition=text,
    source=text,
    defect=st.none() | defects,
)
payments = st.builds(Payment, text, times, party_types, text, LONG, text, text)
openings = st.builds(Opening, party_types, text)
ticks = st.builds(Tick, LONG, st.integers(-1, 2**31 - 1))
sequenced = st.builds(Sequenced, COUNT, raw_cdrs | payments | openings)
raw_events = st.lists(sequenced | ticks, max_size=8)

postings = st.builds(
    Posting, text, party_types, text, LONG, text, st.sampled_from(PostingKind), times, text, text
)
usages = st.builds(Usage, times, COUNT, text)
party_work = st.builds(
    PartyWork, COUNT, st.integers(0, 2**31 - 1), text, st.none() | postings, st.none() | usages
)
work_items = st.lists(party_work | ticks, max_size=8)

rated = st.builds(
    RatedCdr,
    cdr_id=text,
    status=st.sampled_from(["rated", "unrated"]),
    reason=text,
    detail=text,
    source=text,
    account=text,
    customer=text,
    payer=text,
    provider=text,
    code=text,
    code_name=text,
    start=st.none() | times,
    duration=st.none() | COUNT,
    billed_seconds=COUNT,
    covered_seconds=COUNT,
    cost=st.none() | LONG,
    currency=text,
    provider_cost=st.none() | LONG,
    provider_currency=text,
)
alerts = st.builds(
    Alert,
    text,
    party_types,
    text,
    st.sampled_from(AlertKind),
    times,
    text,
    text,
    st.lists(st.tuples(text, text), max_size=4).map(tuple),
)
balances = st.builds(BalanceSnapshot, party_types, text, LONG, text, st.booleans(), times, COUNT)
dead_letters = st.builds(DeadLetter, text, INT, LONG, text, text, st.binary(max_size=40), times)
catalog_files = st.builds(
    CatalogFile,
    text,
    st.from_regex(r"[a-z]{1,8}(/[a-z0-9_.-]{1,8}){0,2}", fullmatch=True).filter(
        lambda p: ".." not in p.split("/")
    ),
    st.binary(max_size=40),
    st.integers(1, 2**31 - 1),
)
