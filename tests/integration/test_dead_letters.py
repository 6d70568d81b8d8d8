"""Dead letters an operator can list and, once the cause is fixed, replay: billed once."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from pipeline.kafka.deadletters import dead_letters, replay
from pipeline.settings import Settings
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


def test_messages_a_decoder_bug_dead_lettered_are_billed_once_replayed(
    local_servers: LocalServers, tmp_path: Path
) -> None:
    """A codec bug dead-letters every raw message as decode_failed; once it is fixed,
    `deadletters --replay` sends them back and they are billed exactly once."""
    env = isolated_env(base_env(local_servers), tmp_path)
    expected = offline(tmp_path, SAMPLES / "catalog", SAMPLE_CDRS, SAMPLE_ARGS)
    cli(env, "db", "migrate")
    cli(env, "catalog", "publish", str(SAMPLES / "catalog"))
    cli(env, "produce", *SAMPLE_ARGS, *SAMPLE_CDRS)
    raw = f"{env['CDR_TOPIC_PREFIX']}.raw"
    log = tmp_path / "buggy.log"
    worker = hooked_worker(dict(env, TEST_DECODE_BUG="1"), log)
    try:
        deadline = time.monotonic() + 120
        letters: list[dict[str, object]] = []
        while not letters or len(letters) < messages_in(env, raw):
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
            listed = cli(env, "deadletters", "--reason", "decode_failed")
            letters = [json.loads(line) for line in listed.splitlines()]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    assert {letter["topic"] for letter in letters} == {raw}
    assert all("RuntimeError: a decoder bug" in str(letter["detail"]) for letter in letters)
    first = min(str(letter["at"]) for letter in letters)
    assert len(cli(env, "deadletters", "--since", first).splitlines()) == len(letters)
    assert cli(env, "deadletters", "--since", "2999-01-01T00:00:00+00:00") == ""
    misspelt = run(env, "deadletters", "--reason", "decode_faild")
    assert misspelt.returncode == 0 and misspelt.stdout == ""
    assert f"no dead letter has reason decode_faild; there are: decode_failed ({len(letters)})" in (
        misspelt.stderr
    )
    naive = run(env, "deadletters", "--since", "2026-12-03T10:00:00")
    assert naive.returncode == 2 and "give one like 2026-12-03T10:00:00+00:00" in naive.stderr

    assert cli(env, "deadletters", "--reason", "decode_failed", "--replay").startswith(
        f"replayed {len(letters)} messages"
    )
    # again, every letter, one message at a time: nothing is billed twice
    settings = Settings.from_env(env)
    assert replay(settings, dead_letters(settings), budget=1) == len(letters)
    with running_worker(env, tmp_path / "worker.log") as fixed:
        got = wait_for_export(env, expected, tmp_path / "stream", 120, fixed)
        time.sleep(3)  # the second replay's repeats, had they charged anything
        again = wait_for_export(env, {}, tmp_path / "again", 0, fixed)
    assert_same(got, expected)
    assert_same(again, expected)


def messages_in(env: dict[str, str], topic: str) -> int:
    """How many messages `topic` holds, over all its partitions."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": env["CDR_KAFKA_BROKERS"], "group.id": "count"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        marks = [consumer.get_watermark_offsets(TopicPartition(topic, p), 10) for p in partitions]
    finally:
        consumer.close()
    return sum(high - low for low, high in marks)
