"""A catalog's accounts held compactly: most carry nothing but the customer they belong to."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pipeline.catalog.model import NO_LIMIT, Account


class AccountTable(Mapping[str, Account]):
    """Accounts by id, read as `Account` values.

    A catalog may list millions of devices, nearly all of them an id and a customer. Such
    an account is stored as its customer's id string (shared with the customer, so
    nothing but the dict slot) and built again when it is looked up; an account with
    `funds_from` or a daily minutes limit is stored as it is. At a million accounts that
    is about 60 MiB less for every worker (docs/catalog.md, "Accounts").
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[str, str | Account] = {}

    def add(self, account: Account) -> None:
        """Add or replace an account."""
        plain = account.funds_from is None and account.daily_limit == NO_LIMIT
        self._entries[account.id] = account.customer if plain else account

    def update(self, other: AccountTable) -> None:
        """Add every account of `other`, replacing those with the same id."""
        self._entries.update(other._entries)

    def __getitem__(self, ident: str) -> Account:
        return _account(ident, self._entries[ident])

    def get(self, ident: str, default: Account | None = None) -> Account | None:  # type: ignore[override]
        entry = self._entries.get(ident)
        return default if entry is None else _account(ident, entry)

    def drawing(self) -> Iterator[Account]:
        """The accounts with `funds_from` (among those stored whole), without building the
        plain ones."""
        return (e for e in self._entries.values() if not isinstance(e, str) and e.funds_from)

    def customer_of(self, ident: str) -> str | None:
        """The account's customer id (None: no such account), without building it."""
        entry = self._entries.get(ident)
        return entry if isinstance(entry, str) or entry is None else entry.customer

    def __contains__(self, ident: object) -> bool:
        return ident in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"AccountTable({len(self)} accounts)"


def _account(ident: str, entry: str | Account) -> Account:
    """The account an entry stands for: a plain one is stored as its customer's id."""
    return Account(ident, entry) if isinstance(entry, str) else entry
