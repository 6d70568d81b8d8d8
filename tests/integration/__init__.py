"""Integration tests against a real Kafka broker and ClickHouse server (deploy/local/up)."""
