"""The compact account table: what goes in comes out equal, plain accounts kept small."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pipeline.catalog.accounts import AccountTable
from pipeline.catalog.model import NO_LIMIT, Account, DailyLimit

PLAIN = Account("a1", "c1")
PAID_BY_OTHER = Account("a2", "c2", funds_from="c1")
LIMITED = Account("a3", "c1", daily_limit=DailyLimit(60, (50, 100), ZoneInfo("Asia/Tokyo")))


def table(*accounts: Account) -> AccountTable:
    result = AccountTable()
    for account in accounts:
        result.add(account)
    return result


def test_every_kind_of_account_reads_back_equal() -> None:
    accounts = table(PLAIN, PAID_BY_OTHER, LIMITED)
    assert [accounts[a.id] for a in (PLAIN, PAID_BY_OTHER, LIMITED)] == [
        PLAIN,
        PAID_BY_OTHER,
        LIMITED,
    ]
    assert accounts["a1"].daily_limit is NO_LIMIT
    assert accounts.get("a3") is LIMITED
    assert accounts.get("a1") == PLAIN


def test_a_plain_account_is_held_as_its_customers_id_only() -> None:
    customer = "".join(["c", "1"])  # not an interned literal: the same object must be kept
    accounts = table(Account("a1", customer), LIMITED)
    stored = accounts._entries  # the point of the class: no Account object per device
    assert stored["a1"] is customer
    assert stored["a3"] is LIMITED


def test_it_is_a_read_only_mapping_in_insertion_order() -> None:
    accounts = table(LIMITED, PLAIN)
    assert list(accounts) == ["a3", "a1"]
    assert len(accounts) == 2
    assert "a1" in accounts and "zz" not in accounts
    assert 7 not in accounts  # type: ignore[comparison-overlap]  # any key may be asked
    assert accounts.get("zz") is None
    assert accounts.get("zz", PLAIN) is PLAIN
    assert accounts == {"a3": LIMITED, "a1": PLAIN}
    assert dict(accounts.items()) == {"a3": LIMITED, "a1": PLAIN}
    assert repr(accounts) == "AccountTable(2 accounts)"


def test_update_adds_the_others_accounts_and_replaces_same_ids() -> None:
    first = table(PLAIN, PAID_BY_OTHER)
    moved = Account("a1", "c9")
    first.update(table(moved, LIMITED))
    assert list(first.values()) == [moved, PAID_BY_OTHER, LIMITED]
