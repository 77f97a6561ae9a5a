"""Members of an account and their roles; an account always keeps an owner."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from counterpromo_core.db.models import ApiKey, BillingPlan, Member
from counterpromo_core.errors import Conflict, LimitExceeded, PermissionDenied, ValidationFailed
from counterpromo_core.lookup import get_owned, lock_account
from counterpromo_core.roles import Actor, Role, has_role, parse_role

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > 320 or not _EMAIL.match(cleaned):
        raise ValidationFailed.single("email", "not an email address")
    return cleaned


def _require_owner_for_owner_role(actor: Actor | None) -> None:
    """Only an owner may grant, change or remove the owner role (``None``: an operator)."""
    if actor is not None and not has_role(actor, "owner"):
        raise PermissionDenied("owner", "only an owner may grant, change or remove the owner role")


def _count_members(session: Session, account_id: uuid.UUID, *, role: str | None = None) -> int:
    statement = select(func.count()).select_from(Member).where(Member.account_id == account_id)
    if role is not None:
        statement = statement.where(Member.role == role)
    return int(session.scalar(statement) or 0)


def add_member(
    session: Session,
    account_id: uuid.UUID,
    *,
    email: str,
    role: Role,
    external_subject: str | None = None,
    actor: Actor | None = None,
) -> Member:
    """Add a member; counts against the plan's ``max_seats`` (metric ``seats``).

    ``actor`` (``None`` for an operator) must be an owner to add an owner.
    """
    cleaned = normalise_email(email)
    parse_role(role)
    if role == "owner":
        _require_owner_for_owner_role(actor)
    account = lock_account(session, account_id)
    plan = session.get(BillingPlan, account.plan_code)
    seats = plan.max_seats if plan is not None else None
    used = _count_members(session, account_id)
    if seats is not None and used >= seats:
        raise LimitExceeded("seats", seats, used, None)
    member_id = session.scalar(
        insert(Member)
        .values(
            id=uuid.uuid4(),
            account_id=account_id,
            email=cleaned,
            role=role,
            external_subject=external_subject,
        )
        .on_conflict_do_nothing()
        .returning(Member.id)
    )
    if member_id is None:
        raise Conflict(f"{cleaned} (or that login) is already a member of this account")
    return get_owned(session, Member, account_id, member_id, "member")


def list_members(session: Session, account_id: uuid.UUID) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .where(Member.account_id == account_id)
            .order_by(Member.created_at, Member.id)
        )
    )


def get_member(session: Session, account_id: uuid.UUID, member_id: uuid.UUID) -> Member:
    return get_owned(session, Member, account_id, member_id, "member")


def _ensure_another_owner(session: Session, account_id: uuid.UUID, member: Member) -> None:
    if member.role == "owner" and _count_members(session, account_id, role="owner") <= 1:
        raise Conflict("an account must keep at least one owner")


def change_role(
    session: Session,
    account_id: uuid.UUID,
    member_id: uuid.UUID,
    role: Role,
    *,
    actor: Actor | None = None,
) -> Member:
    """Change a member's role; demoting the last owner is a ``Conflict``.

    ``actor`` (``None`` for an operator) must be an owner to make or unmake an owner.
    """
    parse_role(role)
    lock_account(session, account_id)
    member = get_owned(session, Member, account_id, member_id, "member", for_update=True)
    if "owner" in (role, member.role):
        _require_owner_for_owner_role(actor)
    if role != "owner":
        _ensure_another_owner(session, account_id, member)
    member.role = role
    session.flush()
    return member


def remove_member(
    session: Session,
    account_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    actor: Actor | None = None,
) -> None:
    """Remove a member; removing the last owner is a ``Conflict``.

    ``actor`` (``None`` for an operator) must be an owner to remove an owner.
    """
    lock_account(session, account_id)
    member = get_owned(session, Member, account_id, member_id, "member", for_update=True)
    if member.role == "owner":
        _require_owner_for_owner_role(actor)
    _ensure_another_owner(session, account_id, member)
    # A removed member's keys stop working with them (the FK alone would only unlink them).
    session.execute(
        update(ApiKey)
        .where(ApiKey.member_id == member.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .execution_options(synchronize_session="fetch")
    )
    session.delete(member)
    session.flush()


def members_for_subject(session: Session, subject: str) -> list[Member]:
    """Every membership of an OIDC subject, across accounts."""
    return list(
        session.scalars(
            select(Member)
            .where(Member.external_subject == subject)
            .order_by(Member.created_at, Member.id)
        )
    )


__all__ = [
    "add_member",
    "change_role",
    "get_member",
    "list_members",
    "members_for_subject",
    "normalise_email",
    "remove_member",
]
