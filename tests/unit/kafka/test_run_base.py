"""Runs started one after another number their events one after another."""

from datetime import UTC, datetime

from pipeline.engine.window import RUN_BITS, run_started
from pipeline.kafka.produce import run_base


def test_runs_a_few_milliseconds_apart_do_not_share_numbers() -> None:
    first = run_base(1_795_000_000.000)
    second = run_base(1_795_000_000.002)  # e.g. `catalog publish`, then `produce`
    assert second > first + 1_000_000  # room for a million events in the first run
    assert second - first == 2 << RUN_BITS


def test_numbers_fit_a_signed_64_bit_long_for_decades() -> None:
    assert run_base(4_102_444_800) < 2**63  # the year 2100


def test_a_number_tells_when_its_run_started() -> None:
    started = datetime(2026, 12, 2, 17, 30, 0, 250_000, tzinfo=UTC)
    base = run_base(started.timestamp())
    assert run_started(base) == started
    assert run_started(base + 999_999) == started  # any event of the run
