"""The streaming pipeline's settings: one frozen object read from `CDR_*` environment variables."""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PREFIX = "CDR_"
# Read by deploy/local and the tests, not by the pipeline: never reported as unknown.
FOREIGN_PREFIXES = ("CDR_LOCAL_",)
FOREIGN = frozenset({"CDR_KAFKA_VERSION", "CDR_CLICKHOUSE_EXPECT_VERSION", "CDR_CLICKHOUSE_BIN"})

_NAME = re.compile(r"[A-Za-z0-9._-]+")  # Kafka topic and group id characters
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SettingsError(ValueError):
    """Every problem found in the settings, one line: `settings refused: a; b`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors)
        self.errors = list(errors)

    def __str__(self) -> str:
        return "settings refused: " + "; ".join(self.errors)


class Secret:
    """A value never shown: `repr` and `str` print stars; `get_secret_value()` reads it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


NO_PASSWORD = Secret("")


@dataclass(frozen=True, slots=True)
class Settings:
    """Where Kafka and ClickHouse are, how topics are named and sized, and sink batching.

    Each field `x` is read from `CDR_X`; the defaults are the local servers that
    `deploy/local/up` starts. Every field is described in docs/settings.md.
    """

    kafka_brokers: str = "127.0.0.1:19092"
    clickhouse_host: str = "127.0.0.1"
    clickhouse_port: int = 19000
    clickhouse_http_port: int = 18123
    clickhouse_database: str = "cdr"
    clickhouse_user: str = "default"
    clickhouse_password: Secret = NO_PASSWORD
    topic_prefix: str = "cdr"
    partitions: int = 4
    app_id: str = "cdr-pipeline"
    worker_data_dir: Path = Path(".local/worker")
    sink_batch_rows: int = 20_000
    sink_flush_seconds: float = 0.5
    produce_batch: int = 2000
    metrics_port: int = 9108
    metrics_refresh_seconds: float = 15.0
    session_timeout_seconds: float = 30.0
    raw_buffer_messages: int = 4096
    fetch_partition_bytes: int = 2_097_152  # 2 MiB: the 1 GiB bound (docs/settings.md)
    fetch_wait_ms: int = 100  # faust-streaming's own 1,500 held messages 1-2 s
    replay_window_days: int = 35
    stop_seconds: float = 30.0
    catalog_wait_seconds: float = 120.0
    catalog_dir: Path | None = None

    def __post_init__(self) -> None:
        errors = [e for f in fields(self) if (e := _check(f.name, getattr(self, f.name)))]
        if errors:
            raise SettingsError(errors)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """The settings in `env` over the defaults; SettingsError lists every problem."""
        values: dict[str, Any] = {}
        errors: list[str] = []
        for f in fields(cls):
            name = env_name(f.name)
            if name not in env:
                continue
            try:
                values[f.name] = _PARSE[f.name](env[name])
            except ValueError as e:
                errors.append(f"{name}: {e}")
                continue
            if problem := _check(f.name, values[f.name]):
                errors.append(problem)
        errors.extend(_unknown(env))
        if errors:
            raise SettingsError(errors)
        return cls(**values)

    @property
    def broker_list(self) -> list[str]:
        """`kafka_brokers` as a list of `host:port`."""
        return [b.strip() for b in self.kafka_brokers.split(",")]


def env_name(field_name: str) -> str:
    return PREFIX + field_name.upper()


def _text(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("is empty (unset it to use the default)")
    return text


def _whole(value: str) -> int:
    text = _text(value)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def _real(value: str) -> float:
    text = _text(value)
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _optional_path(value: str) -> Path | None:
    return Path(value.strip()) if value.strip() else None


_PARSE: dict[str, Callable[[str], Any]] = {
    "kafka_brokers": _text,
    "clickhouse_host": _text,
    "clickhouse_port": _whole,
    "clickhouse_http_port": _whole,
    "clickhouse_database": _text,
    "clickhouse_user": _text,
    "clickhouse_password": Secret,
    "topic_prefix": _text,
    "partitions": _whole,
    "app_id": _text,
    "worker_data_dir": lambda v: Path(_text(v)),
    "sink_batch_rows": _whole,
    "sink_flush_seconds": _real,
    "produce_batch": _whole,
    "metrics_port": _whole,
    "metrics_refresh_seconds": _real,
    "session_timeout_seconds": _real,
    "raw_buffer_messages": _whole,
    "fetch_partition_bytes": _whole,
    "fetch_wait_ms": _whole,
    "replay_window_days": _whole,
    "stop_seconds": _real,
    "catalog_wait_seconds": _real,
    "catalog_dir": _optional_path,
}


def _range(low: float, high: float) -> Callable[[Any], str | None]:
    return lambda v: None if low <= v <= high else f"{v} is not in {low}..{high}"


def _host(value: str) -> str | None:
    if not value or any(c.isspace() or c in "/@" for c in value):
        return f"{value!r} is not a host name or address (no scheme, path or spaces)"
    return None


def _brokers(value: str) -> str | None:
    for broker in value.split(","):
        host, _, port = broker.strip().rpartition(":")
        if _host(host) or not port.isdigit() or not 1 <= int(port) <= 65535:
            return f"{broker.strip()!r} is not host:port (a comma-separated list of them)"
    return None


def _matches(pattern: re.Pattern[str], what: str, most: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if pattern.fullmatch(value) and len(value) <= most:
            return None
        return f"{value!r} is not {what} of at most {most} characters"

    return check


_PORT = _range(1, 65535)
_CHECK: dict[str, Callable[[Any], str | None]] = {
    "kafka_brokers": _brokers,
    "clickhouse_host": _host,
    "clickhouse_port": _PORT,
    "clickhouse_http_port": _PORT,
    "clickhouse_database": _matches(_IDENTIFIER, "an identifier", 64),
    "clickhouse_user": lambda v: None if v else "is empty",
    "topic_prefix": _matches(_NAME, "letters, digits, '.', '_' or '-'", 200),
    "partitions": _range(1, 256),
    "app_id": _matches(_NAME, "letters, digits, '.', '_' or '-'", 200),
    "sink_batch_rows": _range(1, 1_000_000),
    "sink_flush_seconds": lambda v: None if 0 < v <= 3600 else f"{v} is not in (0, 3600]",
    "produce_batch": _range(1, 5_000),
    "metrics_port": _PORT,
    "metrics_refresh_seconds": lambda v: None if 0 < v <= 3600 else f"{v} is not in (0, 3600]",
    "session_timeout_seconds": _range(6, 300),
    "raw_buffer_messages": _range(1, 4096),
    "fetch_partition_bytes": _range(65_536, 64 * 1024 * 1024),
    "fetch_wait_ms": _range(1, 1500),
    "replay_window_days": _range(0, 36_500),
    "stop_seconds": _range(1, 3600),
    "catalog_wait_seconds": _range(0, 3600),
}


def _check(field_name: str, value: Any) -> str | None:
    check = _CHECK.get(field_name)
    problem = check(value) if check is not None else None
    return None if problem is None else f"{env_name(field_name)}: {problem}"


def _unknown(env: Mapping[str, str]) -> list[str]:
    """`CDR_*` names that are no setting (a typo, or a setting that was removed)."""
    known = [env_name(f.name) for f in fields(Settings)]
    errors = []
    for name in sorted(env):
        if not name.startswith(PREFIX) or name in known or name in FOREIGN:
            continue
        if name.startswith(FOREIGN_PREFIXES):
            continue
        near = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f" (did you mean {near[0]}?)" if near else " (see docs/settings.md)"
        errors.append(f"{name}: unknown setting{hint}")
    return errors
