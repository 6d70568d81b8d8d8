"""Events that carry the offline order through the stream: sequenced work and watermarks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from pipeline.catalog.model import PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.engine.records import Payment
from pipeline.ledger.postings import Posting
from pipeline.limits.daily import Usage

PRODUCER = -1  # the `source` of a tick sent by the producer itself


@dataclass(frozen=True, slots=True)
class Opening:
    """A party enters the books: its opening balance (and a distributor's sale) apply."""

    party_type: PartyType
    party: str


@dataclass(frozen=True, slots=True)
class Sequenced:
    """A raw-topic event with its place `seq` in the global offline order."""

    seq: int
    event: RawCdr | Payment | Opening


@dataclass(frozen=True, slots=True)
class Tick:
    """Watermark: every event with `seq <= watermark` from `source` has been sent."""

    watermark: int
    source: int = PRODUCER


@dataclass(frozen=True, slots=True)
class PartyWork:
    """Work for a reseller or provider stage, ordered by (`seq`, `sub`).

    `posting` is applied to the party's balance; `usage` (providers only) counts minutes
    against its daily limit. Either may be absent.
    """

    seq: int
    sub: int
    party: str
    posting: Posting | None = None
    usage: Usage | None = None


class Origin(NamedTuple):
    """The rating stage's input message (raw partition, offset) whose processing sent a
    work message: the rating stage processes each partition's offsets once, in order,
    so a work message from an origin not after the last one seen is a repeat."""

    partition: int
    offset: int


class WorkMessage(NamedTuple):
    """A resellers- or providers-topic message: its work and ticks, and its origin
    (None when not known: written before the origin was recorded)."""

    items: list[PartyWork | Tick]
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class BalanceSnapshot:
    """A party's balance after the events applied so far; `version` grows with each."""

    party_type: PartyType
    party: str
    balance: int
    currency: str
    blocked: bool
    at: datetime
    version: int
