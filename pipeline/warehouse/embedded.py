"""The warehouse embedded in the process: ClickHouse via chdb, persisted at a directory."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol, cast

import chdb.session

from pipeline.warehouse.base import Closing, WarehouseError
from pipeline.warehouse.ddl import (
    DEFAULT_DATABASE,
    TABLES,
    applied_versions_sql,
    bootstrap_sql,
    check_identifier,
    insert_columns_sql,
    migrations,
    record_migration_sql,
)

__all__ = ["BATCH_ROWS", "EmbeddedWarehouse", "WarehouseError"]

BATCH_ROWS = 50_000  # rows per INSERT: one part per batch, bounded memory for 1M-row loads


class _Session(Protocol):
    """The part of chdb's (untyped) `chdb.session.Session` used here."""

    def query(self, sql: str, fmt: str) -> Any: ...
    def send_insert(self, query: str, fmt: str) -> Any: ...
    def close(self) -> None: ...


def _open_chdb(path: str) -> _Session:
    session_class: Any = chdb.session.Session
    return cast(_Session, session_class(path))


def _first_line(text: str, limit: int = 300) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _failure(what: str, error: BaseException, sql: str = "") -> WarehouseError:
    message = f"{what}: {_first_line(str(error)) or type(error).__name__}"
    if sql:
        message += f" [SQL: {_first_line(sql, 120)}]"
    return WarehouseError(message)


def _batches(
    rows: Iterable[Mapping[str, object]], size: int
) -> Iterator[list[Mapping[str, object]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _check_place(path: Path) -> None:
    """Refuse a path chdb could not use, with the reason, before chdb prints its own
    multi-line error (a file, or a directory this user cannot write)."""
    where = f"cannot open warehouse at {path}"
    if path.exists():
        if not path.is_dir():
            raise WarehouseError(f"{where}: it is a file, not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise WarehouseError(f"{where}: this user cannot write there")
        return
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise WarehouseError(f"{where}: {parent} is a file, not a directory")
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise WarehouseError(f"{where}: this user cannot create it in {parent}")


class EmbeddedWarehouse(Closing):
    """Tables of `database` stored under `path` by chdb.

    chdb runs one embedded server per process: while a warehouse is open, another
    path cannot be opened in this process (nor `chdb.query`), and another process
    cannot open the same path. Close it (or use `with`) before opening the next.
    """

    def __init__(self, path: Path, database: str = DEFAULT_DATABASE) -> None:
        self.path = Path(path).absolute()
        self.database = check_identifier(database, "database name")
        if "?" in str(self.path):
            raise ValueError(f"warehouse path {self.path} must not contain '?'")
        _check_place(self.path)
        try:
            self._session: _Session | None = _open_chdb(os.fspath(self.path))
        except RuntimeError as error:
            raise _failure(
                f"cannot open warehouse at {self.path} (chdb allows one open path per "
                "process and one process per path)",
                error,
            ) from None

    def close(self) -> None:
        """Release the path (idempotent); data already written stays on disk."""
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _open_session(self) -> _Session:
        if self._session is None:
            raise WarehouseError(f"warehouse at {self.path} is closed")
        return self._session

    def query(self, sql: str, fmt: str = "TSVWithNames") -> str:
        """Run one statement; its result as text in ClickHouse format `fmt`."""
        session = self._open_session()
        try:
            result = session.query(sql, fmt)
        except RuntimeError as error:  # chdb's ChdbError is a RuntimeError
            raise _failure("query failed", error, sql) from None
        return str(result.data())

    def rows(self, sql: str) -> list[dict[str, object]]:
        """Result rows as dicts (JSONEachRow: Int64/UInt64 come back as ints)."""
        text = self.query(sql, "JSONEachRow")
        return [json.loads(line) for line in text.splitlines() if line]

    def migrate(self) -> list[int]:
        """Apply pending migrations in order; the versions applied (empty when up to date)."""
        for sql in bootstrap_sql(self.database):
            self.query(sql)
        ledger = self.rows(applied_versions_sql(self.database))
        applied = {int(str(row["version"])) for row in ledger}
        done: list[int] = []
        for migration in migrations(self.database):
            if migration.version in applied:
                continue
            for sql in migration.statements:
                self.query(sql)
            self.query(record_migration_sql(self.database, migration))
            done.append(migration.version)
        return done

    def insert(
        self, table: str, rows: Iterable[Mapping[str, object]], batch_rows: int = BATCH_ROWS
    ) -> int:
        """Write rows holding exactly `table`'s columns, `batch_rows` per INSERT; the count.

        Values are ints for Int/UInt columns and str for String and DateTime columns
        ('YYYY-MM-DD hh:mm:ss', UTC). Rows travel as CSV with every string quoted
        (Python's C csv writer, about twice as fast as JSONEachRow end to end) through
        chdb's streaming insert, which parses faster than data inlined in the query.
        Batches before a failing one stay written; replaying them is harmless (FINAL).
        """
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, not {batch_rows}")
        head = insert_columns_sql(self.database, table)
        names = TABLES[table].column_names()
        expected = frozenset(names)
        values = itemgetter(*names)
        session = self._open_session()
        count = 0
        for batch in _batches(rows, batch_rows):
            for offset, row in enumerate(batch):
                if row.keys() != expected:
                    missing = sorted(expected - row.keys())
                    extra = sorted(set(row.keys()) - expected)
                    raise ValueError(
                        f"{table} row {count + offset}: missing {missing}, unexpected {extra}"
                    )
            buffer = io.StringIO()
            csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(
                map(values, batch)
            )
            try:
                with session.send_insert(head, "CSV") as inserter:
                    inserter.append(buffer.getvalue())
                    inserter.finish()
            except RuntimeError as error:
                raise _failure(f"insert into {table} failed", error, head) from None
            count += len(batch)
        return count
