"""Checkout (start a subscription) and the customer portal (manage it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from counterpromo_core.db.models import Account
from counterpromo_core.errors import Conflict, NotFound
from sqlalchemy.orm import Session
from stripe import StripeClient

from counterpromo_billing.customers import ensure_customer
from counterpromo_billing.plans import HasPlanPrices, price_for_plan
from counterpromo_billing.stripe_objects import LIVE_STATUSES


@dataclass(frozen=True)
class CheckoutStarted:
    url: str
    session_id: str


def _account(session: Session, account_id: uuid.UUID) -> Account:
    account = session.get(Account, account_id, populate_existing=True)
    if account is None:
        raise NotFound("account", account_id)
    return account


def billing_urls(app_url: str) -> tuple[str, str, str]:
    """(success, cancel, portal return) URLs under the app URL."""
    base = app_url.rstrip("/")
    return (
        f"{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
        f"{base}/billing/cancelled",
        f"{base}/billing",
    )


def start_checkout(
    session: Session,
    account_id: uuid.UUID,
    plan_code: str,
    *,
    stripe: StripeClient,
    prices: Mapping[str, str] | HasPlanPrices,
    app_url: str,
) -> CheckoutStarted:
    """A Stripe Checkout Session (subscription mode) for ``plan_code``.

    ``Conflict`` when the account already has a live subscription: plan changes
    go through the portal, so an account never pays for two subscriptions.
    ``UnknownPlan`` when the plan has no configured price (free, or a typo).
    """
    account = _account(session, account_id)
    if account.stripe_subscription_id is not None and account.subscription_status in LIVE_STATUSES:
        raise Conflict(
            f"account {account_id} already has a {account.subscription_status} subscription; "
            "change plan in the customer portal"
        )
    price_id = price_for_plan(prices, plan_code)
    customer_id = ensure_customer(session, account_id, stripe_client=stripe)
    success_url, cancel_url, _ = billing_urls(app_url)
    checkout = stripe.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(account_id),
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": {"account_id": str(account_id), "plan_code": plan_code},
            "subscription_data": {"metadata": {"account_id": str(account_id)}},
        }
    )
    if checkout.url is None:  # pragma: no cover - Stripe always returns one for hosted checkout
        raise RuntimeError(f"Stripe returned checkout session {checkout.id} without a URL")
    return CheckoutStarted(url=checkout.url, session_id=checkout.id)


def open_portal(
    session: Session, account_id: uuid.UUID, *, stripe: StripeClient, app_url: str
) -> str:
    """The URL of a Stripe customer portal session; ``Conflict`` if the account has no customer."""
    account = _account(session, account_id)
    if account.stripe_customer_id is None:
        raise Conflict(f"account {account_id} has no Stripe customer yet; start a checkout first")
    _, _, return_url = billing_urls(app_url)
    portal = stripe.v1.billing_portal.sessions.create(
        params={"customer": account.stripe_customer_id, "return_url": return_url}
    )
    return portal.url


__all__ = ["CheckoutStarted", "billing_urls", "open_portal", "start_checkout"]
