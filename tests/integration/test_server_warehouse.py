"""The warehouse on the real ClickHouse 18.16 server: migrations, inserts, FINAL, export."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.engine import serialize
from pipeline.engine.records import RatedCdr
from pipeline.offline.run import OUTPUTS, RunOptions, run
from pipeline.warehouse import ddl
from pipeline.warehouse.base import WarehouseError
from pipeline.warehouse.embedded import EmbeddedWarehouse
from pipeline.warehouse.export import encode, export_outputs
from pipeline.warehouse.offsets import offset_columns, stored_offsets
from pipeline.warehouse.server import ServerWarehouse
from tests.integration.conftest import LocalServers

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TABLES = ("rated_cdrs", "postings", "alerts", "balances")
AT = datetime(2026, 3, 20, 10, 0, 5, tzinfo=UTC)


def c_sorted(path: Path) -> list[str]:
    """The file's lines as `LC_ALL=C sort` orders them."""
    return sorted(path.read_text(encoding="utf-8").splitlines(), key=str.encode)


@pytest.fixture(scope="module")
def offline(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, list[dict[str, object]]]]:
    """The sample run's output files, and its warehouse rows (read back from chdb)."""
    out = tmp_path_factory.mktemp("offline")
    run(
        RunOptions(
            catalog=SAMPLES / "catalog",
            out=out,
            inputs=[SAMPLES / "cdrs" / n for n in ("calls.csv", "Master.csv", "freeswitch.csv")],
            payments=SAMPLES / "payments.csv",
            source_tz=ZoneInfo("America/New_York"),
            warehouse=out / "warehouse",
        )
    )
    with EmbeddedWarehouse(out / "warehouse") as embedded:
        rows = {t: embedded.rows(ddl.select_final_sql("cdr", t, ())) for t in TABLES}
    return out, rows


@pytest.fixture
def server(local_servers: LocalServers) -> Iterator[ServerWarehouse]:
    """A server warehouse on a database of its own, dropped afterwards."""
    host, port = local_servers.clickhouse_host, local_servers.clickhouse_port
    database = f"cdr_test_{uuid.uuid4().hex[:12]}"
    try:
        with ServerWarehouse(host, port, database) as warehouse:
            yield warehouse
    finally:
        with ServerWarehouse(host, port, database) as cleaner:
            cleaner.execute(f"DROP DATABASE IF EXISTS {database}")


def test_migrate_twice_applies_nothing_the_second_time(server: ServerWarehouse) -> None:
    assert server.migrate() == [1, 2, 3]
    assert server.migrate() == []
    db = server.database
    tables = server.rows(f"SELECT name FROM system.tables WHERE database = '{db}' ORDER BY name")
    assert [t["name"] for t in tables] == [*sorted(TABLES), "schema_migrations", "sink_offsets"]
    assert server.rows(f"SELECT version, name FROM {db}.schema_migrations ORDER BY version") == [
        {"version": 1, "name": "initial_schema"},
        {"version": 2, "name": "rated_cdrs_known_start_duration"},
        {"version": 3, "name": "sink_offsets"},
    ]
    for table in (*TABLES, "sink_offsets"):
        columns = server.rows(
            f"SELECT name, type FROM system.columns WHERE database = '{db}' AND table = '{table}'"
        )
        # the server's columns, in order, are the code's (v1 + v2 on 18.16 too)
        expected = [{"name": c.name, "type": c.type} for c in ddl.TABLES[table].columns]
        assert columns == expected, table


def test_sink_offsets_read_back_the_largest_per_partition_of_one_topic(
    server: ServerWarehouse,
) -> None:
    """A slow worker's late row cannot move a partition back (18.16, before any merge)."""
    server.migrate()
    for ends in ({0: 5, 1: 2}, {0: 3}, {1: 9}):
        server.insert_columns("sink_offsets", offset_columns("t.rated", ends, 1_700_000_000))
    server.insert_columns("sink_offsets", offset_columns("t.postings", {0: 40}, 1_700_000_000))
    assert stored_offsets(server, "t.rated") == {0: 5, 1: 9}
    assert stored_offsets(server, "t.postings") == {0: 40}
    assert stored_offsets(server, "t.alerts") == {}


def test_sample_rows_insert_and_export_as_the_offline_files(
    server: ServerWarehouse,
    offline: tuple[Path, dict[str, list[dict[str, object]]]],
    tmp_path: Path,
) -> None:
    out, rows = offline
    server.migrate()
    for table in TABLES:
        assert server.insert(table, rows[table], batch_rows=7) == len(rows[table])
        back = server.rows(ddl.select_final_sql(server.database, table, ()))
        key = ddl.TABLES[table].column_names()[:2]
        assert sorted(back, key=lambda r: [str(r[k]) for k in key]) == sorted(
            rows[table], key=lambda r: [str(r[k]) for k in key]
        ), table
    counts = export_outputs(server, tmp_path / "export", page_rows=10)
    for name in OUTPUTS:
        exported = (tmp_path / "export" / name).read_text(encoding="utf-8").splitlines()
        assert exported == c_sorted(out / name), name
        assert counts[name] == len(exported)


def test_final_keeps_the_highest_version_of_a_reinserted_row(
    server: ServerWarehouse, offline: tuple[Path, dict[str, list[dict[str, object]]]]
) -> None:
    _, rows = offline
    server.migrate()
    postings = rows["postings"]
    server.insert("postings", postings)
    first = dict(postings[0])
    server.insert("postings", [first])  # a replay: same key, same version
    corrected = {**first, "amount_micro": -123, "version": int(str(first["version"])) + 1}
    server.insert("postings", [corrected])
    db = server.database
    assert server.rows(f"SELECT count() AS n FROM {db}.postings") == [{"n": len(postings) + 2}]
    assert server.rows(f"SELECT count() AS n FROM {db}.postings FINAL") == [{"n": len(postings)}]
    (row,) = server.rows(
        f"SELECT amount_micro, version FROM {db}.postings FINAL"
        f" WHERE posting_id = '{first['posting_id']}'"
    )
    assert row == {"amount_micro": -123, "version": corrected["version"]}


AWKWARD_IDS = ["a", "a b", "a!", 'a"', "a\\", "a\n", "a'", "a-b", "ab", "é", "", " ", "z" * 300]


def rated(cdr_id: str, unrated: bool) -> RatedCdr:
    return RatedCdr(
        cdr_id=cdr_id,
        status="unrated" if unrated else "rated",
        reason="bad_start" if unrated else "",
        detail=' "quoted", comma\ttab\nnewline \\N NULL ',
        source="x.csv:1",
        account="1000",
        customer="c1",
        payer="" if unrated else "c1",
        provider="carrier-a",
        code="" if unrated else "44",
        code_name="" if unrated else "UK",
        start=None if unrated else AT,
        duration=None if unrated else 0,
        billed_seconds=0,
        covered_seconds=0,
        cost=None if unrated else -(2**63),
        currency="" if unrated else "EUR",
        provider_cost=None if unrated else 2**63 - 1,
        provider_currency="" if unrated else "USD",
    )


def test_awkward_keys_and_extreme_values_export_exactly(
    server: ServerWarehouse, tmp_path: Path
) -> None:
    server.migrate()
    cdrs = [rated(k, unrated=bool(i % 2)) for i, k in enumerate(AWKWARD_IDS)]
    cdrs.append(replace(rated("epoch", unrated=True), start=datetime(1970, 1, 1, tzinfo=UTC)))
    server.insert("rated_cdrs", [serialize.rated_row(c, 2**64 - 1) for c in cdrs])
    export_outputs(server, tmp_path, page_rows=3)
    expected = sorted((encode(serialize.rated_line(c)) for c in cdrs), key=str.encode)
    assert (tmp_path / "rated.jsonl").read_text(encoding="utf-8").splitlines() == expected


def test_errors_are_one_line_naming_the_sql(server: ServerWarehouse) -> None:
    with pytest.raises(WarehouseError) as failure:
        server.rows("SELECT no_such_column\nFROM system.one")
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("query failed: Code: 47. DB::Exception: ")
    assert message.endswith("[SQL: SELECT no_such_column]")
    server.migrate()
    bad = {"posting_id": "p", "at": "2024-13-45 99:00:00"}
    with pytest.raises(ValueError, match="missing"):
        server.insert("postings", [bad])
    server.close()
    server.close()
    with pytest.raises(WarehouseError, match="is closed"):
        server.rows("SELECT 1")


def test_commands_migrate_and_export_the_server(
    server: ServerWarehouse,
    offline: tuple[Path, dict[str, list[dict[str, object]]]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    out, rows = offline
    monkeypatch.setenv("CDR_CLICKHOUSE_DATABASE", server.database)
    first = CliRunner().invoke(main, ["db", "migrate"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"applied migrations 1, 2, 3 to database {server.database} on ")
    again = CliRunner().invoke(main, ["db", "migrate"])
    assert again.output.startswith("schema up to date")
    for table in TABLES:
        server.insert(table, rows[table])
    result = CliRunner().invoke(main, ["export", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in OUTPUTS:
        assert (tmp_path / name).read_text(encoding="utf-8").splitlines() == c_sorted(out / name)


def test_rows_inserted_as_columns_read_back_as_the_rows(
    server: ServerWarehouse, offline: tuple[Path, dict[str, list[dict[str, object]]]]
) -> None:
    _, rows = offline
    server.migrate()
    for table in TABLES:
        columns: dict[str, list[object]] = {}
        for column in ddl.TABLES[table].columns:
            cells = [row[column.name] for row in rows[table]]
            if column.type.startswith("DateTime"):  # the sink sends epoch seconds
                cells = [
                    int(datetime.fromisoformat(str(c)).replace(tzinfo=UTC).timestamp())
                    for c in cells
                ]
            columns[column.name] = cells
        assert server.insert_columns(table, columns, batch_rows=7) == len(rows[table])
        back = server.rows(ddl.select_final_sql(server.database, table, ()))
        key = ddl.TABLES[table].column_names()[:2]
        assert sorted(back, key=lambda r: [str(r[k]) for k in key]) == sorted(
            rows[table], key=lambda r: [str(r[k]) for k in key]
        ), table


def test_columns_not_matching_the_table_are_refused_before_sending(
    server: ServerWarehouse, offline: tuple[Path, dict[str, list[dict[str, object]]]]
) -> None:
    _, rows = offline
    server.migrate()
    names = ddl.TABLES["postings"].column_names()
    full = {name: [rows["postings"][0][name]] for name in names}
    full["at"] = [0]
    with pytest.raises(ValueError, match=r"missing \['version'\], unexpected \['extra'\]"):
        server.insert_columns("postings", {**{n: full[n] for n in names[:-1]}, "extra": [1]})
    with pytest.raises(ValueError, match="differ in length"):
        server.insert_columns("postings", {**full, "party": ["a", "b"]})
    db = server.database
    assert server.rows(f"SELECT count() AS n FROM {db}.postings") == [{"n": 0}]


def test_blocked_counts_take_each_partys_latest_balance(server: ServerWarehouse) -> None:
    from pipeline.warehouse.summary import blocked_counts

    server.migrate()
    assert blocked_counts(server) == {}

    def balance(party_type: str, party: str, blocked: int, version: int) -> dict[str, object]:
        return {
            "party_type": party_type,
            "party": party,
            "balance_micro": -5,
            "currency": "EUR",
            "blocked": blocked,
            "updated_at": "2026-03-20 10:00:00",
            "version": version,
        }

    server.insert(
        "balances",
        [
            balance("customer", "c1", 1, 1),
            balance("customer", "c2", 1, 1),
            balance("provider", "p1", 1, 1),
            balance("provider", "p2", 0, 1),
        ],
    )
    server.insert("balances", [balance("customer", "c1", 0, 2), balance("customer", "c2", 1, 2)])
    server.insert("balances", [balance("reseller", "r1", 1, 3)])
    assert blocked_counts(server) == {"customer": 1, "provider": 1, "reseller": 1}
