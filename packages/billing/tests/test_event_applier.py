"""Accept now, apply in the background: ``accept_event`` stores without calling Stripe; the
``EventApplier`` applies every stored event once, per customer in order, and gives up on an
event that cannot be applied instead of spinning on it."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from counterpromo_billing.clients import connect
from counterpromo_billing.errors import WebhookError
from counterpromo_billing.event_applier import EventApplier, accept_event, pending_events
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.testing.scenarios import BillingState, Subscribed, expected_state
from counterpromo_core.db.models import StripeEvent
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

ReadState = Callable[[uuid.UUID], BillingState]


def _accept(sessions: sessionmaker[Session], fake: FakeStripe, event: dict[str, Any]) -> bool:
    payload, header = fake.sign(event)
    accepted = accept_event(sessions, payload, header, secrets=[fake.webhook_secret])
    assert accepted.event_id == event["id"]
    return accepted.duplicate


def _rows(sessions: sessionmaker[Session], ids: list[str]) -> dict[str, StripeEvent]:
    with sessions() as session:
        found = session.scalars(select(StripeEvent).where(StripeEvent.id.in_(ids)))
        return {row.id: row for row in found}


def _wait_for(condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the applier did not get there in time")
        time.sleep(0.05)


@pytest.fixture
def clean_events(sessions: sessionmaker[Session]) -> Iterator[None]:
    """Each test sees only its own pending events (other tests leave failed ones behind)."""
    with sessions.begin() as session:
        session.execute(delete(StripeEvent))
    yield
    with sessions.begin() as session:
        session.execute(delete(StripeEvent))


@pytest.fixture
def make_applier(
    db_engine: Engine, stripe_client: stripe.StripeClient, price_map: dict[str, str]
) -> Iterator[Callable[..., EventApplier]]:
    started: list[EventApplier] = []

    def make(**options: Any) -> EventApplier:
        applier = EventApplier(
            db_engine, stripe=stripe_client, price_map=price_map, **options
        ).start()
        started.append(applier)
        return applier

    yield make
    for applier in started:
        applier.stop()


def test_accept_stores_once_and_calls_no_stripe(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    subscribe: Callable[..., Subscribed],
    clean_events: None,
) -> None:
    started = subscribe("pro")
    calls = len(fake_stripe.requests())
    event = started.events[1]
    assert _accept(sessions, fake_stripe, event) is False
    assert _accept(sessions, fake_stripe, event) is True
    assert len(fake_stripe.requests()) == calls
    row = _rows(sessions, [event["id"]])[event["id"]]
    assert (row.processed_at, row.attempts) == (None, 0)
    with sessions() as session:
        pending = pending_events(session, limit=10, max_attempts=5)
    assert [(p.id, p.lane) for p in pending] == [(event["id"], event["data"]["object"]["customer"])]


def test_accept_refuses_a_bad_signature_and_stores_nothing(
    sessions: sessionmaker[Session], fake_stripe: FakeStripe, clean_events: None
) -> None:
    event = fake_stripe.event("customer.created", {"id": "cus_x", "object": "customer"})
    payload, _ = fake_stripe.sign(event)
    _, wrong = fake_stripe.sign(event, secret="whsec_not_ours")
    with pytest.raises(WebhookError):
        accept_event(sessions, payload, wrong, secrets=[fake_stripe.webhook_secret])
    assert _rows(sessions, [event["id"]]) == {}


def test_two_appliers_apply_every_event_once_and_reach_stripes_state(
    *,
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    subscribe: Callable[..., Subscribed],
    billing_state: ReadState,
    price_map: dict[str, str],
    make_applier: Callable[..., EventApplier],
    clean_events: None,
) -> None:
    stories = [subscribe("starter") for _ in range(6)]
    events: list[dict[str, Any]] = []
    for story in stories:
        fake_stripe.update_subscription(story.subscription_id, price_id=_price(price_map, "pro"))
        events += [
            *story.events,
            fake_stripe.subscription_event("customer.subscription.updated", story.subscription_id),
        ]
    for event in reversed(events):  # the order of delivery must not matter
        _accept(sessions, fake_stripe, event)
    fake_stripe.latency = 0.05  # applying waits on Stripe; accepting did not
    try:
        # Two appliers, as in two API processes, each with several lanes.
        make_applier(concurrency=3, poll_seconds=0.05)
        make_applier(concurrency=3, poll_seconds=0.05)
        ids = [e["id"] for e in events]
        _wait_for(lambda: all(r.processed_at for r in _rows(sessions, ids).values()))
    finally:
        fake_stripe.latency = 0.0
    rows = _rows(sessions, ids)
    assert {row.attempts for row in rows.values()} == {1}  # once each, none twice
    assert {row.error for row in rows.values()} == {None}
    for story in stories:
        state = billing_state(story.account_id)
        assert state == expected_state(fake_stripe, story.subscription_id, price_map)
        assert state.plan_code == "pro"


def test_an_event_that_cannot_be_attributed_is_recorded_once_not_spun_on(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    make_applier: Callable[..., EventApplier],
    clean_events: None,
) -> None:
    # A subscription of a customer no account knows: it cannot be attributed.
    customer = fake_stripe.create_customer(account_id=str(uuid.uuid4()))
    sub = fake_stripe.create_subscription(customer["id"], "price_nobody_sells")
    event = fake_stripe.subscription_event("customer.subscription.updated", sub["id"])
    _accept(sessions, fake_stripe, event)
    before = len(fake_stripe.requests())
    make_applier(concurrency=2, poll_seconds=0.02, max_attempts=3)
    _wait_for(lambda: _rows(sessions, [event["id"]])[event["id"]].ignored_reason is not None)
    time.sleep(0.5)  # 25 polls: none may try it again
    row = _rows(sessions, [event["id"]])[event["id"]]
    assert row.attempts == 1
    assert row.processed_at is not None
    assert row.error is None
    assert len(fake_stripe.requests()) - before <= 2  # one try: a fetch or two
    with sessions() as session:
        assert pending_events(session, limit=10, max_attempts=3) == []


def _price(price_map: dict[str, str], plan: str) -> str:
    return next(price for price, code in price_map.items() if code == plan)


def test_an_event_whose_application_fails_is_retried_then_left_for_replay(
    *,
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    subscribe: Callable[..., Subscribed],
    db_engine: Engine,
    price_map: dict[str, str],
    clean_events: None,
) -> None:
    story = subscribe("pro")
    event = fake_stripe.subscription_event("customer.subscription.updated", story.subscription_id)
    _accept(sessions, fake_stripe, event)
    # Stripe unreachable while applying: the re-fetch fails, every attempt is recorded.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    unreachable = connect("sk_test_dead", api_base=dead, max_network_retries=0)
    applier = EventApplier(
        db_engine, stripe=unreachable, price_map=price_map, poll_seconds=0.02, max_attempts=2
    ).start()
    try:
        _wait_for(lambda: _rows(sessions, [event["id"]])[event["id"]].attempts == 2)
        time.sleep(0.5)  # backoff and the attempt limit: no third try
    finally:
        applier.stop()
    row = _rows(sessions, [event["id"]])[event["id"]]
    assert row.attempts == 2
    assert row.processed_at is None
    assert row.error
    with sessions() as session:
        assert pending_events(session, limit=10, max_attempts=2) == []
        # With attempts left (a replay, or a higher limit) it is pending again.
        assert [p.id for p in pending_events(session, limit=10, max_attempts=3)] == [event["id"]]
