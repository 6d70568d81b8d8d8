"""Warehouse schema as data: tables, versioned migrations and the pure SQL builders."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Every statement here must run unchanged on ClickHouse 18.16 and on current ClickHouse
# (chdb): new MergeTree syntax, DateTime('UTC'), Int64 micro-units for money, no
# DateTime64/Map/TTL/CODEC/Nullable keys. See docs/warehouse.md.

DEFAULT_DATABASE = "cdr"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORMAT = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def check_identifier(name: str, what: str = "identifier") -> str:
    """`name` unchanged if it is a plain SQL identifier, else ValueError."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{what} {name!r} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return name


@dataclass(frozen=True, slots=True)
class Column:
    """A column; `default` is a DEFAULT expression (a column added later needs one)."""

    name: str
    type: str
    default: str = ""

    def __post_init__(self) -> None:
        check_identifier(self.name, "column name")

    def sql(self) -> str:
        """`name Type` or `name Type DEFAULT expr`, as CREATE TABLE and ALTER write it."""
        spec = f"{self.name} {self.type}"
        return f"{spec} DEFAULT {self.default}" if self.default else spec


@dataclass(frozen=True, slots=True)
class Table:
    """A table's columns in insert order and its engine clause (the text after `ENGINE =`)."""

    name: str
    columns: tuple[Column, ...]
    engine: str

    def __post_init__(self) -> None:
        check_identifier(self.name, "table name")
        names = self.column_names()
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name} has duplicate columns")

    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def with_columns(self, added: tuple[tuple[Column, str], ...]) -> Table:
        """This table with each `(column, after)` placed right after the column `after`."""
        columns = list(self.columns)
        for column, after in added:
            names = [c.name for c in columns]
            if after not in names:
                raise ValueError(f"table {self.name} has no column {after!r} to add after")
            columns.insert(names.index(after) + 1, column)
        return Table(self.name, tuple(columns), self.engine)


def _columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, type_) for name, type_ in pairs)


_LC = "LowCardinality(String)"
_TIME = "DateTime('UTC')"

RATED_CDRS_V1 = Table(
    "rated_cdrs",
    _columns(
        ("cdr_id", "String"),
        ("status", _LC),
        ("reason", _LC),
        ("detail", "String"),
        ("source", "String"),
        ("account", "String"),
        ("customer", "String"),
        ("payer", "String"),
        ("provider", "String"),
        ("code", "String"),
        ("code_name", "String"),
        ("start", _TIME),
        ("duration", "UInt32"),
        ("billed_seconds", "UInt32"),
        ("covered_seconds", "UInt32"),
        ("cost_micro", "Int64"),
        ("currency", _LC),
        ("provider_cost_micro", "Int64"),
        ("provider_currency", _LC),
        ("version", "UInt64"),
    ),
    "ReplacingMergeTree(version) PARTITION BY toYYYYMM(start) ORDER BY cdr_id",
)

# v2: whether the CDR's start and duration were known. `start` and `duration` hold 0 when
# they were not (unreadable in the CDR file); the flags tell that 0 from a real epoch start
# or a zero-second call, so an export writes null exactly where `rate` wrote null.
RATED_CDRS_V2_COLUMNS: tuple[tuple[Column, str], ...] = (
    (Column("start_known", "UInt8", "1"), "start"),
    (Column("duration_known", "UInt8", "1"), "duration"),
)
RATED_CDRS = RATED_CDRS_V1.with_columns(RATED_CDRS_V2_COLUMNS)

POSTINGS = Table(
    "postings",
    _columns(
        ("posting_id", "String"),
        ("party_type", _LC),
        ("party", "String"),
        ("amount_micro", "Int64"),
        ("currency", _LC),
        ("kind", _LC),
        ("cdr_id", "String"),
        ("payment_id", "String"),
        ("at", _TIME),
        ("version", "UInt64"),
    ),
    "ReplacingMergeTree(version) PARTITION BY toYYYYMM(at) ORDER BY posting_id",
)

ALERTS = Table(
    "alerts",
    _columns(
        ("alert_id", "String"),
        ("party_type", _LC),
        ("party", "String"),
        ("kind", _LC),
        ("at", _TIME),
        ("threshold", "String"),
        ("reason", "String"),
        ("details", "String"),
        ("version", "UInt64"),
    ),
    "ReplacingMergeTree(version) PARTITION BY toYYYYMM(at) ORDER BY alert_id",
)

BALANCES = Table(
    "balances",
    _columns(
        ("party_type", _LC),
        ("party", "String"),
        ("balance_micro", "Int64"),
        ("currency", _LC),
        ("blocked", "UInt8"),
        ("updated_at", _TIME),
        ("version", "UInt64"),
    ),
    "ReplacingMergeTree(version) ORDER BY (party_type, party)",
)

# Where each sink stands: per partition of an output topic, the offset after the last
# message written. A row is added after the message's rows are in, so every offset below
# `next_offset` has been written; the largest one counts (`max`, or `FINAL`), which is why
# two workers writing during a rebalance cannot move it back (pipeline/agents/sink.py).
SINK_OFFSETS = Table(
    "sink_offsets",
    _columns(
        ("topic", "String"),
        ("kafka_partition", "UInt32"),
        ("next_offset", "UInt64"),
        ("updated_at", _TIME),
    ),
    "ReplacingMergeTree(next_offset) ORDER BY (topic, kafka_partition)",
)

SCHEMA_MIGRATIONS = Table(
    "schema_migrations",
    _columns(("version", "UInt32"), ("name", "String"), ("applied_at", _TIME)),
    "MergeTree ORDER BY version",
)

TABLES: dict[str, Table] = {
    t.name: t for t in (RATED_CDRS, POSTINGS, ALERTS, BALANCES, SINK_OFFSETS)
}


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step; `statements` already name the database and run in order."""

    version: int
    name: str
    statements: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError(f"migration version {self.version} must be >= 1")
        check_identifier(self.name, "migration name")


def _table(database: str, table: str) -> Table:
    check_identifier(database, "database name")
    check_identifier(table, "table name")
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; known: {', '.join(TABLES)}")
    return TABLES[table]


def create_database_sql(database: str) -> str:
    return f"CREATE DATABASE IF NOT EXISTS {check_identifier(database, 'database name')}"


def create_table_sql(database: str, table: Table) -> str:
    """`CREATE TABLE IF NOT EXISTS db.table (...) ENGINE = ...`, one column per line."""
    check_identifier(database, "database name")
    columns = ",\n".join(f"    {column.sql()}" for column in table.columns)
    return (
        f"CREATE TABLE IF NOT EXISTS {database}.{table.name}\n"
        f"(\n{columns}\n)\n"
        f"ENGINE = {table.engine}"
    )


def add_columns_sql(database: str, table: str, added: tuple[tuple[Column, str], ...]) -> str:
    """One `ALTER TABLE db.table ADD COLUMN ... AFTER ...` for all of `added` (all or none).

    18.16 has no `ADD COLUMN IF NOT EXISTS`: this statement fails if a column exists.
    """
    check_identifier(database, "database name")
    check_identifier(table, "table name")
    if not added:
        raise ValueError("add_columns_sql needs at least one column")
    adds = ",\n".join(
        f"    ADD COLUMN {column.sql()} AFTER {check_identifier(after, 'column name')}"
        for column, after in added
    )
    return f"ALTER TABLE {database}.{table}\n{adds}"


def bootstrap_sql(database: str) -> tuple[str, str]:
    """The database and the migrations ledger: run before reading which versions applied."""
    return create_database_sql(database), create_table_sql(database, SCHEMA_MIGRATIONS)


def migrations(database: str) -> tuple[Migration, ...]:
    """Every migration in version order; append new ones, never edit an applied one."""
    tables = (RATED_CDRS_V1, POSTINGS, ALERTS, BALANCES)
    return (
        Migration(
            1,
            "initial_schema",
            (*bootstrap_sql(database), *(create_table_sql(database, t) for t in tables)),
        ),
        Migration(
            2,
            "rated_cdrs_known_start_duration",
            (add_columns_sql(database, RATED_CDRS.name, RATED_CDRS_V2_COLUMNS),),
        ),
        Migration(3, "sink_offsets", (create_table_sql(database, SINK_OFFSETS),)),
    )


def insert_columns_sql(database: str, table: str) -> str:
    """`INSERT INTO db.table (every column)`: the head of an insert whose format is set apart."""
    spec = _table(database, table)
    return f"INSERT INTO {database}.{table} ({', '.join(spec.column_names())})"


def insert_sql(database: str, table: str, fmt: str = "JSONEachRow") -> str:
    """`INSERT INTO db.table (every column) FORMAT fmt`; the data follows on the next line."""
    head = insert_columns_sql(database, table)
    if not _FORMAT.fullmatch(fmt):
        raise ValueError(f"format {fmt!r} is not a ClickHouse format name")
    return f"{head} FORMAT {fmt}"


def insert_values_sql(database: str, table: str) -> str:
    """`INSERT INTO db.table (every column) VALUES`: clickhouse-driver sends the rows as blocks."""
    return f"{insert_columns_sql(database, table)} VALUES"


def select_final_sql(database: str, table: str, order_by: tuple[str, ...]) -> str:
    """Every column, deduplicated by the table's key (`FINAL`), ordered by `order_by`."""
    spec = _table(database, table)
    names = spec.column_names()
    for name in order_by:
        if name not in names:
            raise ValueError(f"cannot order {table} by {name!r}: not one of its columns")
    sql = f"SELECT {', '.join(names)} FROM {database}.{table} FINAL"
    return f"{sql} ORDER BY {', '.join(order_by)}" if order_by else sql


def select_final_page_sql(
    database: str, table: str, key: str, after: str | None, limit: int
) -> str:
    """A page of every column under `FINAL`: rows whose `key` sorts bytewise after `after`.

    `key` is a String column (the table's sorting key); `after` is the last key of the
    previous page (None for the first page) and goes in as `unhex('...')`, so any text
    is safe without quoting rules.
    """
    spec = _table(database, table)
    if key not in spec.column_names():
        raise ValueError(f"cannot page {table} by {key!r}: not one of its columns")
    if limit < 1:
        raise ValueError(f"page limit must be >= 1, not {limit}")
    sql = f"SELECT {', '.join(spec.column_names())} FROM {database}.{table} FINAL"
    if after is not None:
        sql += f" WHERE {key} > unhex('{after.encode('utf-8').hex().upper()}')"
    return f"{sql} ORDER BY {key} LIMIT {int(limit)}"


def sink_offsets_sql(database: str, topic: str) -> str:
    """Per partition of `topic`, the offset its sink writes next (partitions never
    written have no row). The topic goes in as `unhex('...')`: any name is safe."""
    check_identifier(database, "database name")
    return (
        f"SELECT kafka_partition, max(next_offset) AS next_offset FROM {database}.sink_offsets "
        f"WHERE topic = unhex('{topic.encode('utf-8').hex().upper()}') GROUP BY kafka_partition"
    )


def applied_versions_sql(database: str) -> str:
    check_identifier(database, "database name")
    return f"SELECT DISTINCT version FROM {database}.schema_migrations ORDER BY version"


def record_migration_sql(database: str, migration: Migration) -> str:
    """Row for the ledger; `name` is a checked identifier, so it needs no escaping."""
    check_identifier(database, "database name")
    check_identifier(migration.name, "migration name")
    return (
        f"INSERT INTO {database}.schema_migrations (version, name, applied_at) "
        f"VALUES ({int(migration.version)}, '{migration.name}', now())"
    )


def record_migration_values_sql(database: str) -> str:
    """The ledger insert without its row, for clickhouse-driver (18.16 takes no inline VALUES).

    The row is `(version, name, applied_at)`.
    """
    check_identifier(database, "database name")
    return f"INSERT INTO {database}.schema_migrations (version, name, applied_at) VALUES"
