"""Which catalogs may follow the one in use: parties keep currency and partition."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.catalog.loader import load_catalog
from pipeline.catalog.model import Catalog
from pipeline.engine.routing import billing_groups, inherited_names
from pipeline.engine.succession import SHOWN, succession_errors

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "catalog"


def variant(tmp: Path, *edits: tuple[str, str]) -> Catalog:
    """The sample catalog with `catalog.yaml` edited (each old text must be there)."""
    directory = tmp / f"v{len(list(tmp.iterdir()))}"
    shutil.copytree(SAMPLES, directory)
    path = directory / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return load_catalog(directory)


@pytest.fixture
def samples() -> Catalog:
    return load_catalog(SAMPLES)


def test_the_same_catalog_and_new_or_dropped_parties_may_follow(
    samples: Catalog, tmp_path: Path
) -> None:
    assert succession_errors(samples, samples) == []
    grown = variant(
        tmp_path,
        ('  "3000": {customer: c3}', '  "3000": {customer: c3}\n  "9000": {customer: c9}'),
        ("customers:\n", "customers:\n  c9: {tariff: retail, reseller: null, currency: EUR}\n"),
    )
    assert succession_errors(samples, grown) == []
    assert succession_errors(grown, samples) == []  # c9 and 9000 dropped


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("reseller: null, currency: EUR", "reseller: null, currency: USD", "customers.c3.currency"),
        ("currency: USD, balance_control: postpaid, credit_limit: \"1000\"",
         "currency: EUR, balance_control: postpaid, credit_limit: \"1000\"",
         "resellers.r1.currency"),
        ("{tariff: carrier-b, currency: USD", "{tariff: carrier-b, currency: EUR",
         "providers.carrier-b.currency"),
    ],
)  # fmt: skip
def test_a_party_that_changes_its_currency_is_refused(
    samples: Catalog, tmp_path: Path, old: str, new: str, where: str
) -> None:
    errors = succession_errors(samples, variant(tmp_path, (old, new)))
    assert len(errors) == 1 and f"catalog.yaml: {where}: " in errors[0]
    assert "keeps its currency" in errors[0]


def test_a_customer_joins_an_existing_group_under_its_name_whatever_its_id(
    samples: Catalog, tmp_path: Path
) -> None:
    """c0 sorts before c1. Named afresh, the group of c1 and c2 would be c0's and move
    partition; with the names it inherits (what `catalog publish` gives it) it stays c1."""
    account = '\n  "0100": {customer: c0, funds_from: c1}'
    joined = variant(
        tmp_path,
        ('  "3000": {customer: c3}', '  "3000": {customer: c3}' + account),
        ("customers:\n", "customers:\n  c0: {tariff: retail, reseller: r1, currency: USD}\n"),
    )
    afresh = succession_errors(samples, joined)
    assert {e.split(":")[1].strip() for e in afresh} == {"customers.c1", "customers.c2"}
    assert "from c1 to c0" in afresh[0]
    named = replace(joined, group_names=inherited_names(samples, joined))
    assert named.group_names == {"c0": "c1", "c1": "c1", "c2": "c1"}
    assert billing_groups(named)["c0"] == "c1"
    assert succession_errors(samples, named) == []
    # and the next catalog, inheriting again, keeps it (c1 and c2 no longer needed)
    again = replace(joined, version="next", group_names={})
    assert inherited_names(named, again) == named.group_names


def test_joining_two_existing_groups_is_refused_and_splitting_one_is_not(
    samples: Catalog, tmp_path: Path
) -> None:
    merged = variant(tmp_path, ('"3000": {customer: c3}', '"3000": {customer: c3, funds_from: c1}'))
    merged = replace(merged, group_names=inherited_names(samples, merged))
    errors = succession_errors(samples, merged)
    assert [e.split(":")[1].strip() for e in errors] == ["customers.c3"]
    assert "from c3 to c1" in errors[0] and "cannot be joined together" in errors[0]
    # c2's account 1001 no longer draws on c1: two groups, both still named c1
    split = variant(tmp_path, ('"1001": {customer: c2, funds_from: c1,', '"1001": {customer: c2,'))
    split = replace(split, group_names=inherited_names(samples, split))
    assert billing_groups(split)["c2"] == "c1" and billing_groups(split)["c1"] == "c1"
    assert succession_errors(samples, split) == []


def test_an_account_may_move_within_its_group_but_not_to_another(
    samples: Catalog, tmp_path: Path
) -> None:
    within = variant(tmp_path, ('"2000": {customer: c2,', '"2000": {customer: c1,'))
    assert succession_errors(samples, within) == []  # c1 and c2 share funds: one group
    across = variant(tmp_path, ('"3000": {customer: c3}', '"3000": {customer: c1}'))
    errors = succession_errors(samples, across)
    assert len(errors) == 1 and errors[0].startswith("catalog.yaml: accounts.3000.customer: c1")


def test_past_twenty_problems_the_rest_are_counted(samples: Catalog, tmp_path: Path) -> None:
    line = '  "3000": {customer: c3}'
    many = [f'  "7{i:03}": {{customer: c3}}' for i in range(30)]
    before = variant(tmp_path, (line, "\n".join([line, *many])))
    after = variant(tmp_path, (line, "\n".join([line, *(m.replace("c3", "c1") for m in many)])))
    errors = succession_errors(before, after)
    assert len(errors) == SHOWN + 1 and errors[-1] == "... and 10 more like these"


def test_a_catalog_never_published_is_compared_under_the_names_that_follow(
    samples: Catalog, tmp_path: Path
) -> None:
    """A worker that started from `CDR_CATALOG_DIR` holds a catalog without group names;
    the published one that follows may carry an inherited name for the same group."""
    account = '\n  "0100": {customer: c0, funds_from: c1}'
    joined = variant(
        tmp_path,
        ('  "3000": {customer: c3}', '  "3000": {customer: c3}' + account),
        ("customers:\n", "customers:\n  c0: {tariff: retail, reseller: r1, currency: USD}\n"),
    )
    published = replace(joined, group_names=inherited_names(samples, joined))
    directory = replace(joined, group_names={})  # the same files, loaded from a directory
    assert succession_errors(directory, published) != []  # c0..c2 would "move" to c1
    assert succession_errors(directory, published, published=False) == []
    # joining two groups is still refused
    merged = variant(tmp_path, ('"3000": {customer: c3}', '"3000": {customer: c3, funds_from: c1}'))
    errors = succession_errors(samples, merged, published=False)
    assert [e.split(":")[1].strip() for e in errors] == ["customers.c3"]
