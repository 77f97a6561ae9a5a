"""``process_image``: an uploaded picture becomes an ``image`` asset (a logo or product image).

The upload's bytes are decoded with Pillow and written again without metadata (see
``counterpromo_worker.pictures``); the clean copy goes to the assets bucket under a key
fixed by the upload, so a retried job overwrites its object and asset row. A file that is
not an acceptable picture fails the job and the upload with the reason.
"""

from __future__ import annotations

import uuid
from typing import Any

from counterpromo_core import assets, uploads
from counterpromo_storage.keys import account_key
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from counterpromo_worker.handlers.parse_upload import on_failure
from counterpromo_worker.pictures import BadPicture, clean_picture
from counterpromo_worker.runtime.context import JobContext
from counterpromo_worker.runtime.errors import PermanentJobError

__all__ = ["on_failure", "run"]


class ImageJob(BaseModel):
    """The job payload written by ``uploads.request_parse`` for a picture."""

    model_config = ConfigDict(extra="ignore")

    upload_id: uuid.UUID


def run(ctx: JobContext) -> None:
    job = ImageJob.model_validate(ctx.payload)
    with ctx.sessions() as session:
        upload = uploads.get_upload(session, ctx.account_id, job.upload_id)
    most = min(upload.max_bytes, uploads.MAX_IMAGE_BYTES)
    stored = ctx.blobs.head(upload.bucket, upload.key)
    if stored is None:
        raise PermanentJobError("no file was uploaded for this upload")
    if stored.size > most:
        raise PermanentJobError(f"the file is {stored.size:,} bytes; the most we read is {most:,}")
    try:
        picture = clean_picture(ctx.blobs.get_bytes(upload.bucket, upload.key), upload.filename)
    except BadPicture as error:
        raise PermanentJobError(error.message) from error

    bucket = ctx.services.config.assets_bucket
    key = account_key(ctx.account_id, "pictures", f"{upload.id}.{picture.extension}")
    put = ctx.blobs.put(bucket, key, picture.data, picture.content_type)

    def write(session: Session) -> dict[str, Any]:
        asset = assets.record_asset(
            session,
            account_id=ctx.account_id,
            promo_id=None,
            job_id=ctx.job_id,
            branch_id=None,
            kind="image",
            bucket=bucket,
            key=key,
            content_type=picture.content_type,
            size_bytes=put.size,
            checksum_sha256=put.checksum_sha256,
        )
        uploads.mark_parsed(session, job.upload_id)
        return {
            "upload_id": str(job.upload_id),
            "asset_id": str(asset.id),
            "filename": upload.filename,
            "content_type": picture.content_type,
            "width": picture.width,
            "height": picture.height,
            "size_bytes": put.size,
        }

    ctx.finish(write)
