"""``counterpromo db``: schema migrations."""

from typing import Annotated

import typer

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import database_url as _database_url
from counterpromo_cli.errors import database_errors
from counterpromo_cli.options import JsonOption, YesOption
from counterpromo_cli.output import console, print_json

app = command_group("Database schema migrations.")


@app.command()
def upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from counterpromo_core.db import migrate

    url, label = _database_url()
    with database_errors(label):
        migrate.upgrade(url, revision)
        current = migrate.current_revision(url)
    console.print(f"database at {label} is at revision {current}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")],
    yes: YesOption = False,
) -> None:
    """Revert migrations down to REVISION. Destroys data in dropped tables."""
    from counterpromo_core.db import migrate

    url, label = _database_url()
    if not yes:
        typer.confirm(f"Downgrade {label} to {revision}? Data may be lost", abort=True)
    with database_errors(label):
        migrate.downgrade(url, revision)
        current = migrate.current_revision(url)
    console.print(f"database at {label} is at revision {current}")


@app.command()
def current(json_output: JsonOption = False) -> None:
    """Show the database's current revision and the code's head."""
    from counterpromo_core.db import migrate

    url, label = _database_url()
    with database_errors(label):
        revision = migrate.current_revision(url)
    head = migrate.head_revision()
    if json_output:
        print_json({"current": revision, "head": head, "up_to_date": revision == head})
        return
    state = "up to date" if revision == head else f"behind head {head}"
    console.print(f"{label}: revision {revision} ({state})")


@app.command()
def history(json_output: JsonOption = False) -> None:
    """List the migrations shipped with this version, oldest first."""
    from counterpromo_core.db import migrate

    rows = migrate.history()
    if json_output:
        print_json([{"revision": r, "down_revision": d, "message": m} for r, d, m in rows])
        return
    for revision, down, message in rows:
        console.print(f"{down or 'base'} -> {revision}: {message}")
