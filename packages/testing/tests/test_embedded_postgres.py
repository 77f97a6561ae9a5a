"""The embedded server starts, survives a restart with its data, and stops."""

from pathlib import Path

import psycopg
from counterpromo_testing import EmbeddedPostgres
from counterpromo_testing.databases import DatabaseServer


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_restart_keeps_data(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg", fast_unsafe=True).start()
    try:
        pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (42)")
        pg.stop()
        assert not pg.is_running()
        pg.start()
        assert pg.psql("SELECT x FROM t").strip() == "42"
    finally:
        pg.stop("immediate")
    assert not pg.is_running()


def test_databases_are_migrated_copies(postgres_server: DatabaseServer) -> None:
    first = postgres_server.create_database()
    second = postgres_server.create_database()
    try:
        assert first != second
        with psycopg.connect(_libpq(first)) as conn:
            conn.execute("INSERT INTO accounts (id, name) VALUES (gen_random_uuid(), 'A')")
        with psycopg.connect(_libpq(second)) as conn:
            row = conn.execute("SELECT count(*) FROM accounts").fetchone()
            plans = conn.execute("SELECT count(*) FROM billing_plans").fetchone()
        assert row == (0,)
        assert plans == (4,)
    finally:
        postgres_server.drop_database(first)
        postgres_server.drop_database(second)
