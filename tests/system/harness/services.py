"""The Counter Promo processes as the system tests run them: API, worker, moto, the AWS relay."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from harness.processes import ManagedProcess
from harness.waiting import port_open, wait_until

BIN = Path(sys.executable).parent
TCP_PROXY = Path(__file__).with_name("tcp_proxy.py")
LOOPBACK = "127.0.0.1"


def console_script(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not installed next to {sys.executable}")
    return str(path)


class MotoServer:
    """moto's AWS server as its own process (state in memory, lost when it stops)."""

    def __init__(self, port: int, *, env: dict[str, str], log_dir: Path) -> None:
        self.port = port
        self.process = ManagedProcess(
            "moto",
            [console_script("moto_server"), "-H", LOOPBACK, "-p", str(port)],
            env=env,
            log_path=log_dir / "moto.log",
        )

    def start(self) -> MotoServer:
        self.process.start()
        wait_until(lambda: port_open(self.port), timeout=30, what="moto's server")
        return self

    def stop(self) -> None:
        self.process.stop(grace=5)


class AwsRelay:
    """The TCP relay the services reach AWS through; stop it and AWS is unreachable."""

    def __init__(self, port: int, target: int, *, env: dict[str, str], log_dir: Path) -> None:
        self.port = port
        self.process = ManagedProcess(
            "aws-relay",
            [sys.executable, str(TCP_PROXY), "--listen", str(port), "--target", str(target)],
            env=env,
            log_path=log_dir / "aws-relay.log",
        )

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> AwsRelay:
        self.process.start()
        wait_until(lambda: port_open(self.port), timeout=15, what="the AWS relay")
        return self

    def stop(self) -> None:
        self.process.stop(grace=5)


class ApiProcess:
    """``counterpromo-api`` on its own port (one uvicorn worker)."""

    def __init__(self, name: str, port: int, *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = port
        self.process = ManagedProcess(
            name,
            [console_script("counterpromo-api"), "--host", LOOPBACK, "--port", str(port)],
            env=env,
            log_path=log_dir / f"{name}.log",
        )
        self.ready_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def is_ready(self) -> bool:
        if not self.process.running:
            raise RuntimeError(f"{self.name} exited:\n{self.process.log_text()}")
        try:
            return httpx.get(f"{self.url}/ready", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def launch(self) -> ApiProcess:
        self.process.start()
        return self

    def wait_ready(self, *, timeout: float = 90) -> ApiProcess:
        wait_until(self.is_ready, timeout=timeout, interval=0.1, what=f"{self.name} /ready")
        self.ready_seconds = time.monotonic() - self.process.started_at
        return self

    def start(self, *, timeout: float = 90) -> ApiProcess:
        return self.launch().wait_ready(timeout=timeout)

    def stop(self) -> int | None:
        return self.process.stop(grace=30)


class WorkerProcess:
    """``counterpromo-worker``; ready once its polling loop has touched the liveness file."""

    def __init__(self, name: str, *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.liveness = log_dir / f"{name}.alive"
        self.process = ManagedProcess(
            name,
            [console_script("counterpromo-worker"), "--liveness-file", str(self.liveness)],
            env=env,
            log_path=log_dir / f"{name}.log",
        )
        self.ready_seconds = 0.0

    def _alive(self) -> bool:
        if not self.process.running:
            raise RuntimeError(f"{self.name} exited:\n{self.process.log_text()}")
        return self.liveness.exists()

    def launch(self) -> WorkerProcess:
        self.liveness.unlink(missing_ok=True)
        self.process.start()
        return self

    def wait_ready(self, *, timeout: float = 90) -> WorkerProcess:
        wait_until(self._alive, timeout=timeout, interval=0.1, what=f"{self.name} polling")
        self.ready_seconds = time.monotonic() - self.process.started_at
        return self

    def start(self, *, timeout: float = 90) -> WorkerProcess:
        return self.launch().wait_ready(timeout=timeout)

    def stop(self, grace: float = 40) -> int | None:
        return self.process.stop(grace=grace)
