"""What a handler gets to do its job: the job's facts and the process's services."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from counterpromo_core import jobs
from counterpromo_core.db.models import Job
from counterpromo_core.ports import Clock
from counterpromo_storage.blobs import AccountBlobs, BlobStore
from counterpromo_storage.settings import AppConfig
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from counterpromo_worker.rendering.pool import RenderPool
from counterpromo_worker.runtime.errors import JobAlreadyFinished, PermanentJobError
from counterpromo_worker.runtime.time_limits import TimeLimits


@dataclass(frozen=True)
class WorkerServices:
    """Shared by every job of the process; all of it is safe to use from many threads."""

    sessions: sessionmaker[Session]
    blobs: BlobStore
    config: AppConfig
    clock: Clock
    time_limits: TimeLimits = field(default_factory=TimeLimits)
    renderer: RenderPool = field(default_factory=lambda: RenderPool(1))
    """Where renders run: child processes that are killed at the job's time limit."""


def lock_running_job(session: Session, job_id: uuid.UUID) -> Job:
    """Lock the job row until the transaction ends; ``JobAlreadyFinished`` unless it is running.

    Every write that finishes a job takes this lock first, so when SQS delivers
    one message twice at once, only the first delivery's results are committed.
    """
    job = session.scalar(
        select(Job)
        .where(Job.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if job is None or job.status != "running":
        raise JobAlreadyFinished(str(job_id))
    return job


@dataclass
class JobContext:
    job_id: uuid.UUID
    job_type: str
    account_id: uuid.UUID
    promo_id: uuid.UUID | None
    payload: dict[str, Any]
    """From the job row, the source of truth (the message body only names the job)."""
    receive_count: int
    services: WorkerServices
    finished: bool = field(default=False, init=False)
    started: float = field(default_factory=time.monotonic, init=False)

    @property
    def time_limit(self) -> float:
        """Seconds this job may run (its type's limit), counted from ``started``."""
        return self.services.time_limits.limit_for(self.job_type)

    def time_left(self) -> float:
        return self.time_limit - (time.monotonic() - self.started)

    def ran_out_of_time(self) -> Exception:
        """What to raise when the job is stopped at its limit (retried, then failed)."""
        return self.services.time_limits.ran_out(self.job_type, self.receive_count)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.services.sessions

    @property
    def blobs(self) -> AccountBlobs:
        """S3, limited to this job's account: any other account's key is refused."""
        return self.services.blobs.for_account(self.account_id)

    def require_promo_id(self) -> uuid.UUID:
        if self.promo_id is None:
            raise PermanentJobError(f"the promo of this {self.job_type} job no longer exists")
        return self.promo_id

    def finish(self, write: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
        """Commit the job's results and mark it succeeded, in one transaction.

        ``write`` records what the job produced and returns the job's result;
        if another delivery finished the job first, nothing is written. A job past its
        time limit commits nothing: it is stopped here (retried, then failed).
        """
        if self.time_left() < 0:
            raise self.ran_out_of_time()
        with self.sessions.begin() as session:
            lock_running_job(session, self.job_id)
            result = write(session)
            jobs.succeed_job(session, self.job_id, result)
        self.finished = True
        return result
