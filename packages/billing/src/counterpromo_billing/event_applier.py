"""Stripe webhooks answered without waiting on Stripe: store now, apply in the background.

``accept_event`` is the webhook's whole request path: verify the signature, parse, store the
event by its id (``INSERT ... ON CONFLICT DO NOTHING``, one short transaction). Nothing in it
calls Stripe, so the answer does not wait on Stripe's latency, and a duplicate delivery is a
no-op.

``EventApplier`` applies stored events that are not processed yet, each through
``webhooks.process_stored_event`` (it locks the event row and re-fetches from Stripe, so an
event is applied exactly once and the result does not depend on the order):

- the events of one Stripe customer are applied one at a time, oldest first, under a
  PostgreSQL advisory lock on the customer id, so two appliers (in two API processes) never
  apply one customer's events side by side; an applier that finds the lock taken leaves that
  customer to its holder;
- different customers are applied concurrently (``concurrency`` lanes): applying waits on
  Stripe, not on this process;
- an event whose application fails is tried again after a backoff (doubling, at most
  ``MAX_BACKOFF_SECONDS``), at most ``max_attempts`` times counting earlier ones; after that
  it waits for ``counterpromo stripe events replay``. An event that names no customer gets a
  lane of its own. Nothing is retried in a tight loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from counterpromo_core.db.models import StripeEvent
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session, sessionmaker
from stripe import StripeClient

from counterpromo_billing.event_store import parse_event, store_event
from counterpromo_billing.plans import HasPriceMap
from counterpromo_billing.signatures import DEFAULT_TOLERANCE, verify_signature
from counterpromo_billing.webhooks import process_stored_event

log = logging.getLogger("counterpromo_billing.event_applier")

MAX_BACKOFF_SECONDS = 60.0
# First key of the two-key advisory locks this module takes (the second: hash of the customer).
_LOCK_CLASS = 0x53545250  # "STRP"


@dataclass(frozen=True)
class AcceptedEvent:
    """A delivery that passed the signature check; ``duplicate``: it was stored before."""

    event_id: str
    event_type: str
    duplicate: bool


def accept_event(
    session_factory: sessionmaker[Session],
    payload: bytes,
    signature_header: str | None,
    *,
    secrets: Sequence[str] | str,
    tolerance: int = DEFAULT_TOLERANCE,
) -> AcceptedEvent:
    """Verify and store one delivery; ``WebhookError`` (nothing stored) when not Stripe's."""
    verify_signature(payload, signature_header, secrets, tolerance=tolerance)
    event = parse_event(payload)
    with session_factory() as session:
        # One statement, atomic by itself: committed as it runs, with no BEGIN and COMMIT
        # round trips around it (each one a wait for the API's GIL under load).
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        stored = store_event(session, event)
    return AcceptedEvent(event.id, event.type, duplicate=not stored)


@dataclass(frozen=True)
class PendingEvent:
    id: str
    lane: str
    """The Stripe customer the event is about, else ``event:<id>`` (a lane of its own)."""


def pending_events(session: Session, *, limit: int, max_attempts: int) -> list[PendingEvent]:
    """Stored events not processed yet that have attempts left, oldest first."""
    obj = StripeEvent.payload["data"]["object"]
    customer = func.coalesce(
        obj["customer"]["id"].astext,  # an expanded customer object
        obj["customer"].astext,  # a customer id (the usual shape)
        case((obj["object"].astext == "customer", obj["id"].astext)),  # customer.* events
    )
    rows = session.execute(
        select(StripeEvent.id, customer)
        .where(StripeEvent.processed_at.is_(None), StripeEvent.attempts < max_attempts)
        .order_by(StripeEvent.created, StripeEvent.received_at, StripeEvent.id)
        .limit(limit)
    ).all()
    return [PendingEvent(row[0], row[1] or f"event:{row[0]}") for row in rows]


class EventApplier:
    """Applies pending stored events in a background thread until ``stop``.

    ``engine`` is the applier's own (each lane holds one connection, for its advisory lock
    and for applying), so a burst of events never takes connections from requests.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        stripe: StripeClient,
        price_map: Mapping[str, str] | HasPriceMap,
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        max_attempts: int = 5,
        batch: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.stripe = stripe
        self.price_map = price_map
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.batch = batch
        self.clock = clock
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._not_before: dict[str, float] = {}  # event id or lane -> monotonic time
        self._failures: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> EventApplier:
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="stripe-apply")
        self._thread = threading.Thread(target=self._run, name="stripe-applier", daemon=True)
        self._thread.start()
        return self

    def nudge(self) -> None:
        """A new event is stored: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop scheduling; lanes finish the event they are applying (the rest stays stored)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    # -- scheduling ------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.schedule()
            except Exception as exc:
                log.warning("stripe applier: cannot read pending events", exc_info=exc)
            self._wake.wait(self.poll_seconds)

    def schedule(self) -> int:
        """Start a lane for each customer with pending events that no lane is applying;
        the number of lanes started."""
        with self.sessions() as session:
            pending = pending_events(session, limit=self.batch, max_attempts=self.max_attempts)
        now = self.clock()
        lanes: dict[str, list[str]] = {}
        with self._lock:
            if len(pending) < self.batch:  # the whole backlog: forget events no longer in it
                current = {e.id for e in pending} | {e.lane for e in pending}
                for key in [k for k in self._not_before if k not in current]:
                    del self._not_before[key]
                for key in [k for k in self._failures if k not in current]:
                    del self._failures[key]
            for event in pending:
                if self._waiting(event.id, now) or self._waiting(event.lane, now):
                    continue
                if event.lane not in self._busy:
                    lanes.setdefault(event.lane, []).append(event.id)
            self._busy.update(lanes)
        assert self._pool is not None  # noqa: S101 - start() made it
        for lane, ids in lanes.items():
            self._pool.submit(self._run_lane, lane, ids)
        return len(lanes)

    def _waiting(self, key: str, now: float) -> bool:
        until = self._not_before.get(key)
        if until is None:
            return False
        if until <= now:
            del self._not_before[key]
            return False
        return True

    # -- one customer's events -------------------------------------------------------

    def _run_lane(self, lane: str, event_ids: list[str]) -> None:
        try:
            # One connection per lane: it holds the customer's advisory lock (session-level,
            # so it outlives the transactions) and applies the events in its own transactions.
            with self.engine.connect() as conn:
                key = func.hashtext(lane)
                locked = conn.scalar(select(func.pg_try_advisory_lock(_LOCK_CLASS, key)))
                conn.commit()
                if not locked:
                    # Another process is applying this customer: it will see these events.
                    with self._lock:
                        self._not_before[lane] = self.clock() + self.poll_seconds
                    return
                sessions = sessionmaker(bind=conn, expire_on_commit=False)
                try:
                    for event_id in event_ids:
                        if self._stop.is_set():
                            break
                        self._apply(sessions, event_id)
                finally:
                    conn.rollback()
                    conn.scalar(select(func.pg_advisory_unlock(_LOCK_CLASS, key)))
                    conn.commit()
        except Exception as exc:
            log.warning("stripe applier: lane %s stopped", lane, exc_info=exc)
            with self._lock:
                self._not_before[lane] = self.clock() + self.poll_seconds
        finally:
            with self._lock:
                self._busy.discard(lane)
            self._wake.set()

    def _apply(self, sessions: sessionmaker[Session], event_id: str) -> None:
        try:
            outcome = process_stored_event(
                sessions, event_id, stripe=self.stripe, price_map=self.price_map
            )
        except Exception as exc:
            log.warning("stripe event %s could not be applied", event_id, exc_info=exc)
            self._back_off(event_id)
            return
        if outcome.status == "failed":
            log.warning(
                "stripe event %s (%s) failed: %s", event_id, outcome.event_type, outcome.error
            )
            self._back_off(event_id)
            return
        with self._lock:
            self._failures.pop(event_id, None)
        log.info(
            "stripe event applied",
            extra={
                "event_id": event_id,
                "event_type": outcome.event_type,
                "outcome": outcome.status,
            },
        )

    def _back_off(self, event_id: str) -> None:
        with self._lock:
            failures = self._failures.get(event_id, 0) + 1
            self._failures[event_id] = failures
            delay = min(MAX_BACKOFF_SECONDS, self.poll_seconds * 2**failures)
            self._not_before[event_id] = self.clock() + delay


__all__ = [
    "AcceptedEvent",
    "EventApplier",
    "PendingEvent",
    "accept_event",
    "pending_events",
]
