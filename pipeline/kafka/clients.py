"""What every confluent-kafka client here starts from: the brokers, and librdkafka's log
sent to Python logging (`cdr.kafka.client`) instead of straight to stderr."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pipeline.settings import Settings

LOG = logging.getLogger("cdr.kafka.client")
# Silent unless the process configures logging (the worker does; a one-shot command does
# not): while a broker is away librdkafka logs every failed connection, hundreds of lines
# a minute, around the one-line error the command gives (pipeline/kafka/errors.py).
LOG.addHandler(logging.NullHandler())


def client_config(settings: Settings, options: Mapping[str, Any] = {}) -> dict[str, Any]:
    """A client configuration: the settings' brokers, the log routed to `LOG`, `options`."""
    return {"bootstrap.servers": settings.kafka_brokers, "logger": LOG, **options}
