"""The whole engine on worked examples: every side of a call, payments, commissions."""

from datetime import datetime

import pytest

from pipeline.catalog.model import Account, DailyLimit, PartyType
from pipeline.cdrs.model import Defect
from pipeline.engine.book import Book, Deferred, Outcome, PartyKey
from pipeline.engine.records import Payment
from pipeline.engine.tracked import TrackedDict
from pipeline.ledger.balances import BalanceState
from pipeline.limits.daily import Usage
from pipeline.rating.money import format_micro
from tests.builders import cdr, money, replace
from tests.unit.engine.scenario import scenario


def opened() -> Book:
    book = Book(scenario())
    book.open()
    return book


def amounts(outcome: Outcome) -> dict[str, str]:
    return {f"{p.party_type.value}:{p.party}": format_micro(p.amount) for p in outcome.postings}


def balance(book: Book, party_type: PartyType, party: str) -> str:
    return format_micro(book.balances[(party_type, party)].balance)


def test_opening_charges_the_distributor_its_sales_net_of_commission() -> None:
    book = Book(scenario())
    outcome = book.open()
    assert amounts(outcome) == {"reseller:r1": "-8.50"}  # 10 opening at 15 %
    assert outcome.postings[0].posting_id == "opening:c1/reseller/r1"
    assert balance(book, PartyType.RESELLER, "r1") == "-8.50"
    assert balance(book, PartyType.CUSTOMER, "c1") == "10.00"


def test_one_call_charges_every_level_and_credits_the_provider() -> None:
    book = opened()
    outcome = book.rate(cdr("call-1", account="1000", callee="+44 20 7946 0000", duration=61))
    line = outcome.rated
    assert line is not None
    assert (line.status, line.code, line.billed_seconds) == ("rated", "44", 120)
    assert amounts(outcome) == {
        "customer:c1": "-0.20",  # retail 0.10/min, 60 s minimum then 60 s steps: 120 s
        "reseller:r1": "-0.061",  # wholesale 0.06/min per second: 61 s
        "reseller:r0": "-0.0508",  # top 0.05/min: 0.050833 -> 0.0508
        "provider:carrier-a": "0.0305",  # buy 0.03 EUR/min: 0.0305 EUR
    }
    assert (line.cost, line.currency, line.provider_cost, line.provider_currency) == (
        money("0.20"),
        "USD",
        money("0.0305"),
        "EUR",
    )


def test_longer_code_with_setup_fee() -> None:
    outcome = opened().rate(cdr("c", callee="447911123456", duration=30))
    assert outcome.rated is not None and outcome.rated.code == "4479"
    assert amounts(outcome)["customer:c1"] == "-0.20"  # 0.05 setup + 0.30 * 30 / 60


def test_shared_funds_charge_the_funding_customer_but_report_the_own_one() -> None:
    book = opened()
    outcome = book.rate(cdr("c", account="1001", callee="33123", duration=60))
    line = outcome.rated
    assert line is not None and (line.customer, line.payer) == ("c2", "c1")
    assert amounts(outcome) == {"customer:c1": "-0.20", "provider:carrier-a": "0.05"}
    assert balance(book, PartyType.CUSTOMER, "c2") == "0.00"


def test_inclusive_minutes_cover_first_then_the_rest_is_charged() -> None:
    book = opened()
    first = book.rate(cdr("a", account="3000", callee="4412", duration=90))
    assert first.rated is not None and first.rated.covered_seconds == 60
    assert amounts(first)["customer:c3"] == "-0.10"  # 120 billed, 60 covered, 60 at 0.10
    second = book.rate(cdr("b", account="3000", callee="4412", duration=30))
    assert second.rated is not None and second.rated.covered_seconds == 0
    assert amounts(second)["customer:c3"] == "-0.10"  # the 60 s minimum, nothing left
    other = book.rate(cdr("c", account="3000", callee="3312", duration=30))
    assert other.rated is not None and other.rated.covered_seconds == 0  # 33 not in the package


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"account": "9999"}, "unknown_account"),
        ({"provider": "nobody"}, "unknown_provider"),
        ({"callee": "44abc"}, "bad_number"),
        ({"callee": "86123"}, "no_rate"),
        ({"callee": "99123"}, "no_provider_rate"),
        ({"duration": 86_401}, "bad_duration"),
        ({"account": "4000", "start": "2025-12-31T23:00:00+00:00"}, "no_exchange_rate"),
    ],
)
def test_unrated_reasons(change: dict[str, object], reason: str) -> None:
    kwargs: dict[str, object] = {"duration": 60} | change
    book = opened()
    outcome = book.rate(cdr("bad", **kwargs))  # type: ignore[arg-type]
    assert outcome.rated is not None
    assert (outcome.rated.status, outcome.rated.reason) == ("unrated", reason)
    assert outcome.postings == ()
    assert outcome.rated.detail


def test_defective_rows_stay_unrated_with_their_reason() -> None:
    raw = replace(cdr("x"), start=None, defect=Defect("bad_start", "year 9999 is out of range"))
    outcome = opened().rate(raw)
    assert outcome.rated is not None and outcome.rated.reason == "bad_start"


def test_payment_collected_by_a_distributor() -> None:
    book = opened()
    at = datetime.fromisoformat("2026-03-21T00:00:00+00:00")
    outcome = book.pay(Payment("pay-1", at, PartyType.CUSTOMER, "c1", money("10"), "USD", "r1"))
    assert amounts(outcome) == {"customer:c1": "10.00", "reseller:r1": "-9.00"}
    assert balance(book, PartyType.RESELLER, "r1") == "-17.50"


def test_provider_payment_lowers_its_balance_and_reenables_it() -> None:
    book = opened()
    first = book.rate(cdr("c1", callee="33", duration=600))  # 0.05 EUR/min: 0.50 EUR
    assert balance(book, PartyType.PROVIDER, "carrier-a") == "0.50"
    assert [a.kind.value for a in first.alerts] == []
    second = book.rate(cdr("c2", callee="33", duration=600))  # 1.00 reaches the limit
    assert balance(book, PartyType.PROVIDER, "carrier-a") == "1.00"
    assert "provider_disabled" in [a.kind.value for a in second.alerts]
    at = datetime.fromisoformat("2026-03-22T00:00:00+00:00")
    paid = book.pay(Payment("p", at, PartyType.PROVIDER, "carrier-a", money("0.5"), "EUR"))
    assert amounts(paid) == {"provider:carrier-a": "-0.50"}
    assert [a.kind.value for a in paid.alerts] == ["provider_enabled"]


def test_cost_converted_to_the_payers_currency_then_rounded() -> None:
    outcome = opened().rate(cdr("eur", account="4000", callee="337", duration=7))
    # 0.20 USD/min * 7 s = 0.023333.. USD / 1.10 = 0.021212.. EUR -> 0.0212
    assert outcome.rated is not None and outcome.rated.currency == "EUR"
    assert amounts(outcome)["customer:c4"] == "-0.0212"


def test_daily_minutes_of_an_account() -> None:
    book = opened()
    first = book.rate(cdr("a", account="2000", callee="1212", duration=60))
    assert [a.kind.value for a in first.alerts] == ["daily_minutes_threshold"]
    second = book.rate(cdr("b", account="2000", callee="1212", duration=60))
    assert [a.kind.value for a in second.alerts] == [
        "daily_minutes_threshold",
        "daily_minutes_exhausted",
        "blocked",
    ]
    assert all(a.party_type is PartyType.ACCOUNT for a in second.alerts)


def test_a_provider_disabled_by_its_daily_minutes_reports_blocked_until_its_next_day() -> None:
    book = opened()
    exhausting = book.rate(cdr("d1", callee="1212", duration=6000))  # 100 of 100 minutes
    assert "provider_disabled" in [a.kind.value for a in exhausting.alerts]
    line = book.balance_line(PartyType.PROVIDER, "carrier-a")
    assert balance(book, PartyType.PROVIDER, "carrier-a") == "0.50"  # below its limit of 1
    assert line.blocked  # `blocked` of a provider means disabled, for either reason
    next_day = book.rate(cdr("d2", callee="1212", duration=60, start="2026-03-21T10:00:00+00:00"))
    assert [a.kind.value for a in next_day.alerts] == ["provider_enabled"]
    assert not book.balance_line(PartyType.PROVIDER, "carrier-a").blocked


def test_a_provider_disabled_for_two_reasons_is_enabled_once_neither_holds() -> None:
    """Disabled at its balance limit, then out of daily minutes: a payment under the
    limit does not enable it that day, and the next day's call enables it once."""

    def status(outcome: Outcome) -> list[str]:
        kinds = ("provider_disabled", "provider_enabled")
        return [a.kind.value for a in outcome.alerts if a.kind.value in kinds]

    book = opened()
    assert status(book.rate(cdr("b1", callee="33", duration=600))) == []  # 0.50 EUR
    assert status(book.rate(cdr("b2", callee="33", duration=600))) == ["provider_disabled"]
    exhausting = book.rate(cdr("b3", callee="1212", duration=4800))  # 100 of 100 minutes
    assert "daily_minutes_exhausted" in [a.kind.value for a in exhausting.alerts]
    assert status(exhausting) == []  # disabled already
    at = datetime.fromisoformat("2026-03-20T12:00:00+00:00")
    paid = book.pay(Payment("p", at, PartyType.PROVIDER, "carrier-a", money("0.5"), "EUR"))
    assert balance(book, PartyType.PROVIDER, "carrier-a") == "0.90"  # under its limit of 1
    assert status(paid) == [] and book.balance_line(PartyType.PROVIDER, "carrier-a").blocked
    next_day = book.rate(cdr("b4", callee="1212", duration=60, start="2026-03-21T10:00:00+00:00"))
    assert status(next_day) == ["provider_enabled"]
    assert not book.balance_line(PartyType.PROVIDER, "carrier-a").blocked
    # and the other way round: out of minutes first, then at its balance limit
    book = opened()
    assert status(book.rate(cdr("m1", callee="1212", duration=6000))) == ["provider_disabled"]
    assert status(book.rate(cdr("m2", callee="33", duration=1200))) == []  # 1.50 EUR
    day = book.rate(cdr("m3", callee="1212", duration=60, start="2026-03-21T10:00:00+00:00"))
    assert status(day) == []  # a new day, but still at its balance limit
    at = datetime.fromisoformat("2026-03-21T12:00:00+00:00")
    paid = book.pay(Payment("q", at, PartyType.PROVIDER, "carrier-a", money("1"), "EUR"))
    assert status(paid) == ["provider_enabled"]


def test_accounts_drawing_on_a_blocked_customer_are_blocked_with_it() -> None:
    """1001 belongs to c2 but its calls are paid from c1's funds (DOMAIN.md: when that
    balance is blocked, every account drawing on it is blocked)."""

    def status(outcome: Outcome) -> list[str]:
        kinds = ("blocked", "unblocked")
        return [f"{a.party}:{a.kind.value}" for a in outcome.alerts if a.kind.value in kinds]

    book = opened()
    spent = book.rate(cdr("s1", account="1001", callee="44 20 7946 0000", duration=6000))
    assert balance(book, PartyType.CUSTOMER, "c1") == "0.00"  # 100 minutes at 0.10
    assert status(spent) == ["c1:blocked", "1001:blocked"]
    drawing = next(a for a in spent.alerts if a.party == "1001")
    assert (drawing.party_type, drawing.reason) == (PartyType.ACCOUNT, "funds_blocked")
    assert dict(drawing.details) == {"funds_from": "c1"}
    at = datetime.fromisoformat("2026-03-21T00:00:00+00:00")
    paid = book.pay(Payment("pay-9", at, PartyType.CUSTOMER, "c1", money("5"), "USD"))
    assert status(paid) == ["c1:unblocked", "1001:unblocked"]


def test_an_account_blocked_by_its_minutes_and_its_funds_is_unblocked_once() -> None:
    catalog = scenario()
    accounts = dict(catalog.accounts)
    accounts["1001"] = Account("1001", "c2", funds_from="c1", daily_limit=DailyLimit(1, (100,)))
    book = Book(replace(catalog, accounts=accounts))
    book.open()

    def status(outcome: Outcome) -> list[str]:
        kinds = ("blocked", "unblocked")
        return [f"{a.party}:{a.kind.value}:{a.reason}" for a in outcome.alerts
                if a.kind.value in kinds]  # fmt: skip

    minutes = book.rate(cdr("m1", account="1001", callee="44 20 7946 0000", duration=60))
    assert status(minutes) == ["1001:blocked:daily_minutes_limit"]
    funds = book.rate(cdr("m2", account="1001", callee="44 20 7946 0000", duration=6000))
    assert status(funds) == ["c1:blocked:"]  # 1001 was blocked already
    at = datetime.fromisoformat("2026-03-20T23:00:00+00:00")
    paid = book.pay(Payment("pay-8", at, PartyType.CUSTOMER, "c1", money("50"), "USD"))
    assert status(paid) == ["c1:unblocked:"]  # still out of minutes today
    later = cdr("m3", account="1001", callee="44 20 7946 0000", duration=10)
    day = book.rate(replace(later, start=datetime.fromisoformat("2026-03-21T10:00:00+00:00")))
    assert status(day) == ["1001:unblocked:daily_minutes_limit"]


def test_a_provider_disabled_by_its_daily_minutes_is_a_changed_balance_line() -> None:
    balances: TrackedDict[PartyKey, BalanceState] = TrackedDict()
    book = Book(scenario(), balances=balances)  # as a stream stage holds it
    book.open()
    book.rate(cdr("d0", callee="1212", duration=60, provider="carrier-a"))
    balances.take_dirty()
    at = datetime.fromisoformat("2026-03-20T11:00:00+00:00")
    minutes_only = Usage(at, 5940, "u1")  # minutes carried, no money: an unrated call
    book.apply(Deferred(PartyType.PROVIDER, "carrier-a", usage=minutes_only), "u1")
    assert (PartyType.PROVIDER, "carrier-a") in balances.take_dirty()  # a new snapshot is due


def test_replaying_a_cdr_gives_the_same_ids() -> None:
    one = opened().rate(cdr("same", duration=61))
    two = opened().rate(cdr("same", duration=61))
    assert [p.posting_id for p in one.postings] == [p.posting_id for p in two.postings]
    assert one.postings[0].posting_id == "same/customer/c1"


def test_a_replayed_cdr_or_payment_charges_nothing_twice() -> None:
    book = opened()
    first = book.rate(cdr("once", duration=61))
    again = book.rate(cdr("once", duration=61))
    assert first.postings and not first.duplicate
    assert again.duplicate and again.postings == () and again.rated is None
    at = datetime.fromisoformat("2026-03-21T00:00:00+00:00")
    pay = Payment("pay-7", at, PartyType.CUSTOMER, "c2", money("5"), "USD")
    assert book.pay(pay).postings and book.pay(pay).duplicate
    assert balance(book, PartyType.CUSTOMER, "c2") == "5.00"


@pytest.mark.parametrize("cdr_id", ["7", "payment:7", "opening:customer:c1", "cdr:7"])
def test_a_cdr_and_a_payment_of_the_same_id_are_both_applied(cdr_id: str) -> None:
    """Ids are chosen by the switch and by whoever records payments: the same string
    may come from both, or look like an opening, and neither may hide the other."""
    book = opened()
    at = datetime.fromisoformat("2026-03-21T00:00:00+00:00")
    paid = book.pay(Payment("7", at, PartyType.CUSTOMER, "c1", money("5"), "USD"))
    call = book.rate(cdr(cdr_id, duration=61))
    assert not paid.duplicate and not call.duplicate and call.rated is not None
    ids = [p.posting_id for p in (*paid.postings, *call.postings)]
    assert len(ids) == len(set(ids)), ids  # one ClickHouse row each
    assert paid.postings[0].posting_id == "payment:7/customer/c1"
    assert balance(book, PartyType.CUSTOMER, "c1") == "14.80"  # 10 + 5 - 0.20
    assert book.rate(cdr(cdr_id, duration=61)).duplicate
    assert book.pay(Payment("7", at, PartyType.CUSTOMER, "c1", money("5"), "USD")).duplicate


def test_a_stage_defers_what_it_does_not_own() -> None:
    catalog = scenario()
    rating = Book(catalog, owns=frozenset({PartyType.CUSTOMER, PartyType.ACCOUNT}))
    outcome = rating.rate(cdr("split", account="1000", callee="4412", duration=61))
    assert [p.party_type for p in outcome.postings] == [PartyType.CUSTOMER]
    deferred = [
        (d.party_type.value, d.party, d.posting is not None, d.usage is not None)
        for d in outcome.deferred
    ]
    assert deferred == [
        ("reseller", "r1", True, False),
        ("reseller", "r0", True, False),
        ("provider", "carrier-a", True, True),  # buy cost and minutes for its daily limit
    ]
    providers = Book(catalog, owns=frozenset({PartyType.PROVIDER}))
    providers.apply(outcome.deferred[2], "split/0")
    assert providers.apply(outcome.deferred[2], "split/0").duplicate
    assert balance(providers, PartyType.PROVIDER, "carrier-a") == "0.0305"
    assert providers.days[(PartyType.PROVIDER, "carrier-a")].seconds == 61
