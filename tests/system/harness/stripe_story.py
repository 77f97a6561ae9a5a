"""Subscription histories in the fake Stripe, and the webhook events they produce.

Each account's subscription goes through several states; every change emits the event
Stripe would send. The fake's current subscription is the final state, and the account's
last event (by Stripe's ``created``) is a subscription event that describes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from counterpromo_billing.testing import FakeStripe

EVENTS_PER_ACCOUNT = 10
PLAN_GRANTING = frozenset({"active", "trialing", "past_due"})


@dataclass(frozen=True)
class Story:
    account_id: uuid.UUID
    subscription_id: str
    events: list[dict[str, Any]]

    @property
    def last_event(self) -> dict[str, Any]:
        return max(self.events, key=lambda e: (e["created"], e["id"]))


def expected_state(event: Mapping[str, Any], price_map: Mapping[str, str]) -> tuple[str, str]:
    """(plan code, subscription status) that a subscription event's object describes."""
    sub = event["data"]["object"]
    assert sub["object"] == "subscription", event["type"]
    status = sub["status"]
    price = sub["items"]["data"][0]["price"]["id"]
    return (price_map[price] if status in PLAN_GRANTING else "free", status)


def tell_story(
    fake: FakeStripe, account_id: uuid.UUID, prices: Mapping[str, str], variant: int
) -> Story:
    """Ten events of one account's subscription; ``variant`` picks how it ends."""
    customer = fake.create_customer(account_id=str(account_id), name=f"Dealer {account_id}")
    sub_id = fake.create_subscription(customer["id"], prices["starter"])["id"]
    events: list[dict[str, Any]] = []

    def changed(**change: Any) -> None:
        fake.update_subscription(sub_id, **change)
        events.append(fake.subscription_event("customer.subscription.updated", sub_id))

    events.append(fake.subscription_event("customer.subscription.created", sub_id))
    events.append(fake.invoice_event("invoice.paid", sub_id))
    changed(price_id=prices["pro"])
    changed(status="past_due")
    events.append(fake.invoice_event("invoice.payment_failed", sub_id))
    changed(status="active")
    events.append(fake.invoice_event("invoice.paid", sub_id))
    match variant % 4:
        case 0:  # upgraded to dealer
            changed(price_id=prices["dealer"])
            events.append(fake.invoice_event("invoice.paid", sub_id))
            changed(cancel_at_period_end=False)
        case 1:  # cancelled
            changed(cancel_at_period_end=True)
            fake.cancel_subscription(sub_id)
            events.append(fake.subscription_event("customer.subscription.deleted", sub_id))
            events.append(fake.subscription_event("customer.subscription.deleted", sub_id))
        case 2:  # back on starter, payment failing
            changed(price_id=prices["starter"])
            events.append(fake.invoice_event("invoice.payment_failed", sub_id))
            changed(status="past_due")
        case _:  # payments given up: unpaid
            changed(status="past_due")
            events.append(fake.invoice_event("invoice.payment_failed", sub_id))
            changed(status="unpaid")
    assert len(events) == EVENTS_PER_ACCOUNT
    return Story(account_id, sub_id, events)
