"""A customer Stripe no longer has is unlinked once, and the next one is a new customer."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from counterpromo_billing.customers import ensure_customer, forget_missing_customer
from counterpromo_billing.testing import FakeStripe
from counterpromo_core.db.models import Account, AuditEvent
from counterpromo_core.errors import NotFound
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker


def _removals(session: Session, account_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.account_id == account_id, AuditEvent.action == "billing.customer_missing"
            )
        )
        or 0
    )


def test_a_missing_customer_is_forgotten_once_and_replaced_by_a_new_one(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    make_account: Callable[..., uuid.UUID],
) -> None:
    account_id = make_account(plan_code="pro")
    client = fake_stripe.client()
    with sessions.begin() as session:
        first = ensure_customer(session, account_id, stripe_client=client)
    with sessions.begin() as session:
        assert ensure_customer(session, account_id, stripe_client=client) == first
    with sessions.begin() as session:
        forget_missing_customer(session, account_id, first)
        forget_missing_customer(session, account_id, first)  # a second time changes nothing
    with sessions.begin() as session:
        account = session.get_one(Account, account_id)
        assert (account.stripe_customer_id, account.plan_code) == (None, "free")
        assert _removals(session, account_id) == 1
        second = ensure_customer(session, account_id, stripe_client=client)
    assert second != first  # a new idempotency key: Stripe does not replay the old customer


def test_a_customer_of_another_id_is_not_forgotten(
    sessions: sessionmaker[Session],
    fake_stripe: FakeStripe,
    make_account: Callable[..., uuid.UUID],
) -> None:
    account_id = make_account()
    with sessions.begin() as session:
        kept = ensure_customer(session, account_id, stripe_client=fake_stripe.client())
        forget_missing_customer(session, account_id, "cus_somebody_else")
    with sessions() as session:
        assert session.get_one(Account, account_id).stripe_customer_id == kept
        assert _removals(session, account_id) == 0


def test_an_unknown_account_has_no_customer(
    sessions: sessionmaker[Session], fake_stripe: FakeStripe
) -> None:
    with sessions.begin() as session, pytest.raises(NotFound):
        ensure_customer(session, uuid.uuid4(), stripe_client=fake_stripe.client())
