"""Engine and session factories."""

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from counterpromo_core.settings import normalise_database_url


def create_db_engine(database_url: str, *, pool_size: int = 5, connect_timeout: int = 5) -> Engine:
    """An engine for ``database_url`` whose pool checks connections before use.

    ``pool_pre_ping`` lets a process recover by itself after the database
    restarts: stale pooled connections are replaced instead of failing a request.
    """
    return create_engine(
        normalise_database_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"connect_timeout": connect_timeout},
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
