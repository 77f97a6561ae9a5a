"""PostgreSQL for the local stack: embedded (data kept between runs) or ``DATABASE_URL``."""

from __future__ import annotations

import shutil
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
        if self.embedded is not None:
            # pg_ctl, or the postmaster's pid when pg_ctl cannot reach the data directory
            self.embedded.stop("fast", timeout=SHUTDOWN_TIMEOUT)


def start_database(
    data_dir: Path, *, port: int, reset: bool, external_url: str | None
) -> LocalDatabase:
    """The external database when given, else an embedded server in ``data_dir``."""
    if external_url:
        return LocalDatabase(url=external_url, embedded=None)
    if reset and data_dir.exists():
        EmbeddedPostgres(data_dir.resolve(), port=port).destroy()  # and its cluster, if apart
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
