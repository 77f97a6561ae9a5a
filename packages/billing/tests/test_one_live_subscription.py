"""One live subscription per account: concurrent checkouts, all paid, webhooks shuffled."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe
from counterpromo_billing.checkout import CheckoutStarted, start_checkout
from counterpromo_billing.single_subscription import DUPLICATE_CANCELED
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.testing.scenarios import BillingState
from counterpromo_billing.webhooks import WebhookOutcome
from counterpromo_core.db.models import Account, AuditEvent
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

APP_URL = "https://app.counterpromo.test"

Deliver = Callable[[dict[str, Any]], WebhookOutcome]


def _live(fake: FakeStripe, customer_id: str) -> list[dict[str, Any]]:
    subs = [fake.subscription(r["id"]) for r in fake.subscriptions_of(customer_id)]
    return [s for s in subs if s["status"] in ("active", "trialing", "past_due", "unpaid")]


def _audits(sessions: sessionmaker[Session], account_id: uuid.UUID) -> list[AuditEvent]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.account_id == account_id, AuditEvent.action == DUPLICATE_CANCELED
                )
            )
        )


def _events_of_paid_sessions(fake: FakeStripe, session_ids: list[str]) -> list[dict[str, Any]]:
    events = []
    for session_id in session_ids:
        sub = fake.complete_checkout(session_id)
        events += [
            fake.checkout_completed_event(session_id),
            fake.subscription_event("customer.subscription.created", sub["id"]),
            fake.invoice_event("invoice.paid", sub["id"]),
        ]
    return events


@pytest.mark.parametrize("concurrent", [2, 5])
def test_concurrent_checkouts_leave_one_open_session(
    *,
    concurrent: int,
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
    deliver: Deliver,
    billing_state: Callable[[uuid.UUID], BillingState],
) -> None:
    """Two tabs, a double click, five at once: every checkout answers, one session stays open.

    The account already has its Stripe customer (a returning customer), so nothing but
    checkout's own account lock serializes the calls.
    """
    account_id = make_account()
    customer = fake_stripe.create_customer(account_id=str(account_id))
    with sessions.begin() as session:
        session.get_one(Account, account_id).stripe_customer_id = customer["id"]
    plans = ["starter", "pro", "dealer", "starter", "pro"][:concurrent]
    barrier = threading.Barrier(concurrent)

    def run(plan: str) -> CheckoutStarted:
        barrier.wait()
        with sessions.begin() as session:
            return start_checkout(
                session, account_id, plan, stripe=stripe_client, prices=plan_prices, app_url=APP_URL
            )

    with ThreadPoolExecutor(concurrent) as pool:
        started = list(pool.map(run, plans))

    customer_id = billing_state(account_id).stripe_customer_id
    assert customer_id is not None
    open_ids = {
        s["id"] for s in fake_stripe.checkout_sessions_of(customer_id) if s["status"] == "open"
    }
    assert len(open_ids) == 1
    assert open_ids <= {s.session_id for s in started}
    # Pay every session still payable, deliver the events shuffled: one live subscription.
    events = _events_of_paid_sessions(fake_stripe, sorted(open_ids))
    random.Random(concurrent).shuffle(events)
    for event in events:
        assert deliver(event).status == "processed"
    live = _live(fake_stripe, customer_id)
    assert len(live) == 1
    assert billing_state(account_id).stripe_subscription_id == live[0]["id"]


@pytest.mark.parametrize("concurrent", [2, 5])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sessions_all_paid_in_shuffled_order_keep_the_newest_subscription(
    *,
    concurrent: int,
    seed: int,
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
    price_map: dict[str, str],
    deliver: Deliver,
    billing_state: Callable[[uuid.UUID], BillingState],
) -> None:
    """Sessions Stripe let through (made before ours could expire them), all paid.

    Whatever the webhook order (and with each event delivered from its own thread),
    the newest subscription is kept, every other is cancelled and audited.
    """
    account_id = make_account()
    customer = fake_stripe.create_customer(account_id=str(account_id))
    plans = ["starter", "pro", "dealer", "pro", "starter"][:concurrent]
    session_ids = [
        stripe_client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer["id"],
                "client_reference_id": str(account_id),
                "line_items": [{"price": plan_prices[plan], "quantity": 1}],
                "success_url": f"{APP_URL}/ok",
                "subscription_data": {"metadata": {"account_id": str(account_id)}},
            }
        ).id
        for plan in plans
    ]
    events = _events_of_paid_sessions(fake_stripe, session_ids)
    newest = fake_stripe.checkout_session(session_ids[-1])["subscription"]
    rng = random.Random(seed)
    rng.shuffle(events)
    barrier = threading.Barrier(len(events))

    def run(event: dict[str, Any]) -> WebhookOutcome:
        barrier.wait()
        return deliver(event)

    with ThreadPoolExecutor(len(events)) as pool:
        outcomes = list(pool.map(run, events))

    assert {o.status for o in outcomes} == {"processed"}
    live = _live(fake_stripe, customer["id"])
    assert [s["id"] for s in live] == [newest]
    state = billing_state(account_id)
    assert (state.stripe_subscription_id, state.subscription_status) == (newest, "active")
    assert state.plan_code == price_map[plan_prices[plans[-1]]]
    audits = _audits(sessions, account_id)
    assert sorted(a.detail["canceled"] for a in audits) == sorted(
        fake_stripe.checkout_session(s)["subscription"] for s in session_ids[:-1]
    )
    assert {a.detail["kept"] for a in audits} == {newest}
    # The cancelled duplicates' own events change nothing: the account stays on the newest.
    for audit in audits:
        deliver(
            fake_stripe.subscription_event(
                "customer.subscription.deleted", audit.detail["canceled"]
            )
        )
    assert billing_state(account_id).stripe_subscription_id == newest


def test_checkout_for_the_same_plan_returns_the_open_session(
    *,
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account()

    def checkout(plan: str) -> CheckoutStarted:
        with sessions.begin() as session:
            return start_checkout(
                session, account_id, plan, stripe=stripe_client, prices=plan_prices, app_url=APP_URL
            )

    first = checkout("pro")
    again = checkout("pro")
    assert (again.session_id, again.reused) == (first.session_id, True)
    other = checkout("starter")
    assert other.session_id != first.session_id
    assert fake_stripe.checkout_session(first.session_id)["status"] == "expired"
    assert fake_stripe.checkout_session(other.session_id)["status"] == "open"
