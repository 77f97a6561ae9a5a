"""Where the database is, and one transaction per command."""

from collections.abc import Iterator
from contextlib import contextmanager

from counterpromo_core.db import create_db_engine, session_factory
from counterpromo_core.settings import DatabaseSettings
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from counterpromo_cli.errors import database_errors, domain_errors


def database_url() -> tuple[str, str]:
    """The SQLAlchemy URL from ``DATABASE_URL`` and a label for messages (no password)."""
    url = DatabaseSettings().sqlalchemy_url
    return url, make_url(url).render_as_string(hide_password=True)


@contextmanager
def session_maker() -> Iterator[sessionmaker[Session]]:
    """A session factory for this command; connection and domain errors become one line."""
    url, label = database_url()
    engine = create_db_engine(url, pool_size=2)
    try:
        with database_errors(label), domain_errors():
            yield session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def transaction() -> Iterator[Session]:
    """One session in one transaction: committed when the block ends cleanly."""
    with session_maker() as sessions, sessions.begin() as session:
        yield session
