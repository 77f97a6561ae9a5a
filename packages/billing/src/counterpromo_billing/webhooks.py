"""Stripe webhooks: verify, store by id first, then process (once).

``receive_event`` is what the API's ``POST /webhooks/stripe`` calls with the raw
body and the ``Stripe-Signature`` header; ``process_stored_event`` is what the
CLI calls to replay an event whose processing failed.

- A request that is not genuinely Stripe's raises a ``SignatureError``
  (``MissingSignature``, ``BadSignature``, ``StaleTimestamp``) or
  ``InvalidPayloadError``, all ``WebhookError``: nothing is stored.
- The event is stored by its Stripe id in its own transaction
  (``INSERT ... ON CONFLICT (id) DO NOTHING``) before anything else.
- Processing locks the stored event row: of concurrent deliveries of one event
  exactly one applies it, the others see ``processed_at`` set and do nothing.
  A delivery of a stored event that is not processed yet (its earlier attempt
  failed) tries again, so Stripe's own retries also retry processing.
- A failure rolls back everything the attempt changed and records the error
  and ``attempts + 1`` on the event. See ``subscription_sync`` for why the
  result does not depend on delivery order.
- An event we cannot attribute (a customer that is not ours, a price not in the
  map even after re-reading it) is marked processed with ``ignored_reason``:
  the API answers 200 (Stripe stops retrying), ``unattributed_events`` lists it,
  and a replay or a redelivery processes it again (once the mapping exists).

``apply_event(session, event_id, ...)`` is the single entry point that applies one
stored event inside the caller's transaction; ``receive_event`` and
``process_stored_event`` (and a background applier) wrap it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from counterpromo_core.db.models import StripeEvent, utcnow
from counterpromo_core.errors import DomainError, NotFound
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from stripe import StripeClient, StripeError

from counterpromo_billing.errors import EventProcessingError, Unattributed
from counterpromo_billing.event_store import (
    lock_event,
    parse_event,
    record_failure,
    record_unattributed,
    store_event,
    unprocessed_events,
)
from counterpromo_billing.plans import HasPriceMap
from counterpromo_billing.signatures import DEFAULT_TOLERANCE, verify_signature
from counterpromo_billing.subscription_sync import sync_for_event

OutcomeStatus = Literal["processed", "ignored", "unattributed", "duplicate", "failed"]


@dataclass(frozen=True)
class WebhookOutcome:
    """What happened to one delivery.

    ``processed``: applied now. ``ignored``: stored, a type we do not act on.
    ``unattributed``: stored with the reason (``error``), concerns no account of
    ours; answer 2xx, replay once the mapping exists.
    ``duplicate``: already processed before, nothing done. ``failed``: stored,
    the error is recorded on the event and it can be replayed.
    """

    event_id: str
    event_type: str
    status: OutcomeStatus
    account_id: uuid.UUID | None = None
    error: str | None = None


# Failures we expect and record as the event's error; anything else is recorded too and re-raised.
_RECORDED_FAILURES = (DomainError, EventProcessingError, StripeError, SQLAlchemyError, ValueError)


def receive_event(
    session_factory: sessionmaker[Session],
    payload: bytes,
    signature_header: str | None,
    *,
    secrets: Sequence[str] | str,
    stripe: StripeClient,
    price_map: Mapping[str, str] | HasPriceMap,
    tolerance: int = DEFAULT_TOLERANCE,
) -> WebhookOutcome:
    """Verify, store and process one webhook delivery."""
    verify_signature(payload, signature_header, secrets, tolerance=tolerance)
    event = parse_event(payload)
    with session_factory() as session:
        with session.begin():
            store_event(session, event)
        return _process(session, event.id, stripe=stripe, price_map=price_map)


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"


def process_stored_event(
    session_factory: sessionmaker[Session],
    event_id: str,
    *,
    stripe: StripeClient,
    price_map: Mapping[str, str] | HasPriceMap,
) -> WebhookOutcome:
    """Process a stored event unless it is already processed; ``NotFound`` if never stored."""
    with session_factory() as session:
        return _process(session, event_id, stripe=stripe, price_map=price_map)


def _locked_event(session: Session, event_id: str) -> StripeEvent:
    row = lock_event(session, event_id)
    if row is None:
        raise NotFound("stripe event", event_id)
    return row


def apply_event(
    session: Session,
    event_id: str,
    *,
    stripe: StripeClient,
    price_map: Mapping[str, str] | HasPriceMap,
) -> WebhookOutcome:
    """Apply one stored event inside the caller's transaction (the single entry point).

    Locks the stored event; a processed one is a ``duplicate`` (unless it was
    unattributed: then it is tried again). Raises on failure (the caller rolls
    back and records it), ``Unattributed`` for an event concerning no account of ours.
    """
    row = _locked_event(session, event_id)
    if row.processed_at is not None and row.ignored_reason is None:
        return WebhookOutcome(event_id, row.type, "duplicate", row.account_id)
    obj = row.payload.get("data", {}).get("object", {})
    result = sync_for_event(session, row.type, obj, stripe=stripe, price_map=price_map)
    row.processed_at = utcnow()
    row.error = None
    row.ignored_reason = None
    row.attempts += 1
    row.account_id = result.account_id
    status: OutcomeStatus = "processed" if result.handled else "ignored"
    return WebhookOutcome(event_id, row.type, status, result.account_id)


def _event_type(session: Session, event_id: str) -> str:
    row = session.get(StripeEvent, event_id)
    if row is None:
        raise NotFound("stripe event", event_id)
    return row.type


def _process(
    session: Session,
    event_id: str,
    *,
    stripe: StripeClient,
    price_map: Mapping[str, str] | HasPriceMap,
) -> WebhookOutcome:
    with session.begin():
        event_type = _event_type(session, event_id)
    try:
        with session.begin():
            return apply_event(session, event_id, stripe=stripe, price_map=price_map)
    except Unattributed as exc:
        reason = str(exc)
        with session.begin():
            record_unattributed(session, event_id, reason)
        return WebhookOutcome(event_id, event_type, "unattributed", error=reason)
    except _RECORDED_FAILURES as exc:
        error = _describe(exc)
        with session.begin():
            record_failure(session, event_id, error)
        return WebhookOutcome(event_id, event_type, "failed", error=error)
    except Exception as exc:
        with session.begin():
            record_failure(session, event_id, _describe(exc))
        raise


def failed_events(session: Session, *, limit: int = 50) -> list[StripeEvent]:
    """Stored events that are not processed yet, oldest first (for the CLI's replay)."""
    return unprocessed_events(session, limit=limit)


def unattributed_events(session: Session, *, limit: int = 50) -> list[StripeEvent]:
    """Events stored with an ``ignored_reason`` (not ours, unknown price), newest first."""
    return list(
        session.scalars(
            select(StripeEvent)
            .where(StripeEvent.ignored_reason.is_not(None))
            .order_by(StripeEvent.received_at.desc())
            .limit(limit)
        )
    )


def recent_events(session: Session, *, limit: int = 50) -> list[StripeEvent]:
    """Stored events, newest first."""
    return list(
        session.scalars(select(StripeEvent).order_by(StripeEvent.received_at.desc()).limit(limit))
    )


__all__ = [
    "OutcomeStatus",
    "WebhookOutcome",
    "apply_event",
    "failed_events",
    "process_stored_event",
    "receive_event",
    "recent_events",
    "unattributed_events",
]
