"""Billing over HTTP: GET /v1/billing, unattributed events, live price map, Stripe down."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread, Tenant, applied_outcome, make_tenant
from counterpromo_billing.testing.fake_stripe import FakeStripe
from counterpromo_core.db.models import Account, StripeEvent
from counterpromo_storage import naming
from counterpromo_storage.clients import ssm_client
from counterpromo_storage.provision import ProvisionedEnv
from counterpromo_storage.settings import AppConfig
from sqlalchemy.orm import Session, sessionmaker


def _post_event(http: httpx.Client, fake: FakeStripe, event: dict[str, object]) -> httpx.Response:
    payload, signature = fake.sign(event)
    return http.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def _apply(
    http: httpx.Client, fake: FakeStripe, sessions: sessionmaker[Session], event: dict[str, object]
) -> str:
    """Deliver an event (acknowledged at once) and wait for the applier's outcome."""
    answer = _post_event(http, fake, event)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] in {"stored", "duplicate"}
    return applied_outcome(sessions, str(event["id"]))


def _checkout_and_pay(
    http: httpx.Client,
    fake: FakeStripe,
    sessions: sessionmaker[Session],
    tenant: Tenant,
    plan: str,
) -> str:
    started = http.post("/v1/billing/checkout", json={"plan_code": plan}, headers=tenant.headers)
    assert started.status_code == 200, started.text
    session_id: str = started.json()["session_id"]
    sub = fake.complete_checkout(session_id)
    assert _apply(http, fake, sessions, fake.checkout_completed_event(session_id)) == "processed"
    return str(sub["id"])


def test_billing_shows_trial_end_and_cancel_at_period_end(
    http: httpx.Client, fake_stripe: FakeStripe, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, plan="free")
    sub_id = _checkout_and_pay(http, fake_stripe, sessions, tenant, "pro")
    period_end = fake_stripe.subscription(sub_id)["items"]["data"][0]["current_period_end"]
    fake_stripe.set_trial_end(sub_id, period_end)
    fake_stripe.update_subscription(sub_id, status="trialing", cancel_at_period_end=True)
    event = fake_stripe.subscription_event("customer.subscription.updated", sub_id)
    assert _apply(http, fake_stripe, sessions, event) == "processed"

    billing = http.get("/v1/billing", headers=tenant.headers)
    assert billing.status_code == 200, billing.text
    body = billing.json()
    assert (body["plan_code"], body["subscription_status"]) == ("pro", "trialing")
    assert body["cancel_at_period_end"] is True
    assert body["ends_at"] == body["current_period_end"]
    assert body["trial_end"] is not None
    assert body["ends_at"] is not None


def test_an_event_for_a_customer_not_ours_is_acknowledged_and_stored(
    http: httpx.Client, fake_stripe: FakeStripe, sessions: sessionmaker[Session]
) -> None:
    stranger = fake_stripe.create_customer(name="Another product's customer")
    sub = fake_stripe.create_subscription(stranger["id"], "price_somebody_else")
    event = fake_stripe.subscription_event("customer.subscription.created", sub["id"])
    assert _apply(http, fake_stripe, sessions, event) == "unattributed"
    # Stripe's retry is acknowledged too: 200, never a 500 that Stripe retries for days.
    again = _post_event(http, fake_stripe, event)
    assert again.status_code == 200, again.text
    assert again.json()["outcome"] == "duplicate"
    with sessions() as session:
        row = session.get_one(StripeEvent, event["id"])
        assert row.ignored_reason is not None
        assert stranger["id"] in row.ignored_reason


def test_a_price_mapped_in_ssm_is_used_without_a_restart(
    http: httpx.Client,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    aws_env: ProvisionedEnv,
) -> None:
    tenant = make_tenant(sessions, plan="free")
    sub_id = _checkout_and_pay(http, fake_stripe, sessions, tenant, "starter")
    legacy = f"gold-{uuid.uuid4().hex[:8]}"  # a legacy plan id: not price_...
    fake_stripe.update_subscription(sub_id, price_id=legacy)
    event = fake_stripe.subscription_event("customer.subscription.updated", sub_id)
    assert _apply(http, fake_stripe, sessions, event) == "unattributed"

    ssm = ssm_client(aws_env.region, aws_env.endpoint_url)
    ssm.put_parameter(
        Name=naming.EnvNames(aws_env.env).path(naming.PRICE_MAP_PREFIX + legacy),
        Value="dealer",
        Type="String",
        Overwrite=True,
    )
    fresh = fake_stripe.subscription_event("customer.subscription.updated", sub_id)
    assert _apply(http, fake_stripe, sessions, fresh) == "processed"
    with sessions() as session:
        assert session.get_one(Account, tenant.account_id).plan_code == "dealer"


@pytest.fixture(scope="module")
def api_without_stripe(api_config: AppConfig) -> Iterator[httpx.Client]:
    """The API pointed at a Stripe address where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = api_config.model_copy(update={"stripe_api_base": dead})
    app = create_app(config, settings=ApiSettings(forwarded_allow_ips=["127.0.0.1"]))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def test_stripe_unreachable_is_503_billing_unavailable_with_retry_after(
    api_without_stripe: httpx.Client, sessions: sessionmaker[Session], fake_stripe: FakeStripe
) -> None:
    tenant = make_tenant(sessions, plan="free")
    checkout = api_without_stripe.post(
        "/v1/billing/checkout", json={"plan_code": "pro"}, headers=tenant.headers
    )
    assert checkout.status_code == 503, checkout.text
    assert checkout.headers["content-type"].startswith("application/problem+json")
    assert checkout.json()["type"].endswith("/billing-unavailable")
    assert int(checkout.headers["Retry-After"]) > 0

    customer = fake_stripe.create_customer()
    with sessions.begin() as session:
        session.get_one(Account, tenant.account_id).stripe_customer_id = customer["id"]
    portal = api_without_stripe.post("/v1/billing/portal", headers=tenant.headers)
    assert portal.status_code == 503, portal.text
    assert portal.json()["type"].endswith("/billing-unavailable")
    assert "Retry-After" in portal.headers
