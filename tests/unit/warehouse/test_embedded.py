"""The chdb warehouse for real: migrations, replay dedup, persistence and errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.warehouse.embedded import EmbeddedWarehouse, WarehouseError

REPO_ROOT = Path(__file__).resolve().parents[3]


def posting(posting_id: str, amount: int, version: int = 1) -> dict[str, object]:
    return {
        "posting_id": posting_id,
        "party_type": "customer",
        "party": "acme",
        "amount_micro": amount,
        "currency": "EUR",
        "kind": "call",
        "cdr_id": posting_id.split("/")[0],
        "payment_id": "",
        "at": "2024-03-01 10:00:00",
        "version": version,
    }


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[EmbeddedWarehouse]:
    # chdb holds one path per process: every test closes its warehouse before the next.
    with EmbeddedWarehouse(tmp_path / "wh") as wh:
        wh.migrate()
        yield wh


def test_migrate_twice_applies_nothing_the_second_time(tmp_path: Path) -> None:
    with EmbeddedWarehouse(tmp_path / "wh", database="billing") as wh:
        assert wh.migrate() == [1, 2, 3]
        assert wh.migrate() == []
        tables = wh.rows("SELECT name FROM system.tables WHERE database = 'billing' ORDER BY name")
        assert [t["name"] for t in tables] == [
            "alerts",
            "balances",
            "postings",
            "rated_cdrs",
            "schema_migrations",
            "sink_offsets",
        ]
        assert wh.rows("SELECT version, name FROM billing.schema_migrations ORDER BY version") == [
            {"version": 1, "name": "initial_schema"},
            {"version": 2, "name": "rated_cdrs_known_start_duration"},
            {"version": 3, "name": "sink_offsets"},
        ]


def test_final_keeps_one_row_per_key_and_the_highest_version(
    warehouse: EmbeddedWarehouse,
) -> None:
    assert warehouse.insert("postings", [posting("c1/customer/acme", -5)]) == 1
    # a replay of the same event, and a later correction of another
    warehouse.insert("postings", [posting("c1/customer/acme", -5), posting("c2/customer/acme", -7)])
    warehouse.insert("postings", [posting("c2/customer/acme", -9, version=2)])
    assert warehouse.query("SELECT count() FROM cdr.postings", "TSV") == "4\n"
    assert warehouse.rows(
        "SELECT posting_id, amount_micro FROM cdr.postings FINAL ORDER BY posting_id"
    ) == [
        {"posting_id": "c1/customer/acme", "amount_micro": -5},
        {"posting_id": "c2/customer/acme", "amount_micro": -9},
    ]


def test_strings_and_large_integers_round_trip(warehouse: EmbeddedWarehouse) -> None:
    awkward = ' "quoted", comma\ttab\nnewline \\N NULL '
    row = posting(awkward, -(2**63))
    row["version"] = 2**64 - 1
    warehouse.insert("postings", [row])
    assert warehouse.rows("SELECT * FROM cdr.postings FINAL") == [row]


def test_insert_batches_and_counts(warehouse: EmbeddedWarehouse) -> None:
    rows = (posting(f"c{i}/customer/acme", -i) for i in range(2_500))
    assert warehouse.insert("postings", rows, batch_rows=1_000) == 2_500
    assert warehouse.insert("postings", []) == 0
    assert warehouse.rows("SELECT count() AS n, sum(amount_micro) AS s FROM cdr.postings") == [
        {"n": 2_500, "s": -sum(range(2_500))}
    ]


def test_rows_must_hold_exactly_the_columns(warehouse: EmbeddedWarehouse) -> None:
    row = posting("c1/customer/acme", -5)
    del row["at"]
    row["extra"] = 1
    expected = r"postings row 0: missing \['at'\], unexpected \['extra'\]"
    with pytest.raises(ValueError, match=expected):
        warehouse.insert("postings", [row])
    with pytest.raises(ValueError, match="unknown table"):
        warehouse.insert("schema_migrations", [])


def test_rows_persist_across_reopen_and_processes(tmp_path: Path) -> None:
    path = tmp_path / "wh"
    with EmbeddedWarehouse(path) as wh:
        wh.migrate()
        wh.insert("postings", [posting("c1/customer/acme", -5)])
    with EmbeddedWarehouse(path) as wh:
        assert wh.migrate() == []
        assert wh.query("SELECT count() FROM cdr.postings FINAL", "TSV") == "1\n"
    reader = (
        "import sys; from pathlib import Path;"
        "from pipeline.warehouse.embedded import EmbeddedWarehouse;"
        "wh = EmbeddedWarehouse(Path(sys.argv[1]));"
        "print(wh.query('SELECT party, amount_micro FROM cdr.postings FINAL', 'TSV'), end='');"
        "wh.close()"
    )
    child = subprocess.run(
        [sys.executable, "-c", reader, str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout == "acme\t-5\n"


def test_a_failed_query_raises_one_line_naming_the_sql(warehouse: EmbeddedWarehouse) -> None:
    with pytest.raises(WarehouseError) as failure:
        warehouse.query("SELECT no_such_column\nFROM cdr.postings")
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("query failed: Code: 47.")
    assert message.endswith("[SQL: SELECT no_such_column]")


def test_a_rejected_row_raises_warehouse_error(warehouse: EmbeddedWarehouse) -> None:
    bad = posting("c1/customer/acme", -5)
    bad["at"] = "2024-13-45 99:00:00"
    with pytest.raises(WarehouseError, match=r"insert into postings failed: .*\[SQL: INSERT INTO"):
        warehouse.insert("postings", [bad])
    assert warehouse.query("SELECT count() FROM cdr.postings", "TSV") == "0\n"


def test_closed_warehouse_refuses_queries(tmp_path: Path) -> None:
    wh = EmbeddedWarehouse(tmp_path / "wh")
    wh.close()
    wh.close()
    with pytest.raises(WarehouseError, match="is closed"):
        wh.query("SELECT 1")


def test_a_second_path_in_one_process_is_refused_clearly(tmp_path: Path) -> None:
    with (
        EmbeddedWarehouse(tmp_path / "one"),
        pytest.raises(WarehouseError, match=r"cannot open warehouse at .*two"),
    ):
        EmbeddedWarehouse(tmp_path / "two")
    with EmbeddedWarehouse(tmp_path / "two") as wh:  # fine once the first is closed
        assert wh.query("SELECT 1", "TSV") == "1\n"


def test_a_place_chdb_cannot_use_is_refused_in_one_line(tmp_path: Path) -> None:
    """chdb's own error for these is a C++ exception with a stack trace."""
    (tmp_path / "afile").write_text("")
    with pytest.raises(WarehouseError, match=r"it is a file, not a directory$"):
        EmbeddedWarehouse(tmp_path / "afile")
    with pytest.raises(WarehouseError, match=r"afile is a file, not a directory$"):
        EmbeddedWarehouse(tmp_path / "afile" / "below")
