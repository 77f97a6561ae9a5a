"""Jobs and their outbox.

A job row and its ``OutboxMessage`` are written in the caller's transaction, so
a job exists exactly when its message is due. ``dispatch_outbox`` sends unsent
messages to the queue; ``resend_stuck`` marks messages that were sent long ago
for jobs that never started as unsent again. Status changes are single
conditional UPDATEs, so a redelivered message can never move a finished job.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Collection
from typing import Any, Literal, get_args

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from counterpromo_core.db.models import JOB_STATUSES, Job, OutboxMessage
from counterpromo_core.errors import Conflict, ValidationFailed
from counterpromo_core.logging_setup import current_request_id
from counterpromo_core.lookup import get_owned
from counterpromo_core.pagination import Page, paginate
from counterpromo_core.ports import Clock, JobQueue

JobType = Literal["parse_upload", "render_promo", "export_bundle", "coop_report", "process_image"]
JOB_TYPES: tuple[JobType, ...] = get_args(JobType)
SQS_BATCH_SIZE = 10
_ACTIVE = ("queued", "running")
_RESERVED_BODY_KEYS = ("job_id", "type", "account_id", "attempt", "request_id")
_CREATED_JOBS = "counterpromo.created_jobs"
REQUEST_ID_MAX = 64


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with UUIDs, dates and Decimals turned into JSON strings."""
    try:
        result: dict[str, Any] = json.loads(json.dumps(payload, default=str))
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.single("payload", f"not JSON-serialisable: {exc}") from exc
    return result


def message_body(job: Job, attempt: int) -> dict[str, Any]:
    body = {
        **job.payload,
        "job_id": str(job.id),
        "type": job.type,
        "account_id": str(job.account_id),
        "attempt": attempt,
    }
    if job.request_id is not None:
        body["request_id"] = job.request_id
    return body


def create_job(
    session: Session,
    account_id: uuid.UUID,
    *,
    type: JobType,
    promo_id: uuid.UUID | None,
    payload: dict[str, Any],
) -> Job:
    """A queued job and its outbox message, in the caller's transaction.

    The job keeps the id of the request being served (``logging_setup.current_request_id``,
    bound by the API for each request), and its message carries it as ``request_id``, so
    the worker's log lines of the job can be traced back to the request.
    """
    if type not in JOB_TYPES:
        raise ValidationFailed.single("type", f"must be one of {', '.join(JOB_TYPES)}")
    clashes = [k for k in _RESERVED_BODY_KEYS if k in payload]
    if clashes:
        raise ValidationFailed.single("payload", f"must not set {', '.join(clashes)}")
    job = Job(
        id=uuid.uuid4(),
        account_id=account_id,
        promo_id=promo_id,
        type=type,
        status="queued",
        payload=_jsonable(payload),
        attempts=0,
        request_id=(current_request_id() or "")[:REQUEST_ID_MAX] or None,
    )
    session.add(job)
    session.flush()
    session.add(OutboxMessage(job_id=job.id, body=message_body(job, attempt=1)))
    session.flush()
    session.info.setdefault(_CREATED_JOBS, []).append(job.id)
    return job


def jobs_created_in(session: Session) -> list[uuid.UUID]:
    """The ids of the jobs ``create_job`` wrote in ``session`` (to dispatch after its commit)."""
    created: list[uuid.UUID] = session.info.get(_CREATED_JOBS, [])
    return list(created)


def get_job(session: Session, account_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    return get_owned(session, Job, account_id, job_id, "job")


def list_jobs(
    session: Session,
    account_id: uuid.UUID,
    *,
    status: str | None = None,
    promo_id: uuid.UUID | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page[Job]:
    statement = select(Job).where(Job.account_id == account_id)
    if promo_id is not None:
        statement = statement.where(Job.promo_id == promo_id)
    return _page_of_jobs(session, statement, status=status, limit=limit, cursor=cursor)


def list_jobs_of_all_accounts(
    session: Session, *, status: str | None = None, limit: int = 20, cursor: str | None = None
) -> Page[Job]:
    """Every account's jobs, newest first: for operators (the CLI), never for a tenant."""
    return _page_of_jobs(session, select(Job), status=status, limit=limit, cursor=cursor)


def _page_of_jobs(
    session: Session,
    statement: Select[Job],
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Job]:
    if status is not None:
        if status not in JOB_STATUSES:
            raise ValidationFailed.single("status", f"must be one of {', '.join(JOB_STATUSES)}")
        statement = statement.where(Job.status == status)
    return paginate(
        session, statement, created_at=Job.created_at, id=Job.id, limit=limit, cursor=cursor
    )


def start_job(session: Session, job_id: uuid.UUID) -> Job | None:
    """Mark the job running and count the attempt; None when it has already finished.

    ``running`` -> ``running`` is allowed: the worker that ran it before died and
    the message came back.
    """
    return session.scalar(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(_ACTIVE))
        .values(
            status="running",
            attempts=Job.attempts + 1,
            started_at=func.now(),
            updated_at=func.now(),
        )
        .returning(Job)
        .execution_options(populate_existing=True)
    )


def _finish(session: Session, job_id: uuid.UUID, **values: Any) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(_ACTIVE))
        .values(finished_at=func.now(), updated_at=func.now(), **values)
        .execution_options(synchronize_session="fetch")
    )


def succeed_job(session: Session, job_id: uuid.UUID, result: dict[str, Any]) -> None:
    _finish(session, job_id, status="succeeded", result=_jsonable(result), error=None)


def fail_job(session: Session, job_id: uuid.UUID, error: str) -> None:
    """A permanent failure (bad input): ``error`` is the human-readable reason."""
    _finish(session, job_id, status="failed", error=error)


def mark_dead(session: Session, job_id: uuid.UUID, error: str) -> None:
    """The DLQ took the job's message."""
    _finish(session, job_id, status="dead", error=error)


def requeue_job(session: Session, account_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """Operator retry of a failed or dead job: queued again, with its message due again."""
    job = session.scalar(
        update(Job)
        .where(
            Job.id == job_id,
            Job.account_id == account_id,
            Job.status.in_(("failed", "dead")),
        )
        .values(status="queued", error=None, finished_at=None, updated_at=func.now())
        .returning(Job)
        .execution_options(populate_existing=True)
    )
    if job is None:
        current = get_job(session, account_id, job_id)
        raise Conflict(f"job {job_id} is {current.status}; only failed or dead jobs are retried")
    body = message_body(job, attempt=job.attempts + 1)
    session.execute(
        insert(OutboxMessage)
        .values(id=uuid.uuid4(), job_id=job.id, body=body)
        .on_conflict_do_update(
            index_elements=[OutboxMessage.job_id],
            set_={"body": body, "sent_at": None, "created_at": func.now()},
        )
    )
    return job


def dispatch_outbox(
    session_factory: Callable[[], Session],
    queue: JobQueue,
    *,
    limit: int = 100,
    clock: Clock,
) -> int:
    """Send up to ``limit`` unsent messages, 10 per batch, each batch in its own transaction.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so many dispatchers can
    run at once without sending a message twice. A message the queue refused
    stays unsent (its ``send_attempts`` counts up) for the next run.
    Returns how many messages were sent. This is the sweeper's (and the CLI's) work:
    a request sends its own jobs only, with ``dispatch_jobs``.
    """
    return _dispatch(session_factory, queue, limit=limit, clock=clock, job_ids=None)


def dispatch_jobs(
    session_factory: Callable[[], Session],
    queue: JobQueue,
    job_ids: Collection[uuid.UUID],
    *,
    clock: Clock,
) -> int:
    """Send the unsent outbox messages of ``job_ids`` only (the jobs a request just created).

    However long the outbox's backlog, this sends at most ``len(job_ids)`` messages, so a
    request never pays for earlier ones; a message the queue refuses stays for the sweeper.
    Claimed like ``dispatch_outbox`` (``FOR UPDATE SKIP LOCKED``): never sent twice.
    """
    if not job_ids:
        return 0
    return _dispatch(session_factory, queue, limit=len(job_ids), clock=clock, job_ids=list(job_ids))


def _dispatch(
    session_factory: Callable[[], Session],
    queue: JobQueue,
    *,
    limit: int,
    clock: Clock,
    job_ids: list[uuid.UUID] | None,
) -> int:
    sent = 0
    tried: set[uuid.UUID] = set()
    while sent < limit:
        with session_factory() as session, session.begin():
            statement = (
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.created_at)
                .limit(min(SQS_BATCH_SIZE, limit - sent))
                .with_for_update(skip_locked=True)
            )
            if job_ids is not None:
                statement = statement.where(OutboxMessage.job_id.in_(job_ids))
            if tried:
                statement = statement.where(OutboxMessage.id.not_in(tried))
            batch = list(session.scalars(statement))
            if not batch:
                break
            tried.update(m.id for m in batch)
            failed = set(queue.send_batch([m.body for m in batch]))
            now = clock.now()
            for message in batch:
                message.send_attempts += 1
                if str(message.job_id) not in failed:
                    message.sent_at = now
                    sent += 1
    return sent


def _stuck_filter(now: dt.datetime, older_than: dt.timedelta) -> list[Any]:
    return [
        OutboxMessage.job_id == Job.id,
        Job.status == "queued",
        OutboxMessage.sent_at < now - older_than,
    ]


def find_stuck(session: Session, *, clock: Clock, older_than: dt.timedelta) -> list[Job]:
    """Queued jobs whose message was sent more than ``older_than`` ago and never started."""
    return list(
        session.scalars(
            select(Job)
            .join(OutboxMessage, OutboxMessage.job_id == Job.id)
            .where(*_stuck_filter(clock.now(), older_than))
            .order_by(Job.created_at)
        )
    )


def resend_stuck(session: Session, *, clock: Clock, older_than: dt.timedelta) -> int:
    """Mark the messages of stuck jobs unsent so ``dispatch_outbox`` sends them again."""
    result = session.execute(
        update(OutboxMessage)
        .where(*_stuck_filter(clock.now(), older_than))
        .values(sent_at=None)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


__all__ = [
    "JOB_TYPES",
    "JobType",
    "create_job",
    "dispatch_jobs",
    "dispatch_outbox",
    "fail_job",
    "find_stuck",
    "get_job",
    "jobs_created_in",
    "list_jobs",
    "list_jobs_of_all_accounts",
    "mark_dead",
    "message_body",
    "requeue_job",
    "resend_stuck",
    "start_job",
    "succeed_job",
]
