"""The payments CSV: every row checked, one bad row refuses the file with where and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.catalog.loader import load_catalog
from pipeline.catalog.model import Catalog
from pipeline.offline.payments import PaymentsFileError, read_payments

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
HEADER = b"at,party_type,party,amount,recorded_by,payment_id\n"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SAMPLES / "catalog")


def read(tmp_path: Path, catalog: Catalog, data: bytes) -> list[str]:
    path = tmp_path / "payments.csv"
    path.write_bytes(data)
    return [f"{p.payment_id} {p.party} {p.amount}" for p in read_payments(path, catalog)]


def refused(tmp_path: Path, catalog: Catalog, data: bytes) -> str:
    with pytest.raises(PaymentsFileError) as caught:
        read(tmp_path, catalog, data)
    return str(caught.value)


def test_the_samples_read_and_a_bom_is_no_column(tmp_path: Path, catalog: Catalog) -> None:
    assert read_payments(SAMPLES / "payments.csv", catalog)
    row = b"2026-03-27T09:00:00Z,customer,c2,20,,x1\n"
    assert read(tmp_path, catalog, b"\xef\xbb\xbf" + HEADER + row) == ["x1 c2 20000000"]


@pytest.mark.parametrize(
    ("amount", "why"),
    [(b"1_000", "'1_000' is not a decimal number"), ("\u0661\u0660".encode(), "not a decimal")],
)
def test_an_amount_in_other_digits_is_refused(
    tmp_path: Path, catalog: Catalog, amount: bytes, why: str
) -> None:
    row = b"2026-03-27T09:00:00Z,customer,c2," + amount + b",,x1\n"
    assert why in refused(tmp_path, catalog, HEADER + row)


def test_one_id_for_two_different_payments_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    first = b"2026-03-27T09:00:00Z,customer,c1,20,,X\n"
    other = b"2026-03-28T09:00:00Z,customer,c1,500,,X\n"
    error = refused(tmp_path, catalog, HEADER + first + other)
    assert error.endswith(
        "payments.csv:3: payment_id X is already used at "
        f"{tmp_path / 'payments.csv'}:2 for another payment; give each payment its own id"
    )
    assert "(1 error)" in error
    # the same payment twice is a retry: read, and skipped when applied
    assert read(tmp_path, catalog, HEADER + first + first) == ["X c1 20000000"] * 2


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path, catalog: Catalog) -> None:
    good = b"2026-03-27T09:00:00Z,customer,c1,20,,a\n"
    bad = b"2026-03-27T09:00:00Z,customer,c\xff1,20,,b\n"
    error = refused(tmp_path, catalog, HEADER + good + bad)
    assert error.endswith("payments.csv:3: not UTF-8 (byte 0xff)"), error


def test_a_party_type_is_named_with_the_choices(tmp_path: Path, catalog: Catalog) -> None:
    row = b"2026-03-27T09:00:00Z,Customer,c1,20,,a\n"
    error = refused(tmp_path, catalog, HEADER + row)
    assert "party_type 'Customer' is not one of customer, reseller, provider" in error
