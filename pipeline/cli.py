"""The `cdr-pipeline` command line: one group, subcommands from pipeline/commands/."""

from __future__ import annotations

import click

from pipeline.commands import offline, stream, warehouse


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cdr-pipeline")
def main() -> None:
    """Rate call detail records, charge customers and resellers, keep provider balances."""


main.add_command(offline.rate)
main.add_command(offline.sql)
main.add_command(offline.catalog)
main.add_command(stream.worker)
main.add_command(stream.produce)
main.add_command(stream.payments)
main.add_command(stream.deadletters)
main.add_command(stream.summary)
offline.catalog.add_command(stream.publish)
main.add_command(warehouse.db)
main.add_command(warehouse.export)

if __name__ == "__main__":  # pragma: no cover
    main()
