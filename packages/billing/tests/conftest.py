"""Shared fixtures: accounts made with the ORM, price maps, checkout, signed deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from counterpromo_billing.checkout import start_checkout
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.testing.scenarios import BillingState, Subscribed, read_billing_state
from counterpromo_billing.webhooks import WebhookOutcome, receive_event
from counterpromo_core.db.models import Account, StripeEvent
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

# The [testing] extras' pytest plugins are opt-in: registered here, nowhere else.
pytest_plugins = ["counterpromo_storage.testing.plugin", "counterpromo_billing.testing.plugin"]

APP_URL = "https://app.counterpromo.test"


@pytest.fixture(scope="session")
def plan_prices() -> dict[str, str]:
    return {
        "starter": "price_1SvgC3GTMcpBWf0yIiwTxLYq",
        "pro": "price_test_pro_monthly",
        "dealer": "price_test_dealer_monthly",
    }


@pytest.fixture(scope="session")
def price_map(plan_prices: dict[str, str]) -> dict[str, str]:
    return {price: plan for plan, price in plan_prices.items()}


@pytest.fixture
def make_account(sessions: sessionmaker[Session]) -> Callable[..., uuid.UUID]:
    def make(name: str = "Acme Builders Merchants", **fields: Any) -> uuid.UUID:
        with sessions.begin() as session:
            account = Account(
                id=uuid.uuid4(),
                name=name,
                **{"plan_code": "free", "currency": "GBP", "locale": "en-GB", **fields},
            )
            session.add(account)
        return account.id

    return make


@pytest.fixture
def billing_state(sessions: sessionmaker[Session]) -> Callable[[uuid.UUID], BillingState]:
    def read(account_id: uuid.UUID) -> BillingState:
        with sessions() as session:
            return read_billing_state(session, account_id)

    return read


@pytest.fixture
def reset_billing(sessions: sessionmaker[Session]) -> Callable[[uuid.UUID, list[str]], None]:
    """Put an account back to 'customer linked, no subscription' and forget the events."""

    def reset(account_id: uuid.UUID, event_ids: list[str]) -> None:
        with sessions.begin() as session:
            session.execute(delete(StripeEvent).where(StripeEvent.id.in_(event_ids)))
            session.execute(
                update(Account)
                .where(Account.id == account_id)
                .values(
                    plan_code="free",
                    stripe_subscription_id=None,
                    subscription_status=None,
                    current_period_end=None,
                    cancel_at_period_end=False,
                    billing_state_at=None,
                )
            )

    return reset


@pytest.fixture
def deliver(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    price_map: dict[str, str],
) -> Callable[[dict[str, Any]], WebhookOutcome]:
    """Sign an event with the fake's secret and hand it to ``receive_event``."""

    def send(event: dict[str, Any]) -> WebhookOutcome:
        payload, header = fake_stripe.sign(event)
        return receive_event(
            sessions,
            payload,
            header,
            secrets=[fake_stripe.webhook_secret],
            stripe=stripe_client,
            price_map=price_map,
        )

    return send


@pytest.fixture
def subscribe(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
) -> Callable[..., Subscribed]:
    """Checkout through billing, then the customer pays in the fake Stripe."""

    def run(plan: str = "starter", *, status: str = "active") -> Subscribed:
        account_id = make_account()
        with sessions.begin() as session:
            checkout = start_checkout(
                session, account_id, plan, stripe=stripe_client, prices=plan_prices, app_url=APP_URL
            )
        sub = fake_stripe.complete_checkout(checkout.session_id, status=status)
        events = [
            fake_stripe.checkout_completed_event(checkout.session_id),
            fake_stripe.subscription_event("customer.subscription.created", sub["id"]),
        ]
        return Subscribed(account_id, sub["id"], events)

    return run
