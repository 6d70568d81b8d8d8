"""Warehouse rows back into output lines: exact round trips, bytewise order, the command."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pipeline.catalog.model import PartyType
from pipeline.cli import main
from pipeline.engine import serialize
from pipeline.engine.book import BalanceLine
from pipeline.engine.records import RatedCdr
from pipeline.ledger.alerts import Alert, AlertKind
from pipeline.ledger.postings import Posting, PostingKind
from pipeline.offline.run import OUTPUTS, RunOptions, run
from pipeline.warehouse import ddl, export
from pipeline.warehouse.base import Warehouse
from pipeline.warehouse.embedded import EmbeddedWarehouse, WarehouseError
from pipeline.warehouse.server import ServerWarehouse

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
AT = datetime(2026, 3, 20, 10, 0, 5, 700_000, tzinfo=timezone(timedelta(hours=-4)))

RATED = RatedCdr(
    cdr_id="s-1",
    status="rated",
    reason="",
    detail="",
    source="calls.csv:2",
    account="1000",
    customer="c1",
    payer="r1",
    provider="carrier-a",
    code="4420",
    code_name="UK London",
    start=AT,
    duration=65,
    billed_seconds=120,
    covered_seconds=60,
    cost=1_500_000,
    currency="EUR",
    provider_cost=30_500,
    provider_currency="USD",
)
UNRATED = replace(
    RATED,
    status="unrated",
    reason="bad_start",
    detail="start 'x' is not an ISO 8601 time; duration 'y' is not a number",
    payer="",
    code="",
    code_name="",
    start=None,
    duration=None,
    billed_seconds=0,
    covered_seconds=0,
    cost=None,
    currency="",
    provider_cost=None,
    provider_currency="",
)

CDRS = [
    pytest.param(RATED, id="rated"),
    pytest.param(replace(RATED, cost=0, provider_cost=-7), id="free-call"),
    pytest.param(UNRATED, id="no-start-no-duration"),
    pytest.param(replace(UNRATED, reason="unknown_account", start=AT, duration=0), id="zero-s"),
    pytest.param(replace(UNRATED, start=datetime(1970, 1, 1, tzinfo=UTC)), id="epoch-start"),
    pytest.param(replace(UNRATED, duration=12), id="duration-without-start"),
]


def as_read(row: dict[str, Any]) -> dict[str, object]:
    """A row as a warehouse gives it back: JSON types, 64-bit ints quoted as 18.16 does."""
    return {
        k: str(v) if k.endswith("_micro") else v for k, v in json.loads(json.dumps(row)).items()
    }


@pytest.mark.parametrize("cdr", CDRS)
def test_rated_lines_round_trip_exactly(cdr: RatedCdr) -> None:
    line = export.rated_line(as_read(serialize.rated_row(cdr, 7)))
    assert json.dumps(line) == json.dumps(serialize.rated_line(cdr))  # keys in order too


def test_a_duration_beyond_uint32_is_cut_to_fit_the_column() -> None:
    row = serialize.rated_row(replace(UNRATED, duration=99_999_999_999), 1)
    assert (row["duration"], row["duration_known"]) == (2**32 - 1, 1)


def test_posting_and_balance_lines_round_trip_exactly() -> None:
    posting = Posting(
        "pay-1/customer/c1", PartyType.CUSTOMER, "c1", -2_000_001, "EUR", PostingKind.PAYMENT, AT
    )
    line = export.posting_line(as_read(serialize.posting_row(posting, 3)))
    assert json.dumps(line) == json.dumps(serialize.posting_line(posting))
    for blocked in (True, False):
        balance = BalanceLine(PartyType.RESELLER, "r1", -10, "USD", blocked)
        row = as_read(serialize.balance_row(balance, AT, 3))
        assert json.dumps(export.balance_line(row)) == json.dumps(serialize.balance_line(balance))


def test_alert_details_come_back_in_their_order() -> None:
    alert = Alert(
        "customer/c1/low_balance/5/s-1",
        PartyType.CUSTOMER,
        "c1",
        AlertKind.LOW_BALANCE,
        AT,
        threshold="5",
        details=(("balance", "4.50"), ("available", "4.50"), ("currency", "EUR"), ("ä", "ü")),
    )
    line = export.alert_line(as_read(serialize.alert_row(alert, 1)))
    assert json.dumps(line) == json.dumps(serialize.alert_line(alert))
    assert list(line)[-4:] == ["balance", "available", "currency", "ä"]


AWKWARD_IDS = ["a", "a b", "a!", 'a"', "a\\", "a\n", "a\t", "a\x01", "a-b", "ab", "é", "", " "]


def test_merge_bytewise_orders_lines_as_c_sort_does() -> None:
    lines = {key: export.encode({"cdr_id": key, "n": 1}) for key in AWKWARD_IDS}
    in_key_order = [lines[k] for k in sorted(lines, key=str.encode) if not export.awkward(k)]
    odd = [lines[k] for k in AWKWARD_IDS if export.awkward(k)]
    merged = list(export.merge_bytewise(in_key_order, odd))
    assert merged == sorted(lines.values(), key=str.encode)
    assert [export.awkward(k) for k in ("a", "a-b", "é", "a b", 'a"', "a\\")] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]


def test_both_warehouses_satisfy_the_protocol(tmp_path: Path) -> None:
    server: Warehouse = ServerWarehouse("127.0.0.1", 19000, "cdr")  # connects on first use
    server.close()
    with EmbeddedWarehouse(tmp_path / "wh") as embedded:
        typed: Warehouse = embedded
        assert typed.database == server.database == "cdr"


def test_output_files_are_the_offline_ones() -> None:
    assert tuple(spec.name for spec in export.OUTPUT_FILES) == OUTPUTS
    for spec in export.OUTPUT_FILES:
        assert set(spec.key) <= set(ddl.TABLES[spec.table].column_names())


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's sample run (as tests/e2e), with its embedded warehouse (closed after)."""
    out = tmp_path_factory.mktemp("offline")
    run(
        RunOptions(
            catalog=SAMPLES / "catalog",
            out=out,
            inputs=[
                SAMPLES / "cdrs" / name for name in ("calls.csv", "Master.csv", "freeswitch.csv")
            ],
            payments=SAMPLES / "payments.csv",
            source_tz=ZoneInfo("America/New_York"),
            warehouse=out / "warehouse",
        )
    )
    return out


def c_sorted(path: Path) -> list[str]:
    """The file's lines as `LC_ALL=C sort` orders them."""
    return sorted(path.read_text(encoding="utf-8").splitlines(), key=str.encode)


@pytest.mark.parametrize("page_rows", [export.PAGE_ROWS, 4])
def test_export_equals_the_offline_files_sorted(
    offline: Path, tmp_path: Path, page_rows: int
) -> None:
    with EmbeddedWarehouse(offline / "warehouse") as warehouse:
        counts = export.export_outputs(warehouse, tmp_path / "export", page_rows=page_rows)
    for name in OUTPUTS:
        exported = (tmp_path / "export" / name).read_text(encoding="utf-8").splitlines()
        assert exported == c_sorted(offline / name), name
        assert counts[name] == len(exported)
    assert counts["rated.jsonl"] == 35
    unrated = [json.loads(x) for x in c_sorted(offline / "rated.jsonl") if '"unrated"' in x]
    assert any(line["start"] is None for line in unrated)  # the sample covers the null cases
    assert any(line["cost"] is None for line in unrated)
    assert not list((tmp_path / "export").glob(".*"))  # no partial files left


@pytest.fixture
def awkward_warehouse(tmp_path: Path) -> Iterator[EmbeddedWarehouse]:
    with EmbeddedWarehouse(tmp_path / "wh") as wh:
        wh.migrate()
        yield wh


def test_awkward_ids_nulls_and_replays_export_exactly(
    awkward_warehouse: EmbeddedWarehouse, tmp_path: Path
) -> None:
    cdrs = [replace(UNRATED if i % 2 else RATED, cdr_id=k) for i, k in enumerate(AWKWARD_IDS)]
    cdrs.append(replace(UNRATED, cdr_id="epoch", start=datetime(1970, 1, 1, tzinfo=UTC)))
    cdrs.append(replace(UNRATED, cdr_id="zero", duration=0, start=AT))
    stale = replace(RATED, cdr_id="ab", cost=1)  # an older version of "ab", replaced
    awkward_warehouse.insert("rated_cdrs", [serialize.rated_row(stale, 1)])
    awkward_warehouse.insert("rated_cdrs", [serialize.rated_row(c, 2) for c in cdrs])
    counts = export.export_outputs(awkward_warehouse, tmp_path / "x", page_rows=3)
    expected = sorted((export.encode(serialize.rated_line(c)) for c in cdrs), key=str.encode)
    assert (tmp_path / "x" / "rated.jsonl").read_text(encoding="utf-8").splitlines() == expected
    assert counts == {"rated.jsonl": len(cdrs), "postings.jsonl": 0, "alerts.jsonl": 0,
                      "balances.jsonl": 0}  # fmt: skip


def test_export_refuses_a_schema_behind_the_code(tmp_path: Path) -> None:
    with EmbeddedWarehouse(tmp_path / "wh") as wh:
        v1 = ddl.migrations(wh.database)[0]
        for sql in v1.statements:
            wh.query(sql)
        wh.query(ddl.record_migration_sql(wh.database, v1))
        with pytest.raises(WarehouseError, match=r"lacks migrations 2, 3; migrate it first"):
            export.export_outputs(wh, tmp_path / "x")
        wh.query("DROP DATABASE cdr")
        with pytest.raises(WarehouseError, match=r"no warehouse schema in database cdr"):
            export.export_outputs(wh, tmp_path / "x")


def test_export_command_from_an_embedded_warehouse(offline: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "--warehouse", str(offline / "warehouse"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "rated.jsonl 35" in result.output
    assert (tmp_path / "balances.jsonl").read_text(encoding="utf-8").splitlines() == c_sorted(
        offline / "balances.jsonl"
    )


def test_export_command_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "--warehouse", str(tmp_path / "none"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "no warehouse here" in result.output


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [["db", "migrate"], ["export", "--out", "x"]])
def test_an_unreachable_server_is_one_line_naming_it(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = closed_port()
    monkeypatch.setenv("CDR_CLICKHOUSE_HOST", "127.0.0.1")
    monkeypatch.setenv("CDR_CLICKHOUSE_PORT", str(port))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1
    assert f"ClickHouse at 127.0.0.1:{port} is not reachable" in result.output
    assert "deploy/local/up" in result.output


def test_bad_settings_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDR_CLICKHOUSE_PORT", "many")
    result = CliRunner().invoke(main, ["db", "migrate"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "CDR_CLICKHOUSE_PORT" in result.output
