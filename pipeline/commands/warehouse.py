"""Warehouse commands: `db migrate` (the server's schema) and `export` (tables to .jsonl)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.commands.common import CliError, out_option, user_errors

if TYPE_CHECKING:
    from pipeline.warehouse.server import ServerWarehouse


def _server() -> ServerWarehouse:
    """The ClickHouse server the settings (`CDR_CLICKHOUSE_*`) name; not yet connected."""
    from pipeline.settings import Settings
    from pipeline.warehouse.server import ServerWarehouse

    return ServerWarehouse.from_settings(Settings.from_env())


@click.group()
def db() -> None:
    """The ClickHouse server's schema (settings from CDR_CLICKHOUSE_*)."""


@db.command("migrate")
@user_errors
def migrate() -> None:
    """Create the database and tables on the server, or bring them up to date."""
    warehouse = _server()
    where = f"database {warehouse.database} on {warehouse.address}"
    with warehouse:
        applied = warehouse.migrate()
    if applied:
        click.echo(f"applied migrations {', '.join(map(str, applied))} to {where}")
    else:
        click.echo(f"schema up to date ({where})")


@click.command()
@out_option
@click.option(
    "--warehouse",
    type=click.Path(path_type=Path, readable=False),
    help="Export this embedded (chdb) warehouse instead of the ClickHouse server.",
)
@user_errors
def export(out: Path, warehouse: Path | None) -> None:
    """Write the warehouse's tables as the `rate` command's output files, bytewise sorted."""
    from pipeline.warehouse.base import Warehouse
    from pipeline.warehouse.export import export_outputs

    source: Warehouse
    if warehouse is None:
        server = _server()
        where = f"database {server.database} on {server.address}"
        source = server
    else:
        if not warehouse.is_dir():
            raise CliError(f"{warehouse}: no warehouse here; create one with `rate --warehouse`")
        from pipeline.warehouse.embedded import EmbeddedWarehouse

        source = EmbeddedWarehouse(warehouse)
        where = str(warehouse)
    try:
        counts = export_outputs(source, out)
    finally:
        source.close()
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    click.echo(f"exported {where} to {out}: {summary}")
