"""A request sends its own jobs, after its response; the outbox backlog is the sweeper's."""

from __future__ import annotations

import json
import socket
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread, Tenant
from counterpromo_core import jobs
from counterpromo_core.db.models import Job, OutboxMessage
from counterpromo_storage.queue import REQUEST_ID_ATTRIBUTE
from counterpromo_storage.settings import AppConfig
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

BACKLOG = 1000
SAMPLES = 7
# Generous: the machine may be busy, but a request that sent the backlog took many times
# longer (100 messages in 10 failing batches, each with the SDK's retry backoff).
LATENCY_FACTOR = 4


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed now: connections to it are refused


def _queue_backlog(
    sessions: sessionmaker[Session], account_id: uuid.UUID, count: int
) -> set[uuid.UUID]:
    with sessions.begin() as session:
        created = [
            jobs.create_job(
                session, account_id, type="coop_report", promo_id=None, payload={"n": n}
            )
            for n in range(count)
        ]
        return {job.id for job in created}


def _outbox(sessions: sessionmaker[Session], job_ids: set[uuid.UUID]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.job_id.in_(job_ids))))


def _export_latency(base_url: str, tenant: Tenant, promo_id: str) -> tuple[float, uuid.UUID]:
    # A fresh connection per request: the time is this request's alone.
    with httpx.Client(base_url=base_url, timeout=60) as client:
        started = time.perf_counter()
        response = client.post(f"/v1/promos/{promo_id}/exports", headers=tenant.headers)
        elapsed = time.perf_counter() - started
    assert response.status_code == 202, response.text
    return elapsed, uuid.UUID(response.json()["id"])


def _median_latency(base_url: str, tenant: Tenant, promo_id: str) -> tuple[float, set[uuid.UUID]]:
    samples = [_export_latency(base_url, tenant, promo_id) for _ in range(SAMPLES)]
    return statistics.median(s for s, _ in samples), {job_id for _, job_id in samples}


def _wait_for(condition: Any, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


@pytest.fixture(scope="module")
def sqs_unreachable_url(api_config: AppConfig) -> Iterator[str]:
    """The API with AWS at a closed port: every SQS call fails at once."""
    broken = api_config.model_copy(
        update={"aws_endpoint_url": f"http://127.0.0.1:{_closed_port()}"}
    )
    with ServerThread(create_app(broken, settings=ApiSettings())) as server:
        yield server.url


def test_a_backlog_of_1000_jobs_does_not_slow_a_request_when_sqs_is_down(
    sqs_unreachable_url: str, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    with httpx.Client(base_url=sqs_unreachable_url, timeout=60) as client:
        promo = client.post("/v1/promos", json={"title": "Outage"}, headers=tenant.headers).json()
    _export_latency(sqs_unreachable_url, tenant, promo["id"])  # warm up
    empty_outbox, own_before = _median_latency(sqs_unreachable_url, tenant, promo["id"])

    backlog = _queue_backlog(sessions, tenant.account_id, BACKLOG)
    try:
        with_backlog, own_after = _median_latency(sqs_unreachable_url, tenant, promo["id"])

        assert with_backlog < LATENCY_FACTOR * empty_outbox, (with_backlog, empty_outbox)
        # Each request tried its own message (after its response), never the backlog's.
        own = own_before | own_after
        assert _wait_for(lambda: all(m.send_attempts >= 1 for m in _outbox(sessions, own)))
        assert all(m.sent_at is None for m in _outbox(sessions, own))
        untouched = _outbox(sessions, backlog)
        assert len(untouched) == BACKLOG
        assert {(m.send_attempts, m.sent_at) for m in untouched} == {(0, None)}
    finally:
        with sessions.begin() as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.job_id.in_(backlog)))
            session.execute(delete(Job).where(Job.id.in_(backlog)))


def _drain_job_ids(config: AppConfig) -> list[str]:
    sqs = boto3.client("sqs", region_name=config.region, endpoint_url=config.aws_endpoint_url)
    found: list[str] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=config.jobs_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        messages = got.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"])["job_id"])
            sqs.delete_message(
                QueueUrl=config.jobs_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def test_a_request_sends_its_own_job_and_leaves_the_backlog_to_the_sweeper(
    http: httpx.Client, tenant: Tenant, sessions: sessionmaker[Session], api_config: AppConfig
) -> None:
    _drain_job_ids(api_config)
    backlog = _queue_backlog(sessions, tenant.account_id, 25)
    try:
        promo = http.post("/v1/promos", json={"title": "Own job"}, headers=tenant.headers).json()
        response = http.post(f"/v1/promos/{promo['id']}/exports", headers=tenant.headers)
        assert response.status_code == 202
        job_id = uuid.UUID(response.json()["id"])

        assert _wait_for(lambda: _outbox(sessions, {job_id})[0].sent_at is not None)
        assert _drain_job_ids(api_config) == [str(job_id)]
        with sessions() as session:
            unsent = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.job_id.in_(backlog), OutboxMessage.sent_at.is_(None))
            )
        assert unsent == len(backlog)
    finally:
        with sessions.begin() as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.job_id.in_(backlog)))
            session.execute(delete(Job).where(Job.id.in_(backlog)))


def test_the_request_id_travels_into_the_job_and_its_message(
    http: httpx.Client, tenant: Tenant, sessions: sessionmaker[Session], api_config: AppConfig
) -> None:
    _drain_job_ids(api_config)
    request_id = f"req-{uuid.uuid4().hex}"
    promo = http.post("/v1/promos", json={"title": "Traced"}, headers=tenant.headers).json()
    response = http.post(
        f"/v1/promos/{promo['id']}/exports",
        headers={**tenant.headers, "X-Request-Id": request_id},
    )
    assert response.status_code == 202
    assert response.headers["x-request-id"] == request_id
    job_id = uuid.UUID(response.json()["id"])
    with sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert job.request_id == request_id

    assert _wait_for(lambda: _outbox(sessions, {job_id})[0].sent_at is not None)
    sqs = boto3.client(
        "sqs", region_name=api_config.region, endpoint_url=api_config.aws_endpoint_url
    )
    got = sqs.receive_message(
        QueueUrl=api_config.jobs_queue_url,
        MaxNumberOfMessages=1,
        WaitTimeSeconds=5,
        MessageAttributeNames=["All"],
    )["Messages"][0]
    assert json.loads(got["Body"])["job_id"] == str(job_id)
    assert json.loads(got["Body"])["request_id"] == request_id
    assert got["MessageAttributes"][REQUEST_ID_ATTRIBUTE]["StringValue"] == request_id
    sqs.delete_message(QueueUrl=api_config.jobs_queue_url, ReceiptHandle=got["ReceiptHandle"])
