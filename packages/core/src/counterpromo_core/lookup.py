"""Tenant-scoped lookups: another account's object is indistinguishable from a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from counterpromo_core.db.models import Account, Asset
from counterpromo_core.errors import FieldError, NotFound, ValidationFailed

M = TypeVar("M")


def get_owned(
    session: Session,
    model: type[M],
    account_id: uuid.UUID,
    object_id: uuid.UUID,
    resource: str,
    *,
    for_update: bool = False,
    options: Iterable[Any] = (),
) -> M:
    """The row of ``model`` with ``object_id`` that belongs to ``account_id``, else ``NotFound``."""
    statement = (
        select(model)
        .where(
            model.id == object_id,  # type: ignore[attr-defined]
            model.account_id == account_id,  # type: ignore[attr-defined]
        )
        .options(*options)
        .execution_options(populate_existing=True)
    )
    if for_update:
        statement = statement.with_for_update()
    row = session.scalar(statement)
    if row is None:
        raise NotFound(resource, object_id)
    return row


def lock_account(session: Session, account_id: uuid.UUID) -> Account:
    """Lock the account row until the transaction ends.

    Use-cases that count rows against an absolute plan limit (seats, branches)
    or protect an invariant across rows (the last owner) take this lock first,
    so concurrent requests for one account run those checks one at a time.
    """
    account = session.scalar(
        select(Account)
        .where(Account.id == account_id)
        .with_for_update(of=Account)
        .execution_options(populate_existing=True)
    )
    if account is None:
        raise NotFound("account", account_id)
    return account


def ensure_assets_owned(
    session: Session, account_id: uuid.UUID, asset_ids: dict[str, uuid.UUID | None]
) -> None:
    """Asset references (``field -> id``) must name assets of the same account."""
    wanted = {v for v in asset_ids.values() if v is not None}
    if not wanted:
        return
    owned = select(Asset.id).where(Asset.id.in_(wanted), Asset.account_id == account_id)
    found = set(session.scalars(owned))
    missing = [
        FieldError(field, "no such asset")
        for field, asset_id in asset_ids.items()
        if asset_id is not None and asset_id not in found
    ]
    if missing:
        raise ValidationFailed(missing)
