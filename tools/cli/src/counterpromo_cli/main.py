"""The ``counterpromo`` command: operators' admin tool and the local stack.

Start-up is kept light: the command modules import SQLAlchemy, Alembic, boto3, Stripe, httpx
and rich's console inside the commands that use them, and help is plain click help
(``rich_markup_mode=None``: rich's help renderer alone costs more than ``import typer``), so
``counterpromo --help`` and every ``--help`` below it import none of them (a test checks).
"""

import os
from typing import Annotated

import typer

from counterpromo_cli.apps import LightGroup
from counterpromo_cli.commands import (
    accounts,
    config,
    db,
    demo,
    dev,
    dlq,
    jobs,
    keys,
    ops,
    plans,
    stripe_admin,
    usage,
)

app = typer.Typer(
    name="counterpromo",
    help="Counter Promo admin CLI.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=LightGroup,
)
app.add_typer(db.app, name="db")
app.add_typer(plans.app, name="plans")
app.add_typer(accounts.app, name="accounts")
app.add_typer(keys.app, name="keys")
app.add_typer(usage.app, name="usage")
app.add_typer(jobs.app, name="jobs")
app.add_typer(config.app, name="config")
app.add_typer(dlq.app, name="dlq")
app.add_typer(stripe_admin.app, name="stripe")
app.add_typer(ops.app, name="ops")
app.command(name="dev")(dev.dev)
app.command(name="demo")(demo.demo)


def _show_version(value: bool) -> None:
    if value:
        from counterpromo_cli import __version__

        typer.echo(f"counterpromo {__version__}")
        raise typer.Exit


# The levels of core's logging_setup (not imported here: ``--help`` stays light).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Counter Promo admin CLI."""
    # The level comes from the environment, not an option: typer coerces every non-flag
    # option through pydantic, which ``--help`` must not pay for.
    level = os.environ.get("COUNTERPROMO_LOG_LEVEL", "WARNING").upper()
    if level not in LOG_LEVELS:
        raise typer.BadParameter(
            f"COUNTERPROMO_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}"
        )
    # The same setup as the API and the worker (standard library only).
    from counterpromo_core.logging_setup import configure_logging

    configure_logging(level)
