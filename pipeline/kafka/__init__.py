"""Kafka at the edges (confluent-kafka): topics, catalog publishing, producing events."""
