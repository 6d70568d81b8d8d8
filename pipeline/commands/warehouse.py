"""Warehouse commands: `db migrate` (the server's schema) and `export` (tables to .jsonl)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.commands.common import CliError, out_option, user_errors

if TYPE_CHECKING:
    from pipeline.warehouse.server import ServerWarehouse

START_HINT = (
    'start it with `eval "$(deploy/local/up)"` or point CDR_CLICKHOUSE_HOST and '
    "CDR_CLICKHOUSE_PORT at a running server"
)


def _server() -> ServerWarehouse:
    """The ClickHouse server the settings (`CDR_CLICKHOUSE_*`) name; not yet connected."""
    from pipeline.settings import Settings, SettingsError
    from pipeline.warehouse.server import ServerWarehouse

    # The driver logs a traceback per failed connect; our error says it in one line.
    logging.getLogger("clickhouse_driver").addHandler(logging.NullHandler())
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise CliError(str(error)) from None
    return ServerWarehouse.from_settings(settings)


def _warehouse_error(error: Exception) -> CliError:
    from pipeline.warehouse.base import WarehouseUnavailableError

    if isinstance(error, WarehouseUnavailableError):
        return CliError(f"{error}; {START_HINT}")
    return CliError(str(error))


@click.group()
def db() -> None:
    """The ClickHouse server's schema (settings from CDR_CLICKHOUSE_*)."""


@db.command("migrate")
@user_errors
def migrate() -> None:
    """Create the database and tables on the server, or bring them up to date."""
    from pipeline.warehouse.base import WarehouseError

    warehouse = _server()
    where = f"database {warehouse.database} on {warehouse.address}"
    try:
        with warehouse:
            applied = warehouse.migrate()
    except WarehouseError as error:
        raise _warehouse_error(error) from None
    if applied:
        click.echo(f"applied migrations {', '.join(map(str, applied))} to {where}")
    else:
        click.echo(f"schema up to date ({where})")


@click.command()
@out_option
@click.option(
    "--warehouse",
    type=click.Path(path_type=Path),
    help="Export this embedded (chdb) warehouse instead of the ClickHouse server.",
)
@user_errors
def export(out: Path, warehouse: Path | None) -> None:
    """Write the warehouse's tables as the `rate` command's output files, bytewise sorted."""
    from pipeline.warehouse.base import Warehouse, WarehouseError
    from pipeline.warehouse.export import export_outputs

    source: Warehouse
    try:
        if warehouse is None:
            server = _server()
            where = f"database {server.database} on {server.address}"
            source = server
        else:
            if not warehouse.is_dir():
                raise CliError(
                    f"{warehouse}: no warehouse here; create one with `rate --warehouse`"
                )
            from pipeline.warehouse.embedded import EmbeddedWarehouse

            source = EmbeddedWarehouse(warehouse)
            where = str(warehouse)
        try:
            counts = export_outputs(source, out)
        finally:
            source.close()
    except WarehouseError as error:
        raise _warehouse_error(error) from None
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    click.echo(f"exported {where} to {out}: {summary}")
