"""A client's librdkafka log goes to Python logging, not to the command's stderr."""

from __future__ import annotations

import logging

import pytest

from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.errors import KafkaUnavailableError
from pipeline.settings import Settings


def test_no_broker_is_one_error_and_no_librdkafka_lines(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens on port 1: librdkafka's failed connections (hundreds of lines a
    minute on stderr, before) reach the `cdr.kafka.client` logger instead."""
    caplog.set_level(logging.DEBUG, logger="cdr.kafka.client")
    with pytest.raises(KafkaUnavailableError, match=r"127\.0\.0\.1:1 did not answer"):
        ensure_topics(Settings(kafka_brokers="127.0.0.1:1"), timeout=2)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert any("Connection refused" in r.getMessage() for r in caplog.records)
