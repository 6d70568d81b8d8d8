"""Accounts listed in a CSV file (`accounts_file`), for catalogs with many devices."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.catalog.loader import CatalogError, load_catalog, load_catalog_files
from pipeline.engine.book import drawing_on

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "catalogs" / "accounts-file"


def test_accounts_from_the_file_equal_those_written_in_yaml() -> None:
    catalog, files = load_catalog_files(FIXTURE)
    samples = load_catalog(FIXTURE.parents[3] / "samples" / "catalog")
    assert catalog.accounts["1001"] == samples.accounts["1001"]
    assert catalog.accounts["1000"] == samples.accounts["1000"]
    limit = catalog.accounts["2000"].daily_limit
    assert (limit.minutes, limit.thresholds, limit.timezone) == (
        30,
        (50, 100),
        ZoneInfo("Europe/Berlin"),
    )
    assert "devices.csv" in files  # published with the catalog
    assert drawing_on(catalog) == drawing_on(samples) == {"c1": ("1001",)}


def test_bad_rows_are_reported_with_file_and_line(tmp_path: Path) -> None:
    for item in FIXTURE.rglob("*"):
        target = tmp_path / item.relative_to(FIXTURE)
        if item.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.write_bytes(item.read_bytes())
    (tmp_path / "devices.csv").write_text(
        "account,customer,colour\n1000,c1,red\n1000,c1,\n2000,cx,\n,c1,\n", encoding="utf-8"
    )
    with pytest.raises(CatalogError) as refused:
        load_catalog(tmp_path)
    text = str(refused.value)
    assert "devices.csv:1: unknown column 'colour'" in text
    assert "devices.csv:3: account '1000' is listed twice" in text
    assert "devices.csv:4: customer: unknown customer 'cx'" in text
    assert "devices.csv:5: account is empty" in text


def test_a_missing_file_is_one_error_not_also_a_bad_header(tmp_path: Path) -> None:
    for item in FIXTURE.rglob("*"):
        target = tmp_path / item.relative_to(FIXTURE)
        if item.is_dir():
            target.mkdir(exist_ok=True)
        elif item.name != "devices.csv":
            target.write_bytes(item.read_bytes())
    with pytest.raises(CatalogError) as refused:
        load_catalog(tmp_path)
    assert refused.value.errors == [
        "catalog.yaml: accounts_file: file 'devices.csv' cannot be read: No such file or directory"
    ]
