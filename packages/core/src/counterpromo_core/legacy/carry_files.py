"""Uploads and assets: the rows point at the same S3 objects (their keys stay valid)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from counterpromo_core.db.models import Asset, Promo, Upload
from counterpromo_core.legacy import rules
from counterpromo_core.legacy.source import Carry, utc

NEVER_PARSED = "never parsed by the original application"


def _promo_accounts(carry: Carry) -> dict[uuid.UUID, uuid.UUID]:
    promos = list(carry.ids("promos").values())
    return {
        r.id: r.account_id
        for r in carry.connection.execute(
            select(Promo.id, Promo.account_id).where(Promo.id.in_(promos))
        )
    }


def carry_uploads(carry: Carry) -> None:
    report = carry.report.table("uploads", "uploads")
    rows = carry.rows(
        "uploads",
        [
            "id",
            "accountId",
            "promoId",
            "s3Key",
            "filename",
            "mimeType",
            "sizeBytes",
            "parsedAt",
            "createdAt",
        ],
        order='"createdAt", "id"',
    )
    report.rows = len(rows)
    done = carry.ids("uploads")
    promos = carry.ids("promos")
    accounts = carry.ids("accounts")
    promo_account = _promo_accounts(carry)
    todo = [r for r in rows if r["id"] not in done]
    report.already = len(rows) - len(todo)
    bucket = carry.buckets().uploads if todo else ""
    taken = set(carry.connection.scalars(select(Upload.key).where(Upload.bucket == bucket)))
    out: list[tuple[str, dict[str, Any]]] = []
    for row in todo:
        legacy_id = row["id"]
        promo_id = promos.get(row["promoId"])
        if promo_id is None or promo_id not in promo_account:
            report.reject(legacy_id, f"its promo {row['promoId']} was not carried")
            continue
        account_id = promo_account[promo_id]
        if row["accountId"] is not None and accounts.get(row["accountId"]) != account_id:
            report.reject(legacy_id, f"its account {row['accountId']} is not its promo's account")
            continue
        reason = rules.too_long(
            {"filename": row["filename"], "mimeType": row["mimeType"], "s3Key": row["s3Key"]},
            {"filename": 255, "mimeType": 100, "s3Key": 1024},
        )
        if reason is None and (row["sizeBytes"] or 0) <= 0:
            reason = f"sizeBytes {row['sizeBytes']} is not a file size"
        if reason is None and row["s3Key"] in taken:
            reason = f"s3Key {row['s3Key']} is already recorded for another upload"
        if reason:
            report.reject(legacy_id, reason)
            continue
        taken.add(row["s3Key"])
        parsed = row["parsedAt"] is not None
        values = {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "promo_id": promo_id,
            "filename": row["filename"],
            "content_type": row["mimeType"],
            "max_bytes": row["sizeBytes"],
            "bucket": bucket,
            "key": row["s3Key"],
            "status": "parsed" if parsed else "failed",
            "error": None if parsed else NEVER_PARSED,
            "created_at": utc(row["createdAt"]),
        }
        out.append((legacy_id, values))
    report.carried = carry.write("uploads", Upload, out)


def carry_assets(carry: Carry) -> None:
    report = carry.report.table("assets", "assets")
    rows = carry.rows(
        "assets",
        ["id", "accountId", "promoId", "branchId", "type", "s3Key", "sizeBytes", "createdAt"],
        order='"createdAt", "id"',
    )
    report.rows = len(rows)
    done = carry.ids("assets")
    promos = carry.ids("promos")
    accounts = carry.ids("accounts")
    branches = carry.ids("branches")
    promo_account = _promo_accounts(carry)
    todo = [r for r in rows if r["id"] not in done]
    report.already = len(rows) - len(todo)
    bucket = carry.buckets().assets if todo else ""
    taken = set(carry.connection.scalars(select(Asset.key).where(Asset.bucket == bucket)))
    out: list[tuple[str, dict[str, Any]]] = []
    for row in todo:
        legacy_id = row["id"]
        promo_id = promos.get(row["promoId"])
        if promo_id is None or promo_id not in promo_account:
            report.reject(legacy_id, f"its promo {row['promoId']} was not carried")
            continue
        account_id = promo_account[promo_id]
        reason: str | None = None
        if accounts.get(row["accountId"]) != account_id:
            reason = f"its account {row['accountId']} is not its promo's account"
        kind = rules.ASSET_KINDS.get(row["type"] or "")
        if reason is None and kind is None:
            reason = f"asset type {row['type']} has no counterpart here"
        reason = reason or rules.too_long({"s3Key": row["s3Key"]}, {"s3Key": 1024})
        if reason is None and (row["sizeBytes"] or 0) < 0:
            reason = f"sizeBytes {row['sizeBytes']} is negative"
        if reason is None and row["s3Key"] in taken:
            reason = f"s3Key {row['s3Key']} is already recorded for another asset"
        if reason or kind is None:
            report.reject(legacy_id, reason or "no kind")
            continue
        taken.add(row["s3Key"])
        branch_id = branches.get(row["branchId"]) if row["branchId"] else None
        if row["branchId"] and branch_id is None:
            report.note(legacy_id, f"its branch {row['branchId']} was not carried: no branch")
        values = {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "promo_id": promo_id,
            "job_id": None,
            "branch_id": branch_id,
            "kind": kind[0],
            "bucket": bucket,
            "key": row["s3Key"],
            "content_type": kind[1],
            "size_bytes": row["sizeBytes"] or 0,
            "checksum_sha256": "",  # unknown: the original never recorded one
            "created_at": utc(row["createdAt"]),
        }
        out.append((legacy_id, values))
    report.carried = carry.write("assets", Asset, out)
