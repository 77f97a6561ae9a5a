"""Migrations against a real PostgreSQL: up, down, up again, and in step with the models."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from counterpromo_core.db import current_revision, downgrade, head_revision, upgrade
from counterpromo_core.db.models import Base
from counterpromo_testing.databases import DatabaseServer
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError


@pytest.fixture
def empty_database(postgres_server: DatabaseServer) -> Iterator[str]:
    url = postgres_server.create_database(migrated=False)
    yield url
    postgres_server.drop_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision()
    assert _tables(empty_database) == set(Base.metadata.tables)

    downgrade(empty_database, "base")
    assert current_revision(empty_database) is None
    assert _tables(empty_database) == set()

    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision()
    assert _tables(empty_database) == set(Base.metadata.tables)


def test_migrated_schema_matches_models(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_four_plans_exist_after_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT code, watermark, branch_packs FROM billing_plans ORDER BY sort_order")
            ).all()
    finally:
        engine.dispose()
    assert [r.code for r in rows] == ["free", "starter", "pro", "dealer"]
    assert rows[0].watermark is True
    assert rows[2].branch_packs is True


def test_accounts_from_before_0004_get_gbp_and_en_gb_then_both_are_required(
    empty_database: str,
) -> None:
    upgrade(empty_database, "0002")
    engine = create_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO accounts (id, name) "
                    "VALUES ('00000000-0000-0000-0000-000000000001', 'Old UK dealer')"
                )
            )
        upgrade(empty_database, "0004")
        with engine.connect() as connection:
            row = connection.execute(text("SELECT currency, locale FROM accounts")).one()
            columns = {c["name"]: c for c in inspect(connection).get_columns("accounts")}
        assert (row.currency, row.locale) == ("GBP", "en-GB")
        assert columns["currency"]["nullable"] is False
        assert columns["locale"]["nullable"] is False
        assert columns["currency"]["default"] is None
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text("INSERT INTO accounts (id, name) VALUES (gen_random_uuid(), 'X')")
            )
    finally:
        engine.dispose()
