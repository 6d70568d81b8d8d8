"""Fixtures for integration tests that need the real Kafka broker and ClickHouse server.

The servers come from the environment (the ``CDR_*`` settings printed by
``deploy/local/up``, e.g. after ``eval "$(deploy/local/up)"``). When those are not
set, the session runs ``deploy/local/up`` itself (installing and starting what is
missing) and leaves the servers running afterwards; stop them with
``deploy/local/down``.

These tests never skip: if the servers cannot be started or reached, every
integration test fails with a message that says why, and a skip raised inside an
integration test (``pytest.skip``, ``importorskip``, ...) is reported as a failure.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
UP_SCRIPT = REPO_ROOT / "deploy" / "local" / "up"
SETTINGS = (
    "CDR_KAFKA_BROKERS",
    "CDR_CLICKHOUSE_HOST",
    "CDR_CLICKHOUSE_PORT",
    "CDR_CLICKHOUSE_HTTP_PORT",
    "CDR_CLICKHOUSE_DATABASE",
)
HINT = (
    'Start them with `eval "$(deploy/local/up)"` (logs: .local/kafka/kafka.log, '
    ".local/clickhouse/log/clickhouse-server.err.log) or point the CDR_* settings "
    "at running servers."
)


@dataclass(frozen=True)
class LocalServers:
    """Where the integration tests find Kafka and ClickHouse."""

    kafka_brokers: str
    clickhouse_host: str
    clickhouse_port: int
    clickhouse_http_port: int
    clickhouse_database: str
    source: str  # "environment" or "deploy/local/up"


def parse_exports(text: str) -> dict[str, str]:
    """Parse the ``export NAME=value`` lines that deploy/local/up prints on stdout."""
    env: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        parts = shlex.split(line)
        if len(parts) != 2 or parts[0] != "export" or "=" not in parts[1]:
            raise ValueError(f"unexpected line on deploy/local/up's stdout: {raw!r}")
        name, value = parts[1].split("=", 1)
        env[name] = value
    return env


def _run_up() -> dict[str, str]:
    timeout = float(os.environ.get("CDR_LOCAL_UP_TIMEOUT", "900"))
    try:
        proc = subprocess.run(
            [str(UP_SCRIPT)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = f"could not run {UP_SCRIPT}: {exc}"
    else:
        problem = ""
    if problem:
        pytest.fail(f"{problem}. {HINT}", pytrace=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-40:])
        pytest.fail(
            f"deploy/local/up failed with exit code {proc.returncode}; the integration "
            f"tests need a real Kafka broker and ClickHouse server.\n"
            f"--- deploy/local/up stderr (last lines) ---\n{tail}",
            pytrace=False,
        )
    try:
        env = parse_exports(proc.stdout)
    except ValueError as exc:
        problem = str(exc)
    if problem:
        pytest.fail(problem, pytrace=False)
    missing = [name for name in SETTINGS if name not in env]
    if missing:
        pytest.fail(
            f"deploy/local/up did not export {missing}; stdout was:\n{proc.stdout}", pytrace=False
        )
    return env


def _check_kafka(brokers: str) -> None:
    from confluent_kafka.admin import AdminClient

    problem = ""
    try:
        admin = AdminClient({"bootstrap.servers": brokers, "socket.timeout.ms": 5000})
        if not admin.list_topics(timeout=15).brokers:
            problem = "reports no brokers"
    except Exception as exc:
        problem = f"is not reachable: {exc!r}"
    if problem:  # failed outside the except block: no chained traceback in the report
        pytest.fail(f"Kafka at {brokers} {problem}. {HINT}", pytrace=False)


def _check_clickhouse(host: str, port: int, database: str) -> None:
    from clickhouse_driver import Client

    client = Client(host=host, port=port, database=database, connect_timeout=5)
    problem = ""
    try:
        client.execute("SELECT 1")
    except Exception as exc:
        problem = repr(exc)
    finally:
        client.disconnect()
    if problem:
        pytest.fail(
            f"ClickHouse at {host}:{port} (database {database!r}) is not reachable: {problem}. "
            f"{HINT}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def local_servers() -> Iterator[LocalServers]:
    """The running Kafka broker and ClickHouse server (started if the env names none)."""
    if all(os.environ.get(name) for name in SETTINGS):
        env = {name: os.environ[name] for name in SETTINGS}
        source = "environment"
    else:
        env = _run_up()
        source = "deploy/local/up"
    try:
        servers = LocalServers(
            kafka_brokers=env["CDR_KAFKA_BROKERS"],
            clickhouse_host=env["CDR_CLICKHOUSE_HOST"],
            clickhouse_port=int(env["CDR_CLICKHOUSE_PORT"]),
            clickhouse_http_port=int(env["CDR_CLICKHOUSE_HTTP_PORT"]),
            clickhouse_database=env["CDR_CLICKHOUSE_DATABASE"],
            source=source,
        )
    except ValueError as exc:
        bad = str(exc)
    else:
        bad = ""
    if bad:
        pytest.fail(f"bad CDR_* setting: {bad}", pytrace=False)
    _check_kafka(servers.kafka_brokers)
    _check_clickhouse(servers.clickhouse_host, servers.clickhouse_port, servers.clickhouse_database)
    with pytest.MonkeyPatch.context() as mp:
        # code under test reads the same settings the shell would have after `eval`
        for name in SETTINGS:
            mp.setenv(name, env[name])
        yield servers


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test, marked or not."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents and item.get_closest_marker("integration") is None:
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    """A skipped integration test is a failed one: it proved nothing."""
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and item.get_closest_marker("integration") is not None
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"integration test skipped ({reason}); integration tests must run against the "
            f"real servers, so a skip counts as a failure. {HINT}"
        )
    return report


@pytest.fixture(scope="session", autouse=True)
def scratch_removed() -> Iterator[None]:
    """After the session, the topics and databases the tests made for themselves are
    deleted (TEST_KEEP_SCRATCH=1 keeps them for a look)."""
    yield
    if os.environ.get("TEST_KEEP_SCRATCH") == "1":
        return
    from benchmarks.scratch import remove
    from pipeline.settings import Settings
    from tests.integration.stream_helpers import SCRATCH

    for name, env in SCRATCH.items():
        remove(name, Settings.from_env(env), what="test")
