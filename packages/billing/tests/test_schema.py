"""ensure_schema gives a consumer's empty PostgreSQL database core's schema, and only that."""

from __future__ import annotations

import pytest
from counterpromo_billing.schema import UnsupportedDatabase, ensure_schema
from counterpromo_core.db import head_revision
from counterpromo_testing.databases import DatabaseServer
from sqlalchemy import create_engine, inspect


def test_an_empty_database_gets_core_schema_and_a_second_call_changes_nothing(
    postgres_server: DatabaseServer,
) -> None:
    url = postgres_server.create_database(migrated=False)
    try:
        assert ensure_schema(url) == head_revision()
        assert ensure_schema(url) == head_revision()
        engine = create_engine(url)
        try:
            tables = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert {"accounts", "stripe_events", "billing_plans"} <= tables
    finally:
        postgres_server.drop_database(url)


def test_sqlite_is_refused_with_a_clear_error() -> None:
    with pytest.raises(UnsupportedDatabase, match="needs PostgreSQL"):
        ensure_schema("sqlite:///billing.db")
