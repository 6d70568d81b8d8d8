"""The `cdr-pipeline` command line: offline rating, warehouse queries, catalog checks."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A user error: printed as one line, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"cdr-pipeline: error: {one_line(self.message)}", err=True)


def one_line(message: str) -> str:
    return "; ".join(part.strip() for part in str(message).splitlines() if part.strip())


def user_errors(func: F) -> F:
    """Turn the domain's input errors into one-line CLI errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pipeline.catalog.loader import CatalogError
        from pipeline.cdrs.readers import CdrFormatError
        from pipeline.offline.payments import PaymentsFileError

        try:
            return func(*args, **kwargs)
        except (CatalogError, CdrFormatError, PaymentsFileError) as error:
            raise CliError(str(error)) from None
        except OSError as error:
            raise CliError(f"{error.filename or ''}: {error.strerror or error}") from None

    return wrapper  # type: ignore[return-value]


def _zone(_ctx: click.Context, _param: click.Parameter, value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{value!r} is not an IANA timezone such as Europe/Berlin"
        ) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cdr-pipeline")
def main() -> None:
    """Rate call detail records, charge customers and resellers, keep provider balances."""


@main.command()
@click.option(
    "--catalog",
    "catalog_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Catalog directory (catalog.yaml and rate-deck CSV files).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory for rated.jsonl, postings.jsonl, alerts.jsonl, balances.jsonl.",
)
@click.option(
    "--payments",
    type=click.Path(path_type=Path),
    help="Payments CSV: at,party_type,party,amount,recorded_by.",
)
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "csv", "jsonl", "asterisk", "freeswitch"]),
    help="Format of the CDR files.",
)
@click.option(
    "--source-tz",
    default="UTC",
    show_default=True,
    callback=_zone,
    help="Timezone of the local times in Asterisk and FreeSWITCH files.",
)
@click.option(
    "--provider",
    "default_provider",
    default="",
    help="Provider for rows whose format has no provider column (FreeSWITCH default).",
)
@click.option(
    "--warehouse",
    type=click.Path(path_type=Path),
    help="Also load the results into an embedded ClickHouse (chdb) warehouse here.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: on when stderr is a terminal).",
)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
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

    for path in inputs:
        if not path.is_file():
            raise CliError(f"{path}: no such CDR file")
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


@main.command()
@click.option(
    "--warehouse",
    required=True,
    type=click.Path(path_type=Path),
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


@main.group()
def catalog() -> None:
    """Check catalogs."""


@catalog.command("check")
@click.argument("directory", type=click.Path(path_type=Path))
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


if __name__ == "__main__":  # pragma: no cover
    main()
