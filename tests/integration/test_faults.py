"""Fault tests on the real broker and server: outages mid-stream lose and double nothing."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.conftest import LocalServers
from tests.integration.stream_helpers import (
    cli,
    generated,
    isolated_env,
    running_worker,
    wait_for_export,
    warehouse,
)
from tests.integration.test_stream import assert_same, base_env, offline

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "deploy" / "local"


def prepared(
    servers: LocalServers, tmp: Path, cdrs: int = 30_000
) -> tuple[Path, dict[str, str], dict[str, list[str]]]:
    """Generated data, its offline outputs, and a migrated stream with the catalog published."""
    data = generated(tmp, cdrs, codes=2_000, accounts=500, providers=10)
    env = isolated_env(base_env(servers), tmp)
    expected = offline(tmp, data / "catalog", [str(data / "cdrs.csv")], [])
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(data / "catalog"))
    return data, env, expected


def until_mid_stream(env: dict[str, str]) -> None:
    """Wait until some rows have landed in ClickHouse, while most have not."""
    deadline = time.monotonic() + 120
    while rated_rows(env) < 1_000:
        assert time.monotonic() < deadline, "nothing reached ClickHouse"
        time.sleep(0.2)


def rated_rows(env: dict[str, str], distinct: bool = False) -> int:
    """Rows in rated_cdrs (with `distinct`, CDR ids); -1 while the server is down."""
    what = "uniqExact(cdr_id)" if distinct else "count()"
    try:
        with warehouse(env) as db:
            rows = db.rows(f"SELECT {what} AS n FROM {env['CDR_CLICKHOUSE_DATABASE']}.rated_cdrs")
    except Exception:  # the server is down: nothing visible
        return -1
    return int(str(rows[0]["n"]))


def test_clickhouse_away_for_30_seconds_mid_stream(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    data, env, expected = prepared(local_servers, tmp_path)
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", str(data / "cdrs.csv"))
        until_mid_stream(env)
        subprocess.run([str(LOCAL / "clickhouse"), "stop"], check=True, capture_output=True)
        try:
            time.sleep(30)
            assert worker.poll() is None, "the worker died while ClickHouse was away"
        finally:
            subprocess.run([str(LOCAL / "clickhouse"), "start"], check=True, capture_output=True)
        got = wait_for_export(env, expected, tmp_path / "stream", 300, worker)
        assert worker.poll() is None
    assert_same(got, expected)
    assert_balances_are_sums_of_postings(env, data / "catalog")
    assert rated_rows(env) >= 30_000  # every CDR landed; FINAL shows each exactly once
    failures = (tmp_path / "worker.log").read_text(errors="replace").count("retry in")
    assert failures > 0, "the sink never had to retry: the outage was not mid-stream"


def test_kafka_broker_restarted_mid_stream(local_servers: LocalServers, tmp_path: Path) -> None:
    data, env, expected = prepared(local_servers, tmp_path)
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", str(data / "cdrs.csv"))
        until_mid_stream(env)
        subprocess.run([str(LOCAL / "kafka"), "restart"], check=True, capture_output=True)
        got = wait_for_export(env, expected, tmp_path / "stream", 300, worker)
        assert worker.poll() is None, "the worker died when the broker restarted"
    assert_same(got, expected)
    assert_balances_are_sums_of_postings(env, data / "catalog")


def test_work_held_back_survives_a_worker_restart(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """Reseller and provider work waiting for a watermark is not lost when the worker stops."""
    from collections import defaultdict

    from confluent_kafka import Producer

    from pipeline.catalog.loader import load_catalog
    from pipeline.engine.events import Sequenced, Tick
    from pipeline.engine.routing import Router, partition_of
    from pipeline.schemas.codec import encode_raw
    from tests.integration.test_stream import SAMPLE_ARGS, SAMPLE_CDRS, SAMPLES
    from tests.unit.engine.test_stages import sample_events

    env = isolated_env(base_env(local_servers), tmp_path, partitions=4)
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    catalog, events = sample_events()
    assert catalog.version == load_catalog(SAMPLES / "catalog").version
    router = Router(catalog)
    base = 1 << 62  # after the openings the publish command numbered
    batches: dict[int, list[Sequenced | Tick]] = defaultdict(list)
    for i, event in enumerate(events):
        batches[partition_of(router.key(event), 4)].append(Sequenced(base + i, event))
    silent = max(batches, key=lambda p: len(batches[p]))  # this partition sends no watermark
    last = base + len(events) - 1
    producer = Producer({"bootstrap.servers": local_servers.kafka_brokers})
    raw = f"{env['CDR_TOPIC_PREFIX']}.raw"
    for partition in range(4):
        items = batches[partition] + ([] if partition == silent else [Tick(last)])
        producer.produce(raw, value=encode_raw(items), partition=partition)
    producer.flush(10)

    database = env["CDR_CLICKHOUSE_DATABASE"]
    log = tmp_path / "worker.log"
    with running_worker(env, log) as worker:
        deadline = time.monotonic() + 90
        while rated_rows(env) < 35:
            assert worker.poll() is None and time.monotonic() < deadline, "CDRs never rated"
            time.sleep(0.5)
        time.sleep(3)
        with warehouse(env) as db:
            held = db.rows(
                f"SELECT count() AS n FROM {database}.postings FINAL WHERE party_type = 'provider'"
            )
        assert int(str(held[0]["n"])) == 0, "provider work was applied without its watermark"
    # the worker has stopped with that work held back; now the watermark arrives
    producer.produce(raw, value=encode_raw([Tick(last)]), partition=silent)
    producer.flush(10)
    with running_worker(env, tmp_path / "worker2.log") as worker:
        got = wait_for_export(env, expected, tmp_path / "stream", 120, worker)
    assert_same(got, expected)


def test_a_second_worker_joining_mid_stream_gives_the_same_totals(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    import socket

    def free_port() -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return str(probe.getsockname()[1])

    data, env, expected = prepared(local_servers, tmp_path)
    first = dict(env, CDR_METRICS_PORT=free_port())
    second = dict(env, CDR_METRICS_PORT=free_port(), CDR_WORKER_DATA_DIR=str(tmp_path / "w2"))
    with running_worker(first, tmp_path / "worker1.log") as one:
        cli(env, "produce", str(data / "cdrs.csv"))
        until_mid_stream(env)
        with running_worker(second, tmp_path / "worker2.log") as two:
            got = wait_for_export(env, expected, tmp_path / "stream", 300, one)
            assert one.poll() is None and two.poll() is None
    assert_same(got, expected)
    assert_balances_are_sums_of_postings(env, data / "catalog")
    assert "partitions revoked" in (tmp_path / "worker1.log").read_text(errors="replace")


def test_worker_killed_at_random_points_loses_and_doubles_nothing(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """SIGKILL mid-stream, restart, five times over while 100,000 CDRs stream through."""
    data, env, expected = prepared(local_servers, tmp_path, cdrs=100_000)
    env = dict(env, CDR_SESSION_TIMEOUT_SECONDS="8")  # a killed worker's partitions return soon
    seed = int(os.environ.get("CDR_TEST_SEED", time.time_ns()))
    print(f"kill delays from CDR_TEST_SEED={seed}")  # shown by pytest when the test fails
    rnd = random.Random(seed)
    producer = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "produce", str(data / "cdrs.csv")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    rated_at_kill: list[int] = []
    for round_ in range(5):
        log = tmp_path / f"worker{round_}.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "pipeline.cli", "worker"], env=env, stdout=out, stderr=out
            )
            try:
                before = rated_rows(env)
                deadline = time.monotonic() + 120
                while rated_rows(env) <= before and rated_rows(env) < 100_000:
                    assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
                    assert time.monotonic() < deadline, "the worker made no progress"
                    time.sleep(0.1)
                time.sleep(rnd.uniform(0.0, 3.0))  # somewhere mid-batch, mid-commit, ...
            finally:
                rated_at_kill.append(rated_rows(env, distinct=True))
                worker.kill()
                worker.wait()
    assert producer.wait(300) == 0, producer.stderr.read() if producer.stderr else ""
    mid_stream = [n for n in rated_at_kill if 0 < n < 100_000]
    assert len(mid_stream) >= 3, f"too few kills landed mid-stream: {rated_at_kill}"
    with running_worker(env, tmp_path / "final.log") as worker:
        got = wait_for_export(env, expected, tmp_path / "stream", 600, worker)
        assert worker.poll() is None
    assert_same(got, expected)
    assert_balances_are_sums_of_postings(env, data / "catalog")


def assert_balances_are_sums_of_postings(env: dict[str, str], catalog_dir: Path) -> None:
    """Every party's live balance in ClickHouse is its opening balance plus the sum of
    its postings there."""
    from pipeline.catalog.loader import load_catalog

    catalog = load_catalog(catalog_dir)
    opening = {("customer", c.id): c.terms.opening_balance for c in catalog.customers.values()}
    opening |= {("reseller", r.id): r.terms.opening_balance for r in catalog.resellers.values()}
    opening |= {("provider", p.id): p.opening_balance for p in catalog.providers.values()}
    db_name = env["CDR_CLICKHOUSE_DATABASE"]
    with warehouse(env) as db:
        rows = db.rows(
            f"SELECT b.party_type AS party_type, b.party AS party, b.balance_micro AS balance,"
            f" p.total AS total FROM (SELECT party_type, party, balance_micro"
            f" FROM {db_name}.balances FINAL) AS b ANY LEFT JOIN (SELECT party_type, party,"
            f" sum(amount_micro) AS total FROM {db_name}.postings FINAL"
            f" GROUP BY party_type, party) AS p USING (party_type, party)"
        )
    assert rows, "no balances in ClickHouse"
    wrong = [
        row
        for row in rows
        if int(str(row["balance"]))
        != opening[(str(row["party_type"]), str(row["party"]))] + int(str(row["total"]))
    ]
    assert not wrong, wrong[:5]
    assert len(rows) == len(opening)
