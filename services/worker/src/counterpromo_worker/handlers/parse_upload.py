"""``parse_upload``: read an uploaded CSV/XLSX and merge its products into the promo.

The merge, the upload's status and the job's success commit together, so a
redelivered message can never merge the same file twice. A file that cannot be
read (wrong type, too big, a zip bomb, formulas...) fails the job and the
upload with the parser's reason and changes no item. Rows that cannot be read
in an otherwise good file are skipped and listed, by row number, in the job's
result; a file with no readable row fails.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from counterpromo_core import assets, promos, uploads
from counterpromo_core.schemas import ItemIn
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from counterpromo_worker.parsing import (
    ParsedRow,
    ParseLimits,
    UnreadableFile,
    parse_product_file,
)
from counterpromo_worker.runtime.context import JobContext
from counterpromo_worker.runtime.errors import PermanentJobError

MAX_REPORTED_ROW_ERRORS = 100


class ParseJob(BaseModel):
    """The job payload written by ``uploads.request_parse``."""

    model_config = ConfigDict(extra="ignore")

    upload_id: uuid.UUID
    mode: Literal["append", "replace"] = "append"
    mapping: dict[str, str] = {}


def run(ctx: JobContext) -> None:
    job = ParseJob.model_validate(ctx.payload)
    promo_id = ctx.require_promo_id()
    with ctx.sessions() as session:
        upload = uploads.get_upload(session, ctx.account_id, job.upload_id)
    limits = ParseLimits()
    stored = ctx.blobs.head(upload.bucket, upload.key)
    if stored is None:
        raise PermanentJobError("no file was uploaded for this upload")
    most = min(upload.max_bytes, limits.max_bytes)
    if stored.size > most:
        raise PermanentJobError(f"the file is {stored.size:,} bytes; the most we read is {most:,}")
    data = ctx.blobs.get_bytes(upload.bucket, upload.key)
    try:
        parsed = parse_product_file(
            data,
            filename=upload.filename,
            content_type=upload.content_type,
            mapping=job.mapping or None,
            limits=limits,
        )
    except UnreadableFile as error:
        raise PermanentJobError(error.message) from error
    row_errors = [{"row": error.row_number, "message": error.message} for error in parsed.errors]
    if not parsed.rows:
        detail = "; ".join(f"row {e['row']}: {e['message']}" for e in row_errors[:5])
        raise PermanentJobError(
            "no product could be read from the file" + (f" ({detail})" if detail else "")
        )

    def write(session: Session) -> dict[str, Any]:
        names = {row.image_name for row in parsed.rows if row.image_name}
        pictures = assets.pictures_by_filename(session, ctx.account_id, names)
        matched = set(pictures.values())
        items = [_with_picture(row, pictures) for row in parsed.rows]
        promo = promos.merge_parsed_items(session, ctx.account_id, promo_id, items, mode=job.mode)
        uploads.mark_parsed(session, job.upload_id)
        return {
            "upload_id": str(job.upload_id),
            "mode": job.mode,
            "rows_imported": len(parsed.rows),
            "rows_skipped": len(row_errors),
            "row_errors": row_errors[:MAX_REPORTED_ROW_ERRORS],
            "header_row": parsed.header_row,
            "columns": parsed.columns,
            "ignored_columns": parsed.ignored_columns,
            "images_matched": sum(1 for item in items if item.image_asset_id in matched),
            "images_not_found": sorted(names - set(pictures))[:MAX_REPORTED_ROW_ERRORS],
            "item_count": len(promo.items),
        }

    ctx.finish(write)


def _with_picture(row: ParsedRow, pictures: dict[str, uuid.UUID]) -> ItemIn:
    """The row's item, with the picture its image column names when that was uploaded."""
    asset_id = pictures.get(row.image_name) if row.image_name else None
    return row.item.model_copy(update={"image_asset_id": asset_id}) if asset_id else row.item


def on_failure(session: Session, ctx: JobContext, reason: str) -> None:
    try:
        upload_id = uuid.UUID(str(ctx.payload.get("upload_id")))
    except ValueError:
        return  # the payload named no upload: there is none to mark
    uploads.mark_failed(session, upload_id, reason)
