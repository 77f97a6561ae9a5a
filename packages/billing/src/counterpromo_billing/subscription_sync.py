"""Bring an account's billing state in line with Stripe for one event.

Design (order independence): an event is only a hint that something changed.
For every subscription-bearing event we lock the account row
(``SELECT ... FOR UPDATE``), re-fetch the subscription from Stripe, the source
of truth, while holding the lock, and write what Stripe says now. Whatever
order events arrive in, and however many run at once, the last one to take
the lock applies the newest state, so the final account state is Stripe's
current state. The event's own ``data.object`` (a snapshot from when it was
sent) is never applied.

When an account already points at a different subscription (the customer
cancelled and subscribed again), both are fetched and the one that has not
ended, else the newer one, wins: again independent of event order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from counterpromo_core.db.models import Account, BillingPlan, utcnow
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session
from stripe import InvalidRequestError, StripeClient

from counterpromo_billing.errors import EventProcessingError
from counterpromo_billing.plans import HasPriceMap, plan_for_price
from counterpromo_billing.stripe_objects import (
    EventRefs,
    SubscriptionState,
    event_refs,
    metadata_account_id,
    preferred_subscription,
    subscription_state,
)

FREE_PLAN = "free"
HANDLED_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)


@dataclass(frozen=True)
class SyncResult:
    account_id: uuid.UUID | None
    handled: bool


def _parse_uuid(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _lock_account(session: Session, where: ColumnElement[bool]) -> Account | None:
    """The account matching ``where``, row-locked and re-read (never a stale identity-map copy)."""
    return session.scalar(
        select(Account)
        .where(where)
        .with_for_update(of=Account)
        .execution_options(populate_existing=True)
    )


def _customer_account_hint(stripe: StripeClient, customer_id: str) -> str | None:
    customer = stripe.v1.customers.retrieve(customer_id).to_dict()
    return metadata_account_id(customer)


def lock_event_account(session: Session, refs: EventRefs, *, stripe: StripeClient) -> Account:
    """The account an event concerns, row-locked for the rest of the transaction.

    Found by its Stripe customer id; for a customer not linked yet, by the
    account id the object carries (``client_reference_id`` or metadata), else
    by the customer's ``metadata.account_id`` in Stripe. Linking happens here.
    """
    if refs.customer_id is not None:
        linked = _lock_account(session, Account.stripe_customer_id == refs.customer_id)
        if linked is not None:
            return linked
    hint = refs.account_hint
    if hint is None and refs.customer_id is not None:
        hint = _customer_account_hint(stripe, refs.customer_id)
    account_id = _parse_uuid(hint)
    if account_id is None:
        raise EventProcessingError(
            f"no account for Stripe customer {refs.customer_id!r} "
            "(no linked customer, client_reference_id or metadata.account_id)"
        )
    account = _lock_account(session, Account.id == account_id)
    if account is None:
        raise EventProcessingError(f"account {account_id} named by the event does not exist")
    if refs.customer_id is not None:
        if account.stripe_customer_id is None:
            account.stripe_customer_id = refs.customer_id
        elif account.stripe_customer_id != refs.customer_id:
            raise EventProcessingError(
                f"account {account_id} is linked to Stripe customer {account.stripe_customer_id}, "
                f"not {refs.customer_id}"
            )
    return account


def fetch_subscription(stripe: StripeClient, subscription_id: str) -> SubscriptionState:
    return subscription_state(stripe.v1.subscriptions.retrieve(subscription_id).to_dict())


def _current_state(
    stripe: StripeClient, account: Account, fetched: SubscriptionState
) -> SubscriptionState:
    stored_id = account.stripe_subscription_id
    if stored_id is None or stored_id == fetched.id:
        return fetched
    try:
        stored = fetch_subscription(stripe, stored_id)
    except InvalidRequestError as exc:
        if exc.code == "resource_missing":
            return fetched
        raise
    return preferred_subscription(stored, fetched)


def _plan_for(
    session: Session, state: SubscriptionState, price_map: Mapping[str, str] | HasPriceMap
) -> str:
    if not state.grants_plan:
        return FREE_PLAN
    if state.price_id is None:
        raise EventProcessingError(f"subscription {state.id} has no price")
    plan_code = plan_for_price(price_map, state.price_id)
    if session.get(BillingPlan, plan_code) is None:
        raise EventProcessingError(
            f"price {state.price_id} maps to plan {plan_code!r}, which does not exist"
        )
    return plan_code


def apply_subscription(
    session: Session,
    account: Account,
    state: SubscriptionState,
    *,
    price_map: Mapping[str, str] | HasPriceMap,
) -> None:
    """Write the subscription's state on the (locked) account; nothing changes on error."""
    plan_code = _plan_for(session, state, price_map)
    account.plan_code = plan_code
    account.stripe_subscription_id = state.id
    account.subscription_status = state.status
    account.current_period_end = state.current_period_end
    account.cancel_at_period_end = state.cancel_at_period_end
    # When we read this state from Stripe (re-fetch design: always the newest).
    account.billing_state_at = utcnow()
    account.updated_at = utcnow()
    session.flush()


def sync_for_event(
    session: Session,
    event_type: str,
    obj: Mapping[str, Any],
    *,
    stripe: StripeClient,
    price_map: Mapping[str, str] | HasPriceMap,
) -> SyncResult:
    """Apply one event (inside the caller's transaction); unhandled types change nothing."""
    if event_type not in HANDLED_EVENT_TYPES:
        return SyncResult(account_id=None, handled=False)
    refs = event_refs(event_type, obj)
    account = lock_event_account(session, refs, stripe=stripe)
    if refs.subscription_id is None:
        # e.g. a checkout completed without a subscription: only the customer link matters.
        session.flush()
        return SyncResult(account_id=account.id, handled=True)
    fetched = fetch_subscription(stripe, refs.subscription_id)
    apply_subscription(
        session, account, _current_state(stripe, account, fetched), price_map=price_map
    )
    return SyncResult(account_id=account.id, handled=True)


__all__ = [
    "FREE_PLAN",
    "HANDLED_EVENT_TYPES",
    "SyncResult",
    "apply_subscription",
    "fetch_subscription",
    "lock_event_account",
    "sync_for_event",
]
