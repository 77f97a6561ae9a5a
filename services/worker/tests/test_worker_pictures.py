"""End to end: an uploaded picture becomes an image asset that can be a logo; a bad one fails."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

from counterpromo_core import assets, brand, promos, uploads, work
from counterpromo_core.db.models import Asset, Job, Upload
from counterpromo_core.ports import SystemClock
from counterpromo_core.schemas import BrandKitIn
from counterpromo_storage.blobs import BlobStore
from counterpromo_storage.keys import account_key
from counterpromo_storage.settings import AppConfig
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload_picture(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    account_id: uuid.UUID,
    *,
    filename: str,
    content_type: str,
    data: bytes,
) -> tuple[uuid.UUID, uuid.UUID]:
    key = account_key(account_id, "uploads", uuid.uuid4().hex, filename)
    blobs.put(config.uploads_bucket, key, data, content_type)
    with sessions.begin() as session:
        upload = uploads.create_upload(
            session,
            account_id,
            filename=filename,
            content_type=content_type,
            promo_id=None,
            bucket=config.uploads_bucket,
            key=key,
            max_bytes=uploads.max_bytes_for(filename),
        )
        job = uploads.request_parse(session, account_id, upload.id)
        assert job.type == "process_image"
        return upload.id, job.id


def test_an_uploaded_logo_is_cleaned_and_renders_on_the_flyer(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account()
    upload_id, job_id = upload_picture(
        sessions,
        blobs,
        config,
        account_id,
        filename="logo.jpg",
        content_type="image/jpeg",
        data=jpeg_with_gps(),
    )
    dispatch()
    start_worker()
    wait_until(lambda: job_row(job_id).status not in ("queued", "running"), what="the picture")
    job = job_row(job_id)
    assert job.status == "succeeded", job.error
    assert job.result is not None
    assert (job.result["width"], job.result["height"]) == (64, 48)
    asset_id = uuid.UUID(job.result["asset_id"])
    with sessions() as session:
        asset = assets.get_asset(session, account_id, asset_id)
        assert session.get_one(Upload, upload_id).status == "parsed"
    assert (asset.kind, asset.content_type) == ("image", "image/jpeg")
    stored = blobs.get_bytes(asset.bucket, asset.key)
    assert b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as reread:
        assert reread.size == (64, 48)

    promo_id = make_promo(account_id, items=3)
    with sessions.begin() as session:
        brand.put_brand_kit(session, account_id, BrandKitIn(logo_asset_id=asset_id))
        render_id = work.request_render(session, account_id, promo_id, clock=SystemClock()).id
    dispatch()
    wait_until(lambda: job_row(render_id).status not in ("queued", "running"), what="the render")
    assert job_row(render_id).status == "succeeded", job_row(render_id).error


def test_a_file_that_is_not_a_picture_fails_the_job_and_the_upload_with_the_reason(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    make_account: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account()
    upload_id, job_id = upload_picture(
        sessions,
        blobs,
        config,
        account_id,
        filename="logo.png",
        content_type="image/png",
        data=b"%PDF-1.7 pretending to be a logo",
    )
    dispatch()
    start_worker()
    wait_until(lambda: job_row(job_id).status not in ("queued", "running"), what="the picture")
    job = job_row(job_id)
    assert job.status == "failed"
    assert "'logo.png' is not a PNG, JPEG or WebP picture" in (job.error or "")
    with sessions() as session:
        upload = session.get_one(Upload, upload_id)
        assert upload.status == "failed"
        assert "not a PNG, JPEG or WebP picture" in (upload.error or "")
        kinds = session.scalars(select(Asset.kind).where(Asset.account_id == account_id)).all()
    assert kinds == []


def test_a_product_files_image_column_gives_items_the_uploaded_pictures(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account()
    _, picture_job = upload_picture(
        sessions,
        blobs,
        config,
        account_id,
        filename="Drill.JPG",
        content_type="image/jpeg",
        data=jpeg_with_gps(),
    )
    dispatch()
    start_worker()
    wait_until(lambda: job_row(picture_job).status not in ("queued", "running"), what="picture")
    assert job_row(picture_job).status == "succeeded", job_row(picture_job).error

    promo_id = make_promo(account_id, items=0)
    csv = b"Name,Price,Image\nDrill,99,photos/drill.jpg\nSaw,49,saw.png\nTape,3,\n"
    key = account_key(account_id, "uploads", uuid.uuid4().hex, "list.csv")
    blobs.put(config.uploads_bucket, key, csv, "text/csv")
    with sessions.begin() as session:
        upload = uploads.create_upload(
            session,
            account_id,
            filename="list.csv",
            content_type="text/csv",
            promo_id=promo_id,
            bucket=config.uploads_bucket,
            key=key,
            max_bytes=uploads.MAX_UPLOAD_BYTES,
        )
        parse_job = uploads.request_parse(session, account_id, upload.id).id
    dispatch()
    wait_until(lambda: job_row(parse_job).status not in ("queued", "running"), what="the parse")
    job = job_row(parse_job)
    assert job.status == "succeeded", job.error
    assert job.result is not None
    assert job.result["columns"]["Image"] == "image"
    assert (job.result["images_matched"], job.result["images_not_found"]) == (1, ["saw.png"])
    picture_asset = uuid.UUID(job_row(picture_job).result["asset_id"])  # type: ignore[index]
    with sessions() as session:
        promo = promos.get_promo(session, account_id, promo_id)
        assert [(i.name, i.image_asset_id) for i in promo.items] == [
            ("Drill", picture_asset),
            ("Saw", None),
            ("Tape", None),
        ]
