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
        self._deadline: threading.Timer | None = None

    def install_signal_handlers(self) -> None:
        """Faust's handlers, which run on the event loop, and beside them a Python-level
        one that starts the deadline from the main thread between two bytecodes: a loop
        that never comes back (a stage stuck in a computation or a blocking call) would
        otherwise never see the signal, and the worker would outlive every SIGTERM. The
        loop still hears of the signal: asyncio learns of it from its wakeup fd, written
        before any Python-level handler runs."""
        super().install_signal_handlers()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop_signal)
            signal.siginterrupt(sig, False)  # as asyncio's own handler had it

    def _on_stop_signal(self, signum: int, frame: Any) -> None:
        self.start_deadline()

    async def on_stop(self) -> None:
        self.start_deadline()
        await super().on_stop()

    def start_deadline(self) -> None:
        """End the process `stop_seconds` after the first call, whatever it is doing.

        Only the main thread calls this (signal handlers and the loop both run there),
        so no lock: one that the loop held when a signal came would never be released.
        At worst a handler between the check and the assignment starts a second timer,
        which ends the process at the same moment."""
        if self._deadline is None:
            self._deadline = threading.Timer(self.stop_seconds, _give_up, (self.stop_seconds,))
            self._deadline.daemon = True
            self._deadline.start()


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
