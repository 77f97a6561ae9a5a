"""The worker's outbox sweeper sends job messages that never reached SQS, once each, and
prunes expired idempotency keys at most every 10 minutes."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

import boto3
import pytest
from botocore.config import Config
from counterpromo_core import work
from counterpromo_core.db import create_db_engine, session_factory
from counterpromo_core.db.models import IdempotencyKey, Job, OutboxMessage
from counterpromo_core.ports import ManualClock, SystemClock
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


def _idempotency_key(
    sessions: sessionmaker[Session], account_id: uuid.UUID, created_at: dt.datetime
) -> str:
    name = f"key-{uuid.uuid4()}"
    with sessions.begin() as session:
        session.add(
            IdempotencyKey(
                id=uuid.uuid4(),
                account_id=account_id,
                key=name,
                request_hash="0" * 64,
                response_status=202,
                response_body={"body": {}, "location": None},
                created_at=created_at,
            )
        )
    return name


def _key_names(sessions: sessionmaker[Session], account_id: uuid.UUID) -> set[str]:
    with sessions() as session:
        return set(
            session.scalars(
                select(IdempotencyKey.key).where(IdempotencyKey.account_id == account_id)
            )
        )


def test_the_sweeper_prunes_expired_idempotency_keys_at_most_every_ten_minutes(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    queue: JobQueue,
) -> None:
    account_id = make_account()
    clock = ManualClock(dt.datetime.now(dt.UTC))
    _idempotency_key(sessions, account_id, clock.now() - dt.timedelta(hours=25))
    fresh = _idempotency_key(sessions, account_id, clock.now() - dt.timedelta(hours=23))
    sweeper = OutboxSweeper(sessions=sessions, queue=queue, clock=clock, interval_seconds=1)

    sweeper.sweep_once()  # the first sweep prunes
    assert _key_names(sessions, account_id) == {fresh}

    later = _idempotency_key(sessions, account_id, clock.now() - dt.timedelta(hours=25))
    clock.advance(dt.timedelta(minutes=9, seconds=59))
    sweeper.sweep_once()
    assert _key_names(sessions, account_id) == {fresh, later}  # not due yet
    clock.advance(dt.timedelta(seconds=1))
    sweeper.sweep_once()
    assert _key_names(sessions, account_id) == {fresh}


def test_a_database_outage_while_pruning_is_logged_and_never_stops_the_sweeper(
    *, queue: JobQueue, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_db_engine(
        f"postgresql://nobody:secret@127.0.0.1:{free_port()}/none", connect_timeout=1
    )
    clock = ManualClock(dt.datetime.now(dt.UTC))
    sweeper = OutboxSweeper(
        sessions=session_factory(engine), queue=queue, clock=clock, interval_seconds=1
    )
    try:
        with caplog.at_level(logging.WARNING, logger="counterpromo_worker.outbox"):
            assert sweeper.sweep_once() == 0
            assert sweeper.prune_if_due() is None  # tried a moment ago: not due
            clock.advance(dt.timedelta(minutes=10))
            assert sweeper.prune_if_due() is None  # due, tried again, failed again
    finally:
        engine.dispose()
    failures = [r for r in caplog.records if "pruning failed" in r.getMessage()]
    assert len(failures) == 2
    assert "OperationalError" in failures[0].getMessage()


def test_the_running_worker_prunes_expired_idempotency_keys(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
) -> None:
    account_id = make_account()
    now = dt.datetime.now(dt.UTC)
    _idempotency_key(sessions, account_id, now - dt.timedelta(days=2))
    fresh = _idempotency_key(sessions, account_id, now)

    start_worker(outbox_interval_seconds=0.2)

    wait_until(lambda: _key_names(sessions, account_id) == {fresh}, what="the expired key pruned")
