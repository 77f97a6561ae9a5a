"""Uploads, assets and the shipped plans."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from counterpromo_core import assets, jobs, promos, uploads
from counterpromo_core.db.models import Asset, BillingPlan
from counterpromo_core.errors import Conflict, ValidationFailed
from counterpromo_core.plans import PLANS, list_plans, sync_plans
from counterpromo_core.ports import ManualClock
from counterpromo_core.schemas import PromoCreate
from sqlalchemy import select, update
from sqlalchemy.orm import Session

NewAccount = Callable[..., uuid.UUID]
StatementsSent = Callable[[Session], AbstractContextManager[list[str]]]


def _upload(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID | None, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "filename": "items.csv",
        "content_type": "text/csv",
        "promo_id": promo_id,
        "bucket": "uploads",
        "key": f"{account_id}/uploads/{uuid.uuid4()}.csv",
        "max_bytes": 1_000_000,
        **kw,
    }
    return uploads.create_upload(session, account_id, **args)


def test_request_parse_queues_one_parse_at_a_time(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account()
    promo = promos.create_promo(session, account_id, PromoCreate(title="P"), clock=clock)
    upload = _upload(session, account_id, promo.id)
    job = uploads.request_parse(
        session, account_id, upload.id, mode="replace", mapping={"Code": "sku"}
    )
    assert job.type == "parse_upload"
    assert job.payload["upload_id"] == str(upload.id)
    assert (job.payload["mode"], job.payload["mapping"]) == ("replace", {"Code": "sku"})
    with pytest.raises(Conflict):
        uploads.request_parse(session, account_id, upload.id)
    uploads.mark_failed(session, upload.id, "row 3: price is not a number")
    session.refresh(upload)
    assert (upload.status, upload.error) == ("failed", "row 3: price is not a number")
    assert uploads.request_parse(session, account_id, upload.id).id != job.id


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"filename": "items.exe"}, "filename"),
        ({"content_type": "application/pdf"}, "content_type"),
        ({"key": "someone-else/items.csv"}, "key"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": uploads.MAX_UPLOAD_BYTES + 1}, "max_bytes"),
    ],
)
def test_bad_uploads_are_refused(
    session: Session, new_account: NewAccount, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _upload(session, new_account(), None, **overrides)
    assert [e.field for e in caught.value.errors] == [field]


def test_parse_needs_a_promo(session: Session, new_account: NewAccount) -> None:
    account_id = new_account()
    upload = _upload(session, account_id, None)
    with pytest.raises(ValidationFailed):
        uploads.request_parse(session, account_id, upload.id)


def _record(session: Session, account_id: uuid.UUID, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "account_id": account_id,
        "promo_id": None,
        "job_id": None,
        "branch_id": None,
        "kind": "pdf",
        "bucket": "assets",
        "key": f"{account_id}/out/promo.pdf",
        "content_type": "application/pdf",
        "size_bytes": 10,
        "checksum_sha256": "a" * 64,
        **kw,
    }
    return assets.record_asset(session, **args)


def test_record_asset_upserts_on_bucket_and_key(session: Session, new_account: NewAccount) -> None:
    account_id = new_account()
    first = _record(session, account_id)
    second = _record(session, account_id, size_bytes=20, checksum_sha256="b" * 64)
    assert second.id == first.id
    assert (second.size_bytes, second.checksum_sha256) == (20, "b" * 64)
    with pytest.raises(ValidationFailed):
        _record(session, account_id, key="elsewhere/x.pdf")


def _new(account_id: uuid.UUID, name: str, **kw: Any) -> assets.NewAsset:
    fields: dict[str, Any] = {
        "kind": "pdf",
        "bucket": "assets",
        "key": f"{account_id}/out/{name}",
        "content_type": "application/pdf",
        "size_bytes": 10,
        "checksum_sha256": "a" * 64,
        **kw,
    }
    return assets.NewAsset(**fields)


def test_record_assets_records_a_jobs_objects_in_one_statement_in_order(
    session: Session, new_account: NewAccount, statements_sent: StatementsSent
) -> None:
    account_id = new_account()
    objects = [_new(account_id, "b.pdf"), _new(account_id, "a.png", kind="png")]
    with statements_sent(session) as sent:
        ids = assets.record_assets(
            session, account_id=account_id, promo_id=None, job_id=None, objects=objects
        )
    assert len(sent) == 1
    assert sent[0].startswith("INSERT INTO assets")
    rows = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(ids)))}
    assert [(rows[i].key, rows[i].kind) for i in ids] == [(o.key, o.kind) for o in objects]
    # A retry overwrites the same rows (same ids), never adds any.
    again = [dataclasses.replace(o, size_bytes=99) for o in reversed(objects)]
    retried = assets.record_assets(
        session, account_id=account_id, promo_id=None, job_id=None, objects=again
    )
    assert retried == list(reversed(ids))
    session.expire_all()
    assert {a.size_bytes for a in session.scalars(select(Asset).where(Asset.id.in_(ids)))} == {99}
    assert (
        assets.record_assets(session, account_id=account_id, promo_id=None, job_id=None, objects=[])
        == []
    )


def test_record_assets_refuses_another_accounts_object_and_bad_input(
    session: Session, new_account: NewAccount
) -> None:
    owner, other = new_account(), new_account()
    taken = _new(owner, "taken.pdf")
    assets.record_assets(session, account_id=owner, promo_id=None, job_id=None, objects=[taken])
    mine = _new(other, "mine.pdf")
    # The other account's key, recorded under this one: a conflict, and nothing written.
    stolen = dataclasses.replace(taken)
    with pytest.raises(ValidationFailed):
        assets.record_assets(
            session, account_id=other, promo_id=None, job_id=None, objects=[mine, stolen]
        )
    with pytest.raises(ValidationFailed):
        assets.record_assets(
            session, account_id=other, promo_id=None, job_id=None, objects=[mine, mine]
        )
    with pytest.raises(ValidationFailed):
        assets.record_assets(
            session,
            account_id=other,
            promo_id=None,
            job_id=None,
            objects=[_new(other, "x.gif", kind="gif")],
        )
    session.rollback()


def test_record_assets_is_a_conflict_when_the_key_is_another_accounts(
    session: Session, new_account: NewAccount
) -> None:
    owner, other = new_account(), new_account()
    key = f"{other}/out/shared.pdf"
    # Recorded for ``owner`` under a key in ``other``'s prefix: only possible through SQL.
    session.add(
        Asset(
            account_id=owner,
            kind="pdf",
            bucket="assets",
            key=key,
            content_type="application/pdf",
            size_bytes=1,
            checksum_sha256="a" * 64,
        )
    )
    session.flush()
    with pytest.raises(Conflict):
        assets.record_assets(
            session,
            account_id=other,
            promo_id=None,
            job_id=None,
            objects=[_new(other, "fine.pdf"), _new(other, "shared.pdf")],
        )


def test_latest_output_set_is_the_newest_succeeded_render(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo_id = promos.create_promo(session, account_id, PromoCreate(title="P"), clock=clock).id
    made: dict[str, uuid.UUID] = {}
    for name in ("old", "new", "running"):
        job = jobs.create_job(
            session, account_id, type="render_promo", promo_id=promo_id, payload={}
        )
        made[name] = job.id
        for kind in ("pdf", "png"):
            _record(
                session,
                account_id,
                promo_id=promo_id,
                job_id=job.id,
                kind=kind,
                key=f"{account_id}/{job.id}/promo.{kind}",
            )
        jobs.start_job(session, job.id)
        if name != "running":
            jobs.succeed_job(session, job.id, {})
            session.flush()
    latest = assets.latest_output_set(session, account_id, promo_id)
    assert {(a.job_id, a.kind) for a in latest} == {(made["new"], "pdf"), (made["new"], "png")}
    assert len(assets.list_assets(session, account_id, promo_id)) == 6


def test_sync_plans_restores_the_shipped_definitions(session: Session) -> None:
    session.execute(update(BillingPlan).where(BillingPlan.code == "free").values(max_seats=99))
    assert sync_plans(session) == len(PLANS)
    rows = {
        p.code: p
        for p in session.scalars(select(BillingPlan).execution_options(populate_existing=True))
    }
    for plan in PLANS:
        stored = rows[plan.code]
        for field in dataclasses.fields(plan):
            assert getattr(stored, field.name) == getattr(plan, field.name), field.name


def test_list_plans_is_cheapest_first(session: Session) -> None:
    listed = [p.code for p in list_plans(session) if p.code in {p.code for p in PLANS}]
    assert listed == [p.code for p in sorted(PLANS, key=lambda p: p.sort_order)]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"sku": "Code"}, 'did you mean {"Code": "sku"}?'),
        ({"Code": "colour"}, "'colour' is not an item field"),
        ({"Code": "sku", "Stock No": "sku"}, "sku is already read from 'Code'"),
    ],
)
def test_a_mapping_is_column_to_field_and_the_other_way_is_refused(
    session: Session,
    new_account: NewAccount,
    clock: ManualClock,
    mapping: dict[str, str],
    message: str,
) -> None:
    account_id = new_account()
    promo = promos.create_promo(session, account_id, PromoCreate(title="P"), clock=clock)
    upload = _upload(session, account_id, promo.id)
    with pytest.raises(ValidationFailed) as caught:
        uploads.request_parse(session, account_id, upload.id, mapping=mapping)
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].field.startswith("mapping.")
    assert message in caught.value.errors[0].message


def test_a_picture_upload_queues_process_image_without_a_promo(
    session: Session, new_account: NewAccount
) -> None:
    account_id = new_account()
    upload = _upload(
        session,
        account_id,
        None,
        filename="Logo.WEBP",
        content_type="image/webp",
        key=f"{account_id}/uploads/{uuid.uuid4()}.webp",
        max_bytes=uploads.MAX_IMAGE_BYTES,
    )
    job = uploads.request_parse(session, account_id, upload.id)
    assert (job.type, job.promo_id) == ("process_image", None)
    assert job.payload["upload_id"] == str(upload.id)
    with pytest.raises(Conflict):
        uploads.request_parse(session, account_id, upload.id)
    with pytest.raises(ValidationFailed) as caught:
        _upload(
            session,
            account_id,
            None,
            filename="huge.png",
            content_type="image/png",
            max_bytes=uploads.MAX_IMAGE_BYTES + 1,
        )
    assert caught.value.errors[0].field == "max_bytes"
