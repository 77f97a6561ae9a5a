"""Reading the fields we need out of Stripe objects (plain dicts, the current API shapes).

Every API version's shapes are read: a subscription's billing period is on its
item (``items.data[0].current_period_end``) since 2025-03-31 and on the
subscription itself before; an invoice names its subscription through
``parent.subscription_details.subscription`` since 2025-03-31 and through a
top-level ``subscription`` before (its lines through ``parent.subscription_item_details``
or, before, a top-level ``subscription`` on the line).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Statuses in which the customer still has (or is about to have) a running subscription:
# a new checkout is refused, they change plan in the portal instead.
LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid"})
# Statuses that give the account its paid plan. past_due keeps the plan while Stripe
# retries the payment; unpaid, incomplete, paused and canceled do not.
PLAN_GRANTING_STATUSES = frozenset({"active", "trialing", "past_due"})
# A subscription in one of these will never become active again.
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})


def object_id(value: Any) -> str | None:
    """The id of a reference that may be a plain id or an expanded object."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping):
        inner = value.get("id")
        return inner if isinstance(inner, str) and inner else None
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _timestamp(value: Any) -> dt.datetime | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return None


def metadata_account_id(obj: Mapping[str, Any]) -> str | None:
    value = _mapping(obj.get("metadata")).get("account_id")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class SubscriptionState:
    """The part of a Stripe subscription that decides an account's billing state."""

    id: str
    customer_id: str | None
    status: str
    price_id: str | None
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool
    created: int
    trial_end: dt.datetime | None = None
    cancel_at: dt.datetime | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def grants_plan(self) -> bool:
        return self.status in PLAN_GRANTING_STATUSES

    @property
    def ended(self) -> bool:
        return self.status in ENDED_STATUSES


def subscription_state(obj: Mapping[str, Any]) -> SubscriptionState:
    """Parse a subscription object; we sell one price per subscription (its first item)."""
    sub_id = object_id(obj.get("id"))
    status = obj.get("status")
    if sub_id is None or not isinstance(status, str):
        raise ValueError("not a Stripe subscription object (no id or status)")
    items = _mapping(obj.get("items")).get("data")
    first: Mapping[str, Any] = (
        _mapping(items[0]) if isinstance(items, list) and items else _mapping(None)
    )
    created = obj.get("created")
    return SubscriptionState(
        id=sub_id,
        customer_id=object_id(obj.get("customer")),
        status=status,
        price_id=object_id(first.get("price")),
        # The item's period (current versions), else the subscription's (before 2025-03-31).
        current_period_end=_timestamp(first.get("current_period_end"))
        or _timestamp(obj.get("current_period_end")),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        created=created if isinstance(created, int) else 0,
        trial_end=_timestamp(obj.get("trial_end")),
        cancel_at=_timestamp(obj.get("cancel_at")),
    )


def preferred_subscription(a: SubscriptionState, b: SubscriptionState) -> SubscriptionState:
    """Which of two subscriptions of one account defines its state.

    One that has not ended beats one that has; otherwise the newer one. This
    depends only on the two subscriptions, never on which event came first.
    """
    return max(a, b, key=lambda s: (not s.ended, s.created, s.id))


@dataclass(frozen=True)
class EventRefs:
    """What an event's object tells us about the account and subscription it concerns."""

    subscription_id: str | None
    customer_id: str | None
    account_hint: str | None


def event_refs(event_type: str, obj: Mapping[str, Any]) -> EventRefs:
    customer_id = object_id(obj.get("customer"))
    if event_type.startswith("checkout.session."):
        return EventRefs(
            subscription_id=object_id(obj.get("subscription")),
            customer_id=customer_id,
            account_hint=_str_or_none(obj.get("client_reference_id")) or metadata_account_id(obj),
        )
    if event_type.startswith("customer.subscription."):
        return EventRefs(
            subscription_id=object_id(obj.get("id")),
            customer_id=customer_id,
            account_hint=metadata_account_id(obj),
        )
    if event_type.startswith("invoice."):
        return EventRefs(
            subscription_id=invoice_subscription_id(obj),
            customer_id=customer_id,
            account_hint=_invoice_account_hint(obj),
        )
    if event_type.startswith("customer.") and obj.get("object") == "customer":
        return EventRefs(
            subscription_id=None,
            customer_id=object_id(obj.get("id")),
            account_hint=metadata_account_id(obj),
        )
    return EventRefs(subscription_id=None, customer_id=customer_id, account_hint=None)


def _invoice_account_hint(invoice: Mapping[str, Any]) -> str | None:
    details = _mapping(_mapping(invoice.get("parent")).get("subscription_details"))
    return metadata_account_id(details) or metadata_account_id(
        _mapping(invoice.get("subscription_details"))
    )


def invoice_subscription_id(invoice: Mapping[str, Any]) -> str | None:
    """The subscription an invoice bills, from any API version's shape.

    ``parent.subscription_details.subscription`` (2025-03-31 and later), else the
    top-level ``subscription`` (earlier versions), else the first line's
    (``parent.subscription_item_details.subscription``, or ``subscription`` before).
    """
    details = _mapping(_mapping(invoice.get("parent")).get("subscription_details"))
    found = object_id(details.get("subscription")) or object_id(invoice.get("subscription"))
    if found is not None:
        return found
    lines = _mapping(invoice.get("lines")).get("data")
    for line in lines if isinstance(lines, list) else []:
        item_details = _mapping(
            _mapping(_mapping(line).get("parent")).get("subscription_item_details")
        )
        found = object_id(item_details.get("subscription")) or object_id(
            _mapping(line).get("subscription")
        )
        if found is not None:
            return found
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


__all__ = [
    "ENDED_STATUSES",
    "LIVE_STATUSES",
    "PLAN_GRANTING_STATUSES",
    "EventRefs",
    "SubscriptionState",
    "event_refs",
    "invoice_subscription_id",
    "metadata_account_id",
    "object_id",
    "preferred_subscription",
    "subscription_state",
]
