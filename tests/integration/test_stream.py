"""The streaming pipeline on the real broker and server equals the offline command."""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.catalog.model import PartyType
from pipeline.engine.events import Sequenced
from pipeline.engine.records import Payment
from pipeline.schemas.codec import encode_raw
from tests.integration.conftest import LocalServers
from tests.integration.stream_helpers import (
    cli,
    generated,
    isolated_env,
    run,
    running_worker,
    sorted_outputs,
    wait_for_export,
    warehouse,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SAMPLE_CDRS = [str(SAMPLES / "cdrs" / n) for n in ("calls.csv", "Master.csv", "freeswitch.csv")]
SAMPLE_ARGS = ["--payments", str(SAMPLES / "payments.csv"), "--source-tz", "America/New_York"]


def base_env(servers: LocalServers) -> dict[str, str]:
    return {
        "CDR_KAFKA_BROKERS": servers.kafka_brokers,
        "CDR_CLICKHOUSE_HOST": servers.clickhouse_host,
        "CDR_CLICKHOUSE_PORT": str(servers.clickhouse_port),
    }


def offline(tmp: Path, catalog: Path, cdrs: list[str], extra: list[str]) -> dict[str, list[str]]:
    out = tmp / "offline"
    cli(dict(os.environ), "rate", "--catalog", str(catalog), "--out", str(out), *extra, *cdrs)
    return sorted_outputs(out)


def assert_same(got: dict[str, list[str]], expected: dict[str, list[str]]) -> None:
    for name, lines in expected.items():
        assert len(got[name]) == len(lines), name
        assert got[name] == lines, name


def test_samples_stream_equals_offline_and_a_replay_changes_nothing(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
        got = wait_for_export(env, expected, tmp_path / "stream", 120, worker)
        assert_same(got, expected)
        # the same files again: nothing is charged twice, no row is added
        cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
        cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
        again = wait_for_export(env, {}, tmp_path / "again", 10, worker)
        assert_same(again, expected)
    with warehouse(env) as db:
        rows = db.rows(
            f"SELECT count() AS n FROM {env['CDR_CLICKHOUSE_DATABASE']}.rated_cdrs FINAL"
        )
    assert int(str(rows[0]["n"])) == 35


def test_generated_100k_stream_equals_offline(local_servers: LocalServers, tmp_path: Path) -> None:
    data = generated(tmp_path, 100_000, codes=5_000, accounts=2_000, providers=20)
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, data / "catalog", [str(data / "cdrs.csv")], [])
    assert len(expected["rated.jsonl"]) == 100_000
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(data / "catalog"))
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", str(data / "cdrs.csv"))
        got = wait_for_export(env, expected, tmp_path / "stream", 600, worker)
    assert_same(got, expected)


UNREADABLE = frozenset({"bad_frame", "unknown_schema", "bad_avro"})
# well-formed, but a payment to a customer the catalog does not have
BAD_PAYMENT = encode_raw(
    [
        Sequenced(
            0,
            Payment(
                "pay-x",
                datetime(2026, 3, 20, tzinfo=UTC),
                PartyType.CUSTOMER,
                "no-such-customer",
                5_000_000,
                "USD",
            ),
        )
    ]
)


@pytest.mark.parametrize(
    ("bad", "reasons"),
    [
        (b"", UNREADABLE),
        (b"\xc3\x01" + b"\x00" * 8 + b"junk", UNREADABLE),
        (b"not avro at all", UNREADABLE),
        (BAD_PAYMENT, {"bad_payment"}),
    ],
)
def test_malformed_raw_messages_are_dead_lettered_and_the_worker_goes_on(
    local_servers: LocalServers, tmp_path: Path, bad: bytes, reasons: frozenset[str]
) -> None:
    from confluent_kafka import Consumer, Producer

    from pipeline.schemas.codec import decode_dead_letter

    env = isolated_env(base_env(local_servers), tmp_path)
    prefix = env["CDR_TOPIC_PREFIX"]
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    producer = Producer({"bootstrap.servers": local_servers.kafka_brokers})
    offsets: list[int | None] = []
    producer.produce(
        f"{prefix}.raw",
        value=bad,
        partition=0,
        on_delivery=lambda _e, m: offsets.append(m.offset()),
    )
    producer.flush(10)
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
        got = wait_for_export(env, expected, tmp_path / "stream", 120, worker)
        assert worker.poll() is None
    assert_same(got, expected)
    consumer = Consumer(
        {
            "bootstrap.servers": local_servers.kafka_brokers,
            "group.id": f"{prefix}-check",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([f"{prefix}.deadletter"])
    message = None
    for _ in range(30):
        message = consumer.poll(1)
        if message is not None and not message.error():
            break
    consumer.close()
    assert message is not None
    value = message.value()
    assert value is not None
    letter = decode_dead_letter(value)
    assert letter.payload == bad
    assert letter.reason in reasons
    assert [(letter.topic, letter.partition, letter.offset)] == [(f"{prefix}.raw", 0, *offsets)]


def test_a_deck_published_while_the_worker_runs_applies_from_its_effective_date(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    import shutil
    import time

    env = isolated_env(base_env(local_servers), tmp_path)
    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLES / "catalog", catalog)
    calls = tmp_path / "calls.csv"
    calls.write_text(
        "cdr_id,account,caller,callee,start,duration,provider\n"
        "before,2000,2000,+33140000001,2026-03-31T12:00:00Z,60,carrier-a\n"
        "after,2000,2000,+33140000002,2026-04-02T12:00:00Z,60,carrier-a\n",
        encoding="utf-8",
    )
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(catalog))
    log = tmp_path / "worker.log"
    with running_worker(env, log) as worker:
        deck = catalog / "decks" / "retail.csv"
        deck.write_text(
            deck.read_text(encoding="utf-8") + "33,France,0.30,2026-04-01,,0,1,0,0,all\n",
            encoding="utf-8",
        )
        version = cli(env, "catalog", "publish", str(catalog)).split()[2]
        deadline = time.monotonic() + 60
        while f"catalog {version} in use" not in log.read_text(errors="replace"):
            assert worker.poll() is None and time.monotonic() < deadline, "v2 never loaded"
            time.sleep(0.5)
        cli(env, "produce", str(calls))
        database = env["CDR_CLICKHOUSE_DATABASE"]
        costs: dict[str, int] = {}
        while len(costs) < 2 and time.monotonic() < deadline + 60:
            time.sleep(1)
            with warehouse(env) as db:
                rows = db.rows(f"SELECT cdr_id, cost_micro FROM {database}.rated_cdrs FINAL")
            costs = {str(r["cdr_id"]): int(str(r["cost_micro"])) for r in rows}
    assert costs == {"before": 120_000, "after": 300_000}  # 0.12 then the new 0.30 per minute


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> Samples:
    """Every sample a worker's /metrics serves, by name and sorted labels."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_running_worker_serves_metrics_that_match_the_cdrs_sent(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    port = free_port()  # for this worker's /metrics
    env = isolated_env(base_env(local_servers), tmp_path)
    env["CDR_METRICS_PORT"] = str(port)
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
        assert_same(wait_for_export(env, expected, tmp_path / "stream", 120, worker), expected)
        samples = scrape(port)
    assert samples[("cdr_pipeline_cdrs_in_total", ())] == 35
    assert samples[("cdr_pipeline_cdrs_rated_total", ())] == 25
    unrated = {
        dict(labels)["reason"]: value
        for (name, labels), value in samples.items()
        if name == "cdr_pipeline_cdrs_unrated_total"
    }
    assert sum(unrated.values()) == 10 and unrated["bad_duration"] == 2
    alerts = sum(v for (n, _), v in samples.items() if n == "cdr_pipeline_alerts_total")
    assert alerts == len(expected["alerts.jsonl"])
    rows = samples[("cdr_pipeline_sink_batch_rows_sum", (("table", "rated_cdrs"),))]
    assert rows == 35
    for stage in ("resellers", "providers"):  # the final tick released every piece of work
        assert samples[("cdr_pipeline_held_work_items", (("stage", stage),))] == 0


def test_blocked_gauges_are_read_from_clickhouse_by_a_worker_that_just_started(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """The balances an earlier worker landed set a new worker's gauges, with no CDR sent."""
    port = free_port()
    env = isolated_env(base_env(local_servers), tmp_path)
    env.update(CDR_METRICS_PORT=str(port), CDR_METRICS_REFRESH_SECONDS="0.5")
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))

    def balance(party_type: str, party: str, blocked: int, version: int) -> dict[str, object]:
        at = "2026-03-20 10:00:00"
        return {
            "party_type": party_type,
            "party": party,
            "balance_micro": -5,
            "currency": "USD",
            "blocked": blocked,
            "updated_at": at,
            "version": version,
        }

    landed = [("customer", "c1", 1), ("customer", "c2", 1), ("account", "1001", 1)]
    landed += [("provider", "p1", 1), ("provider", "p2", 1), ("provider", "p3", 0)]
    with warehouse(env) as db:
        db.insert("balances", [balance(t, p, b, 1) for t, p, b in landed])

    def gauges() -> tuple[float | None, ...]:
        samples = scrape(port)
        blocked = "cdr_pipeline_blocked_parties"
        return (
            samples.get((blocked, (("party_type", "customer"),))),
            samples.get((blocked, (("party_type", "account"),))),
            samples.get((blocked, (("party_type", "reseller"),))),
            samples.get(("cdr_pipeline_disabled_providers", ())),
        )

    def wait_for(expected: tuple[float, ...]) -> None:
        deadline = time.monotonic() + 60
        while (got := _or_none(gauges)) != expected:
            assert time.monotonic() < deadline, f"gauges {got}, expected {expected}"
            time.sleep(0.5)

    with running_worker(env, tmp_path / "worker.log"):
        wait_for((2, 1, 0, 2))
        with warehouse(env) as db:  # c1 paid, p2 enabled: later snapshots
            db.insert(
                "balances", [balance("customer", "c1", 0, 2), balance("provider", "p2", 0, 2)]
            )
        wait_for((1, 1, 0, 1))


def _or_none(read: Callable[[], tuple[float | None, ...]]) -> tuple[float | None, ...] | None:
    """`read()`, or None while the worker's endpoint is not up yet."""
    try:
        return read()
    except OSError:
        return None


def test_poison_input_is_unrated_or_dead_lettered_and_the_worker_goes_on(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    import json

    from confluent_kafka import Producer

    from pipeline.engine.events import Tick
    from pipeline.schemas.codec import encode_alerts, encode_raw

    def row(cdr_id: str, **change: object) -> bytes:
        record = {
            "cdr_id": cdr_id,
            "account": "1000",
            "caller": "1000",
            "callee": "+442079460000",
            "start": "2026-03-20T09:00:00Z",
            "duration": 60,
            "provider": "carrier-a",
            **change,
        }
        return json.dumps(record).encode() + b"\n"

    poison = tmp_path / "poison.jsonl"
    poison.write_bytes(
        row("ok")
        + row("huge", callee="4" * 10_000_000)
        + row("negative", duration=-5)
        + row("absurd", duration=10**12)
        + row("nan", duration="NaN")
        + row("stranger", account="no-such-account")
        + row("letters", callee="44ABC123")
        + row("far-future", start="9999-01-01T00:00:00Z")
        + b'{"cdr_id": "latin1", "callee": "\xe9\xe8"}\n'
        + b'{"cdr_id": "broken", \n'
    )
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, SAMPLES / "catalog", [str(poison)], [])
    reasons = sorted(json.loads(line)["reason"] for line in expected["rated.jsonl"])
    assert reasons == sorted(
        [
            "",
            "bad_record",
            "bad_duration",
            "bad_duration",
            "bad_duration",
            "unknown_account",
            "bad_number",
            "bad_start",
            "bad_encoding",
            "bad_record",
        ]
    )
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    valid = encode_raw([Tick(0)])
    producer = Producer({"bootstrap.servers": local_servers.kafka_brokers})
    for bad in (valid[: len(valid) // 2], encode_alerts([]), b"\xc3\x01" + b"\xff" * 8):
        producer.produce(f"{env['CDR_TOPIC_PREFIX']}.raw", value=bad, partition=1)
    producer.flush(10)
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", str(poison))
        got = wait_for_export(env, expected, tmp_path / "stream", 120, worker)
        assert worker.poll() is None
    assert_same(got, expected)


def test_a_file_older_than_the_replay_window_is_dead_lettered_and_charges_nothing(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """The samples span nine days and the window is two: one run still rates them all
    (ids are forgotten as the days pass). After a June file, the March files again are
    too late to tell from a repeat: dead-lettered with their ids, nothing charged."""
    import json

    from confluent_kafka import Consumer

    from pipeline.catalog.loader import load_catalog
    from pipeline.cdrs.model import RawCdr
    from pipeline.engine.routing import Router, partition_of
    from pipeline.schemas.codec import decode_dead_letter

    port = free_port()
    env = isolated_env(base_env(local_servers), tmp_path)
    env["CDR_METRICS_PORT"] = str(port)
    env["CDR_REPLAY_WINDOW_DAYS"] = "2"
    june = tmp_path / "june.csv"
    june.write_text(
        "cdr_id,account,caller,callee,start,duration,provider\n"
        "j-1,1000,1000,+44 20 7946 0000,2026-06-01T09:00:00Z,60,carrier-a\n"
        "j-2,3000,3000,0033 1 4000 0000,2026-06-01T10:00:00Z,60,carrier-a\n"
    )
    expected = offline(tmp_path, SAMPLES / "catalog", [*SAMPLE_CDRS, str(june)], SAMPLE_ARGS)
    catalog = load_catalog(SAMPLES / "catalog")
    partitions = int(env.get("CDR_PARTITIONS", "4"))

    def partition(account: str) -> int:
        call = RawCdr("", account, "", "", None, None, "")
        return partition_of(Router(catalog).cdr_key(call), partitions)

    moved = {partition("1000"), partition("3000")}  # the partitions June moves on
    late = {  # their March calls with a start
        line["cdr_id"]
        for line in map(json.loads, expected["rated.jsonl"])
        if line["start"]
        and partition(line["account"]) in moved
        and not line["cdr_id"].startswith("j-")
    }
    assert len(late) >= 25
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
        cli(env, "produce", str(june))
        assert_same(wait_for_export(env, expected, tmp_path / "stream", 120, worker), expected)
        cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)  # March again, after June

        consumer = Consumer(
            {
                "bootstrap.servers": local_servers.kafka_brokers,
                "group.id": f"{env['CDR_TOPIC_PREFIX']}-check",
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([f"{env['CDR_TOPIC_PREFIX']}.deadletter"])
        dead: set[str] = set()
        deadline = time.monotonic() + 60
        while dead != late and time.monotonic() < deadline:
            message = consumer.poll(1)
            if message is None or message.error():
                continue
            letter = decode_dead_letter(message.value() or b"")
            assert letter.reason == "too_late", letter.detail
            assert "CDR_REPLAY_WINDOW_DAYS" in letter.detail
            dead.update(letter.detail.rpartition("Ids: ")[2].split(", "))
        consumer.close()
        assert dead == late
        again = wait_for_export(env, {}, tmp_path / "again", 5, worker)
        assert_same(again, expected)  # no row added or changed, no balance moved
        assert scrape(port)[("cdr_pipeline_cdrs_too_late_total", ())] == len(late)


def test_summary_with_clickhouse_away_is_one_line(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """The catalog is read from Kafka, then ClickHouse does not answer: one line, exit 1
    (it was a traceback)."""
    env = isolated_env(base_env(local_servers), tmp_path)
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = str(probe.getsockname()[1])
    done = run(dict(env, CDR_CLICKHOUSE_PORT=closed), "summary")
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and done.stdout == ""
    assert f"ClickHouse at 127.0.0.1:{closed} is not reachable" in done.stderr


def test_a_worker_on_a_database_never_migrated_refuses_to_start(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """Without the schema the sink would retry every insert for good; the worker says what
    to run instead, in one line, and exits 1."""
    env = isolated_env(base_env(local_servers), tmp_path)
    done = run(env, "worker")
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stderr.count("\n") == 1, done.stderr[-3000:]
    assert f"no warehouse schema in database {env['CDR_CLICKHOUSE_DATABASE']}" in done.stderr
    assert "cdr-pipeline db migrate" in done.stderr


def test_a_worker_whose_data_dir_cannot_be_made_refuses_to_start(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    env = isolated_env(base_env(local_servers), tmp_path)
    cli(env, "db", "migrate")
    (tmp_path / "file").write_text("")
    done = run(dict(env, CDR_WORKER_DATA_DIR=str(tmp_path / "file" / "worker")), "worker")
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stderr.count("\n") == 1, done.stderr[-3000:]
    assert "CDR_WORKER_DATA_DIR" in done.stderr and "Not a directory" in done.stderr
