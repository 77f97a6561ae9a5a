"""``counterpromo db``: schema migrations and adoption of the original application's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import database_url as _database_url
from counterpromo_cli.errors import database_errors
from counterpromo_cli.migration_errors import migration_errors
from counterpromo_cli.options import EnvOption, JsonOption, YesOption
from counterpromo_cli.output import console, print_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from counterpromo_core.legacy import AdoptionReport, Buckets

app = command_group("Database schema migrations.")

UploadsBucketOption = Annotated[
    str | None,
    typer.Option(
        "--uploads-bucket",
        envvar="UPLOADS_BUCKET",
        help="Bucket of the original application's uploads (default: the environment's).",
    ),
]
AssetsBucketOption = Annotated[
    str | None,
    typer.Option(
        "--assets-bucket",
        envvar="ASSETS_BUCKET",
        help="Bucket of the original application's assets (default: the environment's).",
    ),
]


def _buckets(
    uploads: str | None, assets: str | None, env: str | None, *, dry_run: bool = False
) -> Callable[[], Buckets]:
    """Bucket names, looked up only if original uploads or assets are to be carried."""

    def resolve() -> Buckets:
        from counterpromo_core.legacy import AdoptionError, Buckets

        if uploads and assets:
            return Buckets(uploads=uploads, assets=assets)
        if env:
            from counterpromo_cli.environment import load  # AWS only when asked

            config = load(env)
            return Buckets(
                uploads=uploads or config.uploads_bucket, assets=assets or config.assets_bucket
            )
        if dry_run:  # the report does not need the real names; the real run does
            return Buckets(uploads="(uploads bucket)", assets="(assets bucket)")
        raise AdoptionError(
            "the original uploads and assets point at S3 keys, and no bucket names were given:"
            " set UPLOADS_BUCKET and ASSETS_BUCKET (or --uploads-bucket/--assets-bucket, or"
            " COUNTERPROMO_ENV to read them from SSM) and re-run; nothing was changed"
        )

    return resolve


def _print_report(report: AdoptionReport, json_output: bool) -> None:
    if json_output:
        print_json(report.to_dict())
        return
    for line in report.lines():
        typer.echo(line)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument()] = "head",
    uploads_bucket: UploadsBucketOption = None,
    assets_bucket: AssetsBucketOption = None,
    env: EnvOption = None,
) -> None:
    """Apply migrations up to REVISION (default: head).

    On a database that still holds the original application's tables, they are moved
    into schema ``legacy`` and their rows carried into ours, in the same transaction;
    the adoption report is printed. Any failure changes nothing and prints one error.
    """
    from counterpromo_core.db import migrate

    url, label = _database_url()
    with database_errors(label), migration_errors("db upgrade"):
        report = migrate.upgrade(
            url, revision, buckets=_buckets(uploads_bucket, assets_bucket, env)
        )
        current = migrate.current_revision(url)
    if report is not None:
        _print_report(report, json_output=False)
    console.print(f"database at {label} is at revision {current}")


@app.command()
def adopt(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would happen; change nothing.")
    ] = False,
    uploads_bucket: UploadsBucketOption = None,
    assets_bucket: AssetsBucketOption = None,
    env: EnvOption = None,
    json_output: JsonOption = False,
) -> None:
    """Adopt the original application's data: tables found, rows carried, rows not carried.

    Migrates to head first (as `db upgrade`). With --dry-run everything runs in a
    transaction that is rolled back. Without it, rows not carried earlier (fixed in
    schema legacy since) are carried now and the report is recorded as an audit event.
    """
    from counterpromo_core.db import migrate

    url, label = _database_url()
    with database_errors(label), migration_errors("db adopt"):
        report = migrate.adopt(
            url,
            dry_run=dry_run,
            buckets=_buckets(uploads_bucket, assets_bucket, env, dry_run=dry_run),
        )
    if report is None:
        if json_output:
            print_json({"dry_run": dry_run, "found": False})
        else:
            typer.echo(f"{label}: no tables of the original application found; nothing to adopt")
        return
    _print_report(report, json_output)


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
