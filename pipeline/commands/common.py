"""Shared CLI plumbing: one-line user errors and option callbacks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from pipeline.cdrs.readers import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A user error: printed as one line, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"cdr-pipeline: error: {one_line(self.message)}", err=True)


def one_line(message: str) -> str:
    return "; ".join(part.strip() for part in str(message).splitlines() if part.strip())


CLICKHOUSE_HINT = (
    'start it with `eval "$(deploy/local/up)"` or point CDR_CLICKHOUSE_HOST and '
    "CDR_CLICKHOUSE_PORT at a running server"
)


def user_errors(func: F) -> F:
    """Turn the domain's input errors into one-line CLI errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pipeline.catalog.loader import CatalogError
        from pipeline.cdrs.readers import CdrFormatError
        from pipeline.kafka.errors import KafkaUnavailableError, NoCatalogError
        from pipeline.offline.payments import PaymentsFileError
        from pipeline.settings import SettingsError
        from pipeline.warehouse.base import WarehouseError, WarehouseUnavailableError

        try:
            return func(*args, **kwargs)
        except (
            CatalogError,
            CdrFormatError,
            PaymentsFileError,
            SettingsError,
            KafkaUnavailableError,
            NoCatalogError,
            TimeoutError,
        ) as error:
            raise CliError(str(error)) from None
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise CliError(f"{where}{error.strerror or error}") from None
        except WarehouseUnavailableError as error:
            raise CliError(f"{error}; {CLICKHOUSE_HINT}") from None
        except WarehouseError as error:
            raise CliError(str(error)) from None

    return wrapper  # type: ignore[return-value]


def zone_option(_ctx: click.Context, _param: click.Parameter, value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{value!r} is not an IANA timezone such as Europe/Berlin"
        ) from None


def cdr_input_options(func: F) -> F:
    """`--format`, `--source-tz` and `--provider`: how CDR files are read, for every command."""
    options = [
        click.option(
            "--format",
            "fmt",
            default="auto",
            show_default=True,
            type=click.Choice(FORMATS),
            help="Format of the CDR files (auto tells them apart by name and first line).",
        ),
        click.option(
            "--source-tz",
            default="UTC",
            show_default=True,
            callback=zone_option,
            help="Timezone of the local times in Asterisk and FreeSWITCH files.",
        ),
        click.option(
            "--provider",
            "default_provider",
            default="",
            help="Provider for rows whose format has no provider column (FreeSWITCH default).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


out_option = click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, readable=False),
    help="Directory for rated.jsonl, postings.jsonl, alerts.jsonl, balances.jsonl.",
)


def check_inputs(inputs: tuple[Path, ...]) -> None:
    """Every CDR file named must exist (one-line error otherwise)."""
    for path in inputs:
        if path.is_dir():
            raise CliError(f"{path}: a directory, not a CDR file; name the files in it")
        if not path.is_file():
            raise CliError(f"{path}: no such CDR file")
