"""The embedded server starts, survives a restart with its data, and stops."""

import os
import shutil
import stat
import tempfile
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
        pg.destroy()
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
    """As root the server runs as another user; a parent reset to 0700 (pytest does that to
    /tmp/pytest-of-root) must not matter to it: its cluster lives in a directory it owns."""
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
        # the next start needs nothing widened, and the data survived
        pg.start()
        assert pg.psql("SELECT x FROM t").strip() == "7"
    finally:
        parent.chmod(0o755)
        pg.destroy()
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


def _modes(path: Path) -> dict[Path, int]:
    """The mode of ``path`` and of every directory above it."""
    return {p: stat.S_IMODE(p.stat().st_mode) for p in [path, *path.parents]}


def test_a_clone_under_a_directory_only_its_owner_can_traverse() -> None:
    """Like a clone under ``mktemp -d``: the server starts, serves and stops, and neither that
    directory nor any above it changes mode (as root the server runs as another user)."""
    private = Path(tempfile.mkdtemp(prefix="counterpromo-private-"))
    try:
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        before = _modes(private)
        pg = EmbeddedPostgres(private / "clone" / ".local" / "postgres", fast_unsafe=True)
        try:
            pg.start()
            pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (3)")
            assert pg.psql("SELECT x FROM t").strip() == "3"
            pg.restart()
            assert pg.psql("SELECT x FROM t").strip() == "3"
        finally:
            pg.destroy()
        assert not pg.is_running()
        assert _modes(private) == before
    finally:
        shutil.rmtree(private)
