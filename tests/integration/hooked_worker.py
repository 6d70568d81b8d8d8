"""`cdr-pipeline` with a fault a test puts in: a rating bug on one CDR, or inserts that hang.

TEST_FAIL_CDR=<cdr id>   the rating stage raises on that CDR, as a bug would
TEST_BLOCK_CDR=<cdr id>  the rating stage blocks the event loop for an hour on that CDR
TEST_HANG_INSERTS=1      every ClickHouse insert blocks for good
TEST_SLOW_CATALOG=<s>    each published catalog takes that many seconds more to load
TEST_DECODE_BUG=1        decoding a raw message raises, as a bug in the codec would
TEST_PRODUCER_CLOCK_SKEW=<s>  `produce` stamps its messages that many seconds off the clock
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from pipeline.agents import catalog, stages
from pipeline.catalog.model import Catalog
from pipeline.cdrs.model import RawCdr
from pipeline.cli import main
from pipeline.engine.book import Book, Outcome
from pipeline.warehouse.server import ServerWarehouse


def _install() -> None:
    failing = os.environ.get("TEST_FAIL_CDR")
    if failing:
        rate = Book.rate

        def rate_or_fail(self: Book, cdr: RawCdr) -> Outcome:
            if cdr.cdr_id == failing:
                raise RuntimeError(f"a bug put in by the test, on CDR {failing}")
            return rate(self, cdr)

        Book.rate = rate_or_fail  # type: ignore[method-assign]
    blocking = os.environ.get("TEST_BLOCK_CDR")
    if blocking:
        rate = Book.rate

        def rate_or_block(self: Book, cdr: RawCdr) -> Outcome:
            if cdr.cdr_id == blocking:
                print(f"TEST: blocking the event loop on CDR {blocking}", file=sys.stderr)
                sys.stderr.flush()
                time.sleep(3600)  # on the loop's thread: nothing else runs meanwhile
            return rate(self, cdr)

        Book.rate = rate_or_block  # type: ignore[method-assign]
    if os.environ.get("TEST_HANG_INSERTS"):

        def hang(self: ServerWarehouse, *args: Any, **kwargs: Any) -> int:
            threading.Event().wait()
            return 0

        ServerWarehouse.insert_columns = hang  # type: ignore[method-assign]
    if slow := float(os.environ.get("TEST_SLOW_CATALOG", "0")):
        load = catalog.load_files  # type: ignore[attr-defined]

        def load_slowly(files: dict[str, bytes]) -> Catalog:
            time.sleep(slow)
            return load(files)

        catalog.load_files = load_slowly  # type: ignore[attr-defined]
    if os.environ.get("TEST_DECODE_BUG"):

        def decode_badly(data: bytes) -> list[Any]:
            raise RuntimeError("a decoder bug put in by the test")

        stages.decode_raw = decode_badly  # type: ignore[attr-defined]

    if skew := float(os.environ.get("TEST_PRODUCER_CLOCK_SKEW", "0")):
        from confluent_kafka import Producer

        from pipeline.kafka import produce

        class SkewedProducer(Producer):
            def produce(self, *args: Any, **kwargs: Any) -> None:
                kwargs.setdefault("timestamp", int((time.time() + skew) * 1000))
                super().produce(*args, **kwargs)

        produce.Producer = SkewedProducer  # type: ignore[attr-defined]


if __name__ == "__main__":
    _install()
    main()
