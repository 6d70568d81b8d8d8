"""Whether a published catalog may replace the one in use: every party keeps its
currency and the partition its state lives in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from pipeline.catalog.model import Account, Catalog, Customer, Provider, Reseller
from pipeline.engine.routing import billing_groups

SHOWN = 20  # problems listed one by one; the rest are counted
T = TypeVar("T")


def succession_errors(before: Catalog, after: Catalog, *, published: bool = True) -> list[str]:
    """What makes `after` unfit to follow `before` (empty: it may), one line each.

    A party's balance is kept in its currency, so a party keeps its currency for good
    (DOMAIN.md: a customer holds one balance in its currency). A customer's and an
    account's state lives in the partition of its billing group (customers sharing
    funds), so an existing customer keeps its group and an account does not move to
    a customer of another group: the state would be read from, and written to, a
    partition other than the one that holds it. `after` is expected to carry the group
    names it inherits from `before` (`routing.inherited_names`): then only joining
    groups that exist changes a customer's group.

    A `before` that was never `published` (a worker's `CDR_CATALOG_DIR`) has no names of
    its own: the producer routes by the published catalogs, so its groups are compared
    under the names `after` carries.
    """
    if not published:
        before = replace(before, group_names=after.group_names)
    was = f"under catalog {before.version}" if before.version else "in the catalog in use"
    errors = [
        *_currency_changes("customer", before.customers, after.customers, _terms, was),
        *_currency_changes("reseller", before.resellers, after.resellers, _terms, was),
        *_currency_changes("provider", before.providers, after.providers, _own, was),
    ]
    groups_then, groups_now = billing_groups(before), billing_groups(after)
    for customer, group in groups_then.items():
        moved = groups_now.get(customer)
        if moved is not None and moved != group:
            errors.append(
                f"catalog.yaml: customers.{customer}: its billing group (customers linked by "
                f"funds_from) would change from {group} to {moved} {was}; its balance is "
                f"stored with its group, which cannot change: billing groups that exist "
                f"cannot be joined together (new customers may join one)"
            )
    for account in after.accounts:
        owner_then = _customer_of(before.accounts, account)
        if owner_then is None:
            continue
        owner_now = _customer_of(after.accounts, account)
        if owner_now == owner_then:
            continue  # its customer's group, if it changed, is reported above
        group_then, group_now = groups_then[owner_then], groups_now.get(owner_now or "")
        if group_now is not None and group_now != group_then:
            errors.append(
                f"catalog.yaml: accounts.{account}.customer: {owner_now} is in billing group "
                f"{group_now}, but the account's minutes are stored with group {group_then} "
                f"({owner_then}) {was}; an account can only move within its group (add a new "
                f"account id instead)"
            )
    if len(errors) > SHOWN:
        errors = [*errors[:SHOWN], f"... and {len(errors) - SHOWN} more like these"]
    return errors


def _currency_changes(
    kind: str, old: Mapping[str, T], new: Mapping[str, T], currency: Callable[[T], str], was: str
) -> list[str]:
    errors = []
    for party, then in old.items():
        now = new.get(party)
        if now is not None and currency(now) != currency(then):
            errors.append(
                f"catalog.yaml: {kind}s.{party}.currency: {currency(now)}, but its balance is "
                f"kept in {currency(then)} {was}; a party keeps its currency for good (add a "
                f"new {kind} with the new currency instead)"
            )
    return errors


def _terms(party: Customer | Reseller) -> str:
    return party.terms.currency


def _own(party: Provider) -> str:
    return party.currency


def _customer_of(accounts: Mapping[str, Account], account: str) -> str | None:
    """The account's customer; cheap on an AccountTable (no Account is built)."""
    customer_of: Callable[[str], str | None] | None = getattr(accounts, "customer_of", None)
    if customer_of is not None:
        return customer_of(account)
    found = accounts.get(account)
    return None if found is None else found.customer
