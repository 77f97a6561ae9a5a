"""A job that fails for good (permanently, or dead after its last retry) puts one datapoint
in CloudWatch's ``CounterPromo``/``JobsFailed`` (dimension ``Env``), which the ops alarm
watches; publishing problems never change what happens to the job."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

import boto3
import pytest
from botocore.config import Config
from counterpromo_core import promos, work
from counterpromo_core.db.models import Job
from counterpromo_core.ports import SystemClock
from counterpromo_storage.settings import AppConfig
from counterpromo_testing import free_port
from counterpromo_worker.handlers import default_registry
from counterpromo_worker.runtime.context import JobContext
from counterpromo_worker.runtime.metrics import CloudWatchJobMetrics, cloudwatch_client
from sqlalchemy.orm import Session, sessionmaker


def _render(
    sessions: sessionmaker[Session], account_id: uuid.UUID, promo_id: uuid.UUID
) -> uuid.UUID:
    with sessions.begin() as session:
        return work.request_render(session, account_id, promo_id, clock=SystemClock()).id


def _failed_jobs_metric(config: AppConfig) -> float:
    """The sum of ``JobsFailed`` for this environment over the last and next 10 minutes."""
    now = dt.datetime.now(dt.UTC)
    statistics = cloudwatch_client(config).get_metric_statistics(
        Namespace="CounterPromo",
        MetricName="JobsFailed",
        Dimensions=[{"Name": "Env", "Value": config.env}],
        StartTime=now - dt.timedelta(minutes=10),
        EndTime=now + dt.timedelta(minutes=10),
        Period=60,
        Statistics=["Sum"],
    )
    return sum(point.get("Sum", 0.0) for point in statistics["Datapoints"])


def test_a_permanently_failing_job_puts_one_jobs_failed_datapoint(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
    config: AppConfig,
) -> None:
    account_id = make_account()
    gone = make_promo(account_id, items=1)
    failing = _render(sessions, account_id, gone)
    with sessions.begin() as session:
        promos.delete_promo(session, account_id, gone)
    succeeding = _render(sessions, account_id, make_promo(account_id, items=1))
    dispatch()
    assert _failed_jobs_metric(config) == 0

    start_worker()
    wait_until(
        lambda: {job_row(failing).status, job_row(succeeding).status} == {"failed", "succeeded"},
        what="one job failed, one succeeded",
    )
    wait_until(lambda: _failed_jobs_metric(config) >= 1, what="the JobsFailed datapoint")

    assert _failed_jobs_metric(config) == 1  # the successful render counted nothing
    listed = cloudwatch_client(config).list_metrics(Namespace="CounterPromo")["Metrics"]
    assert [(m["MetricName"], m["Dimensions"]) for m in listed] == [
        ("JobsFailed", [{"Name": "Env", "Value": "test"}])
    ]


def test_a_dead_job_puts_one_jobs_failed_datapoint(
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
    def flaky(ctx: JobContext) -> None:
        raise ConnectionError("the database went away")

    registry = default_registry()
    registry.register("render_promo", flaky)
    account_id = make_account()
    job_id = _render(sessions, account_id, make_promo(account_id, items=1))
    dispatch()

    start_worker(registry)
    wait_until(lambda: counts(config.jobs_dlq_url) == (1, 0), what="the message in the DLQ")

    assert job_row(job_id).status == "dead"
    wait_until(lambda: _failed_jobs_metric(config) >= 1, what="the JobsFailed datapoint")
    assert _failed_jobs_metric(config) == 1  # the retries before the last one counted nothing


def test_cloudwatch_unreachable_is_logged_and_the_job_still_fails_cleanly(
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
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = boto3.client(
        "cloudwatch",
        region_name=config.region,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(connect_timeout=1, retries={"max_attempts": 1}),
    )
    account_id = make_account()
    promo_id = make_promo(account_id, items=1)
    job_id = _render(sessions, account_id, promo_id)
    with sessions.begin() as session:
        promos.delete_promo(session, account_id, promo_id)
    dispatch()

    with caplog.at_level(logging.WARNING, logger="counterpromo_worker.metrics"):
        start_worker(metrics=CloudWatchJobMetrics(unreachable, config.env))
        wait_until(
            lambda: any("could not publish" in r.getMessage() for r in caplog.records),
            what="the publishing failure logged",
        )

    job = job_row(job_id)
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.error == "the promo of this render_promo job no longer exists"
    wait_until(lambda: counts(config.jobs_queue_url) == (0, 0), what="the message deleted")
    assert counts(config.jobs_dlq_url) == (0, 0)
    assert _failed_jobs_metric(config) == 0  # nothing reached the real (moto) endpoint
