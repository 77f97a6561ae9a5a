"""``counterpromo jobs``: inspect and retry background jobs; re-send stuck ones."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import session_maker, transaction
from counterpromo_cli.environment import aws_errors
from counterpromo_cli.errors import fail
from counterpromo_cli.options import EnvOption, JsonOption, parse_id
from counterpromo_cli.output import console, print_fields, print_json, print_table
from counterpromo_cli.queues import env_queue
from counterpromo_cli.signals import stop_event

if TYPE_CHECKING:
    from counterpromo_core.db.models import Job
    from sqlalchemy.orm import Session

# core's ``JOB_STATUSES``, here so that ``--help`` need not import the database model (a test
# checks that the two agree).
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "dead")

app = command_group("Background jobs (render, parse, export, co-op report).")

JobArg = Annotated[str, typer.Argument(help="Job id (UUID).", metavar="JOB_ID")]


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "account_id": str(job.account_id),
        "promo_id": str(job.promo_id) if job.promo_id else None,
        "type": job.type,
        "status": job.status,
        "attempts": job.attempts,
        "error": job.error,
        "request_id": job.request_id,
        "payload": job.payload,
        "result": job.result,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


@app.command("list")
def list_jobs(
    status: Annotated[
        str | None, typer.Option(help=f"Only jobs in this status: {', '.join(JOB_STATUSES)}.")
    ] = None,
    account: Annotated[str | None, typer.Option(help="Only this account's jobs.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="Continue after a previous page.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List jobs, newest first, across all accounts unless --account is given."""
    from counterpromo_core import jobs

    if status is not None and status not in JOB_STATUSES:
        raise fail(f"--status {status!r} is not one of {', '.join(JOB_STATUSES)}")
    account_id = parse_id(account, "account") if account else None
    with transaction() as session:
        if account_id is not None:
            page = jobs.list_jobs(session, account_id, status=status, limit=limit, cursor=cursor)
        else:
            page = jobs.list_jobs_of_all_accounts(
                session, status=status, limit=limit, cursor=cursor
            )
    if json_output:
        print_json({"items": [job_json(j) for j in page.items], "next_cursor": page.next_cursor})
        return
    print_table(
        "Jobs",
        ["id", "account", "type", "status", "attempts", "created", "error"],
        (
            (
                j.id,
                j.account_id,
                j.type,
                j.status,
                j.attempts,
                f"{j.created_at:%Y-%m-%d %H:%M}",
                j.error,
            )
            for j in page.items
        ),
    )
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


def _find(session: Session, job_id: uuid.UUID) -> Job:
    from counterpromo_core.db.models import Job
    from counterpromo_core.errors import NotFound

    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("job", job_id)
    return job


@app.command()
def show(job: JobArg, json_output: JsonOption = False) -> None:
    """Show one job: payload, result, error, timings and the request id that created it."""
    job_id = parse_id(job, "job")
    with transaction() as session:
        found = _find(session, job_id)
    if json_output:
        print_json(job_json(found))
        return
    print_fields(f"Job {found.id}", list(job_json(found).items()))


@app.command()
def retry(job: JobArg) -> None:
    """Queue a failed or dead job again (its message is sent by the outbox sweeper)."""
    from counterpromo_core import jobs

    job_id = parse_id(job, "job")
    with transaction() as session:
        found = _find(session, job_id)
        requeued = jobs.requeue_job(session, found.account_id, job_id)
    console.print(f"job {requeued.id} is queued again (attempt {requeued.attempts + 1})")


def _sweep(env: str | None, older_than: dt.timedelta) -> tuple[int, int]:
    """Mark stuck jobs' messages unsent, then send every unsent message."""
    from counterpromo_core import jobs
    from counterpromo_core.ports import SystemClock

    target = env_queue(env)
    clock = SystemClock()
    with session_maker(env) as sessions, aws_errors():
        with sessions.begin() as session:
            stuck = jobs.resend_stuck(session, clock=clock, older_than=older_than)
        sent = jobs.dispatch_outbox(sessions, target.queue, clock=clock)
    return stuck, sent


@app.command("resend-stuck")
def resend_stuck(
    older_than: Annotated[
        int, typer.Option(help="Seconds a queued job's message may wait before it is re-sent.")
    ] = 900,
    loop: Annotated[bool, typer.Option("--loop", help="Keep sweeping until stopped.")] = False,
    interval: Annotated[int, typer.Option(help="Seconds between sweeps with --loop.")] = 60,
    env: EnvOption = None,
) -> None:
    """The outbox sweeper: re-send stuck jobs' messages and send unsent ones."""
    stop = stop_event()
    while True:
        stuck, sent = _sweep(env, dt.timedelta(seconds=older_than))
        console.print(f"{stuck} stuck jobs re-queued, {sent} messages sent")
        if not loop or stop.wait(interval):
            return
