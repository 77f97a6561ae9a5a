"""A burst of webhook deliveries is stored a few at a time (``WEBHOOK_MAX_CONCURRENT``), so it
cannot take every thread and the CPU from users' requests; the others wait their turn."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread
from counterpromo_billing.event_store import parse_event, store_event
from counterpromo_billing.testing.fake_stripe import FakeStripe
from counterpromo_core.db.models import StripeEvent
from counterpromo_storage.settings import AppConfig
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker


def _stored(sessions: sessionmaker[Session], event_id: str) -> bool:
    with sessions() as session:
        return session.get(StripeEvent, event_id) is not None


def _inserts_waiting_for_a_lock(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(text("pg_stat_activity"))
                .where(
                    text("wait_event_type = 'Lock'"),
                    text("query LIKE 'INSERT INTO stripe_events%'"),
                )
            )
            or 0
        )


@pytest.mark.parametrize(("limit", "second_waits"), [(1, True), (2, False)])
def test_deliveries_beyond_the_limit_wait_for_a_free_slot(
    api_config: AppConfig,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    limit: int,
    second_waits: bool,
) -> None:
    first = fake_stripe.event("customer.created", {"id": "cus_intake_a", "object": "customer"})
    second = fake_stripe.event("customer.created", {"id": "cus_intake_b", "object": "customer"})
    settings = ApiSettings(webhook_max_concurrent=limit, webhook_applier_concurrency=0)
    statuses: list[int] = []

    def deliver(url: str, event: dict[str, object]) -> None:
        payload, signature = fake_stripe.sign(event)
        response = httpx.post(
            f"{url}/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            timeout=60,
        )
        statuses.append(response.status_code)

    with ServerThread(create_app(api_config, settings=settings)) as server:
        # An uncommitted row with the first event's id: storing the first delivery waits on it.
        blocker = sessions()
        blocker.begin()
        store_event(blocker, parse_event(fake_stripe.sign(first)[0]))
        senders = [threading.Thread(target=deliver, args=(server.url, first))]
        senders[0].start()
        try:
            deadline = time.monotonic() + 30
            while _inserts_waiting_for_a_lock(sessions) < 1:
                assert time.monotonic() < deadline, "the first delivery never reached the insert"
                time.sleep(0.02)
            senders.append(threading.Thread(target=deliver, args=(server.url, second)))
            senders[1].start()
            deadline = time.monotonic() + 1.0
            while not _stored(sessions, second["id"]) and time.monotonic() < deadline:
                time.sleep(0.02)
            # With one slot, the second waits for the first; with two, it goes by.
            assert _stored(sessions, second["id"]) is not second_waits
        finally:
            blocker.rollback()
            blocker.close()
            for sender in senders:
                sender.join(timeout=30)
    assert sorted(statuses) == [200, 200]
    assert _stored(sessions, first["id"])
    assert _stored(sessions, second["id"])
