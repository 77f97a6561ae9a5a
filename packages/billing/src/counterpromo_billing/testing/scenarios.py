"""Building blocks for billing tests: the account's billing state and a subscription's life."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from counterpromo_core.db.models import Account
from sqlalchemy.orm import Session

from counterpromo_billing.testing.fake_stripe import FakeStripe


@dataclass(frozen=True)
class BillingState:
    """The account columns billing owns, for comparing outcomes."""

    plan_code: str
    stripe_customer_id: str | None
    stripe_subscription_id: str | None
    subscription_status: str | None
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool


@dataclass(frozen=True)
class Subscribed:
    """An account that went through checkout; its subscription exists in the fake Stripe."""

    account_id: uuid.UUID
    subscription_id: str
    events: list[dict[str, Any]]  # checkout.session.completed, customer.subscription.created


def read_billing_state(session: Session, account_id: uuid.UUID) -> BillingState:
    account = session.get_one(Account, account_id, populate_existing=True)
    return BillingState(
        plan_code=account.plan_code,
        stripe_customer_id=account.stripe_customer_id,
        stripe_subscription_id=account.stripe_subscription_id,
        subscription_status=account.subscription_status,
        current_period_end=account.current_period_end,
        cancel_at_period_end=account.cancel_at_period_end,
    )


def expected_state(
    fake: FakeStripe, subscription_id: str, price_map: Mapping[str, str]
) -> BillingState:
    """What an account must look like once every event of the subscription is processed."""
    sub = fake.subscription(subscription_id)
    item = sub["items"]["data"][0]
    paid = sub["status"] in ("active", "trialing", "past_due")
    return BillingState(
        plan_code=price_map[item["price"]["id"]] if paid else "free",
        stripe_customer_id=sub["customer"],
        stripe_subscription_id=sub["id"],
        subscription_status=sub["status"],
        current_period_end=dt.datetime.fromtimestamp(item["current_period_end"], dt.UTC),
        cancel_at_period_end=sub["cancel_at_period_end"],
    )


def subscription_life(
    fake: FakeStripe, subscription_id: str, plan_prices: Mapping[str, str]
) -> list[dict[str, Any]]:
    """After creation: updated to pro, payment failed, paid, updated to starter, deleted.

    Changes the subscription in the fake step by step and returns the event of
    each step, in order, each carrying its snapshot.
    """
    events = []
    fake.update_subscription(subscription_id, price_id=plan_prices["pro"])
    events.append(fake.subscription_event("customer.subscription.updated", subscription_id))
    fake.update_subscription(subscription_id, status="past_due")
    events.append(fake.invoice_event("invoice.payment_failed", subscription_id))
    fake.update_subscription(subscription_id, status="active")
    fake.advance_period(subscription_id)
    events.append(fake.invoice_event("invoice.paid", subscription_id))
    fake.update_subscription(subscription_id, price_id=plan_prices["starter"])
    events.append(fake.subscription_event("customer.subscription.updated", subscription_id))
    fake.cancel_subscription(subscription_id)
    events.append(fake.subscription_event("customer.subscription.deleted", subscription_id))
    return events


__all__ = [
    "BillingState",
    "Subscribed",
    "expected_state",
    "read_billing_state",
    "subscription_life",
]
