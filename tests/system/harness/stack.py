"""The whole system on 127.0.0.1: PostgreSQL, moto (behind a relay), the fake Stripe,
N API processes and M workers, started in order and always stopped in reverse."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from counterpromo_billing.testing import FakeStripe
from counterpromo_core.db import create_db_engine, session_factory
from counterpromo_storage.clients import AwsClients, make_clients
from counterpromo_storage.provision import ProvisionedEnv, ProvisionValues, provision
from counterpromo_testing import EmbeddedPostgres, free_port
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from harness.services import ApiProcess, AwsRelay, MotoServer, WorkerProcess, console_script
from harness.waiting import wait_until

ENV_NAME = "system"
DATABASE = "counterpromo"
LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "eu-west-2",
    "AWS_DEFAULT_REGION": "eu-west-2",
}
# Variables of the test process that must not leak into the services' configuration.
_PRIVATE_PREFIXES = ("AWS_", "COUNTERPROMO_", "STRIPE_", "DATABASE_URL", "PYTEST", "OIDC_")


@dataclass(frozen=True)
class StackOptions:
    apis: int = 2
    workers: int = 2
    worker_concurrency: int = 2
    worker_wait_seconds: int = 2
    worker_visibility_seconds: int = 10
    worker_grace_seconds: float = 20
    # A transient failure (the database outage) is retried under a ceiling of 2 s, 4 s, 8 s,
    # 8 s (production: 30 s doubling): recovery is tested, not the wait. With equal jitter
    # the four waits before the DLQ add up to at least 11 s, more than the 5 s outage plus
    # the time the services take to notice it is over.
    worker_retry_base_seconds: int = 2
    worker_retry_max_seconds: int = 8
    queue_visibility_seconds: int = 5
    log_level: str = "INFO"


def _base_environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_PREFIXES)}
    # Bytecode caching on: every service process imports the same large libraries.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env | LOCAL_AWS | {"PYTHONUNBUFFERED": "1"}


class SystemStack:
    """Start with ``start()``; ``stop()`` tears down whatever was started, in reverse."""

    def __init__(self, workdir: Path, options: StackOptions | None = None) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.options = options or StackOptions()
        self.postgres = EmbeddedPostgres(workdir / "postgres", fast_unsafe=True)
        self.moto = MotoServer(free_port(), env=_base_environ(), log_dir=self.logs)
        self.aws = AwsRelay(free_port(), self.moto.port, env=_base_environ(), log_dir=self.logs)
        self.stripe = FakeStripe()
        self.apis: list[ApiProcess] = []
        self.workers: list[WorkerProcess] = []
        self._env: ProvisionedEnv | None = None
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._started: list[Callable[[], object]] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> SystemStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.postgres.start()
        self._started.append(lambda: self.postgres.stop("immediate"))
        self.postgres.create_database(DATABASE)
        self.migrate()
        self._engine = create_db_engine(self.database_url, pool_size=20)
        self._sessions = session_factory(self._engine)
        self._started.append(self._engine.dispose)

        self.moto.start()
        self._started.append(self.moto.stop)
        self.aws.start()
        self._started.append(self.aws.stop)
        self.stripe.start()
        self._started.append(self.stripe.stop)
        self._env = provision(
            ENV_NAME,
            endpoint_url=self.aws.endpoint,
            values=ProvisionValues(
                visibility_timeout=self.options.queue_visibility_seconds,
                stripe_secret_key=self.stripe.secret_key,
                stripe_webhook_secret=self.stripe.webhook_secret,
            ),
            clients=self.aws_clients(through_relay=True),
        )
        self._started.append(self._stop_services)
        # All at once: they start in parallel, then each is awaited.
        self.apis = [self.new_api(f"api-{n}").launch() for n in range(self.options.apis)]
        self.workers = [
            self.new_worker(f"worker-{n}").launch() for n in range(self.options.workers)
        ]
        for api in self.apis:
            api.wait_ready()
        for worker in self.workers:
            worker.wait_ready()

    def stop(self) -> None:
        errors: list[BaseException] = []
        while self._started:
            step = self._started.pop()
            try:
                step()
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]

    def _stop_services(self) -> None:
        for worker in self.workers:
            worker.stop()
        for api in self.apis:
            api.stop()

    # -- what the services are given ----------------------------------------------------

    @property
    def env(self) -> ProvisionedEnv:
        if self._env is None:
            raise RuntimeError("the stack is not started")
        return self._env

    @property
    def database_url(self) -> str:
        return self.postgres.url(DATABASE)

    def service_environ(self) -> dict[str, str]:
        """What a deployed task gets: the environment name, the database and Stripe."""
        return (
            _base_environ()
            | self.env.environ()
            | {
                "DATABASE_URL": self.database_url,
                "STRIPE_SECRET_KEY": self.stripe.secret_key,
                "STRIPE_WEBHOOK_SECRET": self.stripe.webhook_secret,
                "STRIPE_API_BASE": self.stripe.base_url,
                "LOG_LEVEL": self.options.log_level,
            }
        )

    def worker_environ(self, *, grace_seconds: float | None = None) -> dict[str, str]:
        o = self.options
        grace = o.worker_grace_seconds if grace_seconds is None else grace_seconds
        return self.service_environ() | {
            "COUNTERPROMO_WORKER_CONCURRENCY": str(o.worker_concurrency),
            "COUNTERPROMO_WORKER_WAIT_SECONDS": str(o.worker_wait_seconds),
            "COUNTERPROMO_WORKER_VISIBILITY_SECONDS": str(o.worker_visibility_seconds),
            "COUNTERPROMO_WORKER_GRACE_SECONDS": str(grace),
            "COUNTERPROMO_WORKER_RETRY_BASE_SECONDS": str(o.worker_retry_base_seconds),
            "COUNTERPROMO_WORKER_RETRY_MAX_SECONDS": str(o.worker_retry_max_seconds),
            "COUNTERPROMO_WORKER_LOG_LEVEL": o.log_level,
        }

    def new_api(self, name: str) -> ApiProcess:
        return ApiProcess(name, free_port(), env=self.service_environ(), log_dir=self.logs)

    def new_worker(self, name: str, *, grace_seconds: float | None = None) -> WorkerProcess:
        env = self.worker_environ(grace_seconds=grace_seconds)
        return WorkerProcess(name, env=env, log_dir=self.logs)

    def migrate(self) -> None:
        """``counterpromo db upgrade``, as the deploy's one-off task runs it."""
        result = subprocess.run(
            [console_script("counterpromo"), "db", "upgrade"],
            env=_base_environ() | {"DATABASE_URL": self.database_url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"migrations failed: {result.stdout}\n{result.stderr}")

    # -- access for the tests themselves -------------------------------------------------

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            raise RuntimeError("the stack is not started")
        return self._sessions

    def aws_clients(self, *, through_relay: bool = False) -> AwsClients:
        """boto3 clients for moto: directly (they work during an AWS fault) or as services do."""
        endpoint = self.aws.endpoint if through_relay else f"http://127.0.0.1:{self.moto.port}"
        with _environ(LOCAL_AWS):
            return make_clients(LOCAL_AWS["AWS_REGION"], endpoint)

    def restart_worker(self, index: int, *, grace_seconds: float | None = None) -> WorkerProcess:
        """Replace worker ``index`` (after a test killed or stopped it) with a fresh one."""
        old = self.workers[index]
        old.stop(grace=5)
        new = self.new_worker(old.name, grace_seconds=grace_seconds).start()
        self.workers[index] = new
        return new

    def ensure_running(self) -> None:
        """Bring back anything a failed test left stopped, so the next test starts whole."""
        if not self.postgres.is_running():
            self.postgres.start()
        if not self.aws.process.running:
            self.aws.start()
        for index, worker in enumerate(self.workers):
            if not worker.process.running:
                self.restart_worker(index)
        for api in self.apis:
            if not api.process.running:
                raise RuntimeError(f"{api.name} died:\n{api.process.log_text()}")
        for api in self.apis:
            wait_until(api.is_ready, timeout=60, what=f"{api.name} ready again")

    # -- faults --------------------------------------------------------------------------

    @contextlib.contextmanager
    def database_down(self) -> Iterator[None]:
        """PostgreSQL stopped (fast shutdown: clients are disconnected) until the block ends."""
        self.postgres.stop("fast")
        try:
            yield
        finally:
            self.postgres.start()
            self.postgres.wait_until_ready()

    @contextlib.contextmanager
    def aws_unreachable(self) -> Iterator[None]:
        """Every AWS connection refused (open ones dropped) until the block ends."""
        self.aws.stop()
        try:
            yield
        finally:
            self.aws.start()


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
