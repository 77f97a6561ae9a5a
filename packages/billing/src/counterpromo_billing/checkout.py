"""Checkout (start a subscription) and the customer portal (manage it).

One open Checkout Session per account, by construction: ``start_checkout``
locks the account row for the caller's transaction, so checkouts of one
account run one at a time; it then lists the customer's open sessions in
Stripe, returns the one for the same plan if there is one, and expires every
other before creating a new one. Whatever still slips through (a session paid
just before it was expired, a subscription made in the dashboard) is resolved
by the one-live-subscription rule of ``single_subscription``.

Stripe unreachable (no connection, 5xx, 429): ``BillingUnavailable`` (API: 503).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from counterpromo_core.db.models import Account
from counterpromo_core.errors import Conflict, NotFound
from sqlalchemy import select
from sqlalchemy.orm import Session
from stripe import InvalidRequestError, StripeClient

from counterpromo_billing.customers import ensure_customer, forget_missing_customer
from counterpromo_billing.plans import HasPlanPrices, price_for_plan
from counterpromo_billing.stripe_calls import stripe_reachable
from counterpromo_billing.stripe_objects import LIVE_STATUSES


@dataclass(frozen=True)
class CheckoutStarted:
    url: str
    session_id: str
    reused: bool = False  # an open session for the same plan was returned


def _account(session: Session, account_id: uuid.UUID, *, lock: bool = False) -> Account:
    query = select(Account).where(Account.id == account_id)
    if lock:
        query = query.with_for_update(of=Account)
    account = session.scalar(query.execution_options(populate_existing=True))
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


def open_sessions(stripe: StripeClient, customer_id: str) -> list[dict[str, Any]]:
    """The customer's open Checkout Sessions in Stripe (every page)."""
    listed = stripe.v1.checkout.sessions.list(
        params={"customer": customer_id, "status": "open", "limit": 100}
    )
    return [s.to_dict() for s in listed.auto_paging_iter()]


def _reuse_or_expire(
    stripe: StripeClient, customer_id: str, plan_code: str
) -> CheckoutStarted | None:
    """An open session for ``plan_code`` to hand out again; every other open one expired."""
    reusable: CheckoutStarted | None = None
    for found in sorted(open_sessions(stripe, customer_id), key=lambda s: -int(s["created"])):
        plan = (found.get("metadata") or {}).get("plan_code")
        if reusable is None and plan == plan_code and found.get("url"):
            reusable = CheckoutStarted(url=found["url"], session_id=found["id"], reused=True)
            continue
        try:
            stripe.v1.checkout.sessions.expire(found["id"])
        except InvalidRequestError:
            # Completed or expired meanwhile: nothing to expire (a paid one is resolved
            # by the one-live-subscription rule when its events arrive).
            continue
    return reusable


def _create_session(  # noqa: PLR0917 - private helper, called once
    stripe: StripeClient,
    account_id: uuid.UUID,
    customer_id: str,
    plan_code: str,
    price_id: str,
    app_url: str,
) -> CheckoutStarted:
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
    ``BillingUnavailable`` when Stripe cannot be reached.
    """
    account = _account(session, account_id, lock=True)
    if account.stripe_subscription_id is not None and account.subscription_status in LIVE_STATUSES:
        raise Conflict(
            f"account {account_id} already has a {account.subscription_status} subscription; "
            "change plan in the customer portal"
        )
    price_id = price_for_plan(prices, plan_code)
    with stripe_reachable():
        customer_id = ensure_customer(session, account_id, stripe_client=stripe)
        try:
            return _checkout_for(stripe, account_id, customer_id, plan_code, price_id, app_url)
        except InvalidRequestError as exc:
            if exc.code != "resource_missing" or exc.param != "customer":
                raise
        # The customer was deleted in Stripe before its customer.deleted event arrived:
        # unlink it and start again with a new customer.
        forget_missing_customer(session, account_id, customer_id)
        customer_id = ensure_customer(session, account_id, stripe_client=stripe)
        return _checkout_for(stripe, account_id, customer_id, plan_code, price_id, app_url)


def _checkout_for(  # noqa: PLR0917 - private helper
    stripe: StripeClient,
    account_id: uuid.UUID,
    customer_id: str,
    plan_code: str,
    price_id: str,
    app_url: str,
) -> CheckoutStarted:
    reusable = _reuse_or_expire(stripe, customer_id, plan_code)
    if reusable is not None:
        return reusable
    return _create_session(stripe, account_id, customer_id, plan_code, price_id, app_url)


def open_portal(
    session: Session, account_id: uuid.UUID, *, stripe: StripeClient, app_url: str
) -> str:
    """The URL of a Stripe customer portal session; ``Conflict`` if the account has no customer."""
    account = _account(session, account_id)
    if account.stripe_customer_id is None:
        raise Conflict(f"account {account_id} has no Stripe customer yet; start a checkout first")
    _, _, return_url = billing_urls(app_url)
    with stripe_reachable():
        portal = stripe.v1.billing_portal.sessions.create(
            params={"customer": account.stripe_customer_id, "return_url": return_url}
        )
    return portal.url


__all__ = ["CheckoutStarted", "billing_urls", "open_portal", "open_sessions", "start_checkout"]
