"""Subscription billing through Stripe: checkout, the customer portal, the status."""

from __future__ import annotations

from counterpromo_billing import checkout
from counterpromo_billing.status import billing_status
from counterpromo_core import accounts
from fastapi import Request
from stripe import StripeClient

from counterpromo_api.auth import Admin, AnyMember, Db
from counterpromo_api.dependencies import Idempotent
from counterpromo_api.problems import ApiProblem, error_responses
from counterpromo_api.requests import CheckoutRequest
from counterpromo_api.responses import BillingOut, CheckoutOut, PortalOut
from counterpromo_api.routing import api_router
from counterpromo_api.services import services_of

router = api_router(prefix="/billing", tags=["billing"])


def stripe_client(request: Request) -> StripeClient:
    client = services_of(request).stripe
    if client is None:
        raise ApiProblem(503, "billing-unavailable", "billing is not configured here")
    return client


@router.post(
    "/checkout",
    summary="Start a Stripe Checkout for a paid plan (admin)",
    dependencies=[Idempotent],
    responses=error_responses(409, 503),
)
def start_checkout(
    body: CheckoutRequest, actor: Admin, session: Db, request: Request
) -> CheckoutOut:
    config = services_of(request).config
    started = checkout.start_checkout(
        session,
        actor.account_id,
        body.plan_code,
        stripe=stripe_client(request),
        prices=services_of(request).prices,
        app_url=config.app_url,
    )
    return CheckoutOut(url=started.url, session_id=started.session_id)


@router.post(
    "/portal",
    summary="Open the Stripe customer portal (admin)",
    responses=error_responses(409, 503),
)
def open_portal(actor: Admin, session: Db, request: Request) -> PortalOut:
    config = services_of(request).config
    url = checkout.open_portal(
        session, actor.account_id, stripe=stripe_client(request), app_url=config.app_url
    )
    return PortalOut(url=url)


def _billing_out(actor: AnyMember, session: Db) -> BillingOut:
    status = billing_status(accounts.get_account(session, actor.account_id))
    return BillingOut(**vars(status))


@router.get(
    "",
    summary="Plan, subscription status, period end, cancel at period end, trial end",
)
def get_billing(actor: AnyMember, session: Db) -> BillingOut:
    return _billing_out(actor, session)


@router.get("/subscription", summary="The plan and subscription status (same as GET /billing)")
def get_subscription(actor: AnyMember, session: Db) -> BillingOut:
    return _billing_out(actor, session)
