"""Accounts: created with their owner; plan and Stripe fields belong to billing."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from counterpromo_core.db.models import Account, AuditEvent, BillingPlan, Member, utcnow
from counterpromo_core.errors import NotFound, ValidationFailed
from counterpromo_core.members import normalise_email
from counterpromo_core.money import check_currency, check_locale
from counterpromo_core.pagination import Page, paginate


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValidationFailed.single("name", "must not be blank")
    if len(cleaned) > 200:
        raise ValidationFailed.single("name", "must be at most 200 characters")
    return cleaned


def _require_plan(session: Session, plan_code: str) -> None:
    if session.get(BillingPlan, plan_code) is None:
        raise ValidationFailed.single("plan_code", f"no plan {plan_code!r}")


def create_account(
    session: Session,
    *,
    name: str,
    owner_email: str,
    currency: str,
    locale: str,
    plan_code: str = "free",
) -> Account:
    """A new account and its first member, the owner.

    ``currency`` (ISO 4217, e.g. "USD") and ``locale`` (BCP 47, e.g. "en-US") say how
    the account's flyers and reports write money; there is no default a dealer did not pick.
    """
    account = Account(
        id=uuid.uuid4(),
        name=_clean_name(name),
        currency=check_currency(currency),
        locale=check_locale(locale),
        plan_code=plan_code,
    )
    email = normalise_email(owner_email)
    _require_plan(session, plan_code)
    session.add(account)
    session.flush()
    session.add(Member(account_id=account.id, email=email, role="owner"))
    session.flush()
    return account


def get_account(session: Session, account_id: uuid.UUID) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("account", account_id)
    return account


def rename_account(session: Session, account_id: uuid.UUID, name: str) -> Account:
    account = get_account(session, account_id)
    account.name = _clean_name(name)
    account.updated_at = utcnow()
    session.flush()
    return account


def update_account(
    session: Session,
    account_id: uuid.UUID,
    *,
    name: str | None = None,
    currency: str | None = None,
    locale: str | None = None,
) -> Account:
    """Change the account's name, currency or locale (the ones given); each is validated."""
    account = get_account(session, account_id)
    if name is not None:
        account.name = _clean_name(name)
    if currency is not None:
        account.currency = check_currency(currency)
    if locale is not None:
        account.locale = check_locale(locale)
    account.updated_at = utcnow()
    session.flush()
    return account


def list_accounts(session: Session, *, limit: int = 50, cursor: str | None = None) -> Page[Account]:
    """Every account, newest first (operators only)."""
    return paginate(
        session,
        select(Account),
        created_at=Account.created_at,
        id=Account.id,
        limit=limit,
        cursor=cursor,
    )


def set_plan_by_support(
    session: Session, account_id: uuid.UUID, plan_code: str, *, actor: str, reason: str
) -> Account:
    """Put an account on a plan by hand, recorded as an audit event.

    Billing's webhook processing is the normal way a plan changes; this is for support.
    """
    if not actor.strip():
        raise ValidationFailed.single("actor", "must name who made the change")
    if not reason.strip():
        raise ValidationFailed.single("reason", "must say why")
    _require_plan(session, plan_code)
    account = get_account(session, account_id)
    previous = account.plan_code
    account.plan_code = plan_code
    account.updated_at = utcnow()
    session.add(
        AuditEvent(
            account_id=account_id,
            actor=actor.strip(),
            action="plan.set_by_support",
            detail={"from": previous, "to": plan_code, "reason": reason.strip()},
        )
    )
    session.flush()
    session.refresh(account, ["plan"])
    return account


__all__ = [
    "create_account",
    "get_account",
    "list_accounts",
    "rename_account",
    "set_plan_by_support",
    "update_account",
]
