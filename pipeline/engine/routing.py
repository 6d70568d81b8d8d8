"""Where each event lives in the stream: billing groups and partition keys (pure)."""

from __future__ import annotations

import zlib

from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.engine.events import Opening
from pipeline.engine.records import Payment


def billing_groups(catalog: Catalog) -> dict[str, str]:
    """Customer -> group id: customers linked by shared funds share one group.

    A group's id is its smallest customer id, so it does not depend on catalog order.
    """
    parent = {customer: customer for customer in catalog.customers}

    def find(customer: str) -> str:
        while parent[customer] != customer:
            parent[customer] = parent[parent[customer]]
            customer = parent[customer]
        return customer

    for account in catalog.accounts.values():
        if account.funds_from is not None:
            a, b = find(account.customer), find(account.funds_from)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {customer: find(customer) for customer in catalog.customers}


def partition_of(key: str, partitions: int) -> int:
    """A stable partition for a key (crc32, the same in every process and release)."""
    return zlib.crc32(key.encode()) % partitions


class Router:
    """Keys of the rating stage (A) for raw events: `group:<id>` or `reseller:`/`provider:`."""

    __slots__ = ("_accounts", "_groups")

    def __init__(self, catalog: Catalog) -> None:
        groups = billing_groups(catalog)
        self._groups = groups
        self._accounts = {a.id: groups[a.customer] for a in catalog.accounts.values()}

    def cdr_key(self, cdr: RawCdr) -> str:
        group = self._accounts.get(cdr.account)
        return f"group:{group}" if group is not None else f"account:{cdr.account}"

    def party_key(self, party_type: PartyType, party: str) -> str:
        if party_type is PartyType.CUSTOMER:
            return f"group:{self._groups.get(party, party)}"
        return f"{party_type.value}:{party}"

    def key(self, event: RawCdr | Payment | Opening) -> str:
        if isinstance(event, RawCdr):
            return self.cdr_key(event)
        return self.party_key(event.party_type, event.party)
