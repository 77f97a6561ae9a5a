"""Checkout and portal against PostgreSQL and the fake Stripe over HTTP."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import stripe
from counterpromo_billing.checkout import CheckoutStarted, open_portal, start_checkout
from counterpromo_billing.customers import customer_idempotency_key
from counterpromo_billing.errors import UnknownPlan
from counterpromo_billing.testing import FakeStripe
from counterpromo_core.db.models import Account
from counterpromo_core.errors import Conflict, NotFound
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

APP_URL = "https://app.counterpromo.test"


def _checkout(
    sessions: sessionmaker[Session],
    client: stripe.StripeClient,
    account_id: uuid.UUID,
    plan_prices: dict[str, str],
    plan: str = "pro",
) -> CheckoutStarted:
    with sessions.begin() as session:
        return start_checkout(
            session, account_id, plan, stripe=client, prices=plan_prices, app_url=APP_URL
        )


def _customers_of(fake: FakeStripe, account_id: uuid.UUID) -> list[str]:
    return [c["id"] for c in fake.customers() if c["metadata"].get("account_id") == str(account_id)]


def test_checkout_creates_customer_and_subscription_session(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account()
    started = _checkout(sessions, stripe_client, account_id, plan_prices, "pro")

    with sessions() as session:
        customer_id = session.get_one(Account, account_id).stripe_customer_id
    assert _customers_of(fake_stripe, account_id) == [customer_id]
    checkout = fake_stripe.checkout_session(started.session_id)
    assert started.url == checkout["url"]
    assert checkout["mode"] == "subscription"
    assert checkout["customer"] == customer_id
    assert checkout["client_reference_id"] == str(account_id)
    assert checkout["_line_items"] == [{"price": plan_prices["pro"], "quantity": "1"}]
    for url in (checkout["success_url"], checkout["cancel_url"]):
        assert urlsplit(url).netloc == urlsplit(APP_URL).netloc
    creates = [r for r in fake_stripe.requests("POST", "/v1/customers") if r.params.get("metadata")]
    mine = [r for r in creates if r.params["metadata"]["account_id"] == str(account_id)]
    assert [r.idempotency_key for r in mine] == [customer_idempotency_key(account_id)]


def test_second_checkout_reuses_the_customer(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account()
    first = _checkout(sessions, stripe_client, account_id, plan_prices, "starter")
    second = _checkout(sessions, stripe_client, account_id, plan_prices, "pro")
    assert first.session_id != second.session_id
    assert len(_customers_of(fake_stripe, account_id)) == 1
    assert (
        fake_stripe.checkout_session(first.session_id)["customer"]
        == fake_stripe.checkout_session(second.session_id)["customer"]
    )


def test_concurrent_checkouts_make_one_customer(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account()
    barrier = threading.Barrier(5)

    def run(_: int) -> str:
        barrier.wait()
        return _checkout(sessions, stripe_client, account_id, plan_prices).session_id

    with ThreadPoolExecutor(5) as pool:
        session_ids = list(pool.map(run, range(5)))

    stuck = _customers_of(fake_stripe, account_id)
    assert len(stuck) == 1
    assert {fake_stripe.checkout_session(s)["customer"] for s in session_ids} == set(stuck)


def test_losing_the_customer_race_uses_the_winner_and_deletes_the_orphan(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
) -> None:
    """Another transaction links a customer while ours waits: ours uses it, makes none.

    (start_checkout locks the account row first, so it waits for the rival's commit.)
    """
    account_id = make_account()
    winner = fake_stripe.create_customer(account_id=str(account_id))["id"]
    with sessions() as rival:
        rival.begin()
        rival.execute(
            update(Account).where(Account.id == account_id).values(stripe_customer_id=winner)
        )
        result: list[CheckoutStarted] = []
        worker = threading.Thread(
            target=lambda: result.append(
                _checkout(sessions, stripe_client, account_id, plan_prices)
            )
        )
        worker.start()
        _wait_until_blocked_on_lock(sessions)
        rival.commit()
        worker.join(timeout=30)

    assert result, "the checkout did not finish"
    assert fake_stripe.checkout_session(result[0].session_id)["customer"] == winner
    assert _customers_of(fake_stripe, account_id) == [winner]
    with sessions() as session:
        assert session.get_one(Account, account_id).stripe_customer_id == winner


def _wait_until_blocked_on_lock(sessions: sessionmaker[Session]) -> None:
    deadline = time.monotonic() + 20
    with sessions() as session:
        while time.monotonic() < deadline:
            waiting = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND query ILIKE '%accounts%'"
                )
            )
            session.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the checkout never waited for the row lock")


@pytest.mark.parametrize("status", ["active", "trialing", "past_due", "unpaid"])
def test_checkout_refused_with_a_live_subscription(
    *,
    status: str,
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account(
        plan_code="starter",
        stripe_customer_id=f"cus_{uuid.uuid4().hex[:14]}",
        stripe_subscription_id=f"sub_{uuid.uuid4().hex[:14]}",
        subscription_status=status,
    )
    before = len(fake_stripe.requests("POST", "/v1/checkout/sessions"))
    with pytest.raises(Conflict, match="portal"):
        _checkout(sessions, stripe_client, account_id, plan_prices)
    assert len(fake_stripe.requests("POST", "/v1/checkout/sessions")) == before


def test_checkout_allowed_after_cancellation(
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
    fake_stripe: FakeStripe,
) -> None:
    customer = fake_stripe.create_customer()
    account_id = make_account(
        stripe_customer_id=customer["id"],
        stripe_subscription_id=f"sub_{uuid.uuid4().hex[:14]}",
        subscription_status="canceled",
    )
    started = _checkout(sessions, stripe_client, account_id, plan_prices)
    assert fake_stripe.checkout_session(started.session_id)["customer"] == customer["id"]


def test_checkout_for_a_plan_without_price_creates_nothing(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account()
    with pytest.raises(UnknownPlan):
        _checkout(sessions, stripe_client, account_id, plan_prices, "free")
    assert _customers_of(fake_stripe, account_id) == []


def test_checkout_for_a_missing_account(
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    plan_prices: dict[str, str],
) -> None:
    with pytest.raises(NotFound):
        _checkout(sessions, stripe_client, uuid.uuid4(), plan_prices)


def test_portal_needs_a_customer(
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
) -> None:
    account_id = make_account()
    with sessions() as session, pytest.raises(Conflict):
        open_portal(session, account_id, stripe=stripe_client, app_url=APP_URL)
    with sessions() as session, pytest.raises(NotFound):
        open_portal(session, uuid.uuid4(), stripe=stripe_client, app_url=APP_URL)


def test_portal_session_for_the_account_customer(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    make_account: Callable[..., uuid.UUID],
) -> None:
    customer = fake_stripe.create_customer()
    account_id = make_account(stripe_customer_id=customer["id"])
    with sessions() as session:
        url = open_portal(session, account_id, stripe=stripe_client, app_url=APP_URL)
    request = fake_stripe.requests("POST", "/v1/billing_portal/sessions")[-1]
    assert request.params["customer"] == customer["id"]
    assert request.params["return_url"].startswith(APP_URL)
    assert url.startswith("https://billing.stripe.com/")
