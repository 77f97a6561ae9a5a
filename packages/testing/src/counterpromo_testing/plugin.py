"""pytest fixtures: a real PostgreSQL and a freshly migrated database per module.

Loaded automatically (``pytest11`` entry point) wherever this package is installed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from counterpromo_core.db import create_db_engine, session_factory
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from counterpromo_testing.databases import DatabaseServer, database_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[DatabaseServer]:
    with database_server() as server:
        yield server


@pytest.fixture(scope="module")
def database_url(postgres_server: DatabaseServer) -> Iterator[str]:
    """A migrated database of this test module's own."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="module")
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url, pool_size=10)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    return session_factory(db_engine)
