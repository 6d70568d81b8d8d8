"""`cdr-pipeline` with a fault a test puts in: a rating bug on one CDR, or inserts that hang.

TEST_FAIL_CDR=<cdr id>   the rating stage raises on that CDR, as a bug would
TEST_HANG_INSERTS=1      every ClickHouse insert blocks for good
"""

from __future__ import annotations

import os
import threading
from typing import Any

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
    if os.environ.get("TEST_HANG_INSERTS"):

        def hang(self: ServerWarehouse, *args: Any, **kwargs: Any) -> int:
            threading.Event().wait()
            return 0

        ServerWarehouse.insert_columns = hang  # type: ignore[method-assign]


if __name__ == "__main__":
    _install()
    main()
