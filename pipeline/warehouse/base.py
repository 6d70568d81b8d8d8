"""What every warehouse offers (embedded chdb or a ClickHouse server), and its one error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Protocol, Self


class WarehouseError(RuntimeError):
    """A warehouse operation failed; the message is one line naming it and its SQL."""


class WarehouseUnavailableError(WarehouseError):
    """The warehouse could not be reached (a server that is down or not listening)."""


class Readable(Protocol):
    """What reading needs: the database name and rows for a SELECT."""

    @property
    def database(self) -> str: ...

    def rows(self, sql: str) -> list[dict[str, object]]: ...


class Warehouse(Protocol):
    """The four tables of `database`: migrate, insert rows, read rows, close.

    `EmbeddedWarehouse` and `ServerWarehouse` both satisfy it; the export and the
    stream sink take either. Rows read back have ints for Int/UInt columns and
    'YYYY-MM-DD hh:mm:ss' (UTC) text for DateTime columns, as `insert` takes them.
    """

    @property
    def database(self) -> str: ...

    def migrate(self) -> list[int]: ...

    def insert(self, table: str, rows: Iterable[Mapping[str, object]]) -> int: ...

    def rows(self, sql: str) -> list[dict[str, object]]: ...

    def close(self) -> None: ...


def first_line(text: str, limit: int = 300) -> str:
    """The first non-blank line of `text`, cut to `limit` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


class Closing:
    """`with warehouse:` closes it on the way out; subclasses define `close`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
