"""Where the database is, and one transaction per command.

``DATABASE_URL`` wins, as in the services; otherwise, when an environment is
named, its database secret (``/counterpromo/{env}/db/postgres``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from counterpromo_cli.errors import database_errors, domain_errors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


def database_url(env: str | None = None) -> tuple[str, str]:
    """The SQLAlchemy URL and a label for messages (no password)."""
    from counterpromo_core.settings import DatabaseSettings, normalise_database_url
    from sqlalchemy.engine import make_url

    if env and not os.environ.get("DATABASE_URL"):
        from counterpromo_cli.environment import load

        url = normalise_database_url(load(env).database_url.get_secret_value())
    else:
        url = DatabaseSettings().sqlalchemy_url
    return url, make_url(url).render_as_string(hide_password=True)


@contextmanager
def session_maker(env: str | None = None) -> Iterator[sessionmaker[Session]]:
    """A session factory for this command; connection and domain errors become one line."""
    from counterpromo_core.db import create_db_engine, session_factory

    url, label = database_url(env)
    engine = create_db_engine(url, pool_size=2)
    try:
        with database_errors(label), domain_errors():
            yield session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def transaction(env: str | None = None) -> Iterator[Session]:
    """One session in one transaction: committed when the block ends cleanly."""
    with session_maker(env) as sessions, sessions.begin() as session:
        yield session
