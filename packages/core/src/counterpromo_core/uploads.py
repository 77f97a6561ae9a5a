"""Spreadsheet uploads (CSV/XLSX) that go straight to S3 and are parsed by the worker."""

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
)
CONTENT_TYPES = {
    ".csv": ("text/csv", "application/csv"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
}
ParseMode = Literal["append", "replace"]


def _check_upload(
    account_id: uuid.UUID, filename: str, content_type: str, key: str, max_bytes: int
) -> None:
    errors: list[FieldError] = []
    suffix = PurePosixPath(filename).suffix.lower()
    if not filename.strip() or len(filename) > 255:
        errors.append(FieldError("filename", "must be 1 to 255 characters"))
    elif suffix not in CONTENT_TYPES:
        errors.append(FieldError("filename", "must be a .csv or .xlsx file"))
    elif content_type not in CONTENT_TYPES[suffix]:
        errors.append(FieldError("content_type", f"must be {' or '.join(CONTENT_TYPES[suffix])}"))
    if not key.startswith(f"{account_id}/"):
        errors.append(FieldError("key", "must be under the account's prefix"))
    if not 1 <= max_bytes <= MAX_UPLOAD_BYTES:
        errors.append(FieldError("max_bytes", f"must be between 1 and {MAX_UPLOAD_BYTES}"))
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
    """
    if mode not in ("append", "replace"):
        raise ValidationFailed.single("mode", "must be append or replace")
    _check_mapping(mapping or {})
    upload = get_upload(session, account_id, upload_id)
    if upload.promo_id is None:
        raise ValidationFailed.single("promo_id", "the upload is not attached to a promo")
    claimed = session.scalar(
        update(Upload)
        .where(Upload.id == upload_id, Upload.account_id == account_id, Upload.status != "parsing")
        .values(status="parsing", error=None)
        .returning(Upload.id)
        .execution_options(synchronize_session="fetch")
    )
    if claimed is None:
        raise Conflict("this upload is already being parsed")
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
    "MAPPABLE_FIELDS",
    "MAX_UPLOAD_BYTES",
    "create_upload",
    "get_upload",
    "mark_failed",
    "mark_parsed",
    "request_parse",
]
