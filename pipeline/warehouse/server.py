"""The warehouse on a ClickHouse server (18.16 or later), reached with clickhouse-driver."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any, Protocol

from clickhouse_driver import Client
from clickhouse_driver import errors as driver_errors

from pipeline.warehouse.base import (
    Closing,
    WarehouseError,
    WarehouseUnavailableError,
    first_line,
)
from pipeline.warehouse.ddl import (
    DEFAULT_DATABASE,
    TABLES,
    applied_versions_sql,
    bootstrap_sql,
    check_identifier,
    insert_values_sql,
    migrations,
    record_migration_values_sql,
)

# The driver logs a traceback for each failed connection, and the errors raised here say
# the same in one line: silent unless the process configures logging (the worker does).
logging.getLogger("clickhouse_driver").addHandler(logging.NullHandler())

BATCH_ROWS = 50_000  # rows per INSERT, as the embedded warehouse sends them
CONNECT_TIMEOUT = 5  # seconds
# what clickhouse-driver raises when the server is away or the connection breaks
_NETWORK = (
    driver_errors.NetworkError,
    driver_errors.SocketTimeoutError,
    EOFError,
    OSError,
)


class SecretText(Protocol):
    def get_secret_value(self) -> str: ...


class ClickHouseSettings(Protocol):
    """The part of `pipeline.settings.Settings` a server warehouse needs."""

    @property
    def clickhouse_host(self) -> str: ...
    @property
    def clickhouse_port(self) -> int: ...
    @property
    def clickhouse_database(self) -> str: ...
    @property
    def clickhouse_user(self) -> str: ...
    @property
    def clickhouse_password(self) -> SecretText: ...


def _describe(error: BaseException) -> str:
    """The driver's message on one line: `Code: 47. DB::Exception: ...`."""
    if isinstance(error, driver_errors.Error) and getattr(error, "code", None) is not None:
        message = first_line(str(getattr(error, "message", "") or ""))
        message = message.split(" Stack trace:")[0]  # 18.16 ends its first line with it
        return f"Code: {error.code}. {message}".strip()
    return first_line(str(error)) or type(error).__name__


def _to_epoch(value: object) -> int:
    """A DateTime value as epoch seconds: 'YYYY-MM-DD hh:mm:ss' (UTC), an int, or a datetime."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a time 'YYYY-MM-DD hh:mm:ss'") from None
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    else:
        raise ValueError(f"{value!r} is not a DateTime value")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _from_driver(value: object) -> object:
    """A Date/DateTime result as the embedded warehouse's JSONEachRow gives it (UTC text)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _is_time(type_: str) -> bool:
    return type_.startswith("DateTime")


def _batches(
    rows: Iterable[Mapping[str, object]], size: int
) -> Iterator[list[Mapping[str, object]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class ServerWarehouse(Closing):
    """Tables of `database` on a ClickHouse server; one connection, opened on first use.

    Statements name the database (`db.table`), so the connection needs no default
    database and `migrate` can create it. A lost connection is reopened by the next
    call. Not for use by two threads at once.
    """

    def __init__(
        self,
        host: str,
        port: int,
        database: str = DEFAULT_DATABASE,
        user: str = "default",
        password: str = "",
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.database = check_identifier(database, "database name")
        self._client: Client | None = Client(
            host=host,
            port=self.port,
            user=user,
            password=password,
            connect_timeout=connect_timeout,
            client_name="cdr-pipeline",
        )

    @classmethod
    def from_settings(cls, settings: ClickHouseSettings) -> ServerWarehouse:
        return cls(
            settings.clickhouse_host,
            settings.clickhouse_port,
            settings.clickhouse_database,
            settings.clickhouse_user,
            settings.clickhouse_password.get_secret_value(),
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def close(self) -> None:
        """Disconnect (idempotent); a closed warehouse refuses further calls."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()

    def _open_client(self) -> Client:
        if self._client is None:
            raise WarehouseError(f"warehouse on {self.address} is closed")
        return self._client

    def _failure(self, what: str, error: BaseException, sql: str) -> WarehouseError:
        if isinstance(error, _NETWORK):
            return WarehouseUnavailableError(
                f"ClickHouse at {self.address} is not reachable: {_describe(error)}"
                f" [SQL: {first_line(sql, 120)}]"
            )
        return WarehouseError(f"{what}: {_describe(error)} [SQL: {first_line(sql, 120)}]")

    def _execute(self, sql: str, columns: Sequence[Sequence[object]] | None = None) -> Any:
        """Run `sql`; with `columns` (one list per column) it is an INSERT ... VALUES."""
        client = self._open_client()
        try:
            if columns is None:
                return client.execute(sql, with_column_types=True)
            return client.execute(sql, columns, columnar=True)
        except (driver_errors.Error, *_NETWORK, struct.error) as error:
            what = "query failed" if columns is None else "insert failed"
            raise self._failure(what, error, sql) from None

    def execute(self, sql: str) -> None:
        """Run one statement that returns no rows (DDL)."""
        self._execute(sql)

    def rows(self, sql: str) -> list[dict[str, object]]:
        """Result rows as dicts: ints for Int/UInt, 'YYYY-MM-DD hh:mm:ss' (UTC) for DateTime."""
        data, columns = self._execute(sql)
        names = [name for name, _type in columns]
        times = [i for i, (_name, type_) in enumerate(columns) if "Date" in type_]
        if not times:
            return [dict(zip(names, row, strict=True)) for row in data]
        result = []
        for row in data:
            values = list(row)
            for i in times:
                values[i] = _from_driver(values[i])
            result.append(dict(zip(names, values, strict=True)))
        return result

    def migrate(self) -> list[int]:
        """Apply pending migrations in order; the versions applied (empty when up to date)."""
        for sql in bootstrap_sql(self.database):
            self.execute(sql)
        applied = {
            int(str(row["version"])) for row in self.rows(applied_versions_sql(self.database))
        }
        done: list[int] = []
        for migration in migrations(self.database):
            if migration.version in applied:
                continue
            for sql in migration.statements:
                self.execute(sql)
            self._execute(
                record_migration_values_sql(self.database),
                [[migration.version], [migration.name], [datetime.now(UTC)]],
            )
            done.append(migration.version)
        return done

    def insert_columns(
        self, table: str, columns: Mapping[str, Sequence[object]], batch_rows: int = BATCH_ROWS
    ) -> int:
        """Write rows given as columns, one list per column of `table`; the row count.

        The sink's path (`pipeline/schemas/columns.py`): no row dicts, and DateTime
        columns already epoch seconds. Every column of `table` and no other, all of
        one length, or ValueError before anything is sent.
        """
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, not {batch_rows}")
        names = TABLES[table].column_names()
        if columns.keys() != set(names):
            missing = sorted(set(names) - columns.keys())
            extra = sorted(columns.keys() - set(names))
            raise ValueError(f"{table} columns: missing {missing}, unexpected {extra}")
        ordered = [columns[name] for name in names]
        count = len(ordered[0])
        if any(len(column) != count for column in ordered):
            lengths = {name: len(columns[name]) for name in names}
            raise ValueError(f"{table} columns differ in length: {lengths}")
        head = insert_values_sql(self.database, table)
        for start in range(0, count, batch_rows):
            self._execute(head, [column[start : start + batch_rows] for column in ordered])
        return count

    def insert(
        self, table: str, rows: Iterable[Mapping[str, object]], batch_rows: int = BATCH_ROWS
    ) -> int:
        """Write rows holding exactly `table`'s columns, `batch_rows` per INSERT; the count.

        Values as for the embedded warehouse: ints for Int/UInt columns, str for String
        columns, and for DateTime columns 'YYYY-MM-DD hh:mm:ss' (UTC) text, epoch seconds
        or a datetime (a naive one is UTC). The rows themselves are not changed.
        """
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, not {batch_rows}")
        head = insert_values_sql(self.database, table)
        columns = TABLES[table].columns
        expected = frozenset(column.name for column in columns)
        count = 0
        for batch in _batches(rows, batch_rows):
            for offset, row in enumerate(batch):
                if row.keys() != expected:
                    missing = sorted(expected - row.keys())
                    extra = sorted(set(row.keys()) - expected)
                    raise ValueError(
                        f"{table} row {count + offset}: missing {missing}, unexpected {extra}"
                    )
            values: list[list[object]] = []
            for column in columns:
                cells = [row[column.name] for row in batch]
                if _is_time(column.type):
                    try:
                        cells = [_to_epoch(cell) for cell in cells]
                    except ValueError as error:
                        raise ValueError(f"{table}.{column.name}: {error}") from None
                values.append(cells)
            self._execute(head, values)
            count += len(batch)
        return count
