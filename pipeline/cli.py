"""The `cdr-pipeline` command line: one group, subcommands from pipeline/commands/."""

from __future__ import annotations

import click

from pipeline.commands import offline


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cdr-pipeline")
def main() -> None:
    """Rate call detail records, charge customers and resellers, keep provider balances."""


main.add_command(offline.rate)
main.add_command(offline.sql)
main.add_command(offline.catalog)

if __name__ == "__main__":  # pragma: no cover
    main()
