"""Processing stored events: plan and subscription state, failures, duplicates, replays."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import stripe
from counterpromo_billing.checkout import start_checkout
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.testing.scenarios import BillingState, Subscribed, expected_state
from counterpromo_billing.webhooks import (
    WebhookOutcome,
    process_stored_event,
    receive_event,
    unattributed_events,
)
from counterpromo_core.db.models import Account, StripeEvent
from counterpromo_core.errors import NotFound
from sqlalchemy.orm import Session, sessionmaker

APP_URL = "https://app.counterpromo.test"
Deliver = Callable[[dict[str, Any]], WebhookOutcome]
ReadState = Callable[[uuid.UUID], BillingState]


def _event_row(sessions: sessionmaker[Session], event_id: str) -> StripeEvent:
    with sessions() as session:
        return session.get_one(StripeEvent, event_id)


def _subscription_fetches(fake: FakeStripe, sub_id: str) -> int:
    """Reads of the subscription from Stripe: retrieves, and lists of its customer's."""
    customer = fake.subscription(sub_id)["customer"]
    listed = [
        r
        for r in fake.requests("GET", "/v1/subscriptions")
        if r.path == "/v1/subscriptions" and r.params.get("customer") == customer
    ]
    return len(fake.requests("GET", f"/v1/subscriptions/{sub_id}")) + len(listed)


def test_checkout_completed_gives_the_plan(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    billing_state: ReadState,
    fake_stripe: FakeStripe,
    price_map: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    started = subscribe("pro")
    outcome = deliver(started.events[0])
    assert outcome.status == "processed"
    assert outcome.account_id == started.account_id
    state = billing_state(started.account_id)
    assert state == expected_state(fake_stripe, started.subscription_id, price_map)
    assert (state.plan_code, state.subscription_status) == ("pro", "active")
    row = _event_row(sessions, started.events[0]["id"])
    assert row.processed_at is not None
    assert (row.attempts, row.error, row.account_id) == (1, None, started.account_id)


def test_plan_change_and_cancel_at_period_end(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    billing_state: ReadState,
    fake_stripe: FakeStripe,
    plan_prices: dict[str, str],
) -> None:
    started = subscribe("starter")
    deliver(started.events[1])
    fake_stripe.update_subscription(
        started.subscription_id, price_id=plan_prices["dealer"], cancel_at_period_end=True
    )
    deliver(
        fake_stripe.subscription_event("customer.subscription.updated", started.subscription_id)
    )
    state = billing_state(started.account_id)
    assert (state.plan_code, state.cancel_at_period_end) == ("dealer", True)


def test_past_due_keeps_the_plan_and_canceled_drops_to_free(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    billing_state: ReadState,
    fake_stripe: FakeStripe,
) -> None:
    started = subscribe("pro")
    deliver(started.events[0])
    fake_stripe.update_subscription(started.subscription_id, status="past_due")
    assert (
        deliver(fake_stripe.invoice_event("invoice.payment_failed", started.subscription_id)).status
        == "processed"
    )
    state = billing_state(started.account_id)
    assert (state.plan_code, state.subscription_status) == ("pro", "past_due")

    fake_stripe.cancel_subscription(started.subscription_id)
    deliver(
        fake_stripe.subscription_event("customer.subscription.deleted", started.subscription_id)
    )
    state = billing_state(started.account_id)
    assert (state.plan_code, state.subscription_status) == ("free", "canceled")
    assert state.stripe_subscription_id == started.subscription_id


def test_unknown_price_is_stored_unattributed_and_replayed_once_mapped(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    billing_state: ReadState,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    price_map: dict[str, str],
) -> None:
    started = subscribe("starter")
    deliver(started.events[0])
    before = billing_state(started.account_id)
    fake_stripe.update_subscription(started.subscription_id, price_id="price_not_in_the_map")
    event = fake_stripe.subscription_event("customer.subscription.updated", started.subscription_id)

    outcome = deliver(event)

    assert outcome.status == "unattributed"
    assert outcome.error is not None
    assert "price_not_in_the_map" in outcome.error
    assert billing_state(started.account_id) == before
    row = _event_row(sessions, event["id"])
    assert row.processed_at is not None
    assert row.attempts == 1
    assert row.error is None
    assert row.ignored_reason is not None
    assert "price_not_in_the_map" in row.ignored_reason
    with sessions() as session:
        assert event["id"] in {e.id for e in unattributed_events(session, limit=1000)}

    # The operator adds the price to the map and replays the event.
    fixed_map = {**price_map, "price_not_in_the_map": "dealer"}
    replayed = process_stored_event(
        sessions, event["id"], stripe=stripe_client, price_map=fixed_map
    )
    assert replayed.status == "processed"
    assert billing_state(started.account_id).plan_code == "dealer"
    row = _event_row(sessions, event["id"])
    assert (row.attempts, row.error, row.ignored_reason) == (2, None, None)
    assert row.processed_at is not None
    again = process_stored_event(sessions, event["id"], stripe=stripe_client, price_map=fixed_map)
    assert again.status == "duplicate"


def test_same_event_five_times_is_stored_and_applied_once(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    billing_state: ReadState,
) -> None:
    started = subscribe("pro")
    fetches = _subscription_fetches(fake_stripe, started.subscription_id)
    outcomes = [deliver(started.events[1]) for _ in range(5)]
    assert [o.status for o in outcomes] == ["processed"] + ["duplicate"] * 4
    assert _event_row(sessions, started.events[1]["id"]).attempts == 1
    assert _subscription_fetches(fake_stripe, started.subscription_id) == fetches + 1
    assert billing_state(started.account_id).plan_code == "pro"


def test_same_event_from_five_threads_is_stored_and_applied_once(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    billing_state: ReadState,
) -> None:
    started = subscribe("pro")
    fetches = _subscription_fetches(fake_stripe, started.subscription_id)
    barrier = threading.Barrier(5)

    def run(_: int) -> WebhookOutcome:
        barrier.wait()
        return deliver(started.events[0])

    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(run, range(5)))

    assert sorted(o.status for o in outcomes) == ["duplicate"] * 4 + ["processed"]
    assert _event_row(sessions, started.events[0]["id"]).attempts == 1
    assert _subscription_fetches(fake_stripe, started.subscription_id) == fetches + 1
    assert billing_state(started.account_id).plan_code == "pro"


def test_an_event_we_do_not_handle_is_stored_and_ignored(
    *, deliver: Deliver, fake_stripe: FakeStripe, sessions: sessionmaker[Session]
) -> None:
    event = fake_stripe.event("customer.updated", fake_stripe.create_customer())
    assert deliver(event).status == "ignored"
    assert _event_row(sessions, event["id"]).processed_at is not None


def test_customer_found_through_its_metadata_and_linked(
    *,
    make_account: Callable[..., uuid.UUID],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    billing_state: ReadState,
    plan_prices: dict[str, str],
) -> None:
    account_id = make_account()
    customer = fake_stripe.create_customer(account_id=str(account_id))
    sub = fake_stripe.create_subscription(customer["id"], plan_prices["pro"], metadata={})
    deliver(fake_stripe.invoice_event("invoice.paid", sub["id"]))
    state = billing_state(account_id)
    assert (state.stripe_customer_id, state.plan_code) == (customer["id"], "pro")


def test_event_for_a_customer_not_ours_is_unattributed_and_can_be_replayed(
    *,
    make_account: Callable[..., uuid.UUID],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    price_map: dict[str, str],
    plan_prices: dict[str, str],
    billing_state: ReadState,
) -> None:
    customer = fake_stripe.create_customer()
    sub = fake_stripe.create_subscription(customer["id"], plan_prices["starter"])
    event = fake_stripe.subscription_event("customer.subscription.created", sub["id"])
    outcome = deliver(event)
    assert outcome.status == "unattributed"
    assert outcome.error is not None
    assert customer["id"] in outcome.error
    assert deliver(event).status == "unattributed"  # Stripe's redelivery: still not ours

    account_id = make_account(stripe_customer_id=customer["id"])
    replayed = process_stored_event(
        sessions, event["id"], stripe=stripe_client, price_map=price_map
    )
    assert replayed.status == "processed"
    assert billing_state(account_id).plan_code == "starter"


def test_replaying_an_unknown_event_is_not_found(
    *, sessions: sessionmaker[Session], stripe_client: stripe.StripeClient
) -> None:
    with pytest.raises(NotFound):
        process_stored_event(sessions, "evt_never_seen", stripe=stripe_client, price_map={})


def test_late_events_of_an_old_subscription_do_not_undo_a_new_one(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    billing_state: ReadState,
    plan_prices: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    """Cancelled, then subscribed again: the old subscription's events arrive last."""
    old = subscribe("starter")
    old_created = old.events[1]
    fake_stripe.cancel_subscription(old.subscription_id)
    old_deleted = fake_stripe.subscription_event(
        "customer.subscription.deleted", old.subscription_id
    )
    customer_id = fake_stripe.subscription(old.subscription_id)["customer"]
    new = fake_stripe.create_subscription(customer_id, plan_prices["pro"])
    deliver(fake_stripe.subscription_event("customer.subscription.created", new["id"]))
    deliver(old_deleted)
    deliver(old_created)
    state = billing_state(old.account_id)
    assert (state.stripe_subscription_id, state.plan_code) == (new["id"], "pro")


class PricesFromFile:
    """A consumer's price source: the price map in a JSON file (read on every use)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def price_map(self) -> Mapping[str, str]:
        prices: dict[str, str] = json.loads(self.path.read_text())
        return prices


def test_an_unexpected_error_is_recorded_then_raised_and_the_event_can_be_replayed(
    *,
    subscribe: Callable[..., Subscribed],
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    sessions: sessionmaker[Session],
    price_map: dict[str, str],
    billing_state: ReadState,
    tmp_path: Path,
) -> None:
    # Neither a domain nor a Stripe error: the price map's file is not there yet.
    prices = PricesFromFile(tmp_path / "price-map.json")
    started = subscribe("pro")
    event = started.events[0]
    payload, header = fake_stripe.sign(event)
    with pytest.raises(FileNotFoundError):
        receive_event(
            sessions,
            payload,
            header,
            secrets=[fake_stripe.webhook_secret],
            stripe=stripe_client,
            price_map=prices,
        )
    row = _event_row(sessions, event["id"])
    assert row.processed_at is None  # left for a replay, not lost
    assert row.attempts == 1
    assert row.error is not None
    assert row.error.startswith("FileNotFoundError: ")
    assert billing_state(started.account_id).plan_code == "free"  # nothing half-applied

    prices.path.write_text(json.dumps(price_map))
    replayed = process_stored_event(sessions, event["id"], stripe=stripe_client, price_map=prices)
    assert replayed.status == "processed"
    assert billing_state(started.account_id).plan_code == "pro"
    row = _event_row(sessions, event["id"])
    assert (row.attempts, row.error) == (2, None)


def test_a_subscription_stripe_no_longer_has_leaves_the_accounts_own_to_decide(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    billing_state: ReadState,
) -> None:
    started = subscribe("pro")
    for event in started.events:
        deliver(event)
    customer_id = fake_stripe.subscription(started.subscription_id)["customer"]
    fake_stripe.cancel_subscription(started.subscription_id)
    # An event about a subscription Stripe answers 404 (resource_missing) for.
    gone = fake_stripe.event(
        "customer.subscription.deleted",
        {"id": "sub_never_in_stripe", "object": "subscription", "customer": customer_id},
    )
    outcome = deliver(gone)
    assert (outcome.status, outcome.account_id) == ("processed", started.account_id)
    state = billing_state(started.account_id)
    # The account's own subscription, canceled in Stripe, defines the state.
    assert (state.plan_code, state.subscription_status) == ("free", "canceled")
    assert state.stripe_subscription_id == started.subscription_id


def test_checkout_for_a_new_customer_links_the_account_its_reference_names(
    *,
    make_account: Callable[..., uuid.UUID],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    plan_prices: dict[str, str],
    billing_state: ReadState,
) -> None:
    account_id = make_account()
    # A customer Stripe knows nothing about the account of (no metadata.account_id):
    # only the session's client_reference_id names it.
    customer = fake_stripe.create_customer()
    sub = fake_stripe.create_subscription(customer["id"], plan_prices["pro"], metadata={})
    session = {
        "id": "cs_test_reference_only",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "customer": customer["id"],
        "subscription": sub["id"],
        "client_reference_id": str(account_id),
        "metadata": {},
    }
    outcome = deliver(fake_stripe.event("checkout.session.completed", session))
    assert (outcome.status, outcome.account_id) == ("processed", account_id)
    state = billing_state(account_id)
    assert (state.stripe_customer_id, state.plan_code) == (customer["id"], "pro")


def test_an_expired_checkout_is_recorded_against_its_account_and_changes_nothing(
    *,
    make_account: Callable[..., uuid.UUID],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
    stripe_client: stripe.StripeClient,
    plan_prices: dict[str, str],
    billing_state: ReadState,
) -> None:
    account_id = make_account()
    with sessions.begin() as session:
        checkout = start_checkout(
            session, account_id, "pro", stripe=stripe_client, prices=plan_prices, app_url=APP_URL
        )
    stripe_client.v1.checkout.sessions.expire(checkout.session_id)
    expired = fake_stripe.event(
        "checkout.session.expired", fake_stripe.public_checkout_session(checkout.session_id)
    )
    outcome = deliver(expired)
    assert (outcome.status, outcome.account_id) == ("processed", account_id)
    assert _event_row(sessions, expired["id"]).account_id == account_id
    assert billing_state(account_id).plan_code == "free"


def test_an_account_is_never_linked_to_a_customer_deleted_in_stripe(
    *,
    make_account: Callable[..., uuid.UUID],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    stripe_client: stripe.StripeClient,
    plan_prices: dict[str, str],
    billing_state: ReadState,
) -> None:
    account_id = make_account()
    customer = fake_stripe.create_customer(account_id=str(account_id))
    sub = fake_stripe.create_subscription(customer["id"], plan_prices["pro"])
    event = fake_stripe.subscription_event("customer.subscription.created", sub["id"])
    stripe_client.v1.customers.delete(customer["id"])  # before its event arrives

    outcome = deliver(event)
    assert outcome.status == "unattributed"
    assert outcome.error is not None
    assert "was deleted" in outcome.error
    state = billing_state(account_id)
    assert (state.stripe_customer_id, state.plan_code) == (None, "free")


def test_only_a_failed_payment_stamps_payment_failed_at(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    sessions: sessionmaker[Session],
) -> None:
    started = subscribe("pro")
    for event in started.events:
        deliver(event)

    def stamped() -> bool:
        with sessions() as session:
            account = session.get_one(Account, started.account_id)
            return account.payment_failed_at is not None

    deliver(fake_stripe.invoice_event("invoice.paid", started.subscription_id))
    assert not stamped()
    fake_stripe.update_subscription(started.subscription_id, status="past_due")
    deliver(fake_stripe.invoice_event("invoice.payment_failed", started.subscription_id))
    assert stamped()


def test_an_event_of_another_customer_naming_a_linked_account_is_unattributed(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    fake_stripe: FakeStripe,
    plan_prices: dict[str, str],
    billing_state: ReadState,
) -> None:
    started = subscribe("starter")
    for event in started.events:
        deliver(event)
    linked = fake_stripe.subscription(started.subscription_id)["customer"]
    # A second customer whose metadata names the same account (made outside our checkout).
    other = fake_stripe.create_customer(account_id=str(started.account_id))
    sub = fake_stripe.create_subscription(other["id"], plan_prices["dealer"])

    outcome = deliver(fake_stripe.subscription_event("customer.subscription.created", sub["id"]))
    assert outcome.status == "unattributed"
    assert outcome.error is not None
    assert f"is linked to Stripe customer {linked}" in outcome.error
    state = billing_state(started.account_id)
    assert (state.stripe_customer_id, state.plan_code) == (linked, "starter")
