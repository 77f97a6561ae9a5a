"""Shared fixtures: accounts made with the ORM, price maps, and delivering signed events."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.webhooks import WebhookOutcome, receive_event
from counterpromo_core.db.models import Account, StripeEvent
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

APP_URL = "https://app.counterpromo.test"


@dataclass(frozen=True)
class BillingState:
    """The account columns billing owns, for comparing outcomes."""

    plan_code: str
    stripe_customer_id: str | None
    stripe_subscription_id: str | None
    subscription_status: str | None
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool


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
            account = Account(id=uuid.uuid4(), name=name, **{"plan_code": "free", **fields})
            session.add(account)
        return account.id

    return make


@pytest.fixture
def billing_state(sessions: sessionmaker[Session]) -> Callable[[uuid.UUID], BillingState]:
    def read(account_id: uuid.UUID) -> BillingState:
        with sessions() as session:
            account = session.get_one(Account, account_id)
            return BillingState(
                plan_code=account.plan_code,
                stripe_customer_id=account.stripe_customer_id,
                stripe_subscription_id=account.stripe_subscription_id,
                subscription_status=account.subscription_status,
                current_period_end=account.current_period_end,
                cancel_at_period_end=account.cancel_at_period_end,
            )

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
