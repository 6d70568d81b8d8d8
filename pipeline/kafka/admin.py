"""Create the pipeline's topics (idempotent) with the partitions and cleanup they need."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from pipeline.kafka.clients import client_config
from pipeline.kafka.errors import KafkaUnavailableError
from pipeline.settings import Settings
from pipeline.topics import topic_specs


def ensure_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create missing topics; return the names created."""
    admin = AdminClient(client_config(settings))
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except Exception as error:  # confluent raises KafkaException with the broker's words
        admin.poll(0)  # hands librdkafka's log of the attempts to `cdr.kafka.client`
        raise KafkaUnavailableError(
            f"Kafka at {settings.kafka_brokers} did not answer ({error}); "
            "start it with deploy/local/up or set CDR_KAFKA_BROKERS"
        ) from None
    wanted = [
        NewTopic(
            spec.name, num_partitions=spec.partitions, replication_factor=1, config=spec.config
        )
        for spec in topic_specs(settings)
        if spec.name not in existing
    ]
    if not wanted:
        return []
    for future in admin.create_topics(wanted).values():
        try:
            future.result(timeout)
        except Exception as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise
    return [t.topic for t in wanted]
