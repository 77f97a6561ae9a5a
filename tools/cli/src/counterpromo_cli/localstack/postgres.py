"""PostgreSQL for the local stack: embedded (data kept between runs) or ``DATABASE_URL``."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from counterpromo_testing.postgres import EmbeddedPostgres

DATABASE = "counterpromo"
SHUTDOWN_TIMEOUT = 30.0


@dataclass
class LocalDatabase:
    url: str
    embedded: EmbeddedPostgres | None

    def stop(self) -> None:
        if self.embedded is None:
            return
        self.embedded.stop("fast")
        # pg_ctl runs as another user when we are root, and reports "not running" when it
        # cannot reach the data directory (e.g. a parent's permissions changed meanwhile):
        # then ask the postmaster named in its pid file to shut down directly.
        pid = _postmaster_pid(self.embedded.pgdata)
        if pid is not None:
            _shutdown(pid)


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0]
        return int(first)
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _shutdown(pid: int) -> None:
    if not _alive(pid):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
    deadline = time.monotonic() + SHUTDOWN_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


def start_database(
    data_dir: Path, *, port: int, reset: bool, external_url: str | None
) -> LocalDatabase:
    """The external database when given, else an embedded server in ``data_dir``."""
    if external_url:
        return LocalDatabase(url=external_url, embedded=None)
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    server = EmbeddedPostgres(data_dir.resolve(), port=port).start()
    database = LocalDatabase(url=server.url(DATABASE), embedded=server)
    try:
        server.wait_until_ready()
        names = server.psql("SELECT datname FROM pg_database").split()
        if DATABASE not in names:
            server.create_database(DATABASE)
    except BaseException:
        database.stop()
        raise
    return database
