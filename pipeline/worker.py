"""The worker process: stops within a deadline, and exits 1 when an agent fails.

A stop waits for every message an agent has started to be acknowledged (Faust's
`stream_wait_empty`), which a failed agent never does, and for the sink's retries
while ClickHouse is away: either made a stopping worker hang until killed. Neither
wait protects anything. Every effect is made safe against a kill at any point
(docs/delivery.md), so once `CDR_STOP_SECONDS` have passed the process just ends,
as a kill would have ended it, and the next start redoes what was unfinished.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

import faust

log = logging.getLogger("cdr.worker")


class Worker(faust.Worker):
    """Faust's worker, with a deadline on stopping."""

    def __init__(self, app: Any, stop_seconds: float, **options: Any) -> None:
        super().__init__(app, **options)
        self.stop_seconds = stop_seconds

    async def on_stop(self) -> None:
        deadline = threading.Timer(self.stop_seconds, _give_up, (self.stop_seconds,))
        deadline.daemon = True
        deadline.start()
        await super().on_stop()


def stop_now() -> None:
    """Ask this process's worker to stop, as SIGTERM from outside would."""
    os.kill(os.getpid(), signal.SIGTERM)


def _give_up(seconds: float) -> None:
    log.critical(
        "the worker has not stopped %s s after it began to (CDR_STOP_SECONDS); exiting "
        "now: what it had not finished is redone when it starts again",
        seconds,
    )
    logging.shutdown()
    sys.stderr.flush()
    os._exit(1)
