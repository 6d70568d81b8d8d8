"""The warehouse SQL builders, checked against exact text."""

from __future__ import annotations

import re

import pytest

from pipeline.warehouse import ddl

RATED_CDRS_V1 = """\
CREATE TABLE IF NOT EXISTS cdr.rated_cdrs
(
    cdr_id String,
    status LowCardinality(String),
    reason LowCardinality(String),
    detail String,
    source String,
    account String,
    customer String,
    payer String,
    provider String,
    code String,
    code_name String,
    start DateTime('UTC'),
    duration UInt32,
    billed_seconds UInt32,
    covered_seconds UInt32,
    cost_micro Int64,
    currency LowCardinality(String),
    provider_cost_micro Int64,
    provider_currency LowCardinality(String),
    version UInt64
)
ENGINE = ReplacingMergeTree(version) PARTITION BY toYYYYMM(start) ORDER BY cdr_id"""

SCHEMA_MIGRATIONS_V1 = """\
CREATE TABLE IF NOT EXISTS cdr.schema_migrations
(
    version UInt32,
    name String,
    applied_at DateTime('UTC')
)
ENGINE = MergeTree ORDER BY version"""


def test_v1_creates_database_ledger_and_the_four_tables_in_order() -> None:
    v1 = ddl.migrations("cdr")[0]
    assert (v1.version, v1.name) == (1, "initial_schema")
    assert v1.statements[0] == "CREATE DATABASE IF NOT EXISTS cdr"
    assert v1.statements[1] == SCHEMA_MIGRATIONS_V1
    assert v1.statements[2] == RATED_CDRS_V1
    created = [re.search(r"EXISTS (\S+)", sql).group(1) for sql in v1.statements]  # type: ignore[union-attr]
    assert created == [
        "cdr",
        "cdr.schema_migrations",
        "cdr.rated_cdrs",
        "cdr.postings",
        "cdr.alerts",
        "cdr.balances",
    ]


RATED_CDRS_V2 = """\
ALTER TABLE cdr.rated_cdrs
    ADD COLUMN start_known UInt8 DEFAULT 1 AFTER start,
    ADD COLUMN duration_known UInt8 DEFAULT 1 AFTER duration"""


def test_v2_adds_the_known_flags_to_rated_cdrs_in_one_statement() -> None:
    v2 = ddl.migrations("cdr")[1]
    assert (v2.version, v2.name) == (2, "rated_cdrs_known_start_duration")
    assert v2.statements == (RATED_CDRS_V2,)


def test_the_current_rated_cdrs_is_v1_plus_v2() -> None:
    names = ddl.RATED_CDRS.column_names()
    assert names[names.index("start") : names.index("billed_seconds")] == (
        "start",
        "start_known",
        "duration",
        "duration_known",
    )
    assert set(names) - set(ddl.RATED_CDRS_V1.column_names()) == {"start_known", "duration_known"}
    assert "    start_known UInt8 DEFAULT 1,\n" in ddl.create_table_sql("cdr", ddl.RATED_CDRS)


def test_add_columns_sql_checks_its_input() -> None:
    with pytest.raises(ValueError, match="at least one column"):
        ddl.add_columns_sql("cdr", "rated_cdrs", ())
    with pytest.raises(ValueError, match="no column 'nope'"):
        ddl.RATED_CDRS_V1.with_columns(((ddl.Column("x", "UInt8", "0"), "nope"),))


def test_bootstrap_is_the_head_of_v1() -> None:
    assert ddl.bootstrap_sql("cdr") == ddl.migrations("cdr")[0].statements[:2]


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [m.version for m in ddl.migrations("cdr")]
    assert versions == list(range(1, len(versions) + 1))


def test_the_database_name_is_a_parameter() -> None:
    sql = ddl.migrations("billing_test")[0].statements
    assert sql[0] == "CREATE DATABASE IF NOT EXISTS billing_test"
    assert all("cdr." not in statement for statement in sql)


@pytest.mark.parametrize(
    ("table", "engine"),
    [
        ("rated_cdrs", "ReplacingMergeTree(version) PARTITION BY toYYYYMM(start) ORDER BY cdr_id"),
        ("postings", "ReplacingMergeTree(version) PARTITION BY toYYYYMM(at) ORDER BY posting_id"),
        ("alerts", "ReplacingMergeTree(version) PARTITION BY toYYYYMM(at) ORDER BY alert_id"),
        ("balances", "ReplacingMergeTree(version) ORDER BY (party_type, party)"),
        ("sink_offsets", "ReplacingMergeTree(next_offset) ORDER BY (topic, kafka_partition)"),
    ],
)
def test_engines(table: str, engine: str) -> None:
    assert ddl.TABLES[table].engine == engine


@pytest.mark.parametrize("table", sorted(ddl.TABLES))
def test_ddl_avoids_what_clickhouse_18_16_lacks(table: str) -> None:
    sql = ddl.create_table_sql("cdr", ddl.TABLES[table])
    for absent in ("DateTime64", "Map(", "TTL", "CODEC", "Nullable", "Float", "Decimal"):
        assert absent not in sql
    versioned = re.search(r"ReplacingMergeTree\((\w+)\)", ddl.TABLES[table].engine)
    assert versioned is not None
    assert f"{versioned.group(1)} UInt64" in sql


def test_sink_offsets_are_read_by_topic_as_the_largest_per_partition() -> None:
    sql = ddl.sink_offsets_sql("cdr", "t.rated")
    assert sql == (
        "SELECT kafka_partition, max(next_offset) AS next_offset FROM cdr.sink_offsets "
        "WHERE topic = unhex('742E7261746564') GROUP BY kafka_partition"
    )


def test_insert_sql() -> None:
    assert ddl.insert_sql("cdr", "postings") == (
        "INSERT INTO cdr.postings (posting_id, party_type, party, amount_micro, currency, kind,"
        " cdr_id, payment_id, at, version) FORMAT JSONEachRow"
    )
    assert ddl.insert_sql("cdr", "balances", "CSV") == (
        "INSERT INTO cdr.balances (party_type, party, balance_micro, currency, blocked,"
        " updated_at, version) FORMAT CSV"
    )


def test_insert_values_sql_for_the_driver() -> None:
    assert ddl.insert_values_sql("cdr", "balances") == (
        "INSERT INTO cdr.balances (party_type, party, balance_micro, currency, blocked,"
        " updated_at, version) VALUES"
    )
    assert ddl.record_migration_values_sql("x") == (
        "INSERT INTO x.schema_migrations (version, name, applied_at) VALUES"
    )


def test_select_final_page_sql() -> None:
    head = (
        "SELECT alert_id, party_type, party, kind, at, threshold, reason, details, version"
        " FROM cdr.alerts FINAL"
    )
    assert ddl.select_final_page_sql("cdr", "alerts", "alert_id", None, 10) == (
        f"{head} ORDER BY alert_id LIMIT 10"
    )
    # the last key of the previous page as hex: quotes and backslashes need no escaping
    assert ddl.select_final_page_sql("cdr", "alerts", "alert_id", "a'\\é", 5) == (
        f"{head} WHERE alert_id > unhex('61275CC3A9') ORDER BY alert_id LIMIT 5"
    )
    with pytest.raises(ValueError, match="not one of its columns"):
        ddl.select_final_page_sql("cdr", "alerts", "x", None, 5)
    with pytest.raises(ValueError, match="limit must be >= 1"):
        ddl.select_final_page_sql("cdr", "alerts", "alert_id", None, 0)


def test_select_final_sql() -> None:
    assert ddl.select_final_sql("cdr", "alerts", ("at", "alert_id")) == (
        "SELECT alert_id, party_type, party, kind, at, threshold, reason, details, version"
        " FROM cdr.alerts FINAL ORDER BY at, alert_id"
    )
    assert ddl.select_final_sql("x", "balances", ()) == (
        "SELECT party_type, party, balance_micro, currency, blocked, updated_at, version"
        " FROM x.balances FINAL"
    )


def test_migration_ledger_sql() -> None:
    v1 = ddl.migrations("cdr")[0]
    assert ddl.applied_versions_sql("cdr") == (
        "SELECT DISTINCT version FROM cdr.schema_migrations ORDER BY version"
    )
    assert ddl.record_migration_sql("cdr", v1) == (
        "INSERT INTO cdr.schema_migrations (version, name, applied_at)"
        " VALUES (1, 'initial_schema', now())"
    )


BAD_NAMES = ["", "1cdr", "cdr; DROP DATABASE x", "a.b", "a-b", "`cdr`", "cdr\n", "naïve", " cdr"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_database_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a plain identifier"):
        ddl.migrations(name)
    with pytest.raises(ValueError, match="not a plain identifier"):
        ddl.insert_sql(name, "rated_cdrs")
    with pytest.raises(ValueError, match="not a plain identifier"):
        ddl.applied_versions_sql(name)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_table_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a plain identifier"):
        ddl.select_final_sql("cdr", name, ())


def test_unknown_table_order_column_and_format_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown table 'schema_migrations'"):
        ddl.insert_sql("cdr", "schema_migrations")
    with pytest.raises(ValueError, match="not one of its columns"):
        ddl.select_final_sql("cdr", "alerts", ("at; DROP TABLE x",))
    with pytest.raises(ValueError, match="not a ClickHouse format name"):
        ddl.insert_sql("cdr", "alerts", "CSV; DROP")


def test_migration_and_table_values_check_themselves() -> None:
    with pytest.raises(ValueError, match="migration name"):
        ddl.Migration(2, "drop it'", ())
    with pytest.raises(ValueError, match=">= 1"):
        ddl.Migration(0, "zero", ())
    with pytest.raises(ValueError, match="duplicate columns"):
        ddl.Table("t", (ddl.Column("a", "String"), ddl.Column("a", "UInt8")), "MergeTree")
