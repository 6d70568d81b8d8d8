"""The worker's Prometheus metrics, updated once per batch (never per CDR where it costs)."""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    start_http_server,
)

from pipeline.catalog.model import PartyType
from pipeline.engine.records import RatedCdr
from pipeline.engine.stages import StageOutput
from pipeline.ledger.alerts import AlertKind
from pipeline.rating.money import MICRO

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 86_400, 30 * 86_400)
ROWS_BUCKETS = (1, 10, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000)


class Metrics:
    """Every metric of a worker, on its own registry (so tests can make several)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        # process_start_time_seconds and the like: a worker that keeps restarting
        # (a stage failing on one message, docs/delivery.md) shows in its changes
        ProcessCollector(registry=r)
        self.cdrs_in = Counter(
            "cdr_pipeline_cdrs_in_total", "CDRs read by the rating stage.", registry=r
        )
        self.cdrs_rated = Counter("cdr_pipeline_cdrs_rated_total", "CDRs rated.", registry=r)
        self.cdrs_unrated = Counter(
            "cdr_pipeline_cdrs_unrated_total",
            "CDRs left unrated, by reason.",
            ["reason"],
            registry=r,
        )
        self.duplicates = Counter(
            "cdr_pipeline_duplicates_total",
            "Events skipped as replays (ids seen before).",
            ["agent"],
            registry=r,
        )
        self.too_late = Counter(
            "cdr_pipeline_cdrs_too_late_total",
            "CDRs dead-lettered as older than the replay window (CDR_REPLAY_WINDOW_DAYS).",
            registry=r,
        )
        self.retention_gaps = Counter(
            "cdr_pipeline_retention_gaps_total",
            "Times a stage found input deleted by retention before it was processed.",
            ["topic"],
            registry=r,
        )
        self.missed_messages = Counter(
            "cdr_pipeline_missed_messages_total",
            "Messages the consumer passed over without delivering, read directly by offset.",
            ["topic"],
            registry=r,
        )
        self.dead_letters = Counter(
            "cdr_pipeline_dead_letters_total",
            "Messages sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "cdr_pipeline_agent_batch_seconds",
            "Time an agent spends on one message.",
            ["agent"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end = Histogram(
            "cdr_pipeline_end_to_end_lag_seconds",
            "From a call's end to its row written to ClickHouse.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.sink_rows = Histogram(
            "cdr_pipeline_sink_batch_rows",
            "Rows per ClickHouse insert.",
            ["table"],
            buckets=ROWS_BUCKETS,
            registry=r,
        )
        self.sink_failures = Counter(
            "cdr_pipeline_sink_failures_total",
            "ClickHouse inserts that failed (and were retried).",
            ["table"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "cdr_pipeline_consumer_lag_messages",
            "Messages not yet read, per topic.",
            ["topic"],
            registry=r,
        )
        self.held_work = Gauge(
            "cdr_pipeline_held_work_items",
            "Reseller or provider work this worker holds until every rating partition's "
            "watermark has passed it (grows while one rating partition lags the others).",
            ["stage"],
            registry=r,
        )
        self.alerts = Counter(
            "cdr_pipeline_alerts_total", "Alerts emitted, by kind.", ["kind"], registry=r
        )
        for kind in AlertKind:
            self.alerts.labels(kind.value)
        self.blocked = Gauge(
            "cdr_pipeline_blocked_parties",
            "Parties blocked now, by party type, as landed in ClickHouse (the same in "
            "every worker: aggregate with max).",
            ["party_type"],
            registry=r,
        )
        self.disabled_providers = Gauge(
            "cdr_pipeline_disabled_providers",
            "Providers disabled now (balance limit or daily minutes), as landed in "
            "ClickHouse (the same in every worker: aggregate with max).",
            registry=r,
        )
        self.revenue = Counter(
            "cdr_pipeline_revenue_total",
            "Charged to customers for rated calls, in currency units.",
            ["currency"],
            registry=r,
        )
        self.cost = Counter(
            "cdr_pipeline_cost_total",
            "Owed to providers for rated calls, in currency units.",
            ["currency"],
            registry=r,
        )
        self.margin = Gauge(
            "cdr_pipeline_margin",
            "Revenue minus cost, per currency (both in that currency).",
            ["currency"],
            registry=r,
        )
        self._money: dict[str, list[int]] = {}

    def serve(self, port: int) -> None:
        try:
            start_http_server(port, registry=self.registry)
        except OSError as error:
            raise OSError(
                error.errno,
                f"cannot serve metrics on port {port} (CDR_METRICS_PORT): {error.strerror}; "
                f"is another worker on this host using it? Give each its own port",
            ) from None

    def stage(self, agent: str, out: StageOutput, seconds: float) -> None:
        """After an agent's message: counts, money, alerts, blocked parties, timing."""
        self.batch_seconds.labels(agent).observe(seconds)
        if out.duplicates:
            self.duplicates.labels(agent).inc(out.duplicates)
        if out.too_late:
            self.too_late.inc(out.too_late)
        if out.rated:
            self._rated(out.rated)
        if out.alerts:
            for kind, n in Tally(a.kind.value for a in out.alerts).items():
                self.alerts.labels(kind).inc(n)

    def _rated(self, lines: list[RatedCdr]) -> None:
        self.cdrs_in.inc(len(lines))
        unrated = Tally(r.reason for r in lines if r.status != "rated")
        for reason, n in unrated.items():
            self.cdrs_unrated.labels(reason).inc(n)
        rated = [r for r in lines if r.status == "rated"]
        self.cdrs_rated.inc(len(rated))
        revenue: Tally[str] = Tally()
        cost: Tally[str] = Tally()
        for r in rated:
            revenue[r.currency] += r.cost or 0
            cost[r.provider_currency] += r.provider_cost or 0
        for currency in revenue.keys() | cost.keys():
            money = self._money.setdefault(currency, [0, 0])
            money[0] += revenue[currency]
            money[1] += cost[currency]
            self.revenue.labels(currency).inc(revenue[currency] / MICRO)
            self.cost.labels(currency).inc(cost[currency] / MICRO)
            self.margin.labels(currency).set((money[0] - money[1]) / MICRO)

    def blocked_now(self, counts: Mapping[str, int]) -> None:
        """Blocked parties by party type (`blocked_counts`); a type not given has none."""
        for party_type in PartyType:
            n = counts.get(party_type.value, 0)
            if party_type is PartyType.PROVIDER:
                self.disabled_providers.set(n)
            else:
                self.blocked.labels(party_type.value).set(n)

    def dead_letter(self, reason: str) -> None:
        self.dead_letters.labels(reason).inc()

    def sink(self, table: str, rows: int, lag_ends: Iterable[float] = ()) -> None:
        """A ClickHouse insert of `rows`; `lag_ends` are the calls' end times (epoch s)."""
        self.sink_rows.labels(table).observe(rows)
        now = time.time()
        for end in lag_ends:
            self.end_to_end.observe(max(0.0, now - end))

    def sink_failed(self, table: str) -> None:
        self.sink_failures.labels(table).inc()

    def lag(self, by_topic: Mapping[str, int]) -> None:
        for topic, messages in by_topic.items():
            self.consumer_lag.labels(topic).set(messages)


def lag_by_topic(partitions: Iterable[tuple[str, int | None, int | None]]) -> dict[str, int]:
    """Messages not yet read per topic from (topic, last offset read, highwater) of each
    partition; a partition whose highwater is not known yet (just assigned) is left out."""
    lag: dict[str, int] = {}
    for topic, read, high in partitions:
        if high is None:
            continue
        behind = high - (read + 1 if read is not None else 0)
        lag[topic] = lag.get(topic, 0) + max(behind, 0)
    return lag
