"""Streaming commands: `worker`, `produce`, `payments`, `catalog publish`."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from pipeline.commands.common import CliError, cdr_input_options, check_inputs, user_errors
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.warehouse.server import ServerWarehouse


@click.command()
@user_errors
def worker() -> None:
    """Run the agents: rating, resellers, providers, and the ClickHouse sink."""
    from pipeline import heap
    from pipeline.agents import catalog, sink, stages
    from pipeline.app import Pipeline
    from pipeline.kafka.admin import ensure_topics
    from pipeline.warehouse.server import ServerWarehouse
    from pipeline.worker import Worker, stop_now

    settings = Settings.from_env()
    heap.tune()
    ensure_topics(settings)
    _check_schema(ServerWarehouse.from_settings(settings))
    _check_data_dir(settings.worker_data_dir)
    pipeline = Pipeline(settings)
    stages.register(pipeline)
    catalog.register(pipeline)
    sink.register(pipeline, lambda: ServerWarehouse.from_settings(settings))
    pipeline.metrics.serve(settings.metrics_port)
    pipeline.stop_worker = stop_now
    try:
        Worker(pipeline.app, settings.stop_seconds, loglevel="INFO").execute_from_commandline()
    except SystemExit as done:
        if pipeline.failure is not None and not done.code:  # Faust exits 0 after a stop
            raise SystemExit(1) from None
        raise


def _check_data_dir(directory: Path) -> None:
    """Create the worker's directory, and prove it writable, before Faust does (its
    failure is a traceback in the middle of its start-up log)."""
    import tempfile

    try:
        directory.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
    except OSError as error:
        raise CliError(
            f"CDR_WORKER_DATA_DIR {directory}: {error.strerror or error}; "
            "point it at a directory the worker can write"
        ) from None


def _check_schema(warehouse: ServerWarehouse) -> None:
    """Refuse to start on a reachable ClickHouse without the schema: the sink would retry
    every insert for good. An unreachable one is waited for, like an outage."""
    from pipeline.warehouse.base import WarehouseUnavailableError
    from pipeline.warehouse.export import check_schema

    try:
        with warehouse:
            check_schema(warehouse)
    except WarehouseUnavailableError as error:
        click.echo(f"warning: {error}; the sink waits for it", err=True)


@click.command()
@cdr_input_options
@click.option(
    "--payments",
    type=click.Path(path_type=Path, readable=False),
    help="A payments CSV to apply in time order with these CDRs.",
)
@click.option("--progress/--no-progress", default=None)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@user_errors
def produce(
    fmt: str,
    source_tz: ZoneInfo,
    default_provider: str,
    payments: Path | None,
    progress: bool | None,
    inputs: tuple[Path, ...],
) -> None:
    """Feed CDR files into the raw topic, in the order the offline command applies them."""
    from pipeline.kafka.admin import ensure_topics
    from pipeline.kafka.produce import produce_files

    check_inputs(inputs)
    settings = Settings.from_env()
    ensure_topics(settings)
    count = produce_files(
        settings,
        inputs,
        fmt=fmt,
        source_tz=source_tz,
        default_provider=default_provider,
        payments=payments,
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    click.echo(f"produced {count} events to {settings.kafka_brokers}")


@click.command()
@click.argument("file", type=click.Path(path_type=Path, readable=False))
@user_errors
def payments(file: Path) -> None:
    """Record customer, distributor and provider payments from a payments CSV."""
    from pipeline.kafka.admin import ensure_topics
    from pipeline.kafka.produce import produce_payments

    settings = Settings.from_env()
    ensure_topics(settings)
    count = produce_payments(settings, file)
    click.echo(f"recorded {count} payments")


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise click.BadParameter(
            f"{value!r} is not a time with its zone; give one like 2026-12-03T10:00:00+00:00"
        )
    return at


@click.command()
@click.option(
    "--reason",
    "reasons",
    multiple=True,
    help="Only dead letters with this reason (repeat for several), e.g. decode_failed.",
)
@click.option(
    "--since",
    callback=_since,
    metavar="TIME",
    help="Only dead letters written at or after TIME (ISO 8601 with its zone).",
)
@click.option(
    "--replay",
    is_flag=True,
    help="Send the chosen dead letters' messages back to their topics and partitions.",
)
@user_errors
def deadletters(reasons: tuple[str, ...], since: datetime | None, replay: bool) -> None:
    """List the dead letters as JSON Lines, or replay their messages once fixed."""
    import json

    from pipeline.kafka.admin import ensure_topics
    from pipeline.kafka.deadletters import dead_letters
    from pipeline.kafka.deadletters import replay as send_back
    from pipeline.schemas.codec import DecodeError

    settings = Settings.from_env()
    ensure_topics(settings)
    seen: Counter[str] = Counter()
    letters = dead_letters(settings, reasons, since, seen=seen)
    count = 0
    try:
        if replay:
            chosen = list(letters)
            sent = send_back(settings, chosen)
            click.echo(f"replayed {sent} messages from {len(chosen)} dead letters")
            _none_with(reasons, len(chosen), seen)
            return
        for letter in letters:
            line = {
                "at": letter.at.isoformat(),
                "topic": letter.topic,
                "partition": letter.partition,
                "offset": letter.offset,
                "reason": letter.reason,
                "detail": letter.detail,
                "bytes": letter.size,
            }
            click.echo(json.dumps(line, ensure_ascii=False))
            count += 1
    except (DecodeError, RuntimeError, LookupError, TimeoutError) as error:
        raise CliError(str(error)) from None
    click.echo(f"{count} dead letters", err=True)
    _none_with(reasons, count, seen)


def _none_with(reasons: tuple[str, ...], chosen: int, seen: Counter[str]) -> None:
    """A hint when `--reason` matched nothing: a misspelt reason would look like none."""
    missing = [reason for reason in reasons if reason not in seen]
    if missing and not chosen and seen:
        there = ", ".join(f"{reason} ({n})" for reason, n in sorted(seen.items()))
        click.echo(f"no dead letter has reason {', '.join(missing)}; there are: {there}", err=True)


@click.command("publish")
@click.argument("directory", type=click.Path(path_type=Path, readable=False))
@user_errors
def publish(directory: Path) -> None:
    """Publish a catalog directory to the workers (refused whole if broken)."""
    from pipeline.kafka.admin import ensure_topics
    from pipeline.kafka.produce import publish_catalog

    settings = Settings.from_env()
    ensure_topics(settings)
    catalog, parties = publish_catalog(settings, directory)
    click.echo(f"published catalog {catalog.version} ({parties} parties opened)")


@click.command()
@click.option(
    "--wait-for",
    type=int,
    default=0,
    show_default=True,
    help="First wait until this many CDRs are in ClickHouse and rows stop arriving.",
)
@click.option(
    "--timeout", type=float, default=300.0, show_default=True, help="Seconds to wait at most."
)
@user_errors
def summary(wait_for: int, timeout: float) -> None:
    """Print the run summary read back from ClickHouse (through FINAL)."""
    from pipeline.kafka.produce import published_catalog
    from pipeline.warehouse.server import ServerWarehouse
    from pipeline.warehouse.summary import summarize, wait_until_settled

    settings = Settings.from_env()
    catalog = published_catalog(settings)
    with ServerWarehouse.from_settings(settings) as warehouse:
        if wait_for:
            wait_until_settled(warehouse, wait_for, timeout)
        click.echo(summarize(warehouse, catalog).render())
