"""Start and stop the whole local stack: PostgreSQL, moto, the fake Stripe, the API, a worker.

The fake Stripe runs unless ``STRIPE_SECRET_KEY`` is set (see ``localstack.stripe``).

The worker runs the outbox sweeper itself, so nothing else here sends job messages.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from counterpromo_core.db import create_db_engine, migrate, session_factory
from counterpromo_storage.provision import ProvisionedEnv
from counterpromo_testing.ports import free_port, port_in_use
from counterpromo_testing.postgres import PostgresStartError

from counterpromo_cli.localstack.aws import start_aws
from counterpromo_cli.localstack.demo_data import DemoAccount, ensure_demo_account
from counterpromo_cli.localstack.postgres import LocalDatabase, start_database
from counterpromo_cli.localstack.processes import Child, console_script
from counterpromo_cli.localstack.stripe import (
    real_stripe_configured,
    start_fake_stripe,
    stripe_environ,
)

READY_TIMEOUT = 90.0

__all__ = ["LocalStack", "PostgresStartError", "StackError", "StackOptions"]


class StackError(Exception):
    """The stack cannot start; the message says why in one line (plus a log tail)."""


@dataclass(frozen=True)
class StackOptions:
    api_port: int = 3000
    postgres_port: int = 54329
    aws_port: int = 4566
    data_dir: Path = Path(".local")
    reset: bool = False
    database_url: str | None = None
    stripe_port: int = 0  # the fake Stripe's port; 0: any free port

    @classmethod
    def on_free_ports(cls, data_dir: Path, database_url: str | None) -> StackOptions:
        return cls(
            api_port=free_port(),
            postgres_port=free_port(),
            aws_port=free_port(),
            data_dir=data_dir,
            database_url=database_url,
        )


@dataclass
class LocalStack:
    options: StackOptions
    database: LocalDatabase | None = None
    aws_env: ProvisionedEnv | None = None
    demo: DemoAccount | None = None
    stripe_url: str | None = None  # the fake Stripe's address; None with a real Stripe key
    children: list[Child] = field(default_factory=list)
    _cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.options.api_port}"

    def check_ports(self) -> None:
        wanted = [("API", self.options.api_port), ("AWS (moto)", self.options.aws_port)]
        if self.options.stripe_port and not real_stripe_configured():
            wanted.append(("fake Stripe", self.options.stripe_port))
        if not self.options.database_url:
            wanted.append(("PostgreSQL", self.options.postgres_port))
        for what, port in wanted:
            if port_in_use(port):
                raise StackError(
                    f"port {port} for the {what} is already in use "
                    "(another `counterpromo dev`?); choose another with the --*-port options"
                )

    def start(self, stop: threading.Event) -> None:
        """Bring everything up; on any failure, stop what was started and raise."""
        try:
            self._start(stop)
        except BaseException:
            self.stop()
            raise

    def _start(self, stop: threading.Event) -> None:
        self.check_ports()
        data_dir = self.options.data_dir
        database = start_database(
            data_dir / "postgres",
            port=self.options.postgres_port,
            reset=self.options.reset,
            external_url=self.options.database_url,
        )
        self._cleanup.callback(database.stop)
        self.database = database
        migrate.upgrade(database.url)

        aws, env = start_aws(self.options.aws_port, app_url=self.api_url)
        self._cleanup.callback(aws.stop)
        self.aws_env = env

        engine = create_db_engine(database.url, pool_size=2)
        self._cleanup.callback(engine.dispose)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            self.demo = ensure_demo_account(session)

        billing_env: dict[str, str] = {}
        if not real_stripe_configured():
            fake = start_fake_stripe(self.options.stripe_port, api_url=self.api_url)
            self._cleanup.callback(fake.stop)
            self.stripe_url = fake.base_url
            billing_env = stripe_environ(fake)
        child_env = {
            **os.environ,
            **env.environ(),
            **billing_env,
            "DATABASE_URL": database.url,
            "PYTHONUNBUFFERED": "1",
        }
        logs = data_dir / "logs"
        api_port = str(self.options.api_port)
        api_argv = [console_script("counterpromo-api"), "--host", "127.0.0.1", "--port", api_port]
        self._start_child(
            "api",
            api_argv,
            child_env,
            logs / "api.log",
        )
        self._start_child(
            "worker",
            [console_script("counterpromo-worker"), "--grace-seconds", "5"],
            child_env,
            logs / "worker.log",
        )
        self._wait_ready(stop)

    def _start_child(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        child = Child.start(name, argv, env, log)
        self.children.append(child)
        self._cleanup.callback(child.stop)

    def _wait_ready(self, stop: threading.Event) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline and not stop.is_set():
                for child in self.children:
                    if not child.running():
                        raise StackError(
                            f"the {child.name} exited with code {child.process.returncode}; "
                            f"its log ({child.log_path}) ends:\n{child.log_tail()}"
                        )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.api_url}/ready").status_code == 200:
                        return
                time.sleep(0.3)
        if not stop.is_set():
            raise StackError(f"the API was not ready after {READY_TIMEOUT:.0f} s")

    def stop(self) -> None:
        """Stop everything started, newest first; safe to call twice."""
        self._cleanup.close()
