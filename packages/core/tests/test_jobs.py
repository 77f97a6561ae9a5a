"""Jobs and their outbox: written together, sent once, stuck ones found again."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from counterpromo_core import jobs
from counterpromo_core.db.models import Job, OutboxMessage
from counterpromo_core.errors import Conflict, ValidationFailed
from counterpromo_core.logging_setup import log_context
from counterpromo_core.ports import ManualClock
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

NewAccount = Callable[..., uuid.UUID]


class RecordingQueue:
    """A stand-in for the SQS queue (an outside port): records batches, refuses chosen jobs."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.refuse = refuse or set()
        self._lock = threading.Lock()

    def send_batch(self, bodies: list[dict[str, Any]]) -> list[str]:
        assert 1 <= len(bodies) <= 10
        with self._lock:
            self.batches.append(bodies)
        return [b["job_id"] for b in bodies if b["job_id"] in self.refuse]

    @property
    def sent_job_ids(self) -> list[str]:
        return [
            b["job_id"] for batch in self.batches for b in batch if b["job_id"] not in self.refuse
        ]


def _drain(sessions: sessionmaker[Session], clock: ManualClock) -> None:
    """Send whatever earlier tests of this module left unsent."""
    jobs.dispatch_outbox(sessions, RecordingQueue(), limit=100_000, clock=clock)


def _new_jobs(sessions: sessionmaker[Session], account_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    with sessions.begin() as s:
        return [
            jobs.create_job(s, account_id, type="export_bundle", promo_id=None, payload={}).id
            for _ in range(n)
        ]


def _outbox(session: Session, job_id: uuid.UUID) -> OutboxMessage:
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.job_id == job_id))
    assert message is not None
    return message


def test_create_job_writes_its_outbox_message(session: Session, new_account: NewAccount) -> None:
    account_id = new_account()
    job = jobs.create_job(
        session, account_id, type="render_promo", promo_id=None, payload={"paper": "A4"}
    )
    assert (job.status, job.attempts) == ("queued", 0)
    assert _outbox(session, job.id).body == {
        "job_id": str(job.id),
        "type": "render_promo",
        "account_id": str(account_id),
        "attempt": 1,
        "paper": "A4",
    }


def test_a_rolled_back_job_leaves_no_job_and_no_message(
    sessions: sessionmaker[Session], new_account: NewAccount
) -> None:
    account_id = new_account()
    with sessions() as s:
        s.begin()
        job_id = jobs.create_job(s, account_id, type="coop_report", promo_id=None, payload={}).id
        s.rollback()
    with sessions() as s:
        assert s.get(Job, job_id) is None
        count = s.scalar(select(func.count()).where(OutboxMessage.job_id == job_id))
        assert count == 0


def test_payload_may_not_override_the_envelope(session: Session, new_account: NewAccount) -> None:
    with pytest.raises(ValidationFailed):
        jobs.create_job(
            session, new_account(), type="coop_report", promo_id=None, payload={"attempt": 5}
        )


def test_state_transitions(session: Session, new_account: NewAccount) -> None:
    job = jobs.create_job(session, new_account(), type="coop_report", promo_id=None, payload={})
    started = jobs.start_job(session, job.id)
    assert started is not None
    assert (started.status, started.attempts) == ("running", 1)
    again = jobs.start_job(session, job.id)  # the worker died; the message came back
    assert again is not None
    assert again.attempts == 2
    jobs.succeed_job(session, job.id, {"asset_ids": [str(uuid.uuid4())]})
    assert jobs.start_job(session, job.id) is None  # redelivered after it finished
    jobs.fail_job(session, job.id, "too late")
    jobs.mark_dead(session, job.id, "too late")
    session.refresh(job)
    assert (job.status, job.error, job.attempts) == ("succeeded", None, 2)
    assert job.finished_at is not None


@pytest.mark.parametrize(
    ("finish", "status"), [(jobs.fail_job, "failed"), (jobs.mark_dead, "dead")]
)
def test_failure_states_keep_the_reason(
    session: Session,
    new_account: NewAccount,
    finish: Callable[[Session, uuid.UUID, str], None],
    status: str,
) -> None:
    job = jobs.create_job(session, new_account(), type="coop_report", promo_id=None, payload={})
    jobs.start_job(session, job.id)
    finish(session, job.id, "the file has no header row")
    session.refresh(job)
    assert (job.status, job.error) == (status, "the file has no header row")
    assert jobs.start_job(session, job.id) is None


def test_requeue_of_a_failed_job(session: Session, new_account: NewAccount) -> None:
    account_id = new_account()
    job = jobs.create_job(session, account_id, type="coop_report", promo_id=None, payload={})
    with pytest.raises(Conflict):
        jobs.requeue_job(session, account_id, job.id)
    jobs.start_job(session, job.id)
    _outbox(session, job.id).sent_at = dt.datetime.now(dt.UTC)
    jobs.fail_job(session, job.id, "bad")
    requeued = jobs.requeue_job(session, account_id, job.id)
    assert (requeued.status, requeued.error) == ("queued", None)
    session.expire_all()
    message = _outbox(session, job.id)
    assert message.sent_at is None
    assert message.body["attempt"] == 2


def test_dispatch_sends_in_batches_of_ten_and_marks_sent(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    _drain(sessions, clock)
    job_ids = _new_jobs(sessions, new_account(), 23)
    queue = RecordingQueue()
    assert jobs.dispatch_outbox(sessions, queue, clock=clock) == 23
    assert [len(b) for b in queue.batches] == [10, 10, 3]
    assert sorted(queue.sent_job_ids) == sorted(str(j) for j in job_ids)
    with sessions() as s:
        assert all(_outbox(s, j).sent_at == clock.now() for j in job_ids)
    assert jobs.dispatch_outbox(sessions, RecordingQueue(), clock=clock) == 0


def test_dispatch_respects_its_limit(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    _drain(sessions, clock)
    _new_jobs(sessions, new_account(), 15)
    queue = RecordingQueue()
    assert jobs.dispatch_outbox(sessions, queue, limit=12, clock=clock) == 12
    assert [len(b) for b in queue.batches] == [10, 2]
    assert jobs.dispatch_outbox(sessions, queue, clock=clock) == 3


def test_refused_messages_stay_unsent_for_the_next_run(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    _drain(sessions, clock)
    job_ids = _new_jobs(sessions, new_account(), 3)
    refused = str(job_ids[1])
    assert jobs.dispatch_outbox(sessions, RecordingQueue({refused}), clock=clock) == 2
    with sessions() as s:
        message = _outbox(s, job_ids[1])
        assert (message.sent_at, message.send_attempts) == (None, 1)
    queue = RecordingQueue()
    assert jobs.dispatch_outbox(sessions, queue, clock=clock) == 1
    assert queue.sent_job_ids == [refused]


def test_concurrent_dispatchers_send_each_message_once(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    _drain(sessions, clock)
    job_ids = _new_jobs(sessions, new_account(), 40)
    queue = RecordingQueue()
    barrier = threading.Barrier(4)

    def dispatch(_: int) -> int:
        barrier.wait()
        return jobs.dispatch_outbox(sessions, queue, clock=clock)

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(dispatch, range(4)))
    assert sum(counts) == 40
    assert sorted(queue.sent_job_ids) == sorted(str(j) for j in job_ids)


def test_resend_finds_exactly_the_stuck_jobs(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    _drain(sessions, clock)
    account_id = new_account()
    long_ago = clock.now() - dt.timedelta(minutes=20)
    old_clock = ManualClock(long_ago)
    stuck, started, finished = _new_jobs(sessions, account_id, 3)
    jobs.dispatch_outbox(sessions, RecordingQueue(), clock=old_clock)
    with sessions.begin() as s:
        jobs.start_job(s, started)
        jobs.start_job(s, finished)
        jobs.succeed_job(s, finished, {})
    [recent] = _new_jobs(sessions, account_id, 1)
    jobs.dispatch_outbox(sessions, RecordingQueue(), clock=clock)
    [unsent] = _new_jobs(sessions, account_id, 1)  # dispatch_outbox's business, not stuck

    with sessions.begin() as s:
        found = jobs.find_stuck(s, clock=clock, older_than=dt.timedelta(minutes=5))
        assert [j.id for j in found] == [stuck]
        assert jobs.resend_stuck(s, clock=clock, older_than=dt.timedelta(minutes=5)) == 1
    with sessions() as s:
        assert _outbox(s, stuck).sent_at is None
        assert _outbox(s, recent).sent_at == clock.now()
        assert _outbox(s, unsent).sent_at is None
    queue = RecordingQueue()
    assert jobs.dispatch_outbox(sessions, queue, clock=clock) == 2
    assert sorted(queue.sent_job_ids) == sorted([str(stuck), str(unsent)])


def test_list_jobs_filters(session: Session, new_account: NewAccount) -> None:
    account_id = new_account()
    first = jobs.create_job(session, account_id, type="coop_report", promo_id=None, payload={})
    second = jobs.create_job(session, account_id, type="coop_report", promo_id=None, payload={})
    jobs.start_job(session, second.id)
    assert [j.id for j in jobs.list_jobs(session, account_id).items] == [second.id, first.id]
    assert [j.id for j in jobs.list_jobs(session, account_id, status="queued").items] == [first.id]
    with pytest.raises(ValidationFailed):
        jobs.list_jobs(session, account_id, status="sleeping")


def test_operators_list_every_accounts_jobs(session: Session, new_account: NewAccount) -> None:
    first_account, second_account = new_account(), new_account()
    mine = jobs.create_job(session, first_account, type="coop_report", promo_id=None, payload={})
    theirs = jobs.create_job(session, second_account, type="coop_report", promo_id=None, payload={})
    jobs.start_job(session, theirs.id)
    listed = [j.id for j in jobs.list_jobs_of_all_accounts(session, limit=200).items]
    assert {mine.id, theirs.id} <= set(listed)
    queued = [j.id for j in jobs.list_jobs_of_all_accounts(session, status="queued").items]
    assert mine.id in queued
    assert theirs.id not in queued
    with pytest.raises(ValidationFailed):
        jobs.list_jobs_of_all_accounts(session, status="sleeping")


def test_jobs_created_in_names_the_jobs_of_that_session_only(
    sessions: sessionmaker[Session], new_account: NewAccount
) -> None:
    account_id = new_account()
    _new_jobs(sessions, account_id, 2)  # another session's jobs
    with sessions.begin() as s:
        assert jobs.jobs_created_in(s) == []
        mine = [
            jobs.create_job(s, account_id, type="coop_report", promo_id=None, payload={}).id
            for _ in range(3)
        ]
        assert jobs.jobs_created_in(s) == mine


def test_dispatch_jobs_sends_those_jobs_only_whatever_the_backlog(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    _drain(sessions, clock)
    account_id = new_account()
    backlog = _new_jobs(sessions, account_id, 30)
    own = _new_jobs(sessions, account_id, 2)
    queue = RecordingQueue()
    assert jobs.dispatch_jobs(sessions, queue, own, clock=clock) == 2
    assert sorted(queue.sent_job_ids) == sorted(str(j) for j in own)
    assert jobs.dispatch_jobs(sessions, queue, own, clock=clock) == 0  # sent already
    assert jobs.dispatch_jobs(sessions, queue, [], clock=clock) == 0
    with sessions() as s:
        assert all(_outbox(s, j).sent_at is None for j in backlog)
    assert jobs.dispatch_outbox(sessions, RecordingQueue(), clock=clock) == len(backlog)


def test_a_job_keeps_the_request_id_and_its_message_carries_it(
    sessions: sessionmaker[Session], new_account: NewAccount
) -> None:
    account_id = new_account()
    with sessions.begin() as s, log_context(request_id="req-traced-0001"):
        traced = jobs.create_job(s, account_id, type="coop_report", promo_id=None, payload={})
    with sessions.begin() as s:
        untraced = jobs.create_job(s, account_id, type="coop_report", promo_id=None, payload={})
    with sessions() as s:
        assert _outbox(s, traced.id).body["request_id"] == "req-traced-0001"
        assert "request_id" not in _outbox(s, untraced.id).body
        rows = s.execute(select(Job.id, Job.request_id).where(Job.account_id == account_id))
        request_ids = {row.id: row.request_id for row in rows}
    assert request_ids == {traced.id: "req-traced-0001", untraced.id: None}
    with sessions.begin() as s, pytest.raises(ValidationFailed):
        jobs.create_job(
            s, account_id, type="coop_report", promo_id=None, payload={"request_id": "x"}
        )
