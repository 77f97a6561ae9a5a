"""Checkout, portal and subscription status through the fake Stripe; the Stripe webhook."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
from counterpromo_api.testing import Tenant, make_tenant
from counterpromo_billing.testing.fake_stripe import FakeStripe
from counterpromo_core.db.models import Account, StripeEvent
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

PaidCheckout = Callable[[httpx.Client, Tenant], tuple[bytes, dict[str, str]]]


def _account(sessions: sessionmaker[Session], tenant: Tenant) -> Account:
    with sessions() as session:
        account = session.get(Account, tenant.account_id)
        assert account is not None
        return account


def _events(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(StripeEvent)) or 0


def test_checkout_then_signed_webhook_changes_the_plan_once(
    http: httpx.Client, fake_stripe: FakeStripe, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, plan="free")
    started = http.post(
        "/v1/billing/checkout",
        json={"plan_code": "starter"},
        headers={**tenant.headers, "Idempotency-Key": "checkout-1"},
    )
    assert started.status_code == 200, started.text
    session_id = started.json()["session_id"]
    assert started.json()["url"].startswith(fake_stripe.base_url)
    replay = http.post(
        "/v1/billing/checkout",
        json={"plan_code": "starter"},
        headers={**tenant.headers, "Idempotency-Key": "checkout-1"},
    )
    assert replay.json()["session_id"] == session_id

    fake_stripe.complete_checkout(session_id)
    payload, signature = fake_stripe.sign(fake_stripe.checkout_completed_event(session_id))
    headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}

    delivered = http.post("/webhooks/stripe", content=payload, headers=headers)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["duplicate"] is False
    _wait_until_processed(sessions, delivered.json()["event_id"])
    after_first = _account(sessions, tenant)
    assert after_first.plan_code == "starter"
    assert after_first.subscription_status == "active"
    status = http.get("/v1/billing/subscription", headers=tenant.headers).json()
    assert (status["plan_code"], status["has_billing_account"]) == ("starter", True)

    events = _events(sessions)
    again = http.post("/webhooks/stripe", content=payload, headers=headers)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    after_second = _account(sessions, tenant)
    assert after_second.updated_at == after_first.updated_at
    assert after_second.plan_code == "starter"
    assert _events(sessions) == events

    portal = http.post("/v1/billing/portal", headers=tenant.headers)
    assert portal.status_code == 200
    assert portal.json()["url"].startswith("https://")


def _event(sessions: sessionmaker[Session], event_id: str) -> StripeEvent:
    with sessions() as session:
        return session.get_one(StripeEvent, event_id)


def _wait_until_processed(sessions: sessionmaker[Session], event_id: str) -> StripeEvent:
    """The API's background applier applies stored events; wait for this one."""
    deadline = time.monotonic() + 30
    while (row := _event(sessions, event_id)).processed_at is None:
        assert time.monotonic() < deadline, f"event {event_id} not applied: {row.error}"
        time.sleep(0.05)
    return row


def test_the_webhook_answers_before_the_event_is_applied(
    http: httpx.Client,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    paid_checkout: PaidCheckout,
) -> None:
    """Storing is the whole request: with Stripe slow, the answer comes while the event
    still waits for its (slow) re-fetch, which the applier then does."""
    tenant = make_tenant(sessions, plan="free")
    payload, headers = paid_checkout(http, tenant)
    fake_stripe.latency = 3.0
    try:
        delivered = http.post("/webhooks/stripe", content=payload, headers=headers)
        assert delivered.status_code == 200, delivered.text
        event_id = delivered.json()["event_id"]
        assert _event(sessions, event_id).processed_at is None
        assert _account(sessions, tenant).plan_code == "free"
    finally:
        fake_stripe.latency = 0.0
    row = _wait_until_processed(sessions, event_id)
    assert (row.attempts, row.error, row.account_id) == (1, None, tenant.account_id)
    assert _account(sessions, tenant).plan_code == "starter"


def test_webhook_with_an_invalid_signature_is_400_and_stores_nothing(
    http: httpx.Client, fake_stripe: FakeStripe, sessions: sessionmaker[Session]
) -> None:
    event = fake_stripe.event("customer.created", {"id": "cus_forged", "object": "customer"})
    payload, _ = fake_stripe.sign(event)
    _, wrong = fake_stripe.sign(event, secret="whsec_not_ours")
    before = _events(sessions)
    for headers in ({"Stripe-Signature": wrong}, {}, {"Stripe-Signature": "t=1,v1=deadbeef"}):
        response = http.post(
            "/webhooks/stripe",
            content=payload,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
    tampered = json.loads(payload)
    tampered["data"]["object"]["id"] = "cus_other"
    _, good = fake_stripe.sign(event)
    response = http.post(
        "/webhooks/stripe",
        content=json.dumps(tampered).encode(),
        headers={"Stripe-Signature": good, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert _events(sessions) == before


def test_checkout_for_an_unpriced_plan_is_422(http: httpx.Client, tenant: Tenant) -> None:
    response = http.post("/v1/billing/checkout", json={"plan_code": "free"}, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "plan_code"
