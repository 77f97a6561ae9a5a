"""moto's AWS server in a child process, on a free port on 127.0.0.1.

A separate process rather than moto's in-process thread: the code under test
(worker threads, API threads) and moto then never compete for one interpreter
lock, so a loaded test process cannot stall moto's answers into time-outs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2",
}
START_TIMEOUT_SECONDS = 30.0
PR_SET_PDEATHSIG = 1


class LocalAwsError(RuntimeError):
    """moto's server did not start."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # Linux: the server gets SIGTERM when the process that started it dies, even by kill -9.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class LocalAws:
    """A running moto server; ``endpoint`` is what ``AWS_ENDPOINT_URL`` should be."""

    port: int = field(default_factory=_free_port)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> LocalAws:
        self._process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **LOCAL_CREDENTIALS},
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl, no locks taken
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LocalAwsError(f"moto's server exited with code {self._process.returncode}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise LocalAwsError(f"moto's server did not answer on port {self.port}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310
                return True
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback only
            pass
