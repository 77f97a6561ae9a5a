"""Child processes that are always torn down: terminate, wait, kill, and reap descendants."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import psutil

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the test process dies, so nothing outlives a crash."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class ManagedProcess:
    """One child process with its output in a log file.

    Start it from the main thread only: the kernel's parent-death signal follows the
    thread that forked it.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> ManagedProcess:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log.write(f"--- start {' '.join(self.argv)}\n".encode())
        self._log.flush()
        self.started_at = time.monotonic()
        self._popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - started from the main thread only
        )
        return self

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._popen.pid

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def send(self, signum: int) -> None:
        if self.running:
            os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int:
        """The exit code; ``subprocess.TimeoutExpired`` if still running after ``timeout``."""
        if self._popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL, no grace (what an OOM kill or a lost host looks like)."""
        self.stop(grace=0)

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; reap every descendant."""
        if self._popen is None:
            return None
        descendants = self._descendants()
        if self._popen.poll() is None:
            if grace > 0:
                self._popen.terminate()
                try:
                    self._popen.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self._popen.kill()
            else:
                self._popen.kill()
            self._popen.wait(timeout=10)
        for child in descendants:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(descendants, timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self._popen.returncode

    def _descendants(self) -> list[psutil.Process]:
        if not self.running:
            return []
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return []

    def log_text(self, tail: int = 20_000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_bytes()[-tail:].decode(errors="replace")

    def rss_bytes(self) -> int:
        """Resident memory of the process and its descendants."""
        if not self.running:
            return 0
        try:
            root = psutil.Process(self.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.Error:
            return 0
