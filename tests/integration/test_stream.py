"""The streaming pipeline on the real broker and server equals the offline command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import LocalServers
from tests.integration.stream_helpers import (
    cli,
    isolated_env,
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
    data = tmp_path / "gen"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.generate",
            "--out",
            str(data),
            "--cdrs",
            "100000",
            "--codes",
            "5000",
            "--accounts",
            "2000",
            "--providers",
            "20",
        ],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, data / "catalog", [str(data / "cdrs.csv")], [])
    assert len(expected["rated.jsonl"]) == 100_000
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(data / "catalog"))
    with running_worker(env, tmp_path / "worker.log") as worker:
        cli(env, "produce", str(data / "cdrs.csv"))
        got = wait_for_export(env, expected, tmp_path / "stream", 600, worker)
    assert_same(got, expected)


@pytest.mark.parametrize("bad", [b"", b"\xc3\x01" + b"\x00" * 8 + b"junk", b"not avro at all"])
def test_malformed_raw_messages_are_dead_lettered_and_the_worker_goes_on(
    local_servers: LocalServers, tmp_path: Path, bad: bytes
) -> None:
    from confluent_kafka import Consumer, Producer

    from pipeline.schemas.codec import decode_dead_letter

    env = isolated_env(base_env(local_servers), tmp_path)
    prefix = env["CDR_TOPIC_PREFIX"]
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    producer = Producer({"bootstrap.servers": local_servers.kafka_brokers})
    producer.produce(f"{prefix}.raw", value=bad, partition=0)
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
    assert letter.reason in {"bad_frame", "unknown_schema", "bad_avro"}
