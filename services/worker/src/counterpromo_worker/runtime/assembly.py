"""Building a worker from its configuration: the same wiring in production, tests and benches."""

from __future__ import annotations

from dataclasses import dataclass

from counterpromo_core.db import create_db_engine, session_factory
from counterpromo_core.ports import Clock, SystemClock
from counterpromo_storage.blobs import BlobStore
from counterpromo_storage.clients import aws_clients
from counterpromo_storage.queue import JobQueue
from counterpromo_storage.settings import AppConfig
from sqlalchemy import Engine

from counterpromo_worker.liveness import LivenessFile
from counterpromo_worker.rendering.pool import RenderPool
from counterpromo_worker.runtime.consumer import Consumer, ConsumerOptions, max_receive_count
from counterpromo_worker.runtime.context import WorkerServices
from counterpromo_worker.runtime.deletes import BatchDeleter
from counterpromo_worker.runtime.metrics import JobMetrics, cloudwatch_job_metrics
from counterpromo_worker.runtime.outbox_sweeper import OutboxSweeper
from counterpromo_worker.runtime.processor import Backoff, MessageProcessor, RetryPolicy
from counterpromo_worker.runtime.registry import HandlerRegistry
from counterpromo_worker.settings import WorkerSettings


@dataclass
class Worker:
    consumer: Consumer
    engine: Engine
    sweeper: OutboxSweeper
    renderer: RenderPool
    deletes: BatchDeleter

    def run(self) -> None:
        # Before the first receive: a job never waits for its render process to start.
        self.renderer.warm()
        self.deletes.start()
        self.sweeper.start()
        try:
            self.consumer.run()
        finally:
            self.sweeper.stop()
            self.deletes.stop()
            self.renderer.close()
            self.engine.dispose()

    def request_stop(self) -> None:
        self.consumer.request_stop()


def build_worker(
    config: AppConfig,
    settings: WorkerSettings,
    registry: HandlerRegistry,
    *,
    backoff: Backoff | None = None,
    clock: Clock | None = None,
    metrics: JobMetrics | None = None,
) -> Worker:
    """The worker for ``config``; ``metrics`` defaults to CloudWatch at the config's endpoint,
    ``backoff`` (the retry delay by receive count) to the settings' ``retry_backoff``."""
    clients = aws_clients(config)
    queue = JobQueue(clients.sqs, config.jobs_queue_url, config.jobs_dlq_url)
    # One connection per job slot, plus one for settling and one for the outbox sweeper.
    engine = create_db_engine(
        config.database_url.get_secret_value(), pool_size=settings.concurrency + 2
    )
    services = WorkerServices(
        sessions=session_factory(engine),
        blobs=BlobStore(clients.s3),
        config=config,
        clock=clock or SystemClock(),
        time_limits=settings.job_time_limits(),
        renderer=RenderPool(settings.concurrency),
    )
    deletes = BatchDeleter(queue)
    processor = MessageProcessor(
        queue=queue,
        deletes=deletes,
        registry=registry,
        services=services,
        retry=RetryPolicy(
            max_receive_count(clients.sqs, config.jobs_queue_url),
            backoff or settings.retry_backoff,
        ),
        visibility_seconds=settings.visibility_seconds,
        metrics=metrics or cloudwatch_job_metrics(config),
    )
    consumer = Consumer(
        queue=queue,
        processor=processor,
        options=ConsumerOptions(
            concurrency=settings.concurrency,
            wait_seconds=settings.wait_seconds,
            grace_seconds=settings.grace_seconds,
        ),
        liveness=LivenessFile(settings.liveness_file) if settings.liveness_file else None,
    )
    sweeper = OutboxSweeper(
        sessions=services.sessions,
        queue=queue,
        clock=services.clock,
        interval_seconds=settings.outbox_interval_seconds,
    )
    return Worker(consumer, engine, sweeper, services.renderer, deletes)
