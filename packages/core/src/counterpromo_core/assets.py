"""Stored files (outputs, logos, images), one row per S3 object."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import UUID, Insert, insert
from sqlalchemy.orm import Session

from counterpromo_core.db.models import ASSET_KINDS, Asset, Job, LegacyId, Promo, Upload
from counterpromo_core.errors import Conflict, ValidationFailed
from counterpromo_core.lookup import get_owned

OUTPUT_KINDS = ("pdf", "png")


@dataclass(frozen=True)
class NewAsset:
    """An object just written to S3, to be recorded as an asset of a job."""

    kind: str
    bucket: str
    key: str
    content_type: str
    size_bytes: int
    checksum_sha256: str
    branch_id: uuid.UUID | None = None


def _checked_row(account_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
    if values["kind"] not in ASSET_KINDS:
        raise ValidationFailed.single("kind", f"must be one of {', '.join(ASSET_KINDS)}")
    if not values["key"].startswith(f"{account_id}/"):
        raise ValidationFailed.single("key", "must be under the account's prefix")
    return {"id": uuid.uuid4(), "account_id": account_id, **values}


def _upsert(rows: list[dict[str, Any]]) -> Insert:
    """The INSERT of ``rows``; a (bucket, key) already recorded for the same account is
    overwritten (a retried job), one recorded for another account is left alone."""
    statement = insert(Asset).values(rows)
    return statement.on_conflict_do_update(
        index_elements=[Asset.bucket, Asset.key],
        set_={k: statement.excluded[k] for k in rows[0] if k not in ("id", "bucket", "key")},
        where=Asset.account_id == statement.excluded.account_id,
    )


def record_asset(
    session: Session,
    *,
    account_id: uuid.UUID,
    promo_id: uuid.UUID | None,
    job_id: uuid.UUID | None,
    branch_id: uuid.UUID | None,
    kind: str,
    bucket: str,
    key: str,
    content_type: str,
    size_bytes: int,
    checksum_sha256: str,
) -> Asset:
    """Record the object at ``bucket``/``key``; a retried job overwrites its row, never adds one."""
    row = _checked_row(
        account_id,
        {
            "promo_id": promo_id,
            "job_id": job_id,
            "branch_id": branch_id,
            "kind": kind,
            "bucket": bucket,
            "key": key,
            "content_type": content_type,
            "size_bytes": size_bytes,
            "checksum_sha256": checksum_sha256,
        },
    )
    asset = session.scalar(
        _upsert([row]).returning(Asset).execution_options(populate_existing=True)
    )
    if asset is None:
        raise Conflict(f"s3://{bucket}/{key} is recorded for another account")
    return asset


def record_assets(
    session: Session,
    *,
    account_id: uuid.UUID,
    promo_id: uuid.UUID | None,
    job_id: uuid.UUID | None,
    objects: Sequence[NewAsset],
) -> list[uuid.UUID]:
    """Record a job's objects in one statement (as ``record_asset`` each); their asset ids,
    in the order given. Keys must be distinct."""
    if not objects:
        return []
    rows = [
        _checked_row(
            account_id,
            {
                "promo_id": promo_id,
                "job_id": job_id,
                "branch_id": item.branch_id,
                "kind": item.kind,
                "bucket": item.bucket,
                "key": item.key,
                "content_type": item.content_type,
                "size_bytes": item.size_bytes,
                "checksum_sha256": item.checksum_sha256,
            },
        )
        for item in objects
    ]
    if len({(row["bucket"], row["key"]) for row in rows}) != len(rows):
        raise ValidationFailed.single("key", "each object is recorded once")
    returned = session.execute(_upsert(rows).returning(Asset.bucket, Asset.key, Asset.id))
    ids = {(bucket, key): asset_id for bucket, key, asset_id in returned}
    missing = [item for item in objects if (item.bucket, item.key) not in ids]
    if missing:
        raise Conflict(f"s3://{missing[0].bucket}/{missing[0].key} is recorded for another account")
    return [ids[(item.bucket, item.key)] for item in objects]


def list_assets(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID) -> list[Asset]:
    """The promo's assets, oldest first; ``NotFound`` when the promo is not the account's."""
    get_owned(session, Promo, account_id, promo_id, "promo")
    return list(
        session.scalars(
            select(Asset)
            .where(Asset.account_id == account_id, Asset.promo_id == promo_id)
            .order_by(Asset.created_at, Asset.id)
        )
    )


def pictures_by_filename(
    session: Session, account_id: uuid.UUID, filenames: set[str]
) -> dict[str, uuid.UUID]:
    """The account's picture assets by the file name they were uploaded as.

    Names match ignoring case and any folder part ("Photos/DRILL.jpg" = "drill.jpg");
    when a name was uploaded more than once, the newest picture wins. Keys of the
    result are the names as given.
    """
    wanted = {_bare_name(name): name for name in filenames if _bare_name(name)}
    if not wanted:
        return {}
    upload_id = Job.payload["upload_id"].astext.cast(UUID(as_uuid=True))
    rows = session.execute(
        select(func.lower(Upload.filename), Asset.id)
        .join(Job, Job.id == Asset.job_id)
        .join(Upload, Upload.id == upload_id)
        .where(
            Asset.account_id == account_id,
            Job.account_id == account_id,
            Upload.account_id == account_id,
            Asset.kind == "image",
            Job.type == "process_image",
            func.lower(Upload.filename).in_(list(wanted)),
        )
        .order_by(Asset.created_at, Asset.id)
    )
    return {wanted[name]: asset_id for name, asset_id in rows}


def _bare_name(name: str) -> str:
    return name.strip().replace("\\", "/").rsplit("/", 1)[-1].lower()


def get_asset(session: Session, account_id: uuid.UUID, asset_id: uuid.UUID) -> Asset:
    return get_owned(session, Asset, account_id, asset_id, "asset")


def keeps_original_key(session: Session, asset: Asset) -> bool:
    """True for an asset adopted from the original application.

    Its S3 key is the original's (not under our account-id prefix); the row, owned by
    the account, is what vouches for it. Every other asset's key is under the prefix.
    """
    return bool(
        session.scalar(
            select(exists().where(LegacyId.source_table == "assets", LegacyId.new_id == asset.id))
        )
    )


def latest_output_set(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID) -> list[Asset]:
    """The PDF and PNG outputs of the promo's newest succeeded render job (empty if none)."""
    newest = (
        select(Job.id)
        .where(
            Job.account_id == account_id,
            Job.promo_id == promo_id,
            Job.type == "render_promo",
            Job.status == "succeeded",
        )
        .order_by(Job.finished_at.desc().nulls_last(), Job.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(Asset)
            .where(
                Asset.account_id == account_id,
                Asset.job_id == newest,
                Asset.kind.in_(OUTPUT_KINDS),
            )
            .order_by(Asset.branch_id.nulls_first(), Asset.kind, Asset.key)
        )
    )


__all__ = [
    "OUTPUT_KINDS",
    "NewAsset",
    "get_asset",
    "latest_output_set",
    "list_assets",
    "pictures_by_filename",
    "record_asset",
    "record_assets",
]
