"""The worker's Faust consumer, with a broker fetch wait of our choosing.

faust-streaming 0.15.3 builds its aiokafka consumer with `fetch_max_wait_ms=1500`, and
no setting changes it. aiokafka leaves out of a fetch every partition that still has
records buffered, so a message arriving on such a partition waits until the fetch in
flight returns: up to 1.5 s when the partitions in that fetch are quiet. That is how
work messages sat 1-2 s in Kafka beside an idle worker (benchmarks/RESULTS.md, "Packed
columns, and a fetch that waits 100 ms"). A shorter wait only costs empty fetches while
the worker is idle.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as driver


def consumer_class(fetch_wait_ms: int) -> type[driver.Consumer]:
    """faust's aiokafka Consumer, whose fetches wait at most `fetch_wait_ms` for data."""

    class Thread(driver.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            # aiokafka hands this to its fetcher when the consumer starts, not before
            consumer._fetch_max_wait_ms = fetch_wait_ms
            return consumer

    class Consumer(driver.Consumer):
        def _new_consumer_thread(self) -> Thread:
            return Thread(self, loop=self.loop, beacon=self.beacon)

    return Consumer
