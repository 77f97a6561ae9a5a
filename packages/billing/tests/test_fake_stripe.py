"""The fake Stripe answers the real SDK over HTTP with Stripe's shapes and errors."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import stripe
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.testing.forms import decode_form


def test_form_decoding_builds_nested_dicts_and_lists() -> None:
    decoded = decode_form(
        "mode=subscription&metadata[account_id]=a1&line_items[0][price]=p1"
        "&line_items[0][quantity]=1&line_items[1][price]=p2&expand[]=x&expand[]=y"
    )
    assert decoded == {
        "mode": "subscription",
        "metadata": {"account_id": "a1"},
        "line_items": [{"price": "p1", "quantity": "1"}, {"price": "p2"}],
        "expand": ["x", "y"],
    }


def test_customer_round_trip_and_idempotency(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    key = f"test-{uuid.uuid4()}"
    params: stripe.params.CustomerCreateParams = {"name": "Acme", "metadata": {"account_id": "a1"}}
    first = stripe_client.v1.customers.create(params=params, options={"idempotency_key": key})
    again = stripe_client.v1.customers.create(params=params, options={"idempotency_key": key})
    assert first.id == again.id
    assert first.id.startswith("cus_")
    assert stripe_client.v1.customers.retrieve(first.id).to_dict()["metadata"] == {
        "account_id": "a1"
    }
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create(
            params={"name": "Someone else"}, options={"idempotency_key": key}
        )


def test_missing_objects_are_stripe_shaped_404s(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.subscriptions.retrieve("sub_does_not_exist")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert "sub_does_not_exist" in str(caught.value.user_message)


def test_wrong_api_key_is_rejected(fake_stripe: FakeStripe) -> None:
    client = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake_stripe.base_url})
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.list()


def test_subscription_checkout_requires_line_items(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.checkout.sessions.create(
            params={"mode": "subscription", "success_url": "https://x.test/ok"}
        )
    assert caught.value.param == "line_items"


def test_subscription_has_the_current_api_shape(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer(account_id="a1")
    created = fake_stripe.create_subscription(customer["id"], "price_test_pro_monthly")
    fetched = stripe_client.v1.subscriptions.retrieve(created["id"]).to_dict()
    item = fetched["items"]["data"][0]
    assert "current_period_end" not in fetched
    assert item["current_period_end"] > item["current_period_start"]
    assert item["price"]["id"] == "price_test_pro_monthly"
    assert fetched["metadata"] == {"account_id": "a1"}
    assert fetched["customer"] == customer["id"]


def test_events_are_snapshots_and_retrieve_is_current(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer()
    sub = fake_stripe.create_subscription(customer["id"], "price_a")
    before = fake_stripe.subscription_event("customer.subscription.created", sub["id"])
    fake_stripe.update_subscription(sub["id"], price_id="price_b", status="past_due")
    after = fake_stripe.subscription_event("customer.subscription.updated", sub["id"])
    assert before["data"]["object"]["items"]["data"][0]["price"]["id"] == "price_a"
    assert after["data"]["object"]["status"] == "past_due"
    assert after["created"] > before["created"]
    assert stripe_client.v1.subscriptions.retrieve(sub["id"]).status == "past_due"


def test_invoice_names_its_subscription_through_parent(fake_stripe: FakeStripe) -> None:
    customer = fake_stripe.create_customer()
    sub = fake_stripe.create_subscription(customer["id"], "price_a")
    invoice = fake_stripe.invoice_event("invoice.payment_failed", sub["id"])["data"]["object"]
    assert invoice["object"] == "invoice"
    assert invoice["parent"]["subscription_details"]["subscription"] == sub["id"]
    assert "subscription" not in invoice
    assert invoice["status"] == "open"


def test_signed_events_verify_with_the_sdk(fake_stripe: FakeStripe) -> None:
    customer = fake_stripe.create_customer()
    event = fake_stripe.event("customer.created", customer)
    payload, header = fake_stripe.sign(event)
    verified = stripe.Webhook.construct_event(payload, header, fake_stripe.webhook_secret)
    assert verified.id == event["id"]
    assert json.loads(payload)["type"] == "customer.created"
    stale_payload, stale_header = fake_stripe.sign(event, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(stale_payload, stale_header, fake_stripe.webhook_secret)


def test_complete_checkout_starts_the_subscription(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer()
    checkout = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer["id"],
            "line_items": [{"price": "price_a", "quantity": 1}],
            "success_url": "https://x.test/ok",
            "subscription_data": {"metadata": {"account_id": "a9"}},
        }
    )
    sub = fake_stripe.complete_checkout(checkout.id)
    session = stripe_client.v1.checkout.sessions.retrieve(checkout.id)
    assert session.status == "complete"
    assert session.subscription == sub["id"]
    assert sub["metadata"] == {"account_id": "a9"}
    assert sub["status"] == "active"
