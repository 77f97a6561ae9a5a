"""Idempotency-key retention: keys older than 24 h are pruned, younger ones stay."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable

from counterpromo_core import idempotency
from counterpromo_core.db.models import IdempotencyKey
from counterpromo_core.ports import ManualClock
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

NewAccount = Callable[..., uuid.UUID]


def _key(session: Session, account_id: uuid.UUID, name: str, created_at: dt.datetime) -> None:
    session.add(
        IdempotencyKey(
            id=uuid.uuid4(),
            account_id=account_id,
            key=name,
            request_hash="0" * 64,
            response_status=201,
            response_body={"body": {}, "location": None},
            created_at=created_at,
        )
    )
    session.flush()


def _names(session: Session, account_id: uuid.UUID) -> set[str]:
    return set(
        session.scalars(select(IdempotencyKey.key).where(IdempotencyKey.account_id == account_id))
    )


def test_retention_is_24_hours() -> None:
    assert dt.timedelta(hours=24) == idempotency.KEY_RETENTION


def test_prune_deletes_only_keys_older_than_the_retention(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account()
    now = clock.now()
    _key(session, account_id, "two-days", now - dt.timedelta(days=2))
    _key(session, account_id, "just-expired", now - dt.timedelta(hours=24, seconds=1))
    _key(session, account_id, "exactly-24h", now - dt.timedelta(hours=24))
    _key(session, account_id, "fresh", now - dt.timedelta(minutes=1))
    assert idempotency.prune_expired(session, clock=clock) >= 2
    assert _names(session, account_id) == {"exactly-24h", "fresh"}
    assert idempotency.prune_expired(session, clock=clock, older_than=dt.timedelta(hours=1)) >= 1
    assert _names(session, account_id) == {"fresh"}
    clock.advance(dt.timedelta(days=1))
    assert idempotency.prune_expired(session, clock=clock) >= 1
    assert _names(session, account_id) == set()


def test_prune_skips_a_key_another_transaction_holds(
    sessions: sessionmaker[Session], new_account: NewAccount, clock: ManualClock
) -> None:
    """An API request taking over an expired key holds its row: the pruner neither waits
    for it nor deletes it."""
    account_id = new_account()
    with sessions.begin() as s:
        _key(s, account_id, "held", clock.now() - dt.timedelta(days=2))
        _key(s, account_id, "free", clock.now() - dt.timedelta(days=2))
    holder = sessions()
    try:
        holder.begin()
        holder.scalars(
            select(IdempotencyKey)
            .where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == "held")
            .with_for_update()
        ).one()
        done = threading.Event()

        def prune() -> None:
            with sessions.begin() as s:
                idempotency.prune_expired(s, clock=clock)
            done.set()

        pruner = threading.Thread(target=prune, daemon=True)
        pruner.start()
        assert done.wait(10), "the pruner waited for the held row"
        pruner.join()
    finally:
        holder.rollback()
        holder.close()
    with sessions() as s:
        assert _names(s, account_id) == {"held"}
