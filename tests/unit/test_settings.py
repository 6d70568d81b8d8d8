"""Settings from CDR_* variables (every error at once, secrets hidden) and the topic names."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from pipeline.settings import Secret, Settings, SettingsError, env_name
from pipeline.topics import TopicNames, TopicSpec, topic_specs

REPO = Path(__file__).resolve().parents[2]


def refused(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    return caught.value.errors


def test_defaults_are_the_local_servers() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.kafka_brokers, s.clickhouse_host) == ("127.0.0.1:19092", "127.0.0.1")
    assert (s.clickhouse_port, s.clickhouse_http_port, s.clickhouse_database) == (
        19000,
        18123,
        "cdr",
    )
    assert (s.clickhouse_user, s.clickhouse_password.get_secret_value()) == ("default", "")
    assert (s.topic_prefix, s.partitions, s.app_id) == ("cdr", 4, "cdr-pipeline")
    assert s.worker_data_dir == Path(".local/worker")
    assert (s.sink_batch_rows, s.sink_flush_seconds, s.produce_batch) == (20_000, 0.5, 2000)
    assert (s.metrics_port, s.catalog_dir, s.session_timeout_seconds) == (9108, None, 30.0)
    assert s.metrics_refresh_seconds == 15.0


def test_defaults_match_what_deploy_local_up_exports() -> None:
    up = (REPO / "deploy/local/up").read_text()
    lib = (REPO / "deploy/local/lib.sh").read_text()
    ports = dict(re.findall(r'^(\w+)="\$\{CDR_LOCAL_\w+:-(\d+)\}"', lib, re.M))
    plain = dict(re.findall(r"^(\w+)=([\w.]+)$", lib, re.M))
    values = {**ports, **plain}
    exported = {
        name: re.sub(r"\$(\w+)", lambda m: values[m.group(1)], value)
        for name, value in re.findall(r"^export (CDR_\w+)=(\S+)$", up, re.M)
    }
    assert Settings.from_env(exported) == Settings()
    assert set(exported) <= {env_name(f.name) for f in fields(Settings)}


def test_every_setting_is_read_from_its_variable() -> None:
    env = {
        "CDR_KAFKA_BROKERS": "k1:9092, k2:9093",
        "CDR_CLICKHOUSE_HOST": "ch.internal",
        "CDR_CLICKHOUSE_PORT": "9000",
        "CDR_CLICKHOUSE_HTTP_PORT": "8123",
        "CDR_CLICKHOUSE_DATABASE": "billing",
        "CDR_CLICKHOUSE_USER": "pipeline",
        "CDR_CLICKHOUSE_PASSWORD": " s3cret ",
        "CDR_TOPIC_PREFIX": "prod.cdr",
        "CDR_PARTITIONS": "12",
        "CDR_APP_ID": "cdr-prod",
        "CDR_WORKER_DATA_DIR": "/var/lib/cdr",
        "CDR_SINK_BATCH_ROWS": "50000",
        "CDR_SINK_FLUSH_SECONDS": "0.25",
        "CDR_PRODUCE_BATCH": "1000",
        "CDR_METRICS_PORT": "9200",
        "CDR_METRICS_REFRESH_SECONDS": "2.5",
        "CDR_SESSION_TIMEOUT_SECONDS": "8",
        "CDR_RAW_BUFFER_MESSAGES": "64",
        "CDR_FETCH_PARTITION_BYTES": "1048576",
        "CDR_FETCH_WAIT_MS": "250",
        "CDR_REPLAY_WINDOW_DAYS": "7",
        "CDR_STOP_SECONDS": "12.5",
        "CDR_CATALOG_WAIT_SECONDS": "30",
        "CDR_CATALOG_DIR": "samples/catalog",
    }
    s = Settings.from_env(env)
    assert s.broker_list == ["k1:9092", "k2:9093"]
    assert (s.clickhouse_host, s.clickhouse_port, s.clickhouse_http_port) == (
        "ch.internal",
        9000,
        8123,
    )
    assert (s.clickhouse_database, s.clickhouse_user) == ("billing", "pipeline")
    assert s.clickhouse_password.get_secret_value() == " s3cret "  # a secret is taken as is
    assert (s.topic_prefix, s.partitions, s.app_id) == ("prod.cdr", 12, "cdr-prod")
    assert (s.worker_data_dir, s.catalog_dir) == (Path("/var/lib/cdr"), Path("samples/catalog"))
    assert (s.sink_batch_rows, s.sink_flush_seconds, s.produce_batch) == (50_000, 0.25, 1000)
    assert (s.metrics_port, s.metrics_refresh_seconds, s.session_timeout_seconds) == (
        9200,
        2.5,
        8.0,
    )
    assert (s.raw_buffer_messages, s.fetch_partition_bytes) == (64, 1_048_576)
    assert s.fetch_wait_ms == 250
    assert (s.replay_window_days, s.stop_seconds, s.catalog_wait_seconds) == (7, 12.5, 30.0)
    assert {env_name(f.name) for f in fields(Settings)} == set(env)


def test_every_error_is_reported_at_once_in_one_line() -> None:
    env = {
        "CDR_PARTITIONS": "0",
        "CDR_METRICS_PORT": "abc",
        "CDR_CLICKHOUSE_HOST": "http://ch:8123",
        "CDR_KAFKA_BROKERS": "k1:9092,k2",
        "CDR_SINK_FLUSH_SECONDS": "nan",
        "CDR_PARTITION": "8",
    }
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.errors == [
        "CDR_KAFKA_BROKERS: 'k2' is not host:port (a comma-separated list of them)",
        "CDR_CLICKHOUSE_HOST: 'http://ch:8123' is not a host name or address"
        " (no scheme, path or spaces)",
        "CDR_PARTITIONS: 0 is not in 1..256",
        "CDR_SINK_FLUSH_SECONDS: 'nan' is not a finite number",
        "CDR_METRICS_PORT: 'abc' is not a whole number",
        "CDR_PARTITION: unknown setting (did you mean CDR_PARTITIONS?)",
    ]
    message = str(caught.value)
    assert message.startswith("settings refused: CDR_KAFKA_BROKERS: ")
    assert "\n" not in message
    assert message.count("; ") == 5


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("CDR_PARTITIONS", "257", "257 is not in 1..256"),
        ("CDR_REPLAY_WINDOW_DAYS", "-1", "-1 is not in 0..36500"),
        ("CDR_FETCH_WAIT_MS", "2000", "2000 is not in 1..1500"),
        ("CDR_REPLAY_WINDOW_DAYS", "7d", "'7d' is not a whole number"),
        ("CDR_PARTITIONS", "4.5", "'4.5' is not a whole number"),
        ("CDR_PARTITIONS", "", "is empty (unset it to use the default)"),
        ("CDR_CLICKHOUSE_PORT", "70000", "70000 is not in 1..65535"),
        ("CDR_CLICKHOUSE_HTTP_PORT", "0", "0 is not in 1..65535"),
        ("CDR_CLICKHOUSE_DATABASE", "cdr-prod", "'cdr-prod' is not an identifier"),
        ("CDR_CLICKHOUSE_HOST", "ch host", "'ch host' is not a host name or address"),
        ("CDR_TOPIC_PREFIX", "cdr/prod", "'cdr/prod' is not letters, digits"),
        ("CDR_APP_ID", "my app", "'my app' is not letters, digits"),
        ("CDR_KAFKA_BROKERS", "kafka://k1:9092", "'kafka://k1:9092' is not host:port"),
        ("CDR_KAFKA_BROKERS", "k1:0", "'k1:0' is not host:port"),
        ("CDR_SINK_BATCH_ROWS", "0", "0 is not in 1..1000000"),
        ("CDR_SINK_FLUSH_SECONDS", "0", "0.0 is not in (0, 3600]"),
        ("CDR_SINK_FLUSH_SECONDS", "inf", "'inf' is not a finite number"),
        ("CDR_SINK_FLUSH_SECONDS", "soon", "'soon' is not a number"),
        ("CDR_PRODUCE_BATCH", "-1", "-1 is not in 1..5000"),
        ("CDR_PRODUCE_BATCH", "5001", "5001 is not in 1..5000"),
        ("CDR_WORKER_DATA_DIR", "  ", "is empty"),
    ],
)
def test_bad_values(name: str, value: str, problem: str) -> None:
    [error] = refused({name: value})
    assert error.startswith(f"{name}: {problem}")


def test_empty_catalog_dir_means_none_and_empty_password_is_allowed() -> None:
    s = Settings.from_env({"CDR_CATALOG_DIR": "", "CDR_CLICKHOUSE_PASSWORD": ""})
    assert s.catalog_dir is None
    assert s.clickhouse_password == Secret("")


def test_variables_of_deploy_local_and_the_tests_are_not_unknown() -> None:
    env = {
        "CDR_LOCAL_STATE": "/tmp/x",
        "CDR_LOCAL_KAFKA_PORT": "29092",
        "CDR_KAFKA_VERSION": "3.9.2",
        "CDR_CLICKHOUSE_EXPECT_VERSION": "",
        "CDR_CLICKHOUSE_BIN": "/opt/clickhouse",
        "PATH": "/usr/bin",
        "CDRX": "not ours",
    }
    assert Settings.from_env(env) == Settings()


def test_unknown_variable_without_a_near_name() -> None:
    assert refused({"CDR_WHATEVER": "1"}) == [
        "CDR_WHATEVER: unknown setting (see docs/settings.md)"
    ]


def test_the_password_is_never_shown() -> None:
    s = Settings.from_env({"CDR_CLICKHOUSE_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s)
    assert repr(s.clickhouse_password) == "Secret('**********')"
    [error] = refused({"CDR_CLICKHOUSE_PASWORD": "hunter2"})
    assert "hunter2" not in error
    assert error.endswith("(did you mean CDR_CLICKHOUSE_PASSWORD?)")


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(SettingsError, match=r"CDR_PARTITIONS: 0 is not in 1\.\.256"):
        Settings(partitions=0)


def test_from_env_reads_the_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDR_PARTITIONS", "7")
    assert Settings.from_env().partitions == 7


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs/settings.md").read_text()
    for f in fields(Settings):
        assert f"`{env_name(f.name)}`" in doc, f.name


# --- topics ------------------------------------------------------------------------------------


def test_topic_names_come_from_the_prefix() -> None:
    names = TopicNames.from_settings(Settings(topic_prefix="prod.cdr"))
    assert names.raw == "prod.cdr.raw"
    kinds = ["raw", "resellers", "providers", "rated", "postings", "alerts", "balances"]
    kinds += ["status", "payments", "deadletter", "catalog"]
    assert names.all() == [f"prod.cdr.{kind}" for kind in kinds]


def test_topic_specs() -> None:
    specs = {spec.name: spec for spec in topic_specs(Settings(partitions=6))}
    assert specs["cdr.raw"] == TopicSpec("cdr.raw", 6, compacted=False)
    assert specs["cdr.catalog"] == TopicSpec("cdr.catalog", 1, compacted=True)
    compacted = sorted(name for name, spec in specs.items() if spec.compacted)
    assert compacted == ["cdr.catalog", "cdr.status"]  # balances carry unkeyed batches
    assert specs["cdr.balances"].config == {"cleanup.policy": "delete"}
    assert specs["cdr.deadletter"].config == {"cleanup.policy": "delete"}
    assert list(specs) == TopicNames.from_prefix("cdr").all()
