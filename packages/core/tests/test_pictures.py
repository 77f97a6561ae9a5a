"""Only a picture asset of the same account can be a logo or an item's image (checked at write)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from counterpromo_core import assets, brand, promos
from counterpromo_core.errors import ValidationFailed
from counterpromo_core.ports import ManualClock
from counterpromo_core.schemas import BrandKitIn, ItemIn, ItemPatch, PromoCreate
from sqlalchemy.orm import Session

NewAccount = Callable[..., uuid.UUID]


def _asset(session: Session, account_id: uuid.UUID, kind: str) -> uuid.UUID:
    return assets.record_asset(
        session,
        account_id=account_id,
        promo_id=None,
        job_id=None,
        branch_id=None,
        kind=kind,
        bucket="assets",
        key=f"{account_id}/{uuid.uuid4()}.{kind}",
        content_type="application/octet-stream",
        size_bytes=10,
        checksum_sha256="b" * 64,
    ).id


@pytest.mark.parametrize("kind", ["pdf", "png", "zip", "csv"])
def test_a_render_output_or_file_cannot_be_a_logo_or_an_item_image(
    session: Session, new_account: NewAccount, clock: ManualClock, kind: str
) -> None:
    account_id = new_account()
    not_a_picture = _asset(session, account_id, kind)
    with pytest.raises(ValidationFailed) as caught:
        brand.put_brand_kit(session, account_id, BrandKitIn(logo_asset_id=not_a_picture))
    [error] = caught.value.errors
    assert error.field == "logo_asset_id"
    assert f"is a {kind} file, not an uploaded picture" in error.message

    with pytest.raises(ValidationFailed) as caught:
        promos.create_promo(
            session,
            account_id,
            PromoCreate(title="P", items=[ItemIn(name="A", image_asset_id=not_a_picture)]),
            clock=clock,
        )
    assert caught.value.errors[0].field == "items[0].image_asset_id"

    promo = promos.create_promo(
        session, account_id, PromoCreate(title="P", items=[ItemIn(name="A")]), clock=clock
    )
    with pytest.raises(ValidationFailed):
        promos.update_item(
            session,
            account_id,
            promo.id,
            promo.items[0].id,
            ItemPatch(image_asset_id=not_a_picture),
        )


def test_a_picture_of_the_account_is_accepted_and_anothers_is_not_found(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id, other = new_account(), new_account()
    mine, theirs = _asset(session, account_id, "image"), _asset(session, other, "image")
    kit = brand.put_brand_kit(session, account_id, BrandKitIn(logo_asset_id=mine))
    assert kit.logo_asset_id == mine
    promo = promos.create_promo(
        session,
        account_id,
        PromoCreate(title="P", items=[ItemIn(name="A", image_asset_id=mine)]),
        clock=clock,
    )
    assert promo.items[0].image_asset_id == mine
    with pytest.raises(ValidationFailed) as caught:
        brand.put_brand_kit(session, account_id, BrandKitIn(logo_asset_id=theirs))
    assert caught.value.errors[0].message == "no such asset"
