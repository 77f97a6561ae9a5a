"""One Stripe customer per account, created once even when checkouts race.

Two requests may both find no customer and both ask Stripe for one. The
idempotency key (derived from the account id) makes Stripe hand both the same
customer within its 24 h idempotency window; the single conditional UPDATE
(``... WHERE stripe_customer_id IS NULL``) makes exactly one id stick forever
after. A request that loses the race uses the winner's id and deletes the
customer it made, if it made a different one.
"""

from __future__ import annotations

import uuid

from counterpromo_core.db.models import Account, utcnow
from counterpromo_core.errors import NotFound
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from stripe import StripeClient


def customer_idempotency_key(account_id: uuid.UUID) -> str:
    return f"counterpromo-customer-{account_id}"


def _current_customer_id(session: Session, account_id: uuid.UUID) -> str | None:
    row = session.execute(
        select(Account.id, Account.stripe_customer_id).where(Account.id == account_id)
    ).one_or_none()
    if row is None:
        raise NotFound("account", account_id)
    _, customer_id = row
    return customer_id


def ensure_customer(session: Session, account_id: uuid.UUID, *, stripe_client: StripeClient) -> str:
    """The account's Stripe customer id, creating the customer in Stripe the first time."""
    existing = _current_customer_id(session, account_id)
    if existing is not None:
        return existing
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("account", account_id)
    customer = stripe_client.v1.customers.create(
        params={"name": account.name, "metadata": {"account_id": str(account_id)}},
        options={"idempotency_key": customer_idempotency_key(account_id)},
    )
    won = session.execute(
        update(Account)
        .where(Account.id == account_id, Account.stripe_customer_id.is_(None))
        .values(stripe_customer_id=customer.id, updated_at=utcnow())
        .returning(Account.stripe_customer_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if won is not None:
        session.refresh(account, ["stripe_customer_id", "updated_at"])
        return won
    winner = _current_customer_id(session, account_id)
    if winner is None:  # pragma: no cover - the UPDATE only misses when another id is set
        raise RuntimeError(f"account {account_id} lost the customer race but has no customer")
    if winner != customer.id:
        stripe_client.v1.customers.delete(customer.id)
    session.refresh(account, ["stripe_customer_id", "updated_at"])
    return winner


__all__ = ["customer_idempotency_key", "ensure_customer"]
