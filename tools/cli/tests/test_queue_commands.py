"""``jobs resend-stuck`` and ``dlq`` against moto's SQS and a real PostgreSQL."""

from __future__ import annotations

import json
import uuid

import pytest
from counterpromo_cli.testing import Cli
from counterpromo_core import accounts, jobs
from counterpromo_core.db.models import Job, OutboxMessage
from counterpromo_storage.clients import sqs_client
from counterpromo_storage.provision import ProvisionedEnv
from counterpromo_storage.queue import REDRIVEN_FROM, JobQueue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def queue(provisioned_aws: ProvisionedEnv) -> JobQueue:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    return JobQueue(sqs, provisioned_aws.jobs_queue_url, provisioned_aws.jobs_dlq_url)


def _running_jobs(sessions: sessionmaker[Session], n: int) -> list[Job]:
    with sessions.begin() as session:
        account = accounts.create_account(
            session,
            name="Dockside Tiles",
            owner_email="it@dockside.example",
            currency="GBP",
            locale="en-GB",
        )
        created = [
            jobs.create_job(session, account.id, type="render_promo", promo_id=None, payload={})
            for _ in range(n)
        ]
        for job in created:
            jobs.start_job(session, job.id)
    return created


def _to_dlq(queue: JobQueue, provisioned_aws: ProvisionedEnv, job: Job) -> None:
    sqs = sqs_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    body = {"job_id": str(job.id), "type": job.type, "account_id": str(job.account_id)}
    sqs.send_message(
        QueueUrl=provisioned_aws.jobs_dlq_url, MessageBody=json.dumps(body | {"attempt": 5})
    )


def _drain(queue: JobQueue) -> list[str]:
    job_ids: list[str] = []
    while batch := queue.receive(max_messages=10, wait_seconds=0):
        for message in batch:
            assert message.body is not None
            job_ids.append(str(message.body.job_id))
            queue.delete(message.receipt_handle)
    return job_ids


def test_resend_stuck_dispatches_the_outbox(
    cli: Cli, queue: JobQueue, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        account = accounts.create_account(
            session, name="Eastside", owner_email="a@east.example", currency="CAD", locale="en-CA"
        )
        job = jobs.create_job(session, account.id, type="coop_report", promo_id=None, payload={})
    result = cli.run("jobs", "resend-stuck", "--env", "test")
    assert result.exit_code == 0, result.output
    assert "messages sent" in result.stdout
    assert str(job.id) in _drain(queue)
    with sessions() as session:
        message = session.scalars(select(OutboxMessage).where(OutboxMessage.job_id == job.id)).one()
        assert message.sent_at is not None


def test_dlq_list_show_redrive_one_and_all(
    cli: Cli, queue: JobQueue, provisioned_aws: ProvisionedEnv, sessions: sessionmaker[Session]
) -> None:
    dead = _running_jobs(sessions, 3)
    for job in dead:
        _to_dlq(queue, provisioned_aws, job)
    listed = cli.json("dlq", "list", "--env", "test", "--json")
    assert listed["dlq"] == 3
    assert {m["job_id"] for m in listed["messages"]} == {str(j.id) for j in dead}

    shown = cli.json("dlq", "show", str(dead[0].id), "--env", "test", "--json")
    assert shown["type"] == "render_promo"

    one = cli.run("dlq", "redrive", str(dead[0].id), "--env", "test")
    assert one.exit_code == 0, one.output
    assert f"(job {dead[0].id}) moved back" in one.stdout
    [back] = queue.receive(wait_seconds=0)
    assert back.attributes[REDRIVEN_FROM] == shown["message_id"]  # the library's redrive marker
    queue.delete(back.receipt_handle)
    gone = shown["message_id"]
    assert gone in cli.error_line("dlq", "show", gone, "--env", "test")  # no longer in the DLQ

    everything = cli.run("dlq", "redrive", "--all", "--env", "test")
    assert everything.exit_code == 0, everything.output
    assert "2 messages moved" in everything.stdout
    assert sorted(_drain(queue)) == sorted(str(j.id) for j in dead[1:])
    assert cli.json("dlq", "list", "--env", "test", "--json")["dlq"] == 0
    with sessions() as session:
        assert {session.get(Job, j.id).status for j in dead} == {"running"}  # type: ignore[union-attr]


def test_dlq_redrive_needs_one_target_and_unknown_id_fails(
    cli: Cli, provisioned_aws: ProvisionedEnv
) -> None:
    assert "--all" in cli.error_line("dlq", "redrive", "--env", "test")
    missing = str(uuid.uuid4())
    assert missing in cli.error_line("dlq", "redrive", missing, "--env", "test")
    assert provisioned_aws.env == "test"


def test_dlq_purge_marks_jobs_dead(
    cli: Cli, queue: JobQueue, provisioned_aws: ProvisionedEnv, sessions: sessionmaker[Session]
) -> None:
    doomed = _running_jobs(sessions, 2)
    for job in doomed:
        _to_dlq(queue, provisioned_aws, job)
    declined = cli.run("dlq", "purge", "--env", "test", input="n\n")
    assert declined.exit_code == 1
    assert cli.json("dlq", "list", "--env", "test", "--json")["dlq"] == 2

    purged = cli.run("dlq", "purge", "--env", "test", "--yes")
    assert purged.exit_code == 0, purged.output
    assert "2 jobs marked dead" in purged.stdout
    assert cli.json("dlq", "list", "--env", "test", "--json")["dlq"] == 0
    with sessions() as session:
        for job in doomed:
            row = session.get(Job, job.id)
            assert row is not None
            assert row.status == "dead"
            assert "purged" in (row.error or "")
