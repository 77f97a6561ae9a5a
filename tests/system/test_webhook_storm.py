"""A Stripe webhook storm: 500 events for 50 accounts, each delivered 1-3 times, shuffled,
concurrently to both API processes. Every delivery is answered once stored; the API
processes' background appliers then apply every event once, and every account ends in the
state its last event describes."""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from counterpromo_core.db.models import Account, StripeEvent
from sqlalchemy import func, select

from harness.stack import SystemStack
from harness.stripe_story import EVENTS_PER_ACCOUNT, Story, expected_state, tell_story
from harness.tenants import create_tenant
from harness.waiting import wait_for_progress

ACCOUNTS = 50
SENDERS = 16


def test_webhook_storm(stack: SystemStack) -> None:
    rng = random.Random(20_260_310)
    prices = dict(stack.env.plan_prices)
    stories: list[Story] = [
        tell_story(stack.stripe, create_tenant(stack.sessions, plan="free").account_id, prices, n)
        for n in range(ACCOUNTS)
    ]
    events = [event for story in stories for event in story.events]
    assert len(events) == ACCOUNTS * EVENTS_PER_ACCOUNT == 500
    deliveries = [event for event in events for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)

    local = threading.local()
    urls = [api.url for api in stack.apis]
    opened: list[httpx.Client] = []

    def deliver(numbered: tuple[int, dict[str, Any]]) -> tuple[str, int, str]:
        n, event = numbered
        if not hasattr(local, "clients"):
            local.clients = [httpx.Client(base_url=url, timeout=60) for url in urls]
            opened.extend(local.clients)
        payload, signature = stack.stripe.sign(json.dumps(event).encode())
        response = local.clients[n % len(urls)].post(
            "/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
        return event["id"], response.status_code, response.text[:500]

    try:
        with ThreadPoolExecutor(SENDERS, thread_name_prefix="stripe") as pool:
            results = list(pool.map(deliver, enumerate(deliveries)))
    finally:
        for client in opened:
            client.close()

    failed = [r for r in results if r[1] != 200]
    assert not failed, f"{len(failed)} deliveries failed, e.g. {failed[:3]}"

    ids = [e["id"] for e in events]

    def unapplied() -> int:
        with stack.sessions() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(StripeEvent)
                    .where(StripeEvent.id.in_(ids), StripeEvent.processed_at.is_(None))
                )
                or 0
            )

    # Applying is in the background now: progress (not a fixed time) is what is awaited, so
    # a busy machine only makes it slower. Give up when no event was applied for 60 s.
    wait_for_progress(unapplied, stall_seconds=60, what="the stored events to be applied")
    with stack.sessions() as session:
        stored = session.execute(
            select(StripeEvent.id, StripeEvent.processed_at, StripeEvent.error).where(
                StripeEvent.id.in_(ids)
            )
        ).all()
        accounts = {
            a.id: a
            for a in session.scalars(
                select(Account).where(Account.id.in_([s.account_id for s in stories]))
            )
        }
    assert len(stored) == 500
    assert [row for row in stored if row.processed_at is None or row.error] == []

    for story in stories:
        account = accounts[story.account_id]
        plan, status = expected_state(story.last_event, stack.env.price_map)
        assert stack.stripe.subscription(story.subscription_id)["status"] == status
        assert (account.plan_code, account.subscription_status) == (plan, status), story
        assert account.stripe_subscription_id == story.subscription_id
