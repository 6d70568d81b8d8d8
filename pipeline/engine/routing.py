"""Where each event lives in the stream: billing groups and partition keys (pure)."""

from __future__ import annotations

import zlib

from pipeline.catalog.model import Catalog, PartyType
from pipeline.cdrs.model import RawCdr
from pipeline.engine.events import Opening
from pipeline.engine.records import Payment


def billing_groups(catalog: Catalog) -> dict[str, str]:
    """Customer -> group id: customers linked by shared funds share one group.

    A group keeps the name it had in the catalogs published before (`group_names`, set
    by `catalog publish`: `inherited_names`); a group new to the catalogs is named by its
    smallest customer id, so it does not depend on catalog order.
    """
    named = catalog.group_names
    groups: dict[str, str] = {}
    for members in _linked(catalog):
        kept = {named[c] for c in members if c in named}
        name = min(kept) if kept else min(members)
        groups.update(dict.fromkeys(members, name))
    return groups


def inherited_names(before: Catalog, after: Catalog) -> dict[str, str]:
    """`after`'s `group_names`: each of its groups keeps the one name its customers'
    groups had in `before`, where that is not its smallest id. A group made of customers
    of several groups of `before` gets none: `succession_errors` refuses the join."""
    then = billing_groups(before)
    names: dict[str, str] = {}
    for members in _linked(after):
        kept = {then[c] for c in members if c in then}
        if len(kept) == 1 and (name := kept.pop()) != min(members):
            names.update(dict.fromkeys(members, name))
    return names


def _linked(catalog: Catalog) -> list[list[str]]:
    """The catalog's customers in groups linked by shared funds (`funds_from`)."""
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
    members: dict[str, list[str]] = {}
    for customer in catalog.customers:
        members.setdefault(find(customer), []).append(customer)
    return list(members.values())


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
