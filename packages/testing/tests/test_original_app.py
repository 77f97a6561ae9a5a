"""The original application's database as the adoption tests build it: every table of the
original schema with its rows, and the brief's four tables."""

from __future__ import annotations

from counterpromo_testing.databases import DatabaseServer
from counterpromo_testing.original_app import (
    BRIEF_ROWS,
    FULL_ROWS,
    ORIGINAL_ENUM_NAMES,
    PRISMA_MIGRATIONS,
    build_brief_tables,
    build_full,
    row_counts,
)
from sqlalchemy import create_engine, text


def test_build_full_holds_every_table_its_rows_enums_and_ledger(
    postgres_server: DatabaseServer,
) -> None:
    url = postgres_server.create_database(migrated=False)
    try:
        build_full(url)
        counts = row_counts(url, "public")
        for table, rows in FULL_ROWS.items():
            assert counts[table] == len(rows), table
        assert counts["_prisma_migrations"] == len(PRISMA_MIGRATIONS)
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                enums = set(conn.scalars(text("SELECT typname FROM pg_type WHERE typtype = 'e'")))
                columns = set(
                    conn.scalars(
                        text(
                            "SELECT column_name FROM information_schema.columns"
                            " WHERE table_name = 'accounts'"
                        )
                    )
                )
        finally:
            engine.dispose()
        assert set(ORIGINAL_ENUM_NAMES) <= enums
        assert {"createdAt", "stripeCustomerId"} <= columns  # quoted camelCase, as Prisma
        assert row_counts(url, "legacy") == {}
    finally:
        postgres_server.drop_database(url)


def test_build_brief_tables_holds_the_four_tables(postgres_server: DatabaseServer) -> None:
    url = postgres_server.create_database(migrated=False)
    try:
        build_brief_tables(url)
        counts = row_counts(url, "public")
        assert set(counts) == {"billing_plans", "accounts", "usage_monthly", "promos"}
        for table, rows in BRIEF_ROWS.items():
            assert counts[table] == len(rows), table
    finally:
        postgres_server.drop_database(url)
