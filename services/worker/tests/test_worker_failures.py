"""Transient failures are retried until the DLQ takes the message; permanent ones fail the job."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from counterpromo_core import promos, work
from counterpromo_core.db.models import Job
from counterpromo_core.ports import SystemClock
from counterpromo_storage.clients import AwsClients
from counterpromo_storage.provision import ProvisionValues
from counterpromo_storage.settings import AppConfig
from counterpromo_worker.handlers import default_registry
from counterpromo_worker.runtime.context import JobContext
from sqlalchemy.orm import Session, sessionmaker

MAX_RECEIVE_COUNT = ProvisionValues().max_receive_count


def request_render(
    sessions: sessionmaker[Session], account_id: uuid.UUID, promo_id: uuid.UUID
) -> uuid.UUID:
    with sessions.begin() as session:
        return work.request_render(session, account_id, promo_id, clock=SystemClock()).id


def test_a_transient_failure_is_retried_until_the_dlq_takes_it_and_the_job_is_dead(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    counts: Callable[[str], tuple[int, int]],
    job_row: Callable[[uuid.UUID], Job],
    config: AppConfig,
) -> None:
    calls: list[int] = []

    def flaky(ctx: JobContext) -> None:
        calls.append(ctx.receive_count)
        raise ConnectionError("the database went away")

    registry = default_registry()
    registry.register("render_promo", flaky)
    account_id = make_account()
    job_id = request_render(sessions, account_id, make_promo(account_id, items=1))
    dispatch()

    start_worker(registry)
    wait_until(lambda: counts(config.jobs_dlq_url) == (1, 0), what="the message in the DLQ")

    job = job_row(job_id)
    assert job.status == "dead"
    assert job.error is not None
    assert f"after {MAX_RECEIVE_COUNT} attempts" in job.error
    assert "ConnectionError: the database went away" in job.error
    assert job.attempts == MAX_RECEIVE_COUNT
    assert calls == list(range(1, MAX_RECEIVE_COUNT + 1))
    assert counts(config.jobs_queue_url) == (0, 0)


def test_a_job_whose_promo_is_gone_fails_at_once_with_a_reason(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    counts: Callable[[str], tuple[int, int]],
    job_row: Callable[[uuid.UUID], Job],
    config: AppConfig,
) -> None:
    account_id = make_account()
    promo_id = make_promo(account_id, items=1)
    job_id = request_render(sessions, account_id, promo_id)
    with sessions.begin() as session:
        promos.delete_promo(session, account_id, promo_id)
    dispatch()

    start_worker()
    wait_until(lambda: job_row(job_id).status == "failed", what="the job to fail")
    wait_until(lambda: counts(config.jobs_queue_url) == (0, 0), what="the message deleted")

    job = job_row(job_id)
    assert job.error == "the promo of this render_promo job no longer exists"
    assert job.attempts == 1
    assert counts(config.jobs_dlq_url) == (0, 0)


def test_an_unreadable_message_goes_to_the_dlq_and_other_jobs_still_run(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    counts: Callable[[str], tuple[int, int]],
    job_row: Callable[[uuid.UUID], Job],
    clients: AwsClients,
    config: AppConfig,
) -> None:
    clients.sqs.send_message(QueueUrl=config.jobs_queue_url, MessageBody="{not json")
    account_id = make_account()
    job_id = request_render(sessions, account_id, make_promo(account_id, items=1))
    dispatch()

    start_worker()
    wait_until(lambda: counts(config.jobs_dlq_url) == (1, 0), what="the bad message in the DLQ")
    wait_until(lambda: job_row(job_id).status == "succeeded", what="the good job")

    dead = clients.sqs.receive_message(QueueUrl=config.jobs_dlq_url, WaitTimeSeconds=0)
    assert [m["Body"] for m in dead["Messages"]] == ["{not json"]
