"""Storing a job's output in S3 and recording it as an asset.

Keys are deterministic (``{account}/{promo}/{job}/...``), so a retried job
overwrites its objects and its asset rows instead of adding new ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from counterpromo_core import assets
from counterpromo_core.db.models import Asset
from counterpromo_storage.keys import account_key
from sqlalchemy.orm import Session

from counterpromo_worker.runtime.context import JobContext

StoredOutput = assets.NewAsset


def output_key(ctx: JobContext, *parts: str) -> str:
    return account_key(ctx.account_id, str(ctx.require_promo_id()), str(ctx.job_id), *parts)


def store_output(
    ctx: JobContext,
    *,
    kind: str,
    bucket: str,
    key: str,
    data: bytes,
    content_type: str,
    branch_id: uuid.UUID | None = None,
) -> StoredOutput:
    put = ctx.blobs.put(bucket, key, data, content_type)
    return StoredOutput(
        kind=kind,
        bucket=bucket,
        key=key,
        content_type=content_type,
        size_bytes=put.size,
        checksum_sha256=put.checksum_sha256,
        branch_id=branch_id,
    )


def record_outputs(
    session: Session, ctx: JobContext, outputs: Sequence[StoredOutput]
) -> list[uuid.UUID]:
    """Record the job's outputs in one statement; their asset ids, in order."""
    return assets.record_assets(
        session,
        account_id=ctx.account_id,
        promo_id=ctx.promo_id,
        job_id=ctx.job_id,
        objects=outputs,
    )


def record_output(session: Session, ctx: JobContext, output: StoredOutput) -> Asset:
    return assets.record_asset(
        session,
        account_id=ctx.account_id,
        promo_id=ctx.promo_id,
        job_id=ctx.job_id,
        branch_id=output.branch_id,
        kind=output.kind,
        bucket=output.bucket,
        key=output.key,
        content_type=output.content_type,
        size_bytes=output.size_bytes,
        checksum_sha256=output.checksum_sha256,
    )
