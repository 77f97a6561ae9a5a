"""One live subscription per account, whatever Stripe let through.

Checkout expires an account's other open sessions (``checkout``), but two
sessions paid at once, or a subscription made in the Stripe dashboard, can
still leave a customer with several live subscriptions. The rule, applied on
every event of the account while its row is locked:

- the customer's live subscriptions (``active``, ``trialing``, ``past_due``,
  ``unpaid``) are listed from Stripe;
- the newest (``created``, then id) is kept: it is the customer's latest choice;
- every other one is cancelled at once with proration (Stripe credits the unused
  time) and an audit event ``billing.duplicate_subscription_canceled`` names
  both subscriptions.

It depends only on the set of subscriptions in Stripe, so the result is the
same whatever the order (or concurrency) of the webhook deliveries.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from counterpromo_core.db.models import AuditEvent
from sqlalchemy import select
from sqlalchemy.orm import Session
from stripe import InvalidRequestError, StripeClient

from counterpromo_billing.plans import HasPriceMap
from counterpromo_billing.stripe_objects import SubscriptionState, subscription_state

DUPLICATE_CANCELED = "billing.duplicate_subscription_canceled"


PriceSource = Mapping[str, str] | HasPriceMap


def refresh_prices(prices: PriceSource) -> PriceSource:
    """The price map read again when the source can (``LivePrices``), else the same."""
    refresh = getattr(prices, "refresh", None)
    if callable(refresh):
        fresh: PriceSource = refresh()
        return fresh
    return prices


def live_subscriptions(stripe: StripeClient, customer_id: str) -> list[SubscriptionState]:
    """The customer's live subscriptions in Stripe, newest first (every page)."""
    listed = stripe.v1.subscriptions.list(params={"customer": customer_id, "limit": 100})
    states = [subscription_state(s.to_dict()) for s in listed.auto_paging_iter()]
    return sorted((s for s in states if s.live), key=lambda s: (s.created, s.id), reverse=True)


def _cancel_now(stripe: StripeClient, subscription_id: str) -> None:
    try:
        stripe.v1.subscriptions.cancel(
            subscription_id,
            params={
                "prorate": True,
                "invoice_now": True,
                "cancellation_details": {"comment": "duplicate subscription (Counter Promo)"},
            },
        )
    except InvalidRequestError:
        # Already cancelled by a concurrent run (or by hand): fine if it is no longer live.
        current = subscription_state(stripe.v1.subscriptions.retrieve(subscription_id).to_dict())
        if current.live:
            raise


BILLING_AUDIT_ACTIONS = (
    DUPLICATE_CANCELED,
    "billing.customer_deleted",
    "billing.customer_missing",
)


def billing_audit(session: Session, *, limit: int = 50) -> list[AuditEvent]:
    """What billing did on its own (duplicates cancelled, customers gone), newest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(BILLING_AUDIT_ACTIONS))
            .order_by(AuditEvent.created_at.desc())
            .limit(limit)
        )
    )


def keep_one_live_subscription(
    session: Session,
    stripe: StripeClient,
    account_id: uuid.UUID,
    customer_id: str,
    *,
    actor: str,
) -> SubscriptionState | None:
    """Cancel all but the newest live subscription of the customer; the kept one, if any.

    Call with the account row locked (one run per account at a time).
    """
    live = live_subscriptions(stripe, customer_id)
    if not live:
        return None
    kept, extra = live[0], live[1:]
    for duplicate in extra:
        _cancel_now(stripe, duplicate.id)
        session.add(
            AuditEvent(
                account_id=account_id,
                actor=actor,
                action=DUPLICATE_CANCELED,
                detail={
                    "customer": customer_id,
                    "kept": kept.id,
                    "canceled": duplicate.id,
                    "canceled_status": duplicate.status,
                    "rule": "keep the newest live subscription; cancel the others now, prorated",
                },
            )
        )
    session.flush()
    return kept


__all__ = [
    "BILLING_AUDIT_ACTIONS",
    "DUPLICATE_CANCELED",
    "PriceSource",
    "billing_audit",
    "keep_one_live_subscription",
    "live_subscriptions",
    "refresh_prices",
]
