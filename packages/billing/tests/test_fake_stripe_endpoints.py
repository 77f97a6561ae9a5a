"""The fake's other endpoints and controls, through the real SDK: what consumers' tests use."""

from __future__ import annotations

import uuid

import pytest
import stripe
from counterpromo_billing.testing import FakeStripe

PRICE = "price_test_pro_monthly"


def test_customers_are_listed_by_email_updated_and_deleted(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    email = f"{uuid.uuid4().hex[:10]}@acme.test"
    created = stripe_client.v1.customers.create(params={"name": "Acme", "email": email})
    listed = stripe_client.v1.customers.list(params={"email": email})
    assert [c.id for c in listed.data] == [created.id]
    updated = stripe_client.v1.customers.update(created.id, params={"name": "Acme Ltd"})
    assert updated.name == "Acme Ltd"
    deleted = stripe_client.v1.customers.delete(created.id)
    assert deleted.deleted is True
    assert stripe_client.v1.customers.list(params={"email": email}).data == []
    assert fake_stripe.requests("DELETE", f"/v1/customers/{created.id}") != []


def test_subscriptions_are_listed_by_customer_and_status_and_cancelled(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer(name="Lister")
    live = fake_stripe.create_subscription(customer["id"], PRICE)
    ended = fake_stripe.create_subscription(customer["id"], PRICE)
    stripe_client.v1.subscriptions.cancel(ended["id"])
    default = stripe_client.v1.subscriptions.list(params={"customer": customer["id"]})
    assert [s.id for s in default.data] == [live["id"]]
    every = stripe_client.v1.subscriptions.list(
        params={"customer": customer["id"], "status": "all"}
    )
    assert {s.id for s in every.data} == {live["id"], ended["id"]}
    canceled = stripe_client.v1.subscriptions.list(
        params={"customer": customer["id"], "status": "canceled", "limit": 1}
    )
    assert [s.id for s in canceled.data] == [ended["id"]]
    assert fake_stripe.subscription(ended["id"])["status"] == "canceled"


def test_update_and_advance_change_what_a_refetch_returns(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer(name="Mover")
    sub = fake_stripe.create_subscription(customer["id"], PRICE)
    period_end = sub["items"]["data"][0]["current_period_end"]
    fake_stripe.update_subscription(
        sub["id"], price_id="price_test_dealer_monthly", cancel_at_period_end=True
    )
    fake_stripe.advance_period(sub["id"])
    current = stripe_client.v1.subscriptions.retrieve(sub["id"]).to_dict()
    item = current["items"]["data"][0]
    assert item["price"]["id"] == "price_test_dealer_monthly"
    assert current["cancel_at_period_end"] is True
    assert item["current_period_start"] == period_end
    assert item["current_period_end"] > period_end


def test_portal_needs_an_existing_customer_and_checkout_sessions_are_retrievable(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.billing_portal.sessions.create(params={"customer": "cus_nobody"})
    assert caught.value.http_status == 404
    customer = fake_stripe.create_customer(name="Portal")
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer["id"], "return_url": "https://app.test/billing"}
    )
    assert portal.url.startswith("http")
    checkout = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer["id"],
            "success_url": "https://app.test/ok",
            "line_items": [{"price": PRICE, "quantity": 1}],
        }
    )
    assert stripe_client.v1.checkout.sessions.retrieve(checkout.id).id == checkout.id
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.checkout.sessions.retrieve("cs_missing")


def test_reset_forgets_objects_and_requests() -> None:
    with FakeStripe() as fake:
        customer = fake.create_customer(name="Forgotten")
        fake.client().v1.customers.retrieve(customer["id"])
        assert fake.requests("GET") != []
        fake.reset()
        assert fake.customers() == []
        assert fake.requests() == []
