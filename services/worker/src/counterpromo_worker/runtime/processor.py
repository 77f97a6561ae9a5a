"""Processing one received message, from claim to delete (or to retry, or to the DLQ)."""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from counterpromo_core import jobs
from counterpromo_core.logging_setup import log_context
from counterpromo_storage.queue import (
    REQUEST_ID_ATTRIBUTE,
    Heartbeat,
    JobEnvelope,
    JobQueue,
    ReceivedMessage,
    request_id_of,
)

from counterpromo_worker.runtime.context import JobContext, WorkerServices, lock_running_job
from counterpromo_worker.runtime.deletes import BatchDeleter
from counterpromo_worker.runtime.errors import JobAlreadyFinished, permanent_reason
from counterpromo_worker.runtime.metrics import JobMetrics
from counterpromo_worker.runtime.registry import HandlerRegistry, HandlerSpec

log = logging.getLogger("counterpromo_worker.jobs")

MAX_REASON_CHARS = 2000
MAX_LOGGED_BODY_CHARS = 500

Backoff = Callable[[int], int]
"""Seconds a failed message stays invisible, by its receive count."""


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # permanent failure: job failed, message deleted
    RETRY = "retry"  # transient failure: message left to come back
    DEAD = "dead"  # transient failure on the last allowed receive: job dead, DLQ next
    DUPLICATE = "duplicate"  # the job had already finished (or is gone): message deleted
    MALFORMED = "malformed"  # unreadable body: left for the DLQ
    HANDED_BACK = "handed_back"  # shutdown took the message back before the job finished


@dataclass(frozen=True)
class RetryPolicy:
    max_receive_count: int | None
    """The queue's redrive ``maxReceiveCount``; ``None`` when it has no DLQ."""
    backoff: Backoff

    def is_last_attempt(self, receive_count: int) -> bool:
        return self.max_receive_count is not None and receive_count >= self.max_receive_count


class _Running:
    def __init__(self, heartbeat: Heartbeat | None) -> None:
        self.heartbeat = heartbeat
        self.handed_back = False


class MessageProcessor:
    """Runs the handler for a message and settles the message by the outcome.

    Safe to call from many threads at once; ``hand_back_running`` is for shutdown.
    """

    def __init__(
        self,
        *,
        queue: JobQueue,
        registry: HandlerRegistry,
        services: WorkerServices,
        retry: RetryPolicy,
        visibility_seconds: int,
        metrics: JobMetrics | None = None,
        deletes: BatchDeleter | None = None,
    ) -> None:
        self.queue = queue
        # Settled messages are deleted by ``deletes`` in batches, off the job's slot (else here).
        self.deletes = deletes
        self.registry = registry
        self.services = services
        self.retry = retry
        self.visibility_seconds = visibility_seconds
        self.metrics = metrics
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}

    def process(self, message: ReceivedMessage) -> Outcome:
        """Run and settle ``message``; every log line meanwhile names its job and request."""
        envelope = message.body
        if envelope is None:
            return self._process(message)
        request_id = request_id_of(envelope) or message.attributes.get(REQUEST_ID_ATTRIBUTE)
        with log_context(
            request_id=request_id,
            job_id=envelope.job_id,
            type=envelope.type,
            account_id=envelope.account_id,
        ):
            return self._process(message)

    def _process(self, message: ReceivedMessage) -> Outcome:
        started = time.monotonic()
        envelope = message.body
        fields: dict[str, object] = {
            "message_id": message.message_id,
            "receive_count": message.receive_count,
        }
        if envelope is not None:
            fields |= {
                "job_id": str(envelope.job_id),
                "type": envelope.type,
                "account_id": str(envelope.account_id),
            }
        else:
            fields["raw_body"] = message.raw_body[:MAX_LOGGED_BODY_CHARS]
        with self._lock:
            running = self._running[message.receipt_handle] = _Running(None)
        outcome, error = Outcome.RETRY, None
        try:
            if envelope is None:
                outcome, error = Outcome.MALFORMED, message.error or "unreadable message body"
                self._leave_for_retry(message, running)
            else:
                outcome, error = self._run(message, envelope, running)
        except Exception as unexpected:
            # The database or the queue is unreachable: try again later.
            log.exception("could not process message", extra=fields)
            error = _describe(unexpected)
            self._try_leave_for_retry(message, running)
        finally:
            with self._lock:
                self._running.pop(message.receipt_handle, None)
            if running.handed_back:
                outcome = Outcome.HANDED_BACK
        log.info(
            "job %s",
            outcome.value,
            extra=fields
            | {
                "outcome": outcome.value,
                "duration_ms": round((time.monotonic() - started) * 1000),
                **({"error": error} if error else {}),
            },
        )
        return outcome

    def _run(
        self, message: ReceivedMessage, envelope: JobEnvelope, running: _Running
    ) -> tuple[Outcome, str | None]:
        with self.services.sessions.begin() as session:
            job = jobs.start_job(session, envelope.job_id)
        if job is None:
            self._delete(message, running)
            return Outcome.DUPLICATE, None
        ctx = JobContext(
            job_id=job.id,
            job_type=job.type,
            account_id=job.account_id,
            promo_id=job.promo_id,
            payload=dict(job.payload),
            receive_count=message.receive_count,
            services=self.services,
        )
        spec = self.registry.get(job.type)
        heartbeat = Heartbeat(self.queue, message.receipt_handle, self.visibility_seconds)
        with self._lock:
            if running.handed_back:
                return Outcome.HANDED_BACK, None
            running.heartbeat = heartbeat.start()
        try:
            _run_handler(spec, ctx)
        except JobAlreadyFinished:
            heartbeat.stop()
            self._delete(message, running)
            return Outcome.DUPLICATE, None
        except Exception as failure:  # noqa: BLE001 - classified below; transient unless known
            heartbeat.stop()
            return self._settle_failure(message, ctx, spec, failure, running)
        heartbeat.stop()
        self._delete(message, running)
        return Outcome.SUCCEEDED, None

    def _settle_failure(
        self,
        message: ReceivedMessage,
        ctx: JobContext,
        spec: HandlerSpec | None,
        failure: Exception,
        running: _Running,
    ) -> tuple[Outcome, str]:
        reason = permanent_reason(failure)
        if reason is not None:
            if self._record_failure(ctx, spec, reason, dead=False):
                self._delete(message, running)
                self._count_failed(ctx)
                return Outcome.FAILED, reason
            self._delete(message, running)
            return Outcome.DUPLICATE, reason
        log.warning(
            "transient failure in %s job",
            ctx.job_type,
            exc_info=failure,
            extra={"job_id": str(ctx.job_id), "receive_count": message.receive_count},
        )
        reason = _describe(failure)
        if self.retry.is_last_attempt(message.receive_count):
            dead_reason = f"gave up after {message.receive_count} attempts: {reason}"
            recorded = self._record_failure(ctx, spec, dead_reason, dead=True)
            # Visible at once, so the next receive moves it to the DLQ.
            self._change_visibility(message, running, 0)
            if recorded:
                self._count_failed(ctx)
            return Outcome.DEAD, dead_reason
        self._leave_for_retry(message, running)
        return Outcome.RETRY, reason

    def _record_failure(
        self, ctx: JobContext, spec: HandlerSpec | None, reason: str, *, dead: bool
    ) -> bool:
        """Fail (or kill) the job; ``False`` when another delivery finished it first."""
        reason = reason[:MAX_REASON_CHARS]
        try:
            with self.services.sessions.begin() as session:
                lock_running_job(session, ctx.job_id)
                if spec is not None and spec.on_failure is not None:
                    spec.on_failure(session, ctx, reason)
                if dead:
                    jobs.mark_dead(session, ctx.job_id, reason)
                else:
                    jobs.fail_job(session, ctx.job_id, reason)
        except JobAlreadyFinished:
            return False
        return True

    def _count_failed(self, ctx: JobContext) -> None:
        """The ``JobsFailed`` metric, once the message is settled (publishing never raises)."""
        if self.metrics is not None:
            self.metrics.job_failed(ctx.job_type)

    def _try_leave_for_retry(self, message: ReceivedMessage, running: _Running) -> None:
        try:
            self._leave_for_retry(message, running)
        except (BotoCoreError, ClientError):
            # It comes back anyway when its visibility runs out.
            log.warning("could not delay message %s", message.message_id, exc_info=True)

    def _leave_for_retry(self, message: ReceivedMessage, running: _Running) -> None:
        self._change_visibility(message, running, self.retry.backoff(message.receive_count))

    def _change_visibility(self, message: ReceivedMessage, running: _Running, seconds: int) -> None:
        if not running.handed_back:
            self.queue.change_visibility(message.receipt_handle, seconds)

    def _delete(self, message: ReceivedMessage, running: _Running) -> None:
        if self.deletes is not None:
            self.deletes.delete(message.receipt_handle)
            return
        try:
            self.queue.delete(message.receipt_handle)
        except (BotoCoreError, ClientError):
            # The job's state is committed; a redelivery finds it finished and is deleted then.
            log.warning("could not delete message %s", message.message_id, exc_info=True)

    def hand_back_running(self) -> int:
        """Make the messages of jobs still running visible again at once (shutdown)."""
        with self._lock:
            running = list(self._running.items())
            for _, job in running:
                job.handed_back = True
        for receipt_handle, job in running:
            if job.heartbeat is not None:
                job.heartbeat.stop()
            hand_back(self.queue, receipt_handle)
        return len(running)


def _run_handler(spec: HandlerSpec | None, ctx: JobContext) -> None:
    if spec is None:
        raise LookupError(f"this worker has no handler for {ctx.job_type!r} jobs")
    spec.run(ctx)
    if not ctx.finished:
        raise RuntimeError(f"the {ctx.job_type} handler returned without finishing the job")


def hand_back(queue: JobQueue, receipt_handle: str) -> None:
    try:
        queue.change_visibility(receipt_handle, 0)
    except (BotoCoreError, ClientError):
        # It comes back anyway when its visibility runs out.
        log.warning("could not hand a message back", exc_info=True)


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
