"""Brand kit and branches."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from counterpromo_core import assets, branches, brand
from counterpromo_core.errors import Conflict, LimitExceeded, NotFound, ValidationFailed
from counterpromo_core.schemas import BranchIn, BrandKitIn
from pydantic import ValidationError
from sqlalchemy.orm import Session

NewAccount = Callable[..., uuid.UUID]


def test_put_and_get_brand_kit(session: Session, new_account: NewAccount) -> None:
    account_id = new_account()
    assert brand.get_brand_kit(session, account_id) is None
    logo = assets.record_asset(
        session,
        account_id=account_id,
        promo_id=None,
        job_id=None,
        branch_id=None,
        kind="logo",
        bucket="assets",
        key=f"{account_id}/logo.png",
        content_type="image/png",
        size_bytes=100,
        checksum_sha256="a" * 64,
    )
    brand.put_brand_kit(
        session, account_id, BrandKitIn(primary_color="#112233", font="Inter", strapline="Hi")
    )
    kit = brand.put_brand_kit(
        session,
        account_id,
        BrandKitIn(primary_color="#AABBCC", font="Lato", logo_asset_id=logo.id),
    )
    assert (kit.primary_color, kit.font, kit.strapline, kit.logo_asset_id) == (
        "#AABBCC",
        "Lato",
        None,
        logo.id,
    )
    assert brand.get_brand_kit(session, account_id) is kit


def test_brand_kit_validation(session: Session, new_account: NewAccount) -> None:
    with pytest.raises(ValidationError):
        BrandKitIn(primary_color="red")
    with pytest.raises(ValidationError):
        BrandKitIn.model_validate({"font": "Comic Sans"})
    with pytest.raises(ValidationFailed):
        brand.put_brand_kit(session, new_account(), BrandKitIn(logo_asset_id=uuid.uuid4()))


def test_branch_crud(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("pro")
    leeds = branches.create_branch(session, account_id, BranchIn(name="Leeds", phone="0113"))
    york = branches.create_branch(session, account_id, BranchIn(name="York"))
    assert [b.name for b in branches.list_branches(session, account_id)] == ["Leeds", "York"]
    updated = branches.update_branch(
        session, account_id, leeds.id, BranchIn(name="Leeds North", address="1 Road")
    )
    assert (updated.name, updated.address, updated.phone) == ("Leeds North", "1 Road", None)
    with pytest.raises(Conflict):
        branches.update_branch(session, account_id, york.id, BranchIn(name="Leeds North"))
    with pytest.raises(Conflict):
        branches.create_branch(session, account_id, BranchIn(name="York"))
    branches.delete_branch(session, account_id, york.id)
    with pytest.raises(NotFound):
        branches.get_branch(session, account_id, york.id)


def test_branches_are_limited_by_the_plan(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("free")  # one branch
    branches.create_branch(session, account_id, BranchIn(name="Leeds"))
    with pytest.raises(LimitExceeded) as caught:
        branches.create_branch(session, account_id, BranchIn(name="York"))
    assert (caught.value.metric, caught.value.limit, caught.value.used) == ("branches", 1, 1)
