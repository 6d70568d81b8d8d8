"""Run the real pipeline in tests: a worker process, the CLI, exports compared with offline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.settings import Settings
from pipeline.warehouse.export import export_outputs
from pipeline.warehouse.server import ServerWarehouse
from tests.integration.conftest import LocalServers

OUTPUTS = ("rated.jsonl", "postings.jsonl", "alerts.jsonl", "balances.jsonl")
REPO = Path(__file__).resolve().parents[2]


def generated(tmp: Path, cdrs: int, codes: int, accounts: int, providers: int) -> Path:
    """A generated catalog and CDR file (benchmarks/generate.py) under `tmp/gen`."""
    data = tmp / "gen"
    sizes = {"--cdrs": cdrs, "--codes": codes, "--accounts": accounts, "--providers": providers}
    arguments = [str(part) for pair in sizes.items() for part in pair]
    subprocess.run(
        [sys.executable, "-m", "benchmarks.generate", "--out", str(data), *arguments],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    return data


# every test's own topics and databases, by name prefix: removed when the session ends
# (tests/integration/conftest.py), as about 54 partitions a test left behind had made
# a developer's broker busy while idle and skewed benchmarks (benchmarks/RESULTS.md)
SCRATCH: dict[str, dict[str, str]] = {}


def scratch_topic(prefix: str, servers: LocalServers) -> str:
    """A new topic name for one test, deleted when the session ends."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    SCRATCH[name] = {
        "CDR_KAFKA_BROKERS": servers.kafka_brokers,
        "CDR_CLICKHOUSE_HOST": servers.clickhouse_host,
        "CDR_CLICKHOUSE_PORT": str(servers.clickhouse_port),
    }
    return name


def isolated_env(base: dict[str, str], work: Path, partitions: int = 4) -> dict[str, str]:
    """Settings for one test: its own topics, consumer group, database and worker dir."""
    name = f"t{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDR_")}
    env.update(base)
    env.update(
        CDR_TOPIC_PREFIX=name,
        CDR_APP_ID=name,
        CDR_CLICKHOUSE_DATABASE=name,
        CDR_WORKER_DATA_DIR=str(work / "worker"),
        CDR_PARTITIONS=str(partitions),
    )
    SCRATCH[name] = env
    return env


def run(
    env: dict[str, str], *args: str, module: str = "pipeline.cli", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m MODULE ARGS` (by default `cdr-pipeline ARGS`), which may fail."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run `cdr-pipeline ARGS` as a user would; fail with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"cdr-pipeline {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def running_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`cdr-pipeline worker` in the background, stopped (TERM, then KILL) afterwards."""
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "worker"], env=env, stdout=out, stderr=out
        )
        try:
            yield worker
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def warehouse(env: dict[str, str]) -> ServerWarehouse:
    return ServerWarehouse.from_settings(Settings.from_env(env))


def sorted_outputs(directory: Path) -> dict[str, list[str]]:
    return {
        name: sorted((directory / name).read_text(encoding="utf-8").splitlines())
        for name in OUTPUTS
    }


def wait_for_export(
    env: dict[str, str],
    expected: dict[str, list[str]],
    out: Path,
    timeout: float,
    worker: subprocess.Popen[bytes] | None = None,
) -> dict[str, list[str]]:
    """Export until it equals `expected` or the time is up; return the last export."""
    deadline = time.monotonic() + timeout
    while True:
        with warehouse(env) as db:
            export_outputs(db, out)
        got = sorted_outputs(out)
        if got == expected or time.monotonic() > deadline:
            return got
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker exited with status {worker.returncode}")
        time.sleep(2)
