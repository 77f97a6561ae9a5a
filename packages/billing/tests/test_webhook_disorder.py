"""The final account state does not depend on the order (or repetition) of deliveries."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from counterpromo_billing.testing import FakeStripe
from counterpromo_billing.testing.scenarios import (
    BillingState,
    Subscribed,
    expected_state,
    subscription_life,
)
from counterpromo_billing.webhooks import WebhookOutcome
from counterpromo_core.db.models import StripeEvent
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

Deliver = Callable[[dict[str, Any]], WebhookOutcome]
ReadState = Callable[[uuid.UUID], BillingState]
SAMPLED_ORDERS = 200
LIVES = 4


def _sample_orders(count: int, size: int, seed: int) -> list[tuple[int, ...]]:
    """``count`` distinct random permutations of ``range(size)``, never the right order."""
    rng = random.Random(seed)
    right = tuple(range(size))
    orders: set[tuple[int, ...]] = set()
    while len(orders) < count:
        order = tuple(rng.sample(range(size), size))
        if order != right:
            orders.add(order)
    return sorted(orders)


def test_every_sampled_order_of_a_life_ends_in_the_same_state(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    billing_state: ReadState,
    reset_billing: Callable[[uuid.UUID, list[str]], None],
    fake_stripe: FakeStripe,
    plan_prices: dict[str, str],
    price_map: dict[str, str],
) -> None:
    """200 sampled orders, spread over 4 identical lives run side by side (one database)."""
    lives: list[tuple[Subscribed, list[dict[str, Any]]]] = []
    for _ in range(LIVES):
        started = subscribe("starter")
        life = subscription_life(fake_stripe, started.subscription_id, plan_prices)
        lives.append((started, started.events + life))
    assert [e["type"] for e in lives[0][1]] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.payment_failed",
        "invoice.paid",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ]
    size = len(lives[0][1])
    orders = _sample_orders(SAMPLED_ORDERS, size, seed=5)

    def run(index: int) -> dict[tuple[int, ...], BillingState]:
        started, events = lives[index]
        event_ids = [e["id"] for e in events]
        states = {}
        for order in [tuple(range(size)), *orders[index::LIVES]]:
            reset_billing(started.account_id, event_ids)
            for position in order:
                assert deliver(events[position]).status == "processed"
            states[order] = billing_state(started.account_id)
        return states

    with ThreadPoolExecutor(LIVES) as pool:
        results = list(pool.map(run, range(LIVES)))

    assert sum(len(states) - 1 for states in results) == SAMPLED_ORDERS
    for (started, _), states in zip(lives, results, strict=True):
        right = states[tuple(range(size))]
        assert right == expected_state(fake_stripe, started.subscription_id, price_map)
        assert (right.plan_code, right.subscription_status) == ("free", "canceled")
        assert {order: state for order, state in states.items() if state != right} == {}


@pytest.mark.parametrize("seed", range(12))
def test_events_delayed_and_repeated_while_the_life_goes_on(
    *,
    seed: int,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    billing_state: ReadState,
    fake_stripe: FakeStripe,
    plan_prices: dict[str, str],
    price_map: dict[str, str],
) -> None:
    """Deliveries interleave with changes: a late event must never bring back older state."""
    rng = random.Random(seed)
    started = subscribe(rng.choice(["starter", "pro"]))
    pending = list(started.events)
    sub_id = started.subscription_id
    steps: list[Callable[[], dict[str, Any]]] = [
        lambda: _change(fake_stripe, sub_id, price_id=plan_prices[rng.choice(["pro", "dealer"])]),
        lambda: _fail_payment(fake_stripe, sub_id),
        lambda: _pay(fake_stripe, sub_id),
        lambda: _change(fake_stripe, sub_id, cancel_at_period_end=rng.random() < 0.5),
        lambda: _change(fake_stripe, sub_id, price_id=plan_prices["starter"]),
    ]
    if rng.random() < 0.5:
        steps.append(lambda: _cancel(fake_stripe, sub_id))
    for step in steps:
        pending.append(step())
        rng.shuffle(pending)
        for event in pending[: rng.randint(0, len(pending))]:
            deliver(event)
            if rng.random() < 0.3:
                pending.append(event)  # delivered again later
            pending.remove(event)
    for event in pending:
        deliver(event)
    assert billing_state(started.account_id) == expected_state(fake_stripe, sub_id, price_map)


def test_shuffled_duplicated_storm_from_threads(
    *,
    subscribe: Callable[..., Subscribed],
    deliver: Deliver,
    billing_state: ReadState,
    fake_stripe: FakeStripe,
    plan_prices: dict[str, str],
    price_map: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    """8 accounts, lives of random length, every event shuffled and some sent twice, 4 threads."""
    rng = random.Random(42)
    accounts: list[Subscribed] = []
    events: list[dict[str, Any]] = []
    for _ in range(8):
        started = subscribe(rng.choice(["starter", "pro", "dealer"]))
        life = subscription_life(fake_stripe, started.subscription_id, plan_prices)
        accounts.append(started)
        events += started.events + life[: rng.randint(1, len(life))]
    deliveries = events + rng.sample(events, len(events) // 3)
    rng.shuffle(deliveries)

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(deliver, deliveries))

    assert {o.status for o in outcomes} <= {"processed", "duplicate"}
    assert sum(o.status == "processed" for o in outcomes) == len(events)
    for started in accounts:
        assert billing_state(started.account_id) == expected_state(
            fake_stripe, started.subscription_id, price_map
        )
    with sessions() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(StripeEvent)
            .where(StripeEvent.id.in_([e["id"] for e in events]))
        )
    assert stored == len(events)


def _change(fake: FakeStripe, sub_id: str, **changes: Any) -> dict[str, Any]:
    fake.update_subscription(sub_id, **changes)
    return fake.subscription_event("customer.subscription.updated", sub_id)


def _fail_payment(fake: FakeStripe, sub_id: str) -> dict[str, Any]:
    fake.update_subscription(sub_id, status="past_due")
    return fake.invoice_event("invoice.payment_failed", sub_id)


def _pay(fake: FakeStripe, sub_id: str) -> dict[str, Any]:
    fake.update_subscription(sub_id, status="active")
    fake.advance_period(sub_id)
    return fake.invoice_event("invoice.paid", sub_id)


def _cancel(fake: FakeStripe, sub_id: str) -> dict[str, Any]:
    fake.cancel_subscription(sub_id)
    return fake.subscription_event("customer.subscription.deleted", sub_id)
