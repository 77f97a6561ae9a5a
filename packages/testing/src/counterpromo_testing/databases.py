"""Create and drop throwaway databases on a PostgreSQL server.

The server is the embedded one this package starts, or the one named by
``COUNTERPROMO_TEST_DATABASE_URL``. Every test database is a copy of a template
migrated once per session, so a fresh, fully migrated database costs one
``CREATE DATABASE ... TEMPLATE``.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from counterpromo_core.db.migrate import upgrade
from psycopg import sql
from sqlalchemy.engine import make_url

from counterpromo_testing.postgres import EmbeddedPostgres

ENV_VAR = "COUNTERPROMO_TEST_DATABASE_URL"
TEMPLATE_ENV_VAR = "COUNTERPROMO_TEST_TEMPLATE_DATABASE"
"""Names an already migrated database on that server to copy instead of migrating one per
session (the mutation run migrates it once for hundreds of test sessions); never dropped."""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class DatabaseServer:
    """A server to make test databases on; ``admin_url`` names its maintenance DB."""

    admin_url: str
    embedded: EmbeddedPostgres | None = None
    _template: str | None = field(default=None, init=False)

    def url_for(self, database: str) -> str:
        return (
            make_url(self.admin_url)
            .set(drivername="postgresql+psycopg", database=database)
            .render_as_string(hide_password=False)
        )

    def _execute(self, statement: sql.Composed) -> None:
        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str | None = None, *, migrated: bool = True) -> str:
        name = name or f"cp_test_{uuid.uuid4().hex[:12]}"
        if migrated:
            template = self.migrated_template()
            self._execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        if name is None:
            raise ValueError(f"no database named in {url!r}")
        self._execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def migrated_template(self) -> str:
        shared = os.environ.get(TEMPLATE_ENV_VAR)
        if shared:
            return shared
        if self._template is None:
            name = f"cp_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            upgrade(self.url_for(name))
            self._template = name
        return self._template

    def close(self) -> None:
        if self._template is not None:
            self.drop_database(self.url_for(self._template))
            self._template = None
        if self.embedded is not None:
            self.embedded.stop("immediate")


@contextmanager
def database_server() -> Iterator[DatabaseServer]:
    """The external server from the environment, or a fresh embedded one."""
    external = os.environ.get(ENV_VAR)
    if external:
        server = DatabaseServer(admin_url=external)
        try:
            yield server
        finally:
            server.close()
        return
    with tempfile.TemporaryDirectory(prefix="counterpromo-pg-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp), fast_unsafe=True).start()
        server = DatabaseServer(admin_url=embedded.url(), embedded=embedded)
        try:
            yield server
        finally:
            server.close()
            embedded.destroy()  # as root the cluster lives outside ``tmp``: remove it too
