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


# Asset kinds a logo or an item picture may be: pictures uploaded and re-encoded by the
# worker's process_image job. Never a render output (pdf, png preview), a zip or a csv.
PICTURE_KINDS = ("image", "logo")


def ensure_pictures_owned(
    session: Session, account_id: uuid.UUID, asset_ids: dict[str, uuid.UUID | None]
) -> None:
    """Picture references (``field -> id``) must name picture assets of the same account.

    Checked when the reference is written, so a wrong id is a 422 now rather than a
    failing (and counted) render later.
    """
    wanted = {v for v in asset_ids.values() if v is not None}
    if not wanted:
        return
    owned = select(Asset.id, Asset.kind).where(Asset.id.in_(wanted), Asset.account_id == account_id)
    kinds = {row.id: row.kind for row in session.execute(owned)}
    errors: list[FieldError] = []
    for field, asset_id in asset_ids.items():
        if asset_id is None:
            continue
        kind = kinds.get(asset_id)
        if kind is None:
            errors.append(FieldError(field, "no such asset"))
        elif kind not in PICTURE_KINDS:
            errors.append(
                FieldError(
                    field,
                    f"asset {asset_id} is a {kind} file, not an uploaded picture; upload a PNG, "
                    "JPEG or WebP image (POST /v1/uploads, then /parse) and use its asset id",
                )
            )
    if errors:
        raise ValidationFailed(errors)
