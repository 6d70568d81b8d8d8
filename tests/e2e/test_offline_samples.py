"""The README's offline run on the sample catalog and CDR files, checked against hand figures."""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(
        main,
        [
            "rate",
            "--catalog",
            str(SAMPLES / "catalog"),
            "--out",
            str(out),
            "--payments",
            str(SAMPLES / "payments.csv"),
            "--source-tz",
            "America/New_York",
            "--warehouse",
            str(out / "warehouse"),
            str(SAMPLES / "cdrs" / "calls.csv"),
            str(SAMPLES / "cdrs" / "Master.csv"),
            str(SAMPLES / "cdrs" / "freeswitch.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_every_input_cdr_has_one_line(run: tuple[Path, str]) -> None:
    out, _ = run
    rated = lines(out / "rated.jsonl")
    # 28 CSV rows, 4 Asterisk, 3 FreeSWITCH
    assert len(rated) == len({r["cdr_id"] for r in rated}) == 35
    assert Counter(r["reason"] for r in rated if r["status"] == "unrated") == {
        "bad_start": 2,  # no UTC offset; year 9999
        "bad_duration": 2,  # negative; over max_call_seconds
        "unknown_provider": 2,  # carrier-x; Asterisk peer unknowncarrier
        "unknown_account": 1,
        "bad_number": 1,
        "no_rate": 1,  # Bangladesh: no code in the retail deck
        "no_provider_rate": 1,  # carrier-a does not sell China
    }


@pytest.mark.parametrize(
    ("cdr_id", "billed", "covered", "cost", "provider_cost"),
    [
        ("s-001", 120, 120, "0.00", "0.0305"),  # 60 s minimum + 60 s steps, all from p100
        ("s-003", 30, 0, "0.125", "0.055"),  # 4479 ended: 447 at 0.25; package used up
        ("s-004", 126, 0, "0.042", "0.018"),  # 6 s steps retail, 60 s steps at carrier-b
        ("s-005", 48, 0, "0.064", "0.015"),  # Friday 10:00 UTC: business 0.08, 30 s + 3 x 6 s
        ("s-006", 30, 0, "0.02", "0.0067"),  # Saturday: weekends 0.04, minimum 30 s
        ("s-007", 600, 0, "1.55", "0.70"),  # 0.05 setup + 10 min at 0.15
        ("s-008", 600, 0, "1.25", "0.70"),  # the 0.12 row effective from March 25
        ("s-015", 300, 0, "0.5455", "0.20"),  # 0.60 USD / 1.10 = 0.545454 EUR
        ("s-016", 0, 0, "0.00", "0.003"),  # within the 3 s grace: free for the customer
        ("1774360800.1", 60, 0, "0.10", "0.03"),  # Asterisk answer 10:00:05 New York
    ],
)
def test_hand_computed_calls(
    run: tuple[Path, str], cdr_id: str, billed: int, covered: int, cost: str, provider_cost: str
) -> None:
    out, _ = run
    (line,) = [r for r in lines(out / "rated.jsonl") if r["cdr_id"] == cdr_id]
    assert (line["billed_seconds"], line["covered_seconds"]) == (billed, covered)
    assert (line["cost"], line["provider_cost"]) == (cost, provider_cost)


def test_balances_and_ledger_agree(run: tuple[Path, str]) -> None:
    out, _ = run
    balances = {(str(b["party_type"]), str(b["party"])): b for b in lines(out / "balances.jsonl")}
    # c1: 10 opening - 10.361 of calls + 20 paid through the distributor
    assert balances[("customer", "c1")]["balance"] == "19.639"
    opening = {("customer", "c1"): Decimal(10), ("customer", "c3"): Decimal(3)}
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for p in lines(out / "postings.jsonl"):
        sums[(str(p["party_type"]), str(p["party"]))] += Decimal(str(p["amount"]))
    for key, line in balances.items():
        assert Decimal(str(line["balance"])) - opening.get(key, Decimal(0)) == sums[key], key


def test_commissions(run: tuple[Path, str]) -> None:
    out, _ = run
    kinds = {(p["kind"], p["amount"]) for p in lines(out / "postings.jsonl") if p["party"] == "r1"}
    assert ("distributor_sale", "-8.50") in kinds  # 10 opening balance at 15 %
    assert ("distributor_payment", "-18.00") in kinds  # 20 collected at 10 %
    assert ("payment", "25.00") in kinds


def test_alerts(run: tuple[Path, str]) -> None:
    out, _ = run
    alerts = [(a["party"], a["kind"], a["threshold"]) for a in lines(out / "alerts.jsonl")]
    c1 = [kind for party, kind, _ in alerts if party == "c1"]
    assert c1 == ["low_balance", "blocked", "unblocked"]
    assert [k for p, k, _ in alerts if p == "carrier-b"] == [
        "provider_disabled",
        "provider_enabled",
    ]
    assert [(k, t) for p, k, t in alerts if p == "2000"] == [
        ("daily_minutes_threshold", "80"),
        ("daily_minutes_threshold", "100"),
        ("daily_minutes_exhausted", ""),
        ("blocked", ""),
        ("unblocked", ""),  # next New York day
    ]


def test_summary_and_warehouse(run: tuple[Path, str]) -> None:
    out, output = run
    assert "CDRs: 35  rated: 25  unrated: 10" in output
    result = CliRunner().invoke(
        main,
        [
            "sql",
            "--warehouse",
            str(out / "warehouse"),
            "--format",
            "TSV",
            "SELECT count(), sum(cost_micro) FROM cdr.rated_cdrs FINAL WHERE status = 'rated'",
        ],
    )
    assert result.exit_code == 0, result.output
    count, cost = result.output.split()
    rated = [r for r in lines(out / "rated.jsonl") if r["status"] == "rated"]
    assert int(count) == len(rated)
    assert Decimal(cost) / 1_000_000 == sum(Decimal(str(r["cost"])) for r in rated)


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "rate",
            "--catalog",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
            str(SAMPLES / "cdrs" / "calls.csv"),
        ],
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "catalog.yaml" in result.output


def test_the_same_file_twice_charges_nothing_twice(tmp_path: Path) -> None:
    calls = str(SAMPLES / "cdrs" / "calls.csv")
    args = ["rate", "--catalog", str(SAMPLES / "catalog"), "--out"]
    once = CliRunner().invoke(main, [*args, str(tmp_path / "once"), calls])
    twice = CliRunner().invoke(main, [*args, str(tmp_path / "twice"), calls, calls])
    assert once.exit_code == twice.exit_code == 0
    assert "duplicates skipped (CDR or payment ids seen before): 28" in twice.output
    for name in ("rated.jsonl", "postings.jsonl", "alerts.jsonl", "balances.jsonl"):
        assert (tmp_path / "once" / name).read_text() == (tmp_path / "twice" / name).read_text()


def test_rows_without_ids_in_two_files_of_one_name_are_both_rated(tmp_path: Path) -> None:
    """A row without a cdr_id is named `<file name>:<line>`: the second calls.csv of a
    run is named by its path, or its row would be skipped as the first's repeat."""
    row = ",2000,2000,12125550100,2026-03-20T09:00:00Z,60,carrier-b\n"
    inputs = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "calls.csv"
        path.write_text("cdr_id,account,caller,callee,start,duration,provider\n" + row)
        inputs.append(str(path))
    args = ["rate", "--catalog", str(SAMPLES / "catalog"), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, [*args, *inputs, inputs[0]])  # a's file given twice
    assert result.exit_code == 0, result.output
    ids = [str(line["cdr_id"]) for line in lines(tmp_path / "out" / "rated.jsonl")]
    assert sorted(ids) == sorted(["calls.csv:2", f"{inputs[1]}:2"])
    assert "duplicates skipped (CDR or payment ids seen before): 1" in result.output


def test_revenue_and_cost_that_cannot_be_converted_are_shown_apart(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLES / "catalog", catalog)
    path = catalog / "catalog.yaml"
    path.write_text(path.read_text().replace("currency: USD\n", "currency: GBP\n", 1))
    calls = str(SAMPLES / "cdrs" / "calls.csv")
    args = ["rate", "--catalog", str(catalog), "--out", str(tmp_path / "out"), calls]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "revenue: 0.00 GBP  cost: 0.00 GBP" in result.output
    apart = [
        line.split(":")[0].strip() for line in result.output.splitlines() if "not conv" in line
    ]
    assert apart == [f"{what} not converted to GBP (no exchange rate, left out above)"
                     for what in ("cost", "cost", "revenue", "revenue")]  # fmt: skip


def test_a_warehouse_is_written_new_and_earlier_outputs_are_kept(tmp_path: Path) -> None:
    """A second run into one warehouse would keep both runs' postings beside the second
    run's balances only; it is refused before anything is written."""
    out, warehouse = tmp_path / "out", tmp_path / "warehouse"
    calls = str(SAMPLES / "cdrs" / "calls.csv")
    args = ["rate", "--catalog", str(SAMPLES / "catalog"), "--out", str(out), "--warehouse"]
    first = CliRunner().invoke(main, [*args, str(warehouse), calls])
    assert first.exit_code == 0, first.output
    rated = (out / "rated.jsonl").read_text()
    again = CliRunner().invoke(main, [*args, str(warehouse), calls])
    assert again.exit_code == 1 and again.output.count("\n") == 1
    assert f"--warehouse {warehouse}: not empty; each `rate` run writes a new" in again.output
    (tmp_path / "file").write_text("")
    on_a_file = CliRunner().invoke(main, [*args, str(tmp_path / "file"), calls])
    assert on_a_file.exit_code == 1 and "is a file" in on_a_file.output
    assert (out / "rated.jsonl").read_text() == rated


def test_paths_of_the_wrong_kind_are_named_in_one_line(tmp_path: Path) -> None:
    calls = str(SAMPLES / "cdrs" / "calls.csv")
    base = ["rate", "--catalog", str(SAMPLES / "catalog"), "--out"]
    folder = CliRunner().invoke(main, [*base, str(tmp_path / "o"), str(tmp_path)])
    assert folder.exit_code == 1
    assert (
        folder.output
        == f"cdr-pipeline: error: {tmp_path}: a directory, not a CDR file; name the files in it\n"
    )
    (tmp_path / "afile").write_text("")
    out = CliRunner().invoke(main, [*base, str(tmp_path / "afile"), calls])
    assert out.exit_code == 1 and out.output.count("\n") == 1
    assert "--out " + str(tmp_path / "afile") + ": is a file" in out.output


def test_freeswitch_rows_without_a_provider_say_how_to_name_one(tmp_path: Path) -> None:
    first = (SAMPLES / "cdrs" / "freeswitch.csv").read_text().splitlines()[0]
    default_template = tmp_path / "Master.freeswitch.csv"  # 15 columns, no provider
    default_template.write_text(first.rsplit(",", 1)[0] + "\n")
    out = str(tmp_path / "out")
    args = ["rate", "--catalog", str(SAMPLES / "catalog"), "--out", out, "--format"]
    args += ["freeswitch", str(default_template)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    details = {str(line["detail"]) for line in lines(tmp_path / "out" / "rated.jsonl")
               if line["reason"] == "unknown_provider"}  # fmt: skip
    assert details == {"the row names no provider; pass --provider NAME, or add the column"}
