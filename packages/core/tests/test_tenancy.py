"""Every use-case that takes an object id treats another account's object as not found,
and leaves that object exactly as it was."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from counterpromo_core import (
    accounts,
    api_keys,
    assets,
    branches,
    jobs,
    members,
    promos,
    uploads,
    work,
)
from counterpromo_core.errors import NotFound
from counterpromo_core.ports import ManualClock
from counterpromo_core.schemas import BranchIn, ItemIn, ItemPatch, PromoCreate, PromoPatch
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

CLOCK = ManualClock(dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC))


@dataclass(frozen=True)
class World:
    owner: uuid.UUID  # the account that owns every object below
    intruder: uuid.UUID  # another account, with objects of its own
    promo: uuid.UUID
    item: uuid.UUID
    member: uuid.UUID
    api_key: uuid.UUID
    branch: uuid.UUID
    job: uuid.UUID
    upload: uuid.UUID
    asset: uuid.UUID


@pytest.fixture(scope="module")
def world(sessions: sessionmaker[Session]) -> World:
    with sessions.begin() as s:
        owner = accounts.create_account(
            s,
            name="Owner",
            owner_email="o@owner.test",
            currency="USD",
            locale="en-US",
            plan_code="pro",
        )
        intruder = accounts.create_account(
            s,
            name="Other",
            owner_email="x@other.test",
            currency="CAD",
            locale="fr-CA",
            plan_code="pro",
        )
        promo = promos.create_promo(
            s,
            owner.id,
            PromoCreate(title="Mine", items=[ItemIn(sku="S1", name="Saw", coop_vendor="V")]),
            clock=CLOCK,
        )
        promos.create_promo(s, intruder.id, PromoCreate(title="Theirs"), clock=CLOCK)
        member = members.add_member(s, owner.id, email="m@owner.test", role="member")
        key = api_keys.create_api_key(s, owner.id, name="ci", role="admin")
        branch = branches.create_branch(s, owner.id, BranchIn(name="Leeds"))
        job = work.request_render(s, owner.id, promo.id, clock=CLOCK)
        jobs.fail_job(s, job.id, "bad input")
        upload = uploads.create_upload(
            s,
            owner.id,
            filename="items.csv",
            content_type="text/csv",
            promo_id=promo.id,
            bucket="uploads",
            key=f"{owner.id}/uploads/items.csv",
            max_bytes=1000,
        )
        asset = assets.record_asset(
            s,
            account_id=owner.id,
            promo_id=promo.id,
            job_id=job.id,
            branch_id=None,
            kind="pdf",
            bucket="assets",
            key=f"{owner.id}/out/promo.pdf",
            content_type="application/pdf",
            size_bytes=10,
            checksum_sha256="0" * 64,
        )
        return World(
            owner=owner.id,
            intruder=intruder.id,
            promo=promo.id,
            item=promo.items[0].id,
            member=member.id,
            api_key=key.api_key.id,
            branch=branch.id,
            job=job.id,
            upload=upload.id,
            asset=asset.id,
        )


UseCase = Callable[[Session, uuid.UUID, World], Any]

# (name, table and World field of the targeted row, the call made as the intruder)
CASES: list[tuple[str, str, str, UseCase]] = [
    ("get_promo", "promos", "promo", lambda s, a, w: promos.get_promo(s, a, w.promo)),
    (
        "update_promo",
        "promos",
        "promo",
        lambda s, a, w: promos.update_promo(
            s, a, w.promo, PromoPatch(title="Hijacked"), expected_version=None
        ),
    ),
    (
        "duplicate_promo",
        "promos",
        "promo",
        lambda s, a, w: promos.duplicate_promo(s, a, w.promo, clock=CLOCK),
    ),
    ("archive_promo", "promos", "promo", lambda s, a, w: promos.archive_promo(s, a, w.promo)),
    ("mark_ready", "promos", "promo", lambda s, a, w: promos.mark_ready(s, a, w.promo)),
    ("restore_promo", "promos", "promo", lambda s, a, w: promos.restore_promo(s, a, w.promo)),
    ("delete_promo", "promos", "promo", lambda s, a, w: promos.delete_promo(s, a, w.promo)),
    (
        "replace_items",
        "promos",
        "promo",
        lambda s, a, w: promos.replace_items(s, a, w.promo, [ItemIn(name="X")]),
    ),
    (
        "merge_parsed_items",
        "promos",
        "promo",
        lambda s, a, w: promos.merge_parsed_items(
            s, a, w.promo, [ItemIn(name="X")], mode="replace"
        ),
    ),
    (
        "add_item",
        "promos",
        "promo",
        lambda s, a, w: promos.add_item(s, a, w.promo, ItemIn(name="X")),
    ),
    (
        "update_item",
        "promo_items",
        "item",
        lambda s, a, w: promos.update_item(s, a, w.promo, w.item, ItemPatch(name="X")),
    ),
    (
        "delete_item",
        "promo_items",
        "item",
        lambda s, a, w: promos.delete_item(s, a, w.promo, w.item),
    ),
    (
        "reorder_items",
        "promo_items",
        "item",
        lambda s, a, w: promos.reorder_items(s, a, w.promo, [w.item]),
    ),
    ("get_member", "members", "member", lambda s, a, w: members.get_member(s, a, w.member)),
    (
        "change_role",
        "members",
        "member",
        lambda s, a, w: members.change_role(s, a, w.member, "admin"),
    ),
    ("remove_member", "members", "member", lambda s, a, w: members.remove_member(s, a, w.member)),
    (
        "create_api_key for a member",
        "members",
        "member",
        lambda s, a, w: api_keys.create_api_key(s, a, name="k", role="member", member_id=w.member),
    ),
    (
        "revoke_api_key",
        "api_keys",
        "api_key",
        lambda s, a, w: api_keys.revoke_api_key(s, a, w.api_key),
    ),
    ("get_branch", "branches", "branch", lambda s, a, w: branches.get_branch(s, a, w.branch)),
    (
        "update_branch",
        "branches",
        "branch",
        lambda s, a, w: branches.update_branch(s, a, w.branch, BranchIn(name="Mine now")),
    ),
    (
        "delete_branch",
        "branches",
        "branch",
        lambda s, a, w: branches.delete_branch(s, a, w.branch),
    ),
    ("get_job", "jobs", "job", lambda s, a, w: jobs.get_job(s, a, w.job)),
    ("requeue_job", "jobs", "job", lambda s, a, w: jobs.requeue_job(s, a, w.job)),
    (
        "request_render",
        "promos",
        "promo",
        lambda s, a, w: work.request_render(s, a, w.promo, clock=CLOCK),
    ),
    ("request_export", "promos", "promo", lambda s, a, w: work.request_export(s, a, w.promo)),
    (
        "request_coop_report",
        "promos",
        "promo",
        lambda s, a, w: work.request_coop_report(s, a, w.promo),
    ),
    (
        "create_upload for a promo",
        "promos",
        "promo",
        lambda s, a, w: uploads.create_upload(
            s,
            a,
            filename="x.csv",
            content_type="text/csv",
            promo_id=w.promo,
            bucket="uploads",
            key=f"{a}/uploads/x.csv",
            max_bytes=10,
        ),
    ),
    ("get_upload", "uploads", "upload", lambda s, a, w: uploads.get_upload(s, a, w.upload)),
    ("request_parse", "uploads", "upload", lambda s, a, w: uploads.request_parse(s, a, w.upload)),
    ("get_asset", "assets", "asset", lambda s, a, w: assets.get_asset(s, a, w.asset)),
    ("list_assets", "promos", "promo", lambda s, a, w: assets.list_assets(s, a, w.promo)),
]


def _row(session: Session, table: str, row_id: uuid.UUID) -> dict[str, Any] | None:
    found = session.execute(
        text(f"SELECT * FROM {table} WHERE id = :id"),  # noqa: S608 (table names are ours)
        {"id": row_id},
    ).mappings()
    rows = [dict(r) for r in found]
    return rows[0] if rows else None


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_another_accounts_object_is_not_found(
    sessions: sessionmaker[Session], world: World, case: tuple[str, str, str, UseCase]
) -> None:
    _, table, target, call = case
    row_id = getattr(world, target)
    with sessions() as s:
        before = _row(s, table, row_id)
    assert before is not None

    with sessions() as s, pytest.raises(NotFound), s.begin():
        call(s, world.intruder, world)

    with sessions() as s:
        assert _row(s, table, row_id) == before


def test_the_owner_can_reach_every_object(sessions: sessionmaker[Session], world: World) -> None:
    """The matrix above fails for the right reason: the ids are real and reachable."""
    with sessions() as s:
        assert promos.get_promo(s, world.owner, world.promo).items[0].id == world.item
        assert members.get_member(s, world.owner, world.member).id == world.member
        assert branches.get_branch(s, world.owner, world.branch).id == world.branch
        assert jobs.get_job(s, world.owner, world.job).id == world.job
        assert uploads.get_upload(s, world.owner, world.upload).id == world.upload
        assert assets.get_asset(s, world.owner, world.asset).id == world.asset
        assert [k.id for k in api_keys.list_api_keys(s, world.owner)] == [world.api_key]
        assert promos.list_promos(s, world.intruder).items[0].title == "Theirs"
        assert [a.id for a in assets.list_assets(s, world.owner, world.promo)] == [world.asset]
