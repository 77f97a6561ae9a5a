"""The worker's outbox sweeper sends job messages that never reached SQS, once each."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import boto3
from botocore.config import Config
from counterpromo_core import work
from counterpromo_core.db.models import Job, OutboxMessage
from counterpromo_core.ports import SystemClock
from counterpromo_storage.queue import JobQueue
from counterpromo_storage.settings import AppConfig
from counterpromo_testing import free_port
from counterpromo_worker.runtime.outbox_sweeper import OutboxSweeper
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker


def _outbox(sessions: sessionmaker[Session], job_id: uuid.UUID) -> OutboxMessage:
    with sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.job_id == job_id)).one()
        session.expunge(row)
        return row


def _unreachable_queue(config: AppConfig) -> JobQueue:
    sqs = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name=config.region,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    return JobQueue(sqs, config.jobs_queue_url, config.jobs_dlq_url)


def test_an_unsent_render_is_sent_by_the_sweeper_and_run_once(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account()
    promo_id = make_promo(account_id, items=3)
    with sessions.begin() as session:
        job_id = work.request_render(session, account_id, promo_id, clock=SystemClock()).id
    assert _outbox(sessions, job_id).sent_at is None

    start_worker(outbox_interval_seconds=0.2)

    wait_until(lambda: job_row(job_id).status == "succeeded", what="the swept job to finish")
    assert job_row(job_id).attempts == 1
    assert _outbox(sessions, job_id).sent_at is not None


def test_a_queue_outage_keeps_the_message_for_the_next_sweep(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    queue: JobQueue,
    config: AppConfig,
    counts: Callable[[str], tuple[int, int]],
) -> None:
    account_id = make_account()
    promo_id = make_promo(account_id, items=2)
    with sessions.begin() as session:
        job_id = work.request_render(session, account_id, promo_id, clock=SystemClock()).id

    down = OutboxSweeper(
        sessions=sessions,
        queue=_unreachable_queue(config),
        clock=SystemClock(),
        interval_seconds=1,
    )
    assert down.sweep_once() == 0
    stored = _outbox(sessions, job_id)
    assert stored.sent_at is None
    assert stored.send_attempts == 1

    up = OutboxSweeper(sessions=sessions, queue=queue, clock=SystemClock(), interval_seconds=1)
    assert up.sweep_once() == 1
    assert up.sweep_once() == 0
    assert counts(config.jobs_queue_url) == (1, 0)
