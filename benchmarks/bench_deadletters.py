"""Memory of `cdr-pipeline deadletters` as the dead letters grow: peak RSS of listing and of
replaying N letters of S bytes each, each command in a fresh process.

`python -m benchmarks.bench_deadletters` (2,000 letters of 100 kB, about a raw message of
2,000 CDRs each); `--letters 500 --size 1000000` for bigger ones. Needs the local servers
(`eval "$(deploy/local/up)"`); uses its own topics. The letters' messages go back to a
scratch topic that nothing reads.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime

from confluent_kafka import Producer

from pipeline.kafka.admin import ensure_topics
from pipeline.schemas.codec import DeadLetter, encode_dead_letter
from pipeline.settings import Settings
from pipeline.topics import TopicNames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=2_000)
    parser.add_argument("--size", type=int, default=100_000, help="bytes of each message")
    args = parser.parse_args()
    name = f"benchdl{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, CDR_TOPIC_PREFIX=name, CDR_APP_ID=name)
    settings = Settings.from_env(env)
    ensure_topics(settings)
    producer = Producer(
        {"bootstrap.servers": settings.kafka_brokers, "message.max.bytes": 16_000_000}
    )
    rng = random.Random(7)
    target, at = f"{name}.replayed", datetime.now(UTC)
    for n in range(args.letters):
        payload = rng.randbytes(args.size)
        letter = DeadLetter(target, n % 4, n // 4, "decode_failed", "bench", payload, at)
        producer.produce(TopicNames.from_settings(settings).deadletter, encode_dead_letter(letter))
        producer.poll(0)
    assert producer.flush(60) == 0
    total = args.letters * args.size / 2**20
    print(f"{args.letters:,} dead letters of {args.size:,} bytes ({total:,.0f} MiB)")
    for command in (["deadletters"], ["deadletters", "--replay"]):
        began = time.monotonic()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            child = subprocess.Popen(
                [sys.executable, "-m", "pipeline.cli", *command], env=env, stdout=out, stderr=err
            )
            _pid, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not a max
            child.returncode = os.waitstatus_to_exitcode(status)
            took = time.monotonic() - began
            out.seek(0), err.seek(0)
            printed, said = out.read().decode(), err.read().decode()
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {said[-2000:]}")
        last = (printed if "--replay" in command else said).strip().splitlines()[-1]
        peak = usage.ru_maxrss / 1024
        print(f"  {' '.join(command):24} {took:6.1f} s  peak RSS {peak:6.0f} MiB  ({last})")


if __name__ == "__main__":
    main()
