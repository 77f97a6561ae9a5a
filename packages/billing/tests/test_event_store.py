"""The stored-event rules, each checked so that breaking it fails a test.

- ``record_failure`` never touches an event that is already processed.
- ``lock_event`` takes a row lock (``SELECT ... FOR UPDATE``): a second transaction waits for
  the first, which we observe in PostgreSQL (``pg_stat_activity``) instead of racing threads.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid

from counterpromo_billing.event_store import (
    lock_event,
    parse_event,
    record_failure,
    store_event,
)
from counterpromo_core.db.models import StripeEvent
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

WAIT_LIMIT = 20.0  # seconds before a test gives up waiting for PostgreSQL


def _stored_event(sessions: sessionmaker[Session]) -> str:
    event_id = f"evt_{uuid.uuid4().hex}"
    body = {
        "id": event_id,
        "type": "customer.subscription.updated",
        "created": 1_790_000_000,
        "data": {"object": {"id": "sub_123", "object": "subscription"}},
    }
    with sessions.begin() as session:
        assert store_event(session, parse_event(json.dumps(body).encode()))
    return event_id


def _row(sessions: sessionmaker[Session], event_id: str) -> StripeEvent:
    with sessions() as session:
        row = session.scalar(select(StripeEvent).where(StripeEvent.id == event_id))
        assert row is not None
        return row


def test_a_stored_event_keeps_its_body_as_a_json_object_and_is_stored_once(
    sessions: sessionmaker[Session],
) -> None:
    event_id = _stored_event(sessions)
    row = _row(sessions, event_id)
    assert row.payload["data"]["object"] == {"id": "sub_123", "object": "subscription"}
    assert (row.type, row.attempts, row.processed_at) == (
        "customer.subscription.updated",
        0,
        None,
    )
    assert row.created == dt.datetime.fromtimestamp(1_790_000_000, dt.UTC)
    assert row.received_at is not None
    with sessions() as session:
        kind = session.scalar(
            select(func.jsonb_typeof(StripeEvent.payload)).where(StripeEvent.id == event_id)
        )
    assert kind == "object"
    again = json.dumps(
        {
            "id": event_id,
            "type": "customer.subscription.deleted",
            "created": 1_790_000_001,
            "data": {"object": {"id": "sub_123", "object": "subscription"}},
        }
    ).encode()
    with sessions.begin() as session:
        assert not store_event(session, parse_event(again))
    assert _row(sessions, event_id).type == "customer.subscription.updated"


def test_a_failure_is_counted_on_an_unprocessed_event(sessions: sessionmaker[Session]) -> None:
    event_id = _stored_event(sessions)
    with sessions.begin() as session:
        record_failure(session, event_id, "boom")
        record_failure(session, event_id, "boom again")
    row = _row(sessions, event_id)
    assert (row.attempts, row.error) == (2, "boom again")


def test_a_processed_event_is_never_overwritten_by_a_failure(
    sessions: sessionmaker[Session],
) -> None:
    event_id = _stored_event(sessions)
    processed_at = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    with sessions.begin() as session:
        session.execute(
            update(StripeEvent)
            .where(StripeEvent.id == event_id)
            .values(processed_at=processed_at, attempts=1, error=None)
        )
    with sessions.begin() as session:
        record_failure(session, event_id, "a late failure from another delivery")
    row = _row(sessions, event_id)
    assert row.processed_at == processed_at
    assert row.error is None
    assert row.attempts == 1


def _waiting_on_a_lock(sessions: sessionmaker[Session], backend_pid: int) -> bool:
    with sessions() as session:
        wait_type = session.scalar(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": backend_pid},
        )
    return bool(wait_type == "Lock")


def test_lock_event_makes_a_second_transaction_wait_for_the_first(
    sessions: sessionmaker[Session],
) -> None:
    event_id = _stored_event(sessions)
    second_pid: list[int] = []
    second_saw: list[dt.datetime | None] = []
    ready = threading.Barrier(2)
    second_returned = threading.Event()

    def second() -> None:
        with sessions.begin() as session:
            second_pid.append(session.scalar(text("SELECT pg_backend_pid()")) or 0)
            ready.wait()
            row = lock_event(session, event_id)
            second_returned.set()
            second_saw.append(row.processed_at if row is not None else None)

    with sessions.begin() as first:
        held = lock_event(first, event_id)
        assert held is not None
        thread = threading.Thread(target=second)
        thread.start()
        ready.wait()
        # The second transaction has started its lock_event; with FOR UPDATE it must now be
        # blocked on our row lock (PostgreSQL says so), and must not have returned.
        deadline = time.monotonic() + WAIT_LIMIT
        while not _waiting_on_a_lock(sessions, second_pid[0]):
            assert not second_returned.is_set(), "lock_event did not wait for the row lock"
            assert time.monotonic() < deadline, "the second transaction never waited"
            time.sleep(0.01)
        assert not second_returned.is_set()
        held.processed_at = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    # The first transaction committed: the waiter goes on and sees the processed row.
    thread.join(WAIT_LIMIT)
    assert not thread.is_alive()
    assert second_saw == [dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)]


def test_lock_event_reads_the_row_again_even_when_the_session_holds_a_stale_copy(
    sessions: sessionmaker[Session],
) -> None:
    event_id = _stored_event(sessions)
    processed_at = dt.datetime(2026, 11, 20, 11, 0, tzinfo=dt.UTC)
    with sessions() as session:
        stale = session.get(StripeEvent, event_id)  # in this transaction's identity map now
        assert stale is not None
        assert stale.processed_at is None
        with sessions.begin() as other:  # another process processes it meanwhile
            other.execute(
                update(StripeEvent)
                .where(StripeEvent.id == event_id)
                .values(processed_at=processed_at)
            )
        # Same transaction (READ COMMITTED): the locking read must replace the stale copy.
        locked = lock_event(session, event_id)
        assert locked is not None
        assert locked.processed_at == processed_at
