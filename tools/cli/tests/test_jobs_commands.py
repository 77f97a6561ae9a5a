"""``counterpromo jobs`` against a real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from counterpromo_cli.testing import Cli
from counterpromo_core import accounts, jobs
from counterpromo_core.db.models import Job, OutboxMessage
from counterpromo_core.logging_setup import log_context
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def failed_job(sessions: sessionmaker[Session]) -> Job:
    with sessions.begin() as session:
        account = accounts.create_account(
            session,
            name="Kingsway Plumbing",
            owner_email="ops@kingsway.example",
            currency="USD",
            locale="en-US",
        )
        job = jobs.create_job(
            session, account.id, type="render_promo", promo_id=None, payload={"paper": "A4"}
        )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.job_id == job.id)
            .values(sent_at=OutboxMessage.created_at)
        )
        jobs.start_job(session, job.id)
        jobs.fail_job(session, job.id, "template missing")
    return job


def test_list_filters_by_status_and_account(cli: Cli, failed_job: Job) -> None:
    failed = cli.json("jobs", "list", "--status", "failed", "--json", "--limit", "200")
    assert str(failed_job.id) in [j["id"] for j in failed["items"]]
    assert {j["status"] for j in failed["items"]} == {"failed"}
    queued = cli.json("jobs", "list", "--status", "queued", "--json", "--limit", "200")
    assert str(failed_job.id) not in [j["id"] for j in queued["items"]]
    mine = cli.json("jobs", "list", "--account", str(failed_job.account_id), "--json")
    assert [j["id"] for j in mine["items"]] == [str(failed_job.id)]
    assert "template missing" in cli.run("jobs", "list").stdout


def test_list_with_unknown_status_is_one_line(cli: Cli) -> None:
    assert "--status 'lost'" in cli.error_line("jobs", "list", "--status", "lost")


def test_show_has_error_and_attempts(cli: Cli, failed_job: Job) -> None:
    shown = cli.json("jobs", "show", str(failed_job.id), "--json")
    assert shown["status"] == "failed"
    assert shown["error"] == "template missing"
    assert shown["attempts"] == 1
    assert shown["payload"] == {"paper": "A4"}
    missing = str(uuid.uuid4())
    assert f"no job {missing}" in cli.error_line("jobs", "show", missing)


def test_retry_requeues_with_an_unsent_message(
    cli: Cli, failed_job: Job, sessions: sessionmaker[Session]
) -> None:
    result = cli.run("jobs", "retry", str(failed_job.id))
    assert result.exit_code == 0, result.output
    with sessions() as session:
        job = session.get(Job, failed_job.id)
        assert job is not None
        assert job.status == "queued"
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.job_id == failed_job.id)
        ).one()
        assert message.sent_at is None
        assert message.body["attempt"] == 2
    line = cli.error_line("jobs", "retry", str(failed_job.id))
    assert "queued" in line


def test_show_prints_the_request_id_that_created_the_job(
    cli: Cli, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session, log_context(request_id="req-from-the-api-42"):
        account = accounts.create_account(
            session,
            name="Traced Timber",
            owner_email="ops@traced.example",
            currency="GBP",
            locale="en-GB",
        )
        job = jobs.create_job(session, account.id, type="coop_report", promo_id=None, payload={})
    assert cli.json("jobs", "show", str(job.id), "--json")["request_id"] == "req-from-the-api-42"
    shown = cli.run("jobs", "show", str(job.id))
    assert shown.exit_code == 0, shown.output
    assert "request_id" in shown.stdout
    assert "req-from-the-api-42" in shown.stdout


def test_an_unknown_log_level_is_refused(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNTERPROMO_LOG_LEVEL", "chatty")
    result = cli.run("jobs", "list")
    assert result.exit_code == 2
    assert "COUNTERPROMO_LOG_LEVEL" in result.output
