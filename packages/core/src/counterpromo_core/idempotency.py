"""Retention of ``Idempotency-Key`` records.

The API replays the first response to a key for ``KEY_RETENTION`` (24 h) and
treats an older record as expired; this module owns that rule and removes the
expired rows, which nothing reads any more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from counterpromo_core.db.models import IdempotencyKey
from counterpromo_core.ports import Clock

KEY_RETENTION = dt.timedelta(hours=24)
"""How long a key's first response is replayed; older keys are expired (and pruned)."""


def prune_expired(
    session: Session, *, clock: Clock, older_than: dt.timedelta = KEY_RETENTION
) -> int:
    """Delete the keys created more than ``older_than`` ago; returns how many went.

    One DELETE. Rows another transaction holds (an API request taking over an
    expired key) are skipped, so pruners never wait on requests or on each other.
    """
    cutoff = clock.now() - older_than
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.created_at < cutoff)
        .with_for_update(skip_locked=True)
    )
    result = cast(
        "CursorResult[Any]",
        session.execute(
            delete(IdempotencyKey)
            .where(IdempotencyKey.id.in_(expired))
            .execution_options(synchronize_session=False)
        ),
    )
    return int(result.rowcount)


__all__ = ["KEY_RETENTION", "prune_expired"]
