"""Over HTTP: concurrent checkouts and paid duplicate sessions end with one live subscription."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from counterpromo_api.testing import applied_outcome, make_tenant
from counterpromo_billing.testing.fake_stripe import FakeStripe
from counterpromo_core.db.models import Account
from sqlalchemy.orm import Session, sessionmaker

LIVE = ("active", "trialing", "past_due", "unpaid")


def _deliver(http: httpx.Client, fake: FakeStripe, event: dict[str, Any]) -> str:
    """Deliver an event; the webhook only stores it (the applier applies it later)."""
    payload, signature = fake.sign(event)
    answer = http.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["outcome"])


@pytest.mark.parametrize("concurrent", [2, 5])
def test_concurrent_checkouts_all_paid_shuffled_leave_one_live_subscription(
    *,
    concurrent: int,
    http: httpx.Client,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
) -> None:
    tenant = make_tenant(sessions, plan="free")
    plans = ["starter", "pro", "dealer", "pro", "starter"][:concurrent]

    def checkout(plan: str) -> httpx.Response:
        return http.post("/v1/billing/checkout", json={"plan_code": plan}, headers=tenant.headers)

    with ThreadPoolExecutor(concurrent) as pool:
        answers = list(pool.map(checkout, plans))
    assert [a.status_code for a in answers] == [200] * concurrent, [a.text for a in answers]
    with sessions() as session:
        customer_id = session.get_one(Account, tenant.account_id).stripe_customer_id
    assert customer_id is not None
    open_sessions = [
        s for s in fake_stripe.checkout_sessions_of(customer_id) if s["status"] == "open"
    ]
    assert len(open_sessions) == 1

    # The race Stripe cannot stop: more sessions made (another tab, the dashboard) and all paid.
    extra = [
        fake_stripe.create_subscription(customer_id, "price_test_pro_monthly")["id"]
        for _ in range(concurrent - 1)
    ]
    paid = fake_stripe.complete_checkout(open_sessions[0]["id"])
    events = [fake_stripe.checkout_completed_event(open_sessions[0]["id"])]
    for sub_id in [*extra, paid["id"]]:
        events.append(fake_stripe.subscription_event("customer.subscription.created", sub_id))
        events.append(fake_stripe.invoice_event("invoice.paid", sub_id))
    random.Random(concurrent).shuffle(events)
    with ThreadPoolExecutor(len(events)) as pool:
        outcomes = list(pool.map(lambda e: _deliver(http, fake_stripe, e), events))
    assert set(outcomes) == {"stored"}
    assert {applied_outcome(sessions, str(e["id"])) for e in events} == {"processed"}

    live = [s for s in fake_stripe.subscriptions_of(customer_id) if s["status"] in LIVE]
    assert [s["id"] for s in live] == [paid["id"]]  # the newest is kept
    billing = http.get("/v1/billing", headers=tenant.headers).json()
    assert billing["subscription_status"] == "active"
    with sessions() as session:
        assert session.get_one(Account, tenant.account_id).stripe_subscription_id == paid["id"]
