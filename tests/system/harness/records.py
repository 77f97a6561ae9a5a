"""What the database and the queue say happened (the tests' source of truth)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from counterpromo_core.db.models import Asset, Job, OutboxMessage, UsageMonthly
from counterpromo_storage.clients import AwsClients
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class JobRecord:
    id: uuid.UUID
    status: str
    attempts: int
    error: str | None
    sent: bool


def job_records(sessions: sessionmaker[Session], ids: Iterable[uuid.UUID]) -> list[JobRecord]:
    wanted = list(ids)
    with sessions() as session:
        rows = session.execute(
            select(Job.id, Job.status, Job.attempts, Job.error, OutboxMessage.sent_at)
            .outerjoin(OutboxMessage, OutboxMessage.job_id == Job.id)
            .where(Job.id.in_(wanted))
        ).all()
    return [JobRecord(r[0], r[1], r[2], r[3], r[4] is not None) for r in rows]


def all_finished(sessions: sessionmaker[Session], ids: Iterable[uuid.UUID]) -> bool:
    records = job_records(sessions, ids)
    return all(r.status in {"succeeded", "failed", "dead"} for r in records)


def assets_by_job(
    sessions: sessionmaker[Session], ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, int]:
    wanted = list(ids)
    with sessions() as session:
        rows = session.execute(
            select(Asset.job_id, func.count())
            .where(Asset.job_id.in_(wanted))
            .group_by(Asset.job_id)
        ).all()
    counts = dict.fromkeys(wanted, 0)
    counts.update({job_id: count for job_id, count in rows if job_id is not None})
    return counts


def usage(sessions: sessionmaker[Session], account_id: uuid.UUID) -> dict[str, int]:
    """This account's counters summed over every month (the tests run within one)."""
    with sessions() as session:
        row = session.execute(
            select(
                func.coalesce(func.sum(UsageMonthly.promos_created), 0),
                func.coalesce(func.sum(UsageMonthly.renders), 0),
            ).where(UsageMonthly.account_id == account_id)
        ).one()
    return {"promos_created": int(row[0]), "renders": int(row[1])}


def queue_counts(clients: AwsClients, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    attributes = clients.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )
