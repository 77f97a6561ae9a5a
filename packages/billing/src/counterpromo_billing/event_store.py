"""Stripe events, stored by their Stripe id before anything else happens."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from counterpromo_core.db.hot_path import HotQuery
from counterpromo_core.db.models import StripeEvent
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from counterpromo_billing.errors import InvalidPayloadError

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class ParsedEvent:
    id: str
    type: str
    created: dt.datetime
    payload: dict[str, Any]


def parse_event(payload: bytes) -> ParsedEvent:
    """The event in a (verified) body; ``InvalidPayloadError`` if it is not a Stripe event."""
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise InvalidPayloadError(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidPayloadError("the body is not a JSON object")
    event_id, event_type, created = data.get("id"), data.get("type"), data.get("created")
    obj = data.get("data", {}).get("object") if isinstance(data.get("data"), dict) else None
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        raise InvalidPayloadError("the event has no Stripe event id (evt_...)")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidPayloadError(f"event {event_id} has no type")
    if not isinstance(created, int) or isinstance(created, bool):
        raise InvalidPayloadError(f"event {event_id} has no integer 'created' timestamp")
    if not isinstance(obj, dict):
        raise InvalidPayloadError(f"event {event_id} has no data.object")
    return ParsedEvent(
        id=event_id,
        type=event_type,
        created=dt.datetime.fromtimestamp(created, dt.UTC),
        payload=data,
    )


# Every webhook delivery sends this, so it skips SQLAlchemy's execution (``HotQuery``).
_STORE = HotQuery.of(
    insert(StripeEvent)
    .values(
        id=bindparam("id"),
        type=bindparam("type"),
        created=bindparam("created"),
        payload=bindparam("payload"),
        received_at=func.now(),
    )
    .on_conflict_do_nothing(index_elements=[StripeEvent.id])
    .returning(StripeEvent.id)
)


def store_event(session: Session, event: ParsedEvent) -> bool:
    """Insert the event unless its id is already stored; True when this call stored it.

    One statement in the session's transaction; ``attempts`` starts at its default, 0.
    """
    stored = _STORE.first(
        session,
        {
            "id": event.id,
            "type": event.type,
            "created": event.created,
            "payload": json.dumps(event.payload),
        },
    )
    return stored is not None


def lock_event(session: Session, event_id: str) -> StripeEvent | None:
    """The stored event, locked so that only one process handles it at a time."""
    return session.scalar(
        select(StripeEvent)
        .where(StripeEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def record_failure(session: Session, event_id: str, error: str) -> None:
    """Count a failed attempt and keep its reason; a processed event is never touched."""
    session.execute(
        update(StripeEvent)
        .where(StripeEvent.id == event_id, StripeEvent.processed_at.is_(None))
        .values(error=error[:MAX_ERROR_LENGTH], attempts=StripeEvent.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def record_unattributed(session: Session, event_id: str, reason: str) -> None:
    """Mark the event processed with the reason it concerns no account of ours."""
    session.execute(
        update(StripeEvent)
        .where(
            StripeEvent.id == event_id,
            (StripeEvent.processed_at.is_(None)) | (StripeEvent.ignored_reason.is_not(None)),
        )
        .values(
            processed_at=func.now(),
            ignored_reason=reason[:MAX_ERROR_LENGTH],
            error=None,
            account_id=None,
            attempts=StripeEvent.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )


def unprocessed_events(session: Session, *, limit: int = 50) -> list[StripeEvent]:
    """Stored events not processed yet (failed or never attempted), oldest first."""
    return list(
        session.scalars(
            select(StripeEvent)
            .where(StripeEvent.processed_at.is_(None))
            .order_by(StripeEvent.created, StripeEvent.id)
            .limit(limit)
        )
    )


__all__ = [
    "ParsedEvent",
    "lock_event",
    "parse_event",
    "record_failure",
    "record_unattributed",
    "store_event",
    "unprocessed_events",
]
