"""The account's brand kit: colours, font, strapline, default CTA and logo."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from counterpromo_core.db.models import BrandKit
from counterpromo_core.lookup import ensure_pictures_owned, lock_account
from counterpromo_core.schemas import FONTS, BrandKitIn

__all__ = ["FONTS", "get_brand_kit", "put_brand_kit"]


def get_brand_kit(session: Session, account_id: uuid.UUID) -> BrandKit | None:
    return session.scalar(select(BrandKit).where(BrandKit.account_id == account_id))


def put_brand_kit(session: Session, account_id: uuid.UUID, data: BrandKitIn) -> BrandKit:
    """Replace the brand kit with ``data`` (fields left out are cleared)."""
    lock_account(session, account_id)
    ensure_pictures_owned(session, account_id, {"logo_asset_id": data.logo_asset_id})
    values = data.model_dump()
    statement = insert(BrandKit).values(account_id=account_id, updated_at=func.now(), **values)
    kit = session.scalar(
        statement.on_conflict_do_update(
            index_elements=[BrandKit.account_id],
            set_={**{k: statement.excluded[k] for k in values}, "updated_at": func.now()},
        )
        .returning(BrandKit)
        .execution_options(populate_existing=True)
    )
    assert kit is not None  # noqa: S101 (an upsert always returns its row)
    return kit
