"""Errors a user can fix (no Kafka client imported, so the CLI can name them cheaply)."""


class KafkaUnavailableError(RuntimeError):
    """The broker did not answer."""


class NoCatalogError(RuntimeError):
    """Nothing to route by: no catalog has been published yet."""
