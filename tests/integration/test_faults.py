"""Fault tests on the real broker and server: outages mid-stream lose and double nothing."""

from __future__ import annotations

import subprocess
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


def rated_rows(env: dict[str, str]) -> int:
    try:
        with warehouse(env) as db:
            rows = db.rows(f"SELECT count() AS n FROM {env['CDR_CLICKHOUSE_DATABASE']}.rated_cdrs")
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
    assert "partitions revoked" in (tmp_path / "worker1.log").read_text(errors="replace")
