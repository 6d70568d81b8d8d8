"""Avro schemas (`*.avsc` data files) and the codec between Kafka bytes and domain records."""
