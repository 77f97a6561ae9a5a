"""Bring an account's billing state in line with Stripe for one event.

Design (order independence): an event is only a hint that something changed.
For every subscription-bearing event we lock the account row
(``SELECT ... FOR UPDATE``), re-read the customer's subscriptions from Stripe,
the source of truth, while holding the lock, and write what Stripe says now.
Whatever order events arrive in, and however many run at once, the last one to
take the lock applies the newest state. The event's own ``data.object`` (a
snapshot from when it was sent) is never applied.

One live subscription per account (see ``single_subscription``): when the
customer has more than one live subscription, the newest is kept and the
others are cancelled at once with proration, each recorded as an audit event.
The rule depends only on Stripe's set of subscriptions, never on event order.

Events we cannot attribute (a customer that is not ours, a price the price map
does not know even after re-reading it) raise ``Unattributed``: the webhook
layer stores them with the reason and answers 2xx.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

from counterpromo_core.db.models import Account, AuditEvent, BillingPlan, utcnow
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session
from stripe import InvalidRequestError, StripeClient

from counterpromo_billing.errors import EventProcessingError, Unattributed, UnknownPrice
from counterpromo_billing.plans import HasPriceMap, plan_for_price
from counterpromo_billing.single_subscription import (
    PriceSource,
    keep_one_live_subscription,
    refresh_prices,
)
from counterpromo_billing.stripe_objects import (
    EventRefs,
    SubscriptionState,
    event_refs,
    metadata_account_id,
    preferred_subscription,
    subscription_state,
)

FREE_PLAN = "free"
# past_due keeps the paid plan this long after the subscription was first seen past_due
# (Stripe's smart retries run for about that long and send an event on each attempt).
PAST_DUE_GRACE = dt.timedelta(days=7)
AUDIT_ACTOR = "stripe"

# Events that may change the subscription: the account is re-synced from Stripe.
SUBSCRIPTION_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        "invoice.marked_uncollectible",
    }
)
# Events recorded against the account (stored with its id) that change nothing else.
RECORDED_EVENT_TYPES = frozenset({"checkout.session.expired"})
CUSTOMER_DELETED = "customer.deleted"
HANDLED_EVENT_TYPES = SUBSCRIPTION_EVENT_TYPES | RECORDED_EVENT_TYPES | {CUSTOMER_DELETED}


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


def _stripe_customer(stripe: StripeClient, customer_id: str) -> dict[str, Any]:
    try:
        return stripe.v1.customers.retrieve(customer_id).to_dict()
    except InvalidRequestError as exc:
        if exc.code == "resource_missing":
            raise Unattributed(f"Stripe customer {customer_id} does not exist") from None
        raise


def lock_event_account(session: Session, refs: EventRefs, *, stripe: StripeClient) -> Account:
    """The account an event concerns, row-locked for the rest of the transaction.

    Found by its Stripe customer id; for a customer not linked yet, by the
    account id the object carries (``client_reference_id`` or metadata), else
    by the customer's ``metadata.account_id`` in Stripe. Linking happens here,
    never to a deleted customer. ``Unattributed`` when no account of ours matches.
    """
    if refs.customer_id is not None:
        linked = _lock_account(session, Account.stripe_customer_id == refs.customer_id)
        if linked is not None:
            return linked
    customer = _stripe_customer(stripe, refs.customer_id) if refs.customer_id else None
    hint = refs.account_hint or (metadata_account_id(customer) if customer else None)
    account_id = _parse_uuid(hint)
    if account_id is None:
        raise Unattributed(
            f"no account for Stripe customer {refs.customer_id!r} "
            "(no linked customer, client_reference_id or metadata.account_id)"
        )
    account = _lock_account(session, Account.id == account_id)
    if account is None:
        raise Unattributed(f"account {account_id} named by the event does not exist")
    if refs.customer_id is not None:
        if customer is not None and customer.get("deleted"):
            raise Unattributed(f"Stripe customer {refs.customer_id} was deleted")
        if account.stripe_customer_id is None:
            account.stripe_customer_id = refs.customer_id
        elif account.stripe_customer_id != refs.customer_id:
            raise Unattributed(
                f"account {account_id} is linked to Stripe customer "
                f"{account.stripe_customer_id}, not {refs.customer_id}"
            )
    return account


def fetch_subscription(stripe: StripeClient, subscription_id: str) -> SubscriptionState:
    return subscription_state(stripe.v1.subscriptions.retrieve(subscription_id).to_dict())


def _fetch_or_none(stripe: StripeClient, subscription_id: str | None) -> SubscriptionState | None:
    if subscription_id is None:
        return None
    try:
        return fetch_subscription(stripe, subscription_id)
    except InvalidRequestError as exc:
        if exc.code == "resource_missing":
            return None
        raise


def _current_state(
    session: Session, stripe: StripeClient, account: Account, event_subscription: str | None
) -> SubscriptionState | None:
    """The subscription that defines the account now: its one live one, else the newest known."""
    if account.stripe_customer_id is not None:
        kept = keep_one_live_subscription(
            session, stripe, account.id, account.stripe_customer_id, actor=AUDIT_ACTOR
        )
        if kept is not None:
            return kept
    candidates = [
        s
        for s in (
            _fetch_or_none(stripe, event_subscription),
            _fetch_or_none(stripe, account.stripe_subscription_id),
        )
        if s is not None
    ]
    return reduce(preferred_subscription, candidates) if candidates else None


def _plan_for(session: Session, state: SubscriptionState, prices: PriceSource) -> str:
    if state.price_id is None:
        raise EventProcessingError(f"subscription {state.id} has no price")
    try:
        plan_code = plan_for_price(prices, state.price_id)
    except UnknownPrice:
        # The map may have changed a moment ago (``price-map set``): read it again once.
        try:
            plan_code = plan_for_price(refresh_prices(prices), state.price_id)
        except UnknownPrice as exc:
            raise Unattributed(str(exc)) from None
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
    now = utcnow()
    plan_code = _plan_for(session, state, price_map) if state.grants_plan else FREE_PLAN
    if state.status == "past_due":
        same = account.stripe_subscription_id == state.id
        since = account.past_due_since if same and account.past_due_since else now
        account.past_due_since = since
        if now - since > PAST_DUE_GRACE:
            plan_code = FREE_PLAN
    else:
        account.past_due_since = None
    account.plan_code = plan_code
    account.stripe_subscription_id = state.id
    account.subscription_status = state.status
    account.current_period_end = state.current_period_end
    account.cancel_at_period_end = state.cancel_at_period_end
    account.trial_end = state.trial_end
    # When we read this state from Stripe (re-fetch design: always the newest).
    account.billing_state_at = now
    account.updated_at = now
    session.flush()


def _customer_deleted(session: Session, refs: EventRefs) -> SyncResult:
    """The customer is gone (and with it its subscriptions): back to free, no customer."""
    account = (
        _lock_account(session, Account.stripe_customer_id == refs.customer_id)
        if refs.customer_id
        else None
    )
    if account is None:
        raise Unattributed(f"Stripe customer {refs.customer_id!r} is not linked to any account")
    now = utcnow()
    session.add(
        AuditEvent(
            account_id=account.id,
            actor=AUDIT_ACTOR,
            action="billing.customer_deleted",
            detail={
                "customer": refs.customer_id,
                "subscription": account.stripe_subscription_id,
                "plan_before": account.plan_code,
            },
        )
    )
    account.stripe_customer_id = None
    account.stripe_subscription_id = None
    account.subscription_status = None
    account.plan_code = FREE_PLAN
    account.current_period_end = None
    account.cancel_at_period_end = False
    account.trial_end = None
    account.past_due_since = None
    account.billing_state_at = now
    account.updated_at = now
    session.flush()
    return SyncResult(account_id=account.id, handled=True)


def sync_for_event(
    session: Session,
    event_type: str,
    obj: Mapping[str, Any],
    *,
    stripe: StripeClient,
    price_map: PriceSource,
) -> SyncResult:
    """Apply one event (inside the caller's transaction); unhandled types change nothing.

    ``Unattributed`` when the event concerns no account of ours.
    """
    if event_type not in HANDLED_EVENT_TYPES:
        return SyncResult(account_id=None, handled=False)
    refs = event_refs(event_type, obj)
    if event_type == CUSTOMER_DELETED:
        return _customer_deleted(session, refs)
    account = lock_event_account(session, refs, stripe=stripe)
    if event_type in RECORDED_EVENT_TYPES:
        session.flush()
        return SyncResult(account_id=account.id, handled=True)
    if event_type == "invoice.payment_failed":
        account.payment_failed_at = utcnow()
    state = _current_state(session, stripe, account, refs.subscription_id)
    if state is not None:
        apply_subscription(session, account, state, price_map=price_map)
    session.flush()
    return SyncResult(account_id=account.id, handled=True)


__all__ = [
    "CUSTOMER_DELETED",
    "FREE_PLAN",
    "HANDLED_EVENT_TYPES",
    "PAST_DUE_GRACE",
    "RECORDED_EVENT_TYPES",
    "SUBSCRIPTION_EVENT_TYPES",
    "SyncResult",
    "apply_subscription",
    "fetch_subscription",
    "lock_event_account",
    "sync_for_event",
]
