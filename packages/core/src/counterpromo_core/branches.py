"""Branches of a dealer (name, address, phone), used by branch packs."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from counterpromo_core.db.models import BillingPlan, Branch
from counterpromo_core.errors import Conflict, LimitExceeded, NotFound
from counterpromo_core.lookup import get_owned, lock_account
from counterpromo_core.schemas import BranchIn


def _duplicate(name: str) -> Conflict:
    return Conflict(f"there is already a branch named {name!r}")


def count_branches(session: Session, account_id: uuid.UUID) -> int:
    return int(session.scalar(select(func.count()).where(Branch.account_id == account_id)) or 0)


def create_branch(session: Session, account_id: uuid.UUID, data: BranchIn) -> Branch:
    """A new branch; counts against the plan's ``max_branches`` (metric ``branches``)."""
    account = lock_account(session, account_id)
    plan = session.get(BillingPlan, account.plan_code)
    allowed = plan.max_branches if plan is not None else None
    used = count_branches(session, account_id)
    if allowed is not None and used >= allowed:
        raise LimitExceeded("branches", allowed, used, None)
    branch_id = session.scalar(
        insert(Branch)
        .values(id=uuid.uuid4(), account_id=account_id, **data.model_dump())
        .on_conflict_do_nothing()
        .returning(Branch.id)
    )
    if branch_id is None:
        raise _duplicate(data.name)
    return get_branch(session, account_id, branch_id)


def list_branches(session: Session, account_id: uuid.UUID) -> list[Branch]:
    return list(
        session.scalars(
            select(Branch).where(Branch.account_id == account_id).order_by(Branch.name, Branch.id)
        )
    )


def get_branch(session: Session, account_id: uuid.UUID, branch_id: uuid.UUID) -> Branch:
    return get_owned(session, Branch, account_id, branch_id, "branch")


def update_branch(
    session: Session, account_id: uuid.UUID, branch_id: uuid.UUID, data: BranchIn
) -> Branch:
    try:
        with session.begin_nested():
            updated = session.scalar(
                update(Branch)
                .where(Branch.id == branch_id, Branch.account_id == account_id)
                .values(updated_at=func.now(), **data.model_dump())
                .returning(Branch.id)
            )
    except IntegrityError as exc:
        raise _duplicate(data.name) from exc
    if updated is None:
        raise NotFound("branch", branch_id)
    return get_branch(session, account_id, branch_id)


def delete_branch(session: Session, account_id: uuid.UUID, branch_id: uuid.UUID) -> None:
    deleted = session.scalar(
        delete(Branch)
        .where(Branch.id == branch_id, Branch.account_id == account_id)
        .returning(Branch.id)
    )
    if deleted is None:
        raise NotFound("branch", branch_id)


__all__ = [
    "count_branches",
    "create_branch",
    "delete_branch",
    "get_branch",
    "list_branches",
    "update_branch",
]
