"""Fixtures for the worker's tests: a migrated PostgreSQL, moto over HTTP provisioned as
environment ``test``, and the real worker (the production consumer loop) on a thread."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from counterpromo_core import accounts, jobs, promos
from counterpromo_core.db.models import Job
from counterpromo_core.ports import SystemClock
from counterpromo_core.schemas import ItemIn, PromoCreate
from counterpromo_storage.blobs import BlobStore
from counterpromo_storage.clients import AwsClients, aws_clients
from counterpromo_storage.config import load_config
from counterpromo_storage.provision import ProvisionedEnv
from counterpromo_storage.queue import JobQueue
from counterpromo_storage.settings import AppConfig
from counterpromo_worker.handlers import default_registry
from counterpromo_worker.runtime.assembly import Worker, build_worker
from counterpromo_worker.runtime.metrics import JobMetrics
from counterpromo_worker.runtime.processor import Backoff
from counterpromo_worker.runtime.registry import HandlerRegistry
from counterpromo_worker.settings import WorkerSettings
from sqlalchemy.orm import Session, sessionmaker

# The [testing] extras' pytest plugins are opt-in: registered here, nowhere else.
pytest_plugins = ["counterpromo_storage.testing.plugin"]

Wait = Callable[..., Any]


def no_backoff(_receive_count: int) -> int:
    return 0


@pytest.fixture
def aws(
    provisioned_aws: ProvisionedEnv, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> ProvisionedEnv:
    """moto provisioned as environment ``test``, with ``DATABASE_URL`` set for the worker."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return provisioned_aws


@pytest.fixture
def config(aws: ProvisionedEnv) -> AppConfig:
    return load_config()


@pytest.fixture
def clients(config: AppConfig) -> AwsClients:
    return aws_clients(config)


@pytest.fixture
def queue(config: AppConfig, clients: AwsClients) -> JobQueue:
    return JobQueue(clients.sqs, config.jobs_queue_url, config.jobs_dlq_url)


@pytest.fixture
def blobs(clients: AwsClients) -> BlobStore:
    return BlobStore(clients.s3)


@pytest.fixture
def wait_until() -> Wait:
    def wait(predicate: Callable[[], Any], *, timeout: float = 30, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")

    return wait


@pytest.fixture
def make_account(sessions: sessionmaker[Session]) -> Callable[..., uuid.UUID]:
    def make(plan_code: str = "pro", currency: str = "GBP", locale: str = "en-GB") -> uuid.UUID:
        with sessions.begin() as session:
            return accounts.create_account(
                session,
                name="Hartley Timber & Tools",
                owner_email=f"owner-{uuid.uuid4().hex[:8]}@hartley.test",
                currency=currency,
                locale=locale,
                plan_code=plan_code,
            ).id

    return make


def sample_items(count: int) -> list[ItemIn]:
    return [
        ItemIn(
            sku=f"HT-{n:03d}",
            name=f"Trade item {n:02d} {('Claw hammer', 'Spirit level', 'Wood screws')[n % 3]}",
            sale_price=Decimal("9.95") + n,
            rrp=Decimal("14.50") + n,
            unit="each",
            category="Hand tools",
            vendor=("Stanley", "Bahco", "Spax")[n % 3],
            coop_vendor=("Stanley", None, "Spax")[n % 3],
            coop_amount=Decimal("2.50") if n % 3 != 1 else None,
        )
        for n in range(1, count + 1)
    ]


@pytest.fixture
def make_promo(sessions: sessionmaker[Session]) -> Callable[..., uuid.UUID]:
    def make(
        account_id: uuid.UUID, items: int = 12, title: str = "Spring Trade Event"
    ) -> uuid.UUID:
        with sessions.begin() as session:
            return promos.create_promo(
                session,
                account_id,
                PromoCreate(
                    title=title,
                    subhead="Account holders only",
                    cta="Order at the counter",
                    items=sample_items(items),
                ),
                clock=SystemClock(),
            ).id

    return make


@pytest.fixture
def dispatch(sessions: sessionmaker[Session], queue: JobQueue) -> Callable[[], int]:
    """Send every unsent outbox message to the jobs queue (what the API's dispatcher does)."""
    return lambda: jobs.dispatch_outbox(sessions, queue, clock=SystemClock())


@pytest.fixture
def job_row(sessions: sessionmaker[Session]) -> Callable[[uuid.UUID], Job]:
    def get(job_id: uuid.UUID) -> Job:
        with sessions() as session:
            job = session.get(Job, job_id)
            assert job is not None
            return job

    return get


@pytest.fixture
def start_worker(config: AppConfig) -> Iterator[Callable[..., Worker]]:
    """Start the production worker on a thread; every one started is stopped after the test."""
    started: list[tuple[Worker, threading.Thread]] = []

    def start(
        registry: HandlerRegistry | None = None,
        *,
        backoff: Backoff | None = no_backoff,
        metrics: JobMetrics | None = None,
        **settings: Any,
    ) -> Worker:
        options = {"concurrency": 2, "wait_seconds": 1, "grace_seconds": 10} | settings
        worker = build_worker(
            config,
            WorkerSettings(**options),
            registry or default_registry(),
            backoff=backoff,
            metrics=metrics,
        )
        thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
        thread.start()
        started.append((worker, thread))
        return worker

    yield start
    for worker, _ in started:
        worker.request_stop()
    for _, thread in started:
        thread.join(timeout=30)
        assert not thread.is_alive(), "the worker did not stop"


def queue_counts(clients: AwsClients, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    attributes = clients.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


@pytest.fixture
def counts(clients: AwsClients) -> Callable[[str], tuple[int, int]]:
    return lambda url: queue_counts(clients, url)
