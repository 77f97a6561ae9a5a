"""The fake Stripe a team can trust: pagination, validation, expand, updates, stop()."""

from __future__ import annotations

import http.client
import json
import threading
import typing
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
from counterpromo_billing.testing import FakeStripe


def test_auto_paging_iter_walks_every_page_to_the_end(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer()
    made = [fake_stripe.create_subscription(customer["id"], "price_a")["id"] for _ in range(7)]
    listed = stripe_client.v1.subscriptions.list(params={"customer": customer["id"], "limit": 3})
    assert listed.has_more
    walked = [s.id for s in listed.auto_paging_iter()]
    assert walked == list(reversed(made))  # newest first, each once, and it ends


def test_ending_before_pages_backwards(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer()
    made = [fake_stripe.create_subscription(customer["id"], "price_a")["id"] for _ in range(5)]
    page = stripe_client.v1.subscriptions.list(
        params={"customer": customer["id"], "limit": 2, "ending_before": made[1]}
    )
    assert [s.id for s in page.data] == [made[3], made[2]]
    assert page.has_more


@pytest.mark.parametrize("limit", ["abc", "0", "101", "-1"])
def test_a_bad_limit_is_a_stripe_400_naming_the_parameter(
    limit: str, fake_stripe: FakeStripe
) -> None:
    request = urllib.request.Request(  # noqa: S310 - the fake's http URL
        f"{fake_stripe.base_url}/v1/customers?limit={limit}",
        headers={"Authorization": f"Bearer {fake_stripe.secret_key}"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    assert caught.value.code == 400
    error = json.loads(caught.value.read())["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "limit")


def test_unknown_parameters_are_rejected(stripe_client: stripe.StripeClient) -> None:
    params: Any = {"name": "Acme", "colour": "blue"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.create(params=params)
    assert caught.value.http_status == 400
    assert caught.value.param == "colour"
    assert caught.value.code == "parameter_unknown"


def test_expand_replaces_ids_with_objects(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer(name="Acme")
    sub = fake_stripe.create_subscription(customer["id"], "price_a")
    fetched = stripe_client.v1.subscriptions.retrieve(
        sub["id"], params={"expand": ["customer"]}
    ).to_dict()
    assert fetched["customer"]["id"] == customer["id"]
    assert fetched["customer"]["name"] == "Acme"
    listed = stripe_client.v1.subscriptions.list(
        params={"customer": customer["id"], "expand": ["data.customer"]}
    ).to_dict()
    assert listed["data"][0]["customer"]["object"] == "customer"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.subscriptions.retrieve(sub["id"], params={"expand": ["status"]})
    assert caught.value.param == "expand[0]"


def test_post_subscription_cancels_at_period_end_and_changes_price(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer()
    sub = fake_stripe.create_subscription(customer["id"], "price_a")
    item_id = sub["items"]["data"][0]["id"]
    updated = stripe_client.v1.subscriptions.update(
        sub["id"],
        params={
            "cancel_at_period_end": True,
            "items": [{"id": item_id, "price": "price_b"}],
            "proration_behavior": "create_prorations",
        },
    )
    assert updated.cancel_at_period_end is True
    assert updated["items"]["data"][0]["price"]["id"] == "price_b"
    assert fake_stripe.subscription(sub["id"])["cancel_at"] is not None
    resumed = stripe_client.v1.subscriptions.update(
        sub["id"], params={"cancel_at_period_end": False}
    )
    assert resumed.cancel_at_period_end is False
    canceled = stripe_client.v1.subscriptions.cancel(sub["id"], params={"prorate": True})
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": True})


def test_checkout_sessions_list_and_expire(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = fake_stripe.create_customer()
    made = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer["id"],
            "line_items": [{"price": "price_a", "quantity": 1}],
            "success_url": "https://x.test/ok",
        }
    )
    listed = stripe_client.v1.checkout.sessions.list(
        params={"customer": customer["id"], "status": "open"}
    )
    assert [s.id for s in listed.data] == [made.id]
    expired = stripe_client.v1.checkout.sessions.expire(made.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.checkout.sessions.expire(made.id)
    with pytest.raises(ValueError, match="expired"):
        fake_stripe.complete_checkout(made.id)


def test_stop_closes_open_keep_alive_connections() -> None:
    fake = FakeStripe()
    fake.start()
    host, port = urllib.parse.urlsplit(fake.base_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    headers = {"Authorization": f"Bearer {fake.secret_key}"}
    connection.request("GET", "/v1/customers", headers=headers)
    assert connection.getresponse().read()
    fake.stop()

    def again() -> bytes:
        connection.request("GET", "/v1/customers", headers=headers)
        return connection.getresponse().read()

    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        again()
    connection.close()


# -- every object the fake returns carries the fields the SDK declares as always present ----


def _required_fields(cls: type) -> set[str]:
    """Annotated fields of an SDK resource class whose type is not Optional."""
    fields: set[str] = set()
    for klass in reversed(cls.__mro__):
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            text = str(annotation)
            if name.startswith("_") or "ClassVar" in text:
                continue
            if "Optional" in text or "None" in text:
                fields.discard(name)
                continue
            fields.add(name)
    return fields


SDK_TYPES: dict[str, type] = {
    "checkout.session": stripe.checkout.Session,
    "customer": stripe.Customer,
    "subscription": stripe.Subscription,
    "subscription_item": stripe.SubscriptionItem,
    "invoice": stripe.Invoice,
    "price": stripe.Price,
    "billing_portal.session": stripe.billing_portal.Session,
    "event": stripe.Event,
}


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if isinstance(value.get("object"), str):
            yield value
        for child in value.values():
            yield from _objects(child)
    elif isinstance(value, list):
        for child in value:
            yield from _objects(child)


def test_every_object_has_the_fields_the_sdk_declares(
    fake_stripe: FakeStripe, stripe_client: stripe.StripeClient
) -> None:
    customer = stripe_client.v1.customers.create(params={"name": "Acme"})
    checkout = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": "price_a", "quantity": 1}],
            "success_url": "https://x.test/ok",
        }
    )
    sub = fake_stripe.complete_checkout(checkout.id)
    portal = stripe_client.v1.billing_portal.sessions.create(params={"customer": customer.id})
    returned = [
        customer.to_dict(),
        stripe_client.v1.checkout.sessions.retrieve(checkout.id).to_dict(),
        stripe_client.v1.subscriptions.retrieve(sub["id"]).to_dict(),
        portal.to_dict(),
        fake_stripe.invoice_event("invoice.paid", sub["id"]),
        fake_stripe.subscription_event("customer.subscription.updated", sub["id"]),
        fake_stripe.checkout_completed_event(checkout.id),
    ]
    seen: set[str] = set()
    missing: dict[str, set[str]] = {}
    for obj in (o for r in returned for o in _objects(r)):
        cls = SDK_TYPES.get(obj["object"])
        if cls is None:
            continue
        seen.add(obj["object"])
        lacking = _required_fields(cls) - set(obj)
        if lacking:
            missing.setdefault(obj["object"], set()).update(lacking)
    assert missing == {}
    assert seen == set(SDK_TYPES)


def test_paying_on_the_checkout_page_delivers_signed_webhooks() -> None:
    received: list[tuple[bytes, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = typing.cast("tuple[str, int]", server.server_address)[1]
    try:
        with FakeStripe(webhook_url=f"http://127.0.0.1:{port}/webhooks/stripe") as fake:
            client = fake.client()
            checkout = client.v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "line_items": [{"price": "price_a", "quantity": 1}],
                    "success_url": "https://app.test/ok?session_id={CHECKOUT_SESSION_ID}",
                }
            )
            assert checkout.url is not None
            assert checkout.url.startswith(fake.base_url)
            with urllib.request.urlopen(checkout.url, timeout=10) as page:  # noqa: S310
                assert b"Pay" in page.read()
            no_redirect = urllib.request.build_opener(_NoRedirect())
            with pytest.raises(urllib.error.HTTPError) as caught:
                no_redirect.open(
                    urllib.request.Request(checkout.url, data=b"", method="POST")  # noqa: S310
                )
            assert caught.value.code == 303
            assert (
                caught.value.headers["Location"] == f"https://app.test/ok?session_id={checkout.id}"
            )
            types = [json.loads(body)["type"] for body, _ in received]
            assert types == [
                "checkout.session.completed",
                "customer.subscription.created",
                "invoice.paid",
            ]
            for body, header in received:
                stripe.Webhook.construct_event(body, header, fake.webhook_secret)
    finally:
        server.shutdown()
        server.server_close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None
