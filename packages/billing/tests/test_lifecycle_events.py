"""The lifecycle events Cashier, Pay and dj-stripe handle, and every API version's shapes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from counterpromo_billing.checkout import start_checkout
from counterpromo_billing.subscription_sync import PAST_DUE_GRACE
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.testing.scenarios import Subscribed
from counterpromo_billing.webhooks import WebhookOutcome
from counterpromo_core.db.models import Account, AuditEvent, StripeEvent
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

APP_URL = "https://app.counterpromo.test"

Deliver = Callable[[dict[str, Any]], WebhookOutcome]


def _account(sessions: sessionmaker[Session], account_id: uuid.UUID) -> Account:
    with sessions() as session:
        return session.get_one(Account, account_id, populate_existing=True)


def _subscribed(subscribe: Callable[..., Subscribed], deliver: Deliver, **kw: Any) -> Subscribed:
    started = subscribe(**kw)
    for event in started.events:
        assert deliver(event).status == "processed"
    return started


def test_customer_deleted_clears_the_customer_and_a_new_checkout_makes_another(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    plan_prices: dict[str, str],
) -> None:
    started = _subscribed(subscribe, deliver, plan="pro")
    old_customer = _account(sessions, started.account_id).stripe_customer_id
    assert old_customer is not None
    fake_stripe.cancel_subscription(started.subscription_id)
    stripe_client.v1.customers.delete(old_customer)
    deleted = fake_stripe.event("customer.deleted", fake_stripe.customer(old_customer))
    # Delivered before the subscription's own deletion event: order does not matter.
    assert deliver(deleted).status == "processed"
    late = fake_stripe.subscription_event("customer.subscription.deleted", started.subscription_id)
    assert deliver(late).status == "unattributed"

    account = _account(sessions, started.account_id)
    assert (account.stripe_customer_id, account.stripe_subscription_id) == (None, None)
    assert (account.plan_code, account.subscription_status) == ("free", None)
    with sessions.begin() as session:
        again = start_checkout(
            session,
            started.account_id,
            "starter",
            stripe=stripe_client,
            prices=plan_prices,
            app_url=APP_URL,
        )
    new_customer = fake_stripe.checkout_session(again.session_id)["customer"]
    assert new_customer not in (None, old_customer)
    assert _account(sessions, started.account_id).stripe_customer_id == new_customer
    with sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.account_id == started.account_id)
        ).all()
    assert "billing.customer_deleted" in actions


def test_checkout_with_a_customer_deleted_in_stripe_before_its_event_makes_a_new_one(
    *,
    make_account: Callable[..., uuid.UUID],
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    plan_prices: dict[str, str],
) -> None:
    gone = fake_stripe.create_customer()["id"]
    stripe_client.v1.customers.delete(gone)
    account_id = make_account(stripe_customer_id=gone)
    with sessions.begin() as session:
        started = start_checkout(
            session, account_id, "pro", stripe=stripe_client, prices=plan_prices, app_url=APP_URL
        )
    customer = fake_stripe.checkout_session(started.session_id)["customer"]
    assert customer not in (None, gone)
    assert _account(sessions, account_id).stripe_customer_id == customer


def test_trial_end_is_kept_and_trial_will_end_is_recorded(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
) -> None:
    started = _subscribed(subscribe, deliver, plan="pro", status="trialing")
    sub = fake_stripe.subscription(started.subscription_id)
    trial_end = sub["items"]["data"][0]["current_period_end"]
    fake_stripe.set_trial_end(started.subscription_id, trial_end)
    event = fake_stripe.subscription_event(
        "customer.subscription.trial_will_end", started.subscription_id
    )
    outcome = deliver(event)
    assert (outcome.status, outcome.account_id) == ("processed", started.account_id)
    account = _account(sessions, started.account_id)
    assert (account.plan_code, account.subscription_status) == ("pro", "trialing")
    assert account.trial_end == dt.datetime.fromtimestamp(trial_end, dt.UTC)
    with sessions() as session:
        assert session.get_one(StripeEvent, event["id"]).account_id == started.account_id


def test_cancel_at_period_end_keeps_the_plan_until_then(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    sessions: sessionmaker[Session],
) -> None:
    started = _subscribed(subscribe, deliver, plan="starter")
    stripe_client.v1.subscriptions.update(
        started.subscription_id, params={"cancel_at_period_end": True}
    )
    deliver(
        fake_stripe.subscription_event("customer.subscription.updated", started.subscription_id)
    )
    account = _account(sessions, started.account_id)
    end = fake_stripe.subscription(started.subscription_id)["items"]["data"][0][
        "current_period_end"
    ]
    assert (account.plan_code, account.cancel_at_period_end) == ("starter", True)
    assert account.current_period_end == dt.datetime.fromtimestamp(end, dt.UTC)


def test_past_due_keeps_the_plan_for_the_grace_period_then_free(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
) -> None:
    started = _subscribed(subscribe, deliver, plan="pro")
    fake_stripe.update_subscription(started.subscription_id, status="past_due")
    outcome = deliver(fake_stripe.invoice_event("invoice.payment_failed", started.subscription_id))
    assert outcome.status == "processed"
    account = _account(sessions, started.account_id)
    assert (account.plan_code, account.subscription_status) == ("pro", "past_due")
    assert account.past_due_since is not None
    assert account.payment_failed_at is not None
    # Stripe retries the payment; a retry after the grace period has run out:
    with sessions.begin() as session:
        session.execute(
            update(Account)
            .where(Account.id == started.account_id)
            .values(past_due_since=account.past_due_since - PAST_DUE_GRACE - dt.timedelta(hours=1))
        )
    deliver(fake_stripe.invoice_event("invoice.payment_failed", started.subscription_id))
    assert _account(sessions, started.account_id).plan_code == "free"
    # Paid at last: the plan is back and the grace clock is cleared.
    fake_stripe.update_subscription(started.subscription_id, status="active")
    deliver(fake_stripe.invoice_event("invoice.paid", started.subscription_id))
    account = _account(sessions, started.account_id)
    assert (account.plan_code, account.past_due_since) == ("pro", None)


def test_unpaid_is_free(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
) -> None:
    started = _subscribed(subscribe, deliver, plan="dealer")
    fake_stripe.update_subscription(started.subscription_id, status="unpaid")
    deliver(
        fake_stripe.subscription_event("customer.subscription.updated", started.subscription_id)
    )
    account = _account(sessions, started.account_id)
    assert (account.plan_code, account.subscription_status) == ("free", "unpaid")


def test_checkout_expired_and_async_payment_events_are_recorded_for_the_account(
    *,
    make_account: Callable[..., uuid.UUID],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account()
    with sessions.begin() as session:
        first = start_checkout(
            session, account_id, "pro", stripe=stripe_client, prices=plan_prices, app_url=APP_URL
        )
    stripe_client.v1.checkout.sessions.expire(first.session_id)
    expired = fake_stripe.event(
        "checkout.session.expired", fake_stripe.public_checkout_session(first.session_id)
    )
    outcome = deliver(expired)
    assert (outcome.status, outcome.account_id) == ("processed", account_id)
    assert _account(sessions, account_id).plan_code == "free"

    with sessions.begin() as session:
        second = start_checkout(
            session, account_id, "pro", stripe=stripe_client, prices=plan_prices, app_url=APP_URL
        )
    fake_stripe.complete_checkout(second.session_id)
    paid = fake_stripe.event(
        "checkout.session.async_payment_succeeded",
        fake_stripe.public_checkout_session(second.session_id),
    )
    assert deliver(paid).status == "processed"
    assert _account(sessions, account_id).plan_code == "pro"


def _legacy_invoice(event: dict[str, Any], sub_id: str) -> dict[str, Any]:
    """The invoice as API versions before 2025-03-31 sent it: a top-level ``subscription``."""
    invoice = event["data"]["object"]
    invoice.pop("parent", None)
    invoice["subscription"] = sub_id
    for line in invoice["lines"]["data"]:
        line.pop("parent", None)
        line["subscription"] = sub_id
    event["api_version"] = "2024-06-20"
    return event


@pytest.mark.parametrize("shape", ["current", "before-2025-03-31"])
def test_invoice_paid_finds_its_subscription_in_every_api_version(
    *,
    shape: str,
    make_account: Callable[..., uuid.UUID],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account()
    customer = fake_stripe.create_customer(account_id=str(account_id))
    sub = fake_stripe.create_subscription(customer["id"], plan_prices["dealer"])
    event = fake_stripe.invoice_event("invoice.paid", sub["id"])
    if shape != "current":
        event = _legacy_invoice(event, sub["id"])
        assert "parent" not in event["data"]["object"]
    outcome = deliver(event)
    assert (outcome.status, outcome.account_id) == ("processed", account_id)
    account = _account(sessions, account_id)
    assert (account.plan_code, account.stripe_subscription_id) == ("dealer", sub["id"])
