"""Uploads that go straight to S3: product files (CSV/XLSX) parsed into a promo's items, and
pictures (PNG/JPEG/WebP: a logo or product images) that the worker decodes, checks and
re-encodes into an ``image`` asset. One flow for both: create the upload (a presigned POST
form), POST the file, then ask for it to be processed (``request_parse``)."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Literal

from sqlalchemy import update
from sqlalchemy.orm import Session

from counterpromo_core.db.models import Job, Promo, Upload
from counterpromo_core.errors import Conflict, FieldError, ValidationFailed
from counterpromo_core.jobs import create_job
from counterpromo_core.lookup import get_owned

# The one size limit of a product file: written into the presigned upload policy by
# the API and enforced again by the worker's parser (counterpromo_worker ParseLimits).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# The size limit of a picture upload (policy and worker alike); pixel limits are the worker's.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
# The item fields a column of a product file can feed. A parse request's column
# mapping is {column header: one of these fields}.
MAPPABLE_FIELDS = (
    "name",
    "sale_price",
    "sku",
    "unit",
    "category",
    "vendor",
    "rrp",
    "coop_vendor",
    "coop_amount",
    "coop_note",
    "image",  # the file name of a picture uploaded before (see assets.pictures_by_filename)
)
PRODUCT_FILE_TYPES = {
    ".csv": ("text/csv", "application/csv"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
}
IMAGE_TYPES = {
    ".png": ("image/png",),
    ".jpg": ("image/jpeg",),
    ".jpeg": ("image/jpeg",),
    ".webp": ("image/webp",),
}
CONTENT_TYPES = {**PRODUCT_FILE_TYPES, **IMAGE_TYPES}


def is_image(filename: str) -> bool:
    """A picture upload (by its name's suffix; the worker judges the bytes)."""
    return PurePosixPath(filename).suffix.lower() in IMAGE_TYPES


def max_bytes_for(filename: str) -> int:
    """The size limit written into the upload policy for a file of this name."""
    return MAX_IMAGE_BYTES if is_image(filename) else MAX_UPLOAD_BYTES


ParseMode = Literal["append", "replace"]


def _check_upload(
    account_id: uuid.UUID, filename: str, content_type: str, key: str, max_bytes: int
) -> None:
    errors: list[FieldError] = []
    suffix = PurePosixPath(filename).suffix.lower()
    if not filename.strip() or len(filename) > 255:
        errors.append(FieldError("filename", "must be 1 to 255 characters"))
    elif suffix not in CONTENT_TYPES:
        errors.append(
            FieldError("filename", "must be a .csv or .xlsx file, or a .png, .jpg or .webp picture")
        )
    elif content_type not in CONTENT_TYPES[suffix]:
        errors.append(FieldError("content_type", f"must be {' or '.join(CONTENT_TYPES[suffix])}"))
    if not key.startswith(f"{account_id}/"):
        errors.append(FieldError("key", "must be under the account's prefix"))
    most = max_bytes_for(filename)
    if not 1 <= max_bytes <= most:
        errors.append(FieldError("max_bytes", f"must be between 1 and {most}"))
    if errors:
        raise ValidationFailed(errors)


def create_upload(
    session: Session,
    account_id: uuid.UUID,
    *,
    filename: str,
    content_type: str,
    promo_id: uuid.UUID | None,
    bucket: str,
    key: str,
    max_bytes: int,
) -> Upload:
    """Record an upload the client is about to POST to ``bucket``/``key``."""
    _check_upload(account_id, filename, content_type, key, max_bytes)
    if promo_id is not None:
        get_owned(session, Promo, account_id, promo_id, "promo")
    upload = Upload(
        id=uuid.uuid4(),
        account_id=account_id,
        promo_id=promo_id,
        filename=filename.strip(),
        content_type=content_type,
        bucket=bucket,
        key=key,
        max_bytes=max_bytes,
        status="pending",
    )
    session.add(upload)
    session.flush()
    return upload


def get_upload(session: Session, account_id: uuid.UUID, upload_id: uuid.UUID) -> Upload:
    return get_owned(session, Upload, account_id, upload_id, "upload")


def request_parse(
    session: Session,
    account_id: uuid.UUID,
    upload_id: uuid.UUID,
    *,
    mode: ParseMode = "append",
    mapping: dict[str, str] | None = None,
) -> Job:
    """Queue parsing of an uploaded file into its promo's items.

    ``mapping`` maps the file's column headers to item fields when they differ:
    ``{column header: field}``, each field at most once. A mapping written the
    other way round is refused with a message that says so.
    One parse at a time per upload: asking again while one runs is a ``Conflict``.
    A picture upload (.png/.jpg/.webp) queues a ``process_image`` job instead; it needs
    no promo.
    """
    if mode not in ("append", "replace"):
        raise ValidationFailed.single("mode", "must be append or replace")
    _check_mapping(mapping or {})
    upload = get_upload(session, account_id, upload_id)
    if is_image(upload.filename):
        if mapping:
            raise ValidationFailed.single("mapping", "a picture has no columns to map")
        return _request_image(session, account_id, upload)
    if upload.promo_id is None:
        raise ValidationFailed.single("promo_id", "the upload is not attached to a promo")
    _claim(session, account_id, upload_id)
    return create_job(
        session,
        account_id,
        type="parse_upload",
        promo_id=upload.promo_id,
        payload={
            "upload_id": str(upload.id),
            "promo_id": str(upload.promo_id),
            "bucket": upload.bucket,
            "key": upload.key,
            "filename": upload.filename,
            "content_type": upload.content_type,
            "mode": mode,
            "mapping": mapping or {},
        },
    )


def _claim(session: Session, account_id: uuid.UUID, upload_id: uuid.UUID) -> None:
    claimed = session.scalar(
        update(Upload)
        .where(Upload.id == upload_id, Upload.account_id == account_id, Upload.status != "parsing")
        .values(status="parsing", error=None)
        .returning(Upload.id)
        .execution_options(synchronize_session="fetch")
    )
    if claimed is None:
        raise Conflict("this upload is already being processed")


def _request_image(session: Session, account_id: uuid.UUID, upload: Upload) -> Job:
    """Queue a ``process_image`` job: the worker turns the picture into an ``image`` asset."""
    _claim(session, account_id, upload.id)
    return create_job(
        session,
        account_id,
        type="process_image",
        promo_id=None,
        payload={
            "upload_id": str(upload.id),
            "bucket": upload.bucket,
            "key": upload.key,
            "filename": upload.filename,
            "content_type": upload.content_type,
        },
    )


def _check_mapping(mapping: dict[str, str]) -> None:
    errors: list[FieldError] = []
    columns_by_field: dict[str, str] = {}
    for column, field in mapping.items():
        where = f"mapping.{column}"
        if field not in MAPPABLE_FIELDS:
            hint = (
                f'; the mapping goes {{column: field}}: did you mean {{"{field}": "{column}"}}?'
                if column in MAPPABLE_FIELDS
                else ""
            )
            errors.append(
                FieldError(
                    where,
                    f"{field!r} is not an item field (one of {', '.join(MAPPABLE_FIELDS)}){hint}",
                )
            )
        elif field in columns_by_field:
            errors.append(
                FieldError(where, f"{field} is already read from {columns_by_field[field]!r}")
            )
        else:
            columns_by_field[field] = column
    if errors:
        raise ValidationFailed(errors)


def mark_parsed(session: Session, upload_id: uuid.UUID) -> None:
    """The worker parsed the upload's file into its promo."""
    session.execute(
        update(Upload)
        .where(Upload.id == upload_id)
        .values(status="parsed", error=None)
        .execution_options(synchronize_session="fetch")
    )


def mark_failed(session: Session, upload_id: uuid.UUID, error: str) -> None:
    """The upload's file could not be parsed; ``error`` says why, for the dealer."""
    session.execute(
        update(Upload)
        .where(Upload.id == upload_id)
        .values(status="failed", error=error)
        .execution_options(synchronize_session="fetch")
    )


__all__ = [
    "CONTENT_TYPES",
    "IMAGE_TYPES",
    "MAPPABLE_FIELDS",
    "MAX_IMAGE_BYTES",
    "MAX_UPLOAD_BYTES",
    "PRODUCT_FILE_TYPES",
    "create_upload",
    "get_upload",
    "is_image",
    "mark_failed",
    "mark_parsed",
    "max_bytes_for",
    "request_parse",
]
