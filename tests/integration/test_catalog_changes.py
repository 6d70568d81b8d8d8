"""Catalogs published while a worker runs: what a new catalog adds is used however long
the worker takes to load it; a catalog that would move a party's money is refused."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import LocalServers
from tests.integration.stream_helpers import (
    cli,
    isolated_env,
    run,
    running_worker,
    wait_for_export,
)
from tests.integration.test_stopping import hooked_worker
from tests.integration.test_stream import (
    SAMPLE_ARGS,
    SAMPLE_CDRS,
    SAMPLES,
    assert_same,
    base_env,
    offline,
)

HOOKED = "tests.integration.hooked_worker"


def without_c3(catalog: Path) -> None:
    """The sample catalog as it was before customer c3 and its account 3000 were added."""
    path = catalog / "catalog.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("  c3:"))
    kept = lines[:start] + lines[start + 2 :]  # c3's entry is two lines
    kept = [line for line in kept if not line.startswith('  "3000"')]
    path.write_text("".join(kept), encoding="utf-8")


def without_2000(catalog: Path) -> None:
    """The sample catalog as it was before customer c2's account 2000 was added."""
    path = catalog / "catalog.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if not x.startswith('  "2000"')), encoding="utf-8")


@pytest.mark.parametrize(
    ("earlier", "needed", "skew"),
    [
        (without_c3, '"c3"', "0"),
        (without_2000, '"account": "2000"', "0"),
        (without_2000, '"account": "2000"', "-3600"),
    ],
    ids=[
        "new customer, opened",
        "new account, no opening",
        "new account, the producer's clock an hour behind",
    ],
)
def test_a_message_needing_a_catalog_the_worker_is_still_loading_waits_for_it(
    local_servers: LocalServers,
    tmp_path: Path,
    earlier: Callable[[Path], None],
    needed: str,
    skew: str,
) -> None:
    """`catalog publish`, then `produce` at once, while the worker takes 8 s to load the
    catalog: the new party's opening, its calls and payment, or the new account's
    calls, are applied with it, not refused by the catalog before. No clock is compared
    with another: messages stamped an hour early wait for it too."""
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    assert any(needed in line for line in expected["postings.jsonl"] + expected["rated.jsonl"])
    before = tmp_path / "before"
    shutil.copytree(SAMPLES / "catalog", before)
    earlier(before)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(before))
    log = tmp_path / "worker.log"
    worker = hooked_worker(dict(env, TEST_SLOW_CATALOG="8"), log)
    try:
        deadline = time.monotonic() + 120
        while " in use" not in log.read_text(errors="replace"):  # the first, slowly
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        version = cli(env, "catalog", "publish", str(SAMPLES / "catalog")).split()[2]
        skewed = dict(env, TEST_PRODUCER_CLOCK_SKEW=skew)  # while it loads the new one
        produced = run(skewed, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS, module=HOOKED)
        assert produced.returncode == 0, produced.stderr
        got = wait_for_export(env, expected, tmp_path / "stream", 120, worker)
    finally:
        worker.terminate()
        worker.wait(60)
    assert_same(got, expected)
    text = log.read_text(errors="replace")
    assert "unknown_party" not in text
    assert text.index("lacks; waiting for a newer one") < text.index(f"{version} in use")


def test_publishing_a_catalog_that_changes_a_partys_currency_is_refused_whole(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    env = isolated_env(base_env(local_servers), tmp_path)
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    changed = tmp_path / "changed"
    shutil.copytree(SAMPLES / "catalog", changed)
    path = changed / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("reseller: null, currency: EUR", "reseller: null, currency: USD"))
    done = run(env, "catalog", "publish", str(changed))
    assert done.returncode != 0 and done.stdout == ""
    assert "is refused: 1 error" in done.stderr
    assert "customers.c3.currency: USD, but its balance is kept in EUR" in done.stderr
    published = cli(env, "catalog", "publish", str(SAMPLES / "catalog"))  # still the same
    assert published.startswith("published catalog ")


def joined_catalog(tmp: Path, name: str, *accounts: str) -> Path:
    """The sample catalog with c0, a customer whose id sorts first, drawing on c1's
    funds through account 0100 (and the further `accounts` lines)."""
    joined = tmp / name
    shutil.copytree(SAMPLES / "catalog", joined)
    path = joined / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "customers:\n", "customers:\n  c0: {tariff: retail, reseller: r1, currency: USD}\n"
    )
    lines = "".join(f"\n  {line}" for line in ('"0100": {customer: c0, funds_from: c1}', *accounts))
    text = text.replace('  "3000": {customer: c3}', '  "3000": {customer: c3}' + lines)
    path.write_text(text, encoding="utf-8")
    return joined


def calls_of(tmp: Path, *accounts: str) -> str:
    """A CDR file of one call from each of `accounts`."""
    calls = tmp / "c0.csv"
    rows = (
        f"j-{i:03},{a},{a},+44 20 7946 0001,2026-03-20T11:00:00Z,125,carrier-a\n"
        for i, a in enumerate(accounts)
    )
    calls.write_text("cdr_id,account,caller,callee,start,duration,provider\n" + "".join(rows))
    return str(calls)


def test_a_customer_whose_id_sorts_first_joins_an_existing_group_and_is_billed_as_offline(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """c0 shares c1's funds, which c2 already draws on. Named afresh the group would be
    c0's, in another partition than its state; it keeps the name c1 instead (published
    with the catalog), and the stream bills c0's call, and the rest, as offline does."""
    env = isolated_env(base_env(local_servers), tmp_path)
    joined = joined_catalog(tmp_path, "joined")
    cdrs = [*SAMPLE_CDRS, calls_of(tmp_path, "0100")]
    expected = offline(tmp_path, joined, cdrs, SAMPLE_ARGS)
    assert any('"j-000"' in line and '"rated"' in line for line in expected["rated.jsonl"])
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    assert cli(env, "catalog", "publish", str(joined)).startswith("published catalog ")
    cli(env, "produce", *SAMPLE_ARGS, *cdrs)
    with running_worker(env, tmp_path / "worker.log") as worker:
        got = wait_for_export(env, expected, tmp_path / "stream", 120, worker)
    assert_same(got, expected)


def test_a_worker_started_from_a_catalog_directory_takes_the_catalogs_published_after_it(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """`CDR_CATALOG_DIR` holds a catalog never published: its groups have no names, so
    c0's group is c0 there and c1 in the published catalogs. The worker takes the newest
    published catalog all the same, and rates a call of the account only it has."""
    env = isolated_env(base_env(local_servers), tmp_path)
    joined = joined_catalog(tmp_path, "joined")
    newer = joined_catalog(tmp_path, "newer", '"0101": {customer: c0}')
    cdrs = [*SAMPLE_CDRS, calls_of(tmp_path, "0100", "0101")]
    expected = offline(tmp_path, newer, cdrs, SAMPLE_ARGS)
    assert any('"j-001"' in line and '"rated"' in line for line in expected["rated.jsonl"])
    cli(env, "db", "migrate")
    for catalog in (SAMPLES / "catalog", joined, newer):
        cli(env, "catalog", "publish", str(catalog))
    cli(env, "produce", *SAMPLE_ARGS, *cdrs)
    log = tmp_path / "worker.log"
    with running_worker(dict(env, CDR_CATALOG_DIR=str(joined)), log) as worker:
        got = wait_for_export(env, expected, tmp_path / "stream", 120, worker)
    assert "refused" not in log.read_text(encoding="utf-8")
    assert_same(got, expected)
