"""One Stripe customer per account, created once even when checkouts race.

Two requests may both find no customer and both ask Stripe for one. The
idempotency key (derived from the account id) makes Stripe hand both the same
customer within its 24 h idempotency window; the single conditional UPDATE
(``... WHERE stripe_customer_id IS NULL``) makes exactly one id stick forever
after. A request that loses the race uses the winner's id and deletes the
customer it made, if it made a different one.

After the customer is deleted (``customer.deleted``, or found missing by a
checkout), the key changes (it counts the account's customer removals, recorded
as audit events), so the next checkout makes a new customer instead of Stripe
replaying the deleted one.
"""

from __future__ import annotations

import uuid

from counterpromo_core.db.models import Account, AuditEvent, utcnow
from counterpromo_core.errors import NotFound
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from stripe import StripeClient

CUSTOMER_REMOVED_ACTIONS = ("billing.customer_deleted", "billing.customer_missing")


def customer_idempotency_key(account_id: uuid.UUID, generation: int = 0) -> str:
    base = f"counterpromo-customer-{account_id}"
    return base if generation == 0 else f"{base}-{generation}"


def _generation(session: Session, account_id: uuid.UUID) -> int:
    """How many customers of the account were removed so far (0 for most accounts)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.account_id == account_id,
                AuditEvent.action.in_(CUSTOMER_REMOVED_ACTIONS),
            )
        )
        or 0
    )


def forget_missing_customer(session: Session, account_id: uuid.UUID, customer_id: str) -> None:
    """Unlink a customer Stripe no longer has (deleted before its event arrived)."""
    cleared = session.execute(
        update(Account)
        .where(Account.id == account_id, Account.stripe_customer_id == customer_id)
        .values(
            stripe_customer_id=None,
            stripe_subscription_id=None,
            subscription_status=None,
            plan_code="free",
            updated_at=utcnow(),
        )
        .returning(Account.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if cleared is not None:
        session.add(
            AuditEvent(
                account_id=account_id,
                actor="stripe",
                action="billing.customer_missing",
                detail={"customer": customer_id},
            )
        )
        session.flush()


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
        options={
            "idempotency_key": customer_idempotency_key(
                account_id, _generation(session, account_id)
            )
        },
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


__all__ = ["customer_idempotency_key", "ensure_customer", "forget_missing_customer"]
