"""Refusing broken catalogs: every error, with its file and key path or line, all at once."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from pipeline.catalog.loader import CatalogError, load_catalog
from tests.unit.catalog.helpers import FIXTURES, errors_of, variant

ONE_ERROR = [
    (
        "unquoted date that is no day",  # PyYAML's own date reader raised a traceback
        "catalog.yaml",
        "created: 2026-03-19",
        "created: 2026-02-30",
        "catalog.yaml: customers.c1.created: '2026-02-30' is not a date; write it as YYYY-MM-DD",
    ),
    (
        "amount with an underscore",  # Decimal() reads 1_0 as 10
        "catalog.yaml",
        'opening_balance: "10"',
        "opening_balance: 1_0",
        "catalog.yaml: customers.c1.opening_balance: '1_0' is not a decimal number",
    ),
    (
        "amount beyond Int64 micro-units",
        "catalog.yaml",
        'opening_balance: "10"',
        'opening_balance: "1e30"',
        "catalog.yaml: customers.c1.opening_balance: amount 1E+30 is beyond the largest",
    ),
    (
        "unknown tariff",
        "catalog.yaml",
        "c1: {tariff: retail",
        "c1: {tariff: retial",
        "catalog.yaml: customers.c1.tariff: unknown tariff 'retial' "
        "(did you mean 'retail'? known: carrier-a, retail, wholesale)",
    ),
    (
        "unknown top key",
        "catalog.yaml",
        "currency: USD\n",
        "currency: USD\npackges: {}\n",
        "catalog.yaml: unknown key 'packges' (did you mean 'packages'? known: accounts, ",
    ),
    (
        "unknown nested key",
        "catalog.yaml",
        'low_balance: "2"',
        'low_balanse: "2"',
        "catalog.yaml: customers.c1: unknown key 'low_balanse' (did you mean 'low_balance'?",
    ),
    (
        "7 decimals",
        "catalog.yaml",
        'opening_balance: "10"',
        'opening_balance: "10.0000001"',
        "catalog.yaml: customers.c1.opening_balance: amount 10.0000001 has more than 6 decimal "
        "places",
    ),
    (
        "missing fx",
        "catalog.yaml",
        '  - {from: GBP, to: USD, rate: "1.27", effective: 2026-01-01}\n',
        "",
        "catalog.yaml: customers.c3: no exchange rate between USD (tariff retail) and GBP "
        "(currency of customer c3); add one under exchange_rates",
    ),
    (
        "missing deck",
        "catalog.yaml",
        "decks/wholesale.csv",
        "decks/wholesale2.csv",
        "catalog.yaml: tariffs.wholesale.deck: file 'decks/wholesale2.csv' does not exist",
    ),
    (
        "yaml syntax",
        "catalog.yaml",
        "max_call_seconds: 7200",
        "max_call_seconds: [7200",
        "catalog.yaml:6:15: YAML syntax error: did not find expected ',' or ']'",
    ),
    (
        "duplicate yaml key",
        "catalog.yaml",
        "ext-7: {customer: c1",
        "1000: {customer: c1",
        "catalog.yaml:38: duplicate key 1000 (first at line 35)",
    ),
    (
        "same id twice",
        "catalog.yaml",
        "ext-7: {customer: c1",
        '"1000": {customer: c1',
        "catalog.yaml: accounts.1000: the id is given twice",
    ),
    (
        "share without credit",
        "catalog.yaml",
        'low_balance: "2"',
        'credit_warning: "90%"',
        "catalog.yaml: customers.c1.credit_warning: 90% of the credit limit needs a "
        "credit_limit above 0",
    ),
    (
        "bad list item",
        "catalog.yaml",
        'credit_warning: ["80%", "95"]',
        'credit_warning: ["80%", "-1"]',
        "catalog.yaml: customers.c2.credit_warning[1]: -1 must be above 0",
    ),
    (
        "unknown parent",
        "catalog.yaml",
        "parent: r1",
        "parent: r9",
        "catalog.yaml: resellers.r2.parent: unknown reseller 'r9' (known: r1, r2)",
    ),
    (
        "period needs created",
        "catalog.yaml",
        "created: 2026-01-31}",
        "}",
        "catalog.yaml: resellers.r2.billing_period: monthly_anniversary needs created: YYYY-MM-DD",
    ),
    (
        "bad period",
        "catalog.yaml",
        "billing_period: semimonthly",
        "billing_period: fortnightly",
        "catalog.yaml: customers.c3.billing_period: 'fortnightly' is not one of daily, weekly,",
    ),
    (
        "bad zone",
        "catalog.yaml",
        "America/New_York",
        "America/NewYork",
        "catalog.yaml: customers.c1.timezone: 'America/NewYork' is not an IANA time zone",
    ),
    (
        "negative credit",
        "catalog.yaml",
        "credit_limit: 100,",
        "credit_limit: -5,",
        "catalog.yaml: customers.c2.credit_limit: -5 must not be below 0",
    ),
    (
        "unknown funds_from",
        "catalog.yaml",
        "funds_from: c1",
        "funds_from: c9",
        "catalog.yaml: accounts.1001.funds_from: unknown customer 'c9'",
    ),
    (
        "unknown package",
        "catalog.yaml",
        "packages: [p100]",
        "packages: [p200]",
        "catalog.yaml: customers.c1.packages[0]: unknown package 'p200'",
    ),
    (
        "package code",
        "catalog.yaml",
        'codes: ["44", "33"]',
        'codes: ["44", "+33"]',
        "catalog.yaml: packages.p100.codes[1]: '+33' is not a code of digits",
    ),
    (
        "package reset",
        "catalog.yaml",
        "reset: manual",
        "reset: never",
        "catalog.yaml: packages.p-manual.reset: 'never' is not billing_period, manual or a date",
    ),
    (
        "alert percent",
        "catalog.yaml",
        "[50, 90, 100]",
        "[50, 190]",
        "catalog.yaml: accounts.0101.alert_thresholds[1]: 190 is out of range 1..100",
    ),
    (
        "decimals",
        "catalog.yaml",
        "decimals: 4",
        "decimals: 7",
        "catalog.yaml: tariffs.retail.decimals: 7 is out of range 0..6",
    ),
    (
        "rounding",
        "catalog.yaml",
        "rounding: down",
        "rounding: nearest",
        "catalog.yaml: tariffs.wholesale.rounding: 'nearest' is not one of half_up, up, down",
    ),
    (
        "hours",
        "catalog.yaml",
        'to: "18:00"',
        'to: "07:00"',
        "catalog.yaml: business_hours.to: 07:00 is not after from 08:00",
    ),
    (
        "weekday",
        "catalog.yaml",
        "[mon, tue, wed, thu, fri, sat]",
        "[mon, tue, wed, thu, fri, sa]",
        "catalog.yaml: tariffs.wholesale.business_hours.days[5]: 'sa' is not one of mon,",
    ),
    (
        "zero rate",
        "catalog.yaml",
        'rate: "1.27"',
        'rate: "0"',
        "catalog.yaml: exchange_rates[2].rate: 0 must be above 0",
    ),
    (
        "unquoted clock",
        "catalog.yaml",
        'from: "08:00"',
        "from: 8",
        "catalog.yaml: business_hours.from: 8 is not a time of day",
    ),
    (
        "provider limit",
        "catalog.yaml",
        'balance_limit: "5000"',
        'balance_limit: "0"',
        "catalog.yaml: providers.carrier-a.balance_limit: must be above 0",
    ),
    (
        "bad currency",
        "catalog.yaml",
        "currency: EUR, balance_limit",
        "currency: euro, balance_limit",
        "catalog.yaml: providers.carrier-a.currency: 'euro' is not an ISO 4217 currency code",
    ),
    (
        "entry not a mapping",
        "catalog.yaml",
        'p-manual: {minutes: 5, codes: ["1"], reset: manual}',
        "p-manual: 5",
        "catalog.yaml: packages.p-manual: expected a mapping with keys codes, minutes, reset",
    ),
    (
        "empty codes",
        "catalog.yaml",
        'codes: ["1"]',
        "codes: []",
        "catalog.yaml: packages.p-manual.codes: is empty; list the codes it covers",
    ),
    (
        "missing tariff",
        "catalog.yaml",
        "carrier-b: {tariff: wholesale, ",
        "carrier-b: {",
        "catalog.yaml: providers.carrier-b.tariff: missing; this key is required",
    ),
    (
        "deck rate",
        "decks/retail.csv",
        "0.0500",
        "abc",
        "decks/retail.csv:2: rate 'abc' is not a decimal number",
    ),
    (
        "deck profile",
        "decks/retail.csv",
        ",weekends",
        ",weekend",
        "decks/retail.csv:3: profile 'weekend' is not one of all, business, non_business, weekends",
    ),
    (
        "deck end",
        "decks/retail.csv",
        "2026-01-01,2026-06-01,30,6,5,0.01,business",
        "2026-06-01,2026-01-01,30,6,5,0.01,business",
        "decks/retail.csv:4: end_date 2026-01-01 is not after effective_date 2026-06-01",
    ),
    (
        "deck duplicate",
        "decks/retail.csv",
        "1,USA,0.01,2026-01-01,,,1,,,all\n",
        "1,USA,0.01,2026-01-01,,,1,,,all\n44,UK,0.06,2026-01-01,,,,,,\n",
        "decks/retail.csv:10: duplicate row for code 44 profile all effective 2026-01-01 "
        "(first at line 2)",
    ),
    (
        "deck rate decimals",
        "decks/retail.csv",
        "0.030000001",
        "0.0300000001",
        "decks/retail.csv:7: rate '0.0300000001' has more than 9 decimal places",
    ),
    (
        "deck header",
        "decks/wholesale.csv",
        "setup_fee,profile",
        "setup_fee,profil",
        "decks/wholesale.csv:1: unknown column 'profil'; the header is code,code_name,rate,",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), [c[1:] for c in ONE_ERROR],
                         ids=[c[0] for c in ONE_ERROR])  # fmt: skip
def test_one_mistake_gives_one_error(
    tmp_path: Path, name: str, old: str, new: str, expected: str
) -> None:
    errors = errors_of(variant(tmp_path, (name, old, new)))
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors[0]


def test_funds_from_needs_a_rate_to_the_payer(tmp_path: Path) -> None:
    directory = variant(
        tmp_path,
        ("catalog.yaml", "currency: GBP, balance_control", "currency: CHF, balance_control"),
        ("catalog.yaml", "funds_from: c1", "funds_from: c3"),
    )
    errors = [error.split(";")[0] for error in errors_of(directory)]
    assert errors == [
        "catalog.yaml: customers.c3: no exchange rate between USD (tariff retail) and CHF "
        "(currency of customer c3)",
        "catalog.yaml: accounts.1001.funds_from: no exchange rate between USD (tariff retail) "
        "and CHF (currency of customer c3, who pays for customer c2)",
    ]


def test_cycle_fixture_reports_each_cycle_once() -> None:
    root = "the parent chain must end with parent: null"
    assert errors_of(FIXTURES / "broken-cycle") == [
        f"catalog.yaml: resellers: cycle r1 -> r2 -> r1; {root}",
        f"catalog.yaml: resellers: cycle r3 -> r3; {root}",
    ]


def test_broken_deck_fixture_reports_every_row() -> None:
    assert errors_of(FIXTURES / "broken-deck") == [
        "decks/retail.csv:3: rate 'abc' is not a decimal number",
        "decks/retail.csv:4: code '+33' is not a string of digits (write 44, not +44)",
        "decks/retail.csv:5: effective_date '2026-02-30' is not an ISO date or datetime "
        "(e.g. 2026-01-01 or 2026-01-01T08:00:00+02:00)",
        "decks/retail.csv:6: profile 'weekend' is not one of all, business, non_business, weekends",
        "decks/retail.csv:7: end_date 2026-03-01 is not after effective_date 2026-03-01",
        "decks/retail.csv:8: duplicate row for code 44 profile all effective 2026-01-01 "
        "(first at line 2)",
        "decks/retail.csv:9: rate '-0.01' is negative",
        "decks/retail.csv:9: setup_fee '0.0000000001' has more than 9 decimal places",
        "decks/retail.csv:9: min_volume '-5' is not a whole number of seconds (0 or more)",
        "decks/retail.csv:9: interval 'x' is not a whole number of seconds (0 or more)",
        "decks/retail.csv:10: 4 fields where the header has 10",
    ]


def test_several_mistakes_are_reported_together() -> None:
    errors = [error.split(" (")[0].split(";")[0] for error in errors_of(FIXTURES / "broken-many")]
    assert errors == [
        "catalog.yaml: unknown key 'packges'",
        "catalog.yaml: tariffs.euro.deck: file 'decks/missing.csv' does not exist",
        "catalog.yaml: customers.c1.tariff: unknown tariff 'retial'",
        "catalog.yaml: customers.c1.opening_balance: amount 10.0000001 has more than 6 decimal "
        "places",
        "catalog.yaml: customers.c2: no exchange rate between EUR",
        "catalog.yaml: providers.carrier-a: no exchange rate between EUR",
    ]


def test_error_message_lists_every_error(tmp_path: Path) -> None:
    directory = variant(
        tmp_path,
        ("catalog.yaml", "c1: {tariff: retail", "c1: {tariff: retial"),
        ("decks/retail.csv", "0.0500", "abc"),
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    lines = str(info.value).splitlines()
    assert lines[0] == f"catalog {directory} is refused: 2 errors"
    assert lines[1:] == info.value.errors
    assert len(lines) == 3


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "catalog.yaml: missing file; create it in "),
        ({"catalog.yaml": ""}, "catalog.yaml: currency: missing; this key is required"),
        ({"catalog.yaml": "- currency: USD\n"}, "catalog.yaml: expected a mapping with keys "),
        ({"catalog.yaml": "currency: USD\ntariffs: {t: {deck: d.csv}}\n", "d.csv": ""},
         "d.csv:1: the file is empty; the first line must be the header code,code_name,"),
    ],
    ids=["no catalog.yaml", "empty catalog.yaml", "not a mapping", "empty deck"],
)  # fmt: skip
def test_minimal_catalogs(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    errors = errors_of(tmp_path)
    assert errors[0].startswith(expected), errors


def test_missing_directory(tmp_path: Path) -> None:
    assert errors_of(tmp_path / "nowhere") == [
        f"{tmp_path / 'nowhere'}: not a directory holding catalog.yaml"
    ]


def test_collector_is_running_again_after_a_refused_load() -> None:
    assert gc.isenabled()
    errors_of(FIXTURES / "broken-many")
    assert gc.isenabled()
