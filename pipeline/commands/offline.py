"""Offline commands: `rate`, `sql` and `catalog check` (no servers needed)."""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from pipeline.commands.common import (
    CliError,
    cdr_input_options,
    check_inputs,
    out_option,
    user_errors,
)


@click.command()
@click.option(
    "--catalog",
    "catalog_dir",
    required=True,
    type=click.Path(path_type=Path, readable=False),
    help="Catalog directory (catalog.yaml and rate-deck CSV files).",
)
@out_option
@click.option(
    "--payments",
    type=click.Path(path_type=Path, readable=False),
    help="Payments CSV: at,party_type,party,amount,recorded_by.",
)
@cdr_input_options
@click.option(
    "--warehouse",
    type=click.Path(path_type=Path, readable=False),
    help="Also load the results into an embedded ClickHouse (chdb) warehouse here.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: on when stderr is a terminal).",
)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@user_errors
def rate(
    catalog_dir: Path,
    out: Path,
    payments: Path | None,
    fmt: str,
    source_tz: ZoneInfo,
    default_provider: str,
    warehouse: Path | None,
    progress: bool | None,
    inputs: tuple[Path, ...],
) -> None:
    """Rate CDR files offline with the full billing engine (no servers needed)."""
    from pipeline.offline.run import RunOptions, run

    check_inputs(inputs)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: is a file; name a directory for the outputs")
    if warehouse is not None:
        check_new_warehouse(warehouse)
    options = RunOptions(
        catalog=catalog_dir,
        out=out,
        inputs=inputs,
        payments=payments,
        fmt=fmt,
        source_tz=source_tz,
        default_provider=default_provider,
        warehouse=warehouse,
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    summary = run(options)
    click.echo(summary.render())
    click.echo(f"outputs in {out}" + (f", warehouse at {warehouse}" if warehouse else ""))


def check_new_warehouse(path: Path) -> None:
    """`rate --warehouse` writes a new warehouse: every run starts from the catalog's
    opening balances, so a second run's balances would not match the postings of both."""
    if path.exists() and not path.is_dir():
        raise CliError(f"--warehouse {path}: is a file; name a new directory")
    if path.is_dir() and any(path.iterdir()):
        raise CliError(
            f"--warehouse {path}: not empty; each `rate` run writes a new warehouse "
            f"(balances start from the catalog), so remove it or name a new directory"
        )


@click.command()
@click.option(
    "--warehouse",
    required=True,
    type=click.Path(path_type=Path, readable=False),
    help="Embedded warehouse directory written by `rate --warehouse`.",
)
@click.option(
    "--format",
    "fmt",
    default="PrettyCompactMonoBlock",
    show_default=True,
    help="Any ClickHouse output format (TSVWithNames, JSONEachRow, CSV...).",
)
@click.argument("query")
@user_errors
def sql(warehouse: Path, fmt: str, query: str) -> None:
    """Run a SQL query against the embedded warehouse (tables in database `cdr`)."""
    from pipeline.warehouse.embedded import EmbeddedWarehouse, WarehouseError

    if not warehouse.is_dir():
        raise CliError(f"{warehouse}: no warehouse here; create one with `rate --warehouse`")
    try:
        with EmbeddedWarehouse(warehouse) as db:
            click.echo(db.query(query, fmt), nl=False)
    except WarehouseError as error:
        raise CliError(str(error)) from None


@click.group()
def catalog() -> None:
    """Check catalogs."""


@catalog.command("check")
@click.argument("directory", type=click.Path(path_type=Path, readable=False))
@user_errors
def catalog_check(directory: Path) -> None:
    """Load and validate a catalog directory; print what it holds."""
    from pipeline.catalog.loader import load_catalog

    loaded = load_catalog(directory)
    rows = sum(len(t.deck) for t in loaded.tariffs.values())
    click.echo(
        f"catalog {directory} is valid (version {loaded.version}): {len(loaded.tariffs)} tariffs "
        f"with {rows} deck rows, {len(loaded.resellers)} resellers, "
        f"{len(loaded.customers)} customers, {len(loaded.accounts)} accounts, "
        f"{len(loaded.providers)} providers, {len(loaded.packages)} packages"
    )
