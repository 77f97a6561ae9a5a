"""The embedded server starts, survives a restart with its data, and stops."""

import os
from pathlib import Path

import psycopg
from counterpromo_testing import EmbeddedPostgres
from counterpromo_testing.databases import DatabaseServer
from counterpromo_testing.postgres import _process_alive


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
            conn.execute(
                "INSERT INTO accounts (id, name, currency, locale) "
                "VALUES (gen_random_uuid(), 'A', 'GBP', 'en-GB')"
            )
        with psycopg.connect(_libpq(second)) as conn:
            row = conn.execute("SELECT count(*) FROM accounts").fetchone()
            plans = conn.execute("SELECT count(*) FROM billing_plans").fetchone()
        assert row == (0,)
        assert plans == (4,)
    finally:
        postgres_server.drop_database(first)
        postgres_server.drop_database(second)


def test_stop_works_when_the_data_dirs_parent_became_private(tmp_path: Path) -> None:
    """As root the server runs as another user; a parent reset to 0700 hides the data dir
    from pg_ctl (pytest does that to /tmp/pytest-of-root): stop() must still stop it."""
    parent = tmp_path / "private"
    pg = EmbeddedPostgres(parent / "pg", fast_unsafe=True).start()
    try:
        pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (7)")
        pid = pg.postmaster_pid()
        assert pid is not None
        parent.chmod(0o700)
        pg.stop()
        assert not _process_alive(pid)
        assert not pg.is_running()
        # the next start grants traversal again, and the data survived
        pg.start()
        assert pg.psql("SELECT x FROM t").strip() == "7"
    finally:
        parent.chmod(0o755)
        pg.stop("immediate")
    assert not pg.is_running()


def test_stop_of_a_cluster_that_never_started_does_nothing(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "never")
    assert pg.postmaster_pid() is None
    pg.stop()
    (tmp_path / "never" / "pgdata").mkdir(parents=True)
    # a stale pid file naming a process that is not this cluster's postmaster
    (pg.pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{pg.pgdata}\n")
    assert not pg.is_running()
    pg.stop()  # and certainly does not signal us
