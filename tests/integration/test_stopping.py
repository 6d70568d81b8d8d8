"""A worker stops when it should: on a stage's bug (exit 1, nothing lost), and within
CDR_STOP_SECONDS of SIGTERM whatever it was waiting for, even a blocked event loop."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.conftest import LocalServers
from tests.integration.stream_helpers import (
    cli,
    isolated_env,
    running_worker,
    wait_for_export,
)
from tests.integration.test_stream import (
    SAMPLE_ARGS,
    SAMPLE_CDRS,
    SAMPLES,
    assert_same,
    base_env,
    offline,
)

FAILING_CDR = "s-002"  # in samples/cdrs/calls.csv, rated in the offline outputs


def hooked_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`cdr-pipeline worker` with the fault `env` asks tests/integration/hooked_worker.py
    to put in."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.hooked_worker", "worker"],
            env=env,
            stdout=out,
            stderr=out,
        )


def test_a_stage_bug_stops_the_worker_and_the_next_start_loses_nothing(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    assert any(f'"{FAILING_CDR}"' in line for line in expected["rated.jsonl"])
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
    log = tmp_path / "failing.log"
    worker = hooked_worker(dict(env, TEST_FAIL_CDR=FAILING_CDR), log)
    try:
        status = worker.wait(120)
    except subprocess.TimeoutExpired:
        worker.kill()
        tail = log.read_text()[-3000:]
        raise AssertionError(f"the worker went on after the bug:\n{tail}") from None
    text = log.read_text(errors="replace")
    assert status == 1, text[-3000:]
    assert "the rating stage failed on " in text and "a bug put in by the test" in text
    # the same messages, without the bug: everything rated once, as offline
    with running_worker(env, tmp_path / "worker.log") as again:
        got = wait_for_export(env, expected, tmp_path / "stream", 120, again)
        assert again.poll() is None
    assert_same(got, expected)


def test_sigterm_ends_a_worker_stuck_on_the_warehouse_within_the_stop_deadline(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    env = isolated_env(base_env(local_servers), tmp_path)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
    log = tmp_path / "stuck.log"
    worker = hooked_worker(dict(env, TEST_HANG_INSERTS="1", CDR_STOP_SECONDS="5"), log)
    # once the sink has messages in hand, its inserts blocked
    assert_sigterm_ends_it_on_time(worker, log, "Worker ready", settle=5)


def test_sigterm_ends_a_worker_whose_event_loop_is_blocked_within_the_stop_deadline(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """Faust hears of signals on its event loop; a stage that never gives the loop back
    (here a sleep on one CDR) would keep it from ever starting to stop."""
    env = isolated_env(base_env(local_servers), tmp_path)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
    log = tmp_path / "blocked.log"
    worker = hooked_worker(dict(env, TEST_BLOCK_CDR=FAILING_CDR, CDR_STOP_SECONDS="5"), log)
    assert_sigterm_ends_it_on_time(worker, log, "TEST: blocking the event loop", settle=1)


def assert_sigterm_ends_it_on_time(
    worker: subprocess.Popen[bytes], log: Path, line: str, settle: float
) -> None:
    """Once `line` is in the log and `settle` seconds have passed, SIGTERM ends the worker
    (run with CDR_STOP_SECONDS=5) with status 1, well within 20 s, by the deadline."""
    try:
        deadline = time.monotonic() + 120
        while line not in log.read_text(errors="replace"):
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        time.sleep(settle)
        worker.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        status = worker.wait(60)
        took = time.monotonic() - sent
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    text = log.read_text(errors="replace")
    assert status == 1, text[-3000:]
    assert "has not stopped 5.0 s after it began to" in text, text[-3000:]
    assert took < 20, f"took {took:.1f} s to stop"
