"""Run the Alembic migrations shipped inside this package.

``upgrade`` and ``adopt`` run in ONE transaction under an advisory lock: the
migrations and, on a database that holds the original application's tables, their
adoption (``counterpromo_core.legacy``). Any failure leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine

from counterpromo_core.settings import normalise_database_url

if TYPE_CHECKING:
    from counterpromo_core.legacy import AdoptionReport, Buckets


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("counterpromo_core") / "migrations"))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option(
        "sqlalchemy.url", normalise_database_url(database_url).replace("%", "%%")
    )
    return config


def _migrated(
    database_url: str,
    revision: str,
    *,
    adopt_moved: bool,
    dry_run: bool,
    actor: str,
    buckets: Callable[[], Buckets] | None,
) -> AdoptionReport | None:
    # Imported here: the adoption code is only needed when migrating, not by every
    # importer of ``counterpromo_core.db``.
    from counterpromo_core.legacy import adopt as adoption  # noqa: PLC0415

    config = alembic_config(database_url)

    def migrate(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    engine = create_engine(
        normalise_database_url(database_url), connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                report = adoption.run(
                    connection,
                    migrate=migrate,
                    adopt_moved=adopt_moved,
                    dry_run=dry_run,
                    actor=actor,
                    buckets=buckets or adoption.no_buckets,
                    to_head=revision in ("head", head_revision()),
                )
            except BaseException:
                transaction.rollback()
                raise
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()
            return report
    finally:
        engine.dispose()


def upgrade(
    database_url: str,
    revision: str = "head",
    *,
    actor: str = "counterpromo db upgrade",
    buckets: Callable[[], Buckets] | None = None,
) -> AdoptionReport | None:
    """Migrate to ``revision``; adopt the original application's tables if they are found.

    Returns the adoption report when there was something to adopt. ``buckets`` names
    the S3 buckets of the original uploads and assets; it is only called when there
    are such rows to carry.
    """
    return _migrated(
        database_url, revision, adopt_moved=False, dry_run=False, actor=actor, buckets=buckets
    )


def adopt(
    database_url: str,
    *,
    dry_run: bool = False,
    actor: str = "counterpromo db adopt",
    buckets: Callable[[], Buckets] | None = None,
) -> AdoptionReport | None:
    """Migrate to head and carry every original row not carried yet (None: nothing found).

    ``dry_run`` does all of it and rolls back: the same report, nothing changed.
    """
    return _migrated(
        database_url, "head", adopt_moved=True, dry_run=dry_run, actor=actor, buckets=buckets
    )


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


def current_revision(database_url: str) -> str | None:
    engine = create_engine(
        normalise_database_url(database_url), connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from base to head."""
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused"))
    rows = [
        (rev.revision, rev.down_revision if isinstance(rev.down_revision, str) else None, rev.doc)
        for rev in script.walk_revisions()
    ]
    return list(reversed(rows))
