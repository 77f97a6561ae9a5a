"""What the database and the queue say happened (the tests' source of truth)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


def log_entries(log_text: str) -> list[dict[str, Any]]:
    """The JSON log lines of a service (one object per line; other lines skipped)."""
    found = []
    for line in log_text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            found.append(entry)
    return found


def worker_outcomes(log_text: str) -> list[dict[str, Any]]:
    """The ``job <outcome>`` lines a worker logged."""
    return [e for e in log_entries(log_text) if "outcome" in e and "job_id" in e]


def object_keys(clients: AwsClients, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    paginator = clients.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys
