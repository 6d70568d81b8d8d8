"""Worker metrics count what the stages did, once per batch."""

from prometheus_client import generate_latest

from pipeline.engine.events import Sequenced
from pipeline.engine.stages import RatingStage
from pipeline.metrics import Metrics
from tests.unit.engine.test_stages import sample_events


def test_stage_metrics_match_the_batch() -> None:
    catalog, events = sample_events()
    out = RatingStage(catalog, 1).process(0, [Sequenced(i, e) for i, e in enumerate(events)])
    metrics = Metrics()
    metrics.stage("rating", out, 0.25)
    value = metrics.registry.get_sample_value
    assert value("cdr_pipeline_cdrs_in_total") == 35
    assert value("cdr_pipeline_cdrs_rated_total") == 25
    assert value("cdr_pipeline_cdrs_unrated_total", {"reason": "bad_start"}) == 2
    assert value("cdr_pipeline_cdrs_unrated_total", {"reason": "unknown_provider"}) == 2
    assert value("cdr_pipeline_alerts_total", {"kind": "low_balance"}) == 2
    assert value("cdr_pipeline_agent_batch_seconds_count", {"agent": "rating"}) == 1
    revenue = sum(r.cost or 0 for r in out.rated if r.currency == "USD") / 1_000_000
    assert value("cdr_pipeline_revenue_total", {"currency": "USD"}) == revenue
    text = generate_latest(metrics.registry).decode()
    assert "# TYPE cdr_pipeline_cdrs_in_total counter" in text


def test_sink_and_lag_metrics() -> None:
    metrics = Metrics()
    metrics.sink("rated_cdrs", 500, [0.0])
    metrics.sink_failed("rated_cdrs")
    metrics.lag({"cdr.raw": 7})
    value = metrics.registry.get_sample_value
    assert value("cdr_pipeline_sink_batch_rows_sum", {"table": "rated_cdrs"}) == 500
    assert value("cdr_pipeline_sink_failures_total", {"table": "rated_cdrs"}) == 1
    assert value("cdr_pipeline_consumer_lag_messages", {"topic": "cdr.raw"}) == 7
    assert value("cdr_pipeline_end_to_end_lag_seconds_count") == 1


def test_lag_leaves_out_partitions_just_assigned() -> None:
    from pipeline.metrics import lag_by_topic

    partitions = [("raw", 9, 20), ("raw", None, 5), ("raw", 3, None), ("work", 4, 5)]
    assert lag_by_topic(partitions) == {"raw": 10 + 5, "work": 0}


def test_blocked_gauges_take_the_counts_given_and_zero_for_the_rest() -> None:
    metrics = Metrics()
    value = metrics.registry.get_sample_value
    metrics.blocked_now({"customer": 3, "provider": 2})
    assert value("cdr_pipeline_blocked_parties", {"party_type": "customer"}) == 3
    assert value("cdr_pipeline_disabled_providers") == 2
    metrics.blocked_now({"account": 1})  # the customers were unblocked since
    assert value("cdr_pipeline_blocked_parties", {"party_type": "customer"}) == 0
    assert value("cdr_pipeline_blocked_parties", {"party_type": "reseller"}) == 0
    assert value("cdr_pipeline_blocked_parties", {"party_type": "account"}) == 1
    assert value("cdr_pipeline_disabled_providers") == 0
    assert value("cdr_pipeline_blocked_parties", {"party_type": "provider"}) is None


def test_a_metrics_port_in_use_is_a_clear_error() -> None:
    import socket

    import pytest

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot serve metrics on port {port} \\(CDR_METRICS"):
            Metrics().serve(port)
