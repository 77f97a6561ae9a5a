"""Options shared by many commands."""

import uuid
from typing import Annotated

import typer

from counterpromo_cli.errors import fail

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        envvar="COUNTERPROMO_ENV",
        help="Environment whose SSM/Secrets Manager settings to read (env vars override).",
    ),
]
AccountArg = Annotated[str, typer.Argument(help="Account id (UUID).", metavar="ACCOUNT")]


def parse_id(value: str, what: str) -> uuid.UUID:
    """``value`` as a UUID, or one clear error line naming ``what`` it should be."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise fail(f"{what} id {value!r} is not a UUID") from None
