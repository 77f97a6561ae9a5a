"""Jobs (as history: nothing runs them again) and usage per calendar month."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select

from counterpromo_core.db.models import Job, UsageMonthly
from counterpromo_core.legacy import rules
from counterpromo_core.legacy.source import Carry, utc


def carry_jobs(carry: Carry) -> None:
    report = carry.report.table("jobs", "jobs")
    rows = carry.rows(
        "jobs",
        [
            "id",
            "accountId",
            "promoId",
            "type",
            "status",
            "payload",
            "result",
            "errorMsg",
            "attempts",
            "startedAt",
            "completedAt",
            "createdAt",
        ],
        order='"createdAt", "id"',
    )
    report.rows = len(rows)
    done = carry.ids("jobs")
    accounts = carry.ids("accounts")
    promos = carry.ids("promos")
    out: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        legacy_id = row["id"]
        if legacy_id in done:
            report.already += 1
            continue
        account_id = accounts.get(row["accountId"])
        if account_id is None:
            report.reject(legacy_id, f"its account {row['accountId']} was not carried")
            continue
        job_type = rules.JOB_TYPES.get(row["type"] or "")
        if job_type is None:
            report.reject(legacy_id, f"job type {row['type']} has no counterpart here")
            continue
        status = rules.JOB_STATUSES.get(row["status"] or "", "failed")
        error = row["errorMsg"]
        if row["status"] in ("pending", "running"):
            error = rules.NEVER_FINISHED
        promo_id = promos.get(row["promoId"]) if row["promoId"] else None
        if row["promoId"] and promo_id is None:
            report.note(legacy_id, f"its promo {row['promoId']} was not carried: no promo")
        created = utc(row["createdAt"])
        values = {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "promo_id": promo_id,
            "type": job_type,
            "status": status,
            "payload": row["payload"]
            if isinstance(row["payload"], dict)
            else {"original": row["payload"]},
            "result": row["result"]
            if isinstance(row["result"], dict | None)
            else {"original": row["result"]},
            "error": error,
            "attempts": max(int(row["attempts"] or 0), 0),
            "created_at": created,
            "updated_at": utc(row["completedAt"] or row["startedAt"]) or created,
            "started_at": utc(row["startedAt"]),
            "finished_at": utc(row["completedAt"]),
        }
        out.append((legacy_id, values))
    report.carried = carry.write("jobs", Job, out)


def _promos_created(carry: Carry) -> Counter[tuple[str, int, int]]:
    """Promos each original account created per month, counted from the promos themselves."""
    if not carry.has("promos"):
        return Counter()
    rows = carry.rows("promos", ["id", "accountId", "createdAt"])
    return Counter(
        (r["accountId"], r["createdAt"].year, r["createdAt"].month)
        for r in rows
        if r["createdAt"] is not None
    )


def _renders(carry: Carry) -> Counter[tuple[str, int, int]]:
    if not carry.has("jobs"):
        return Counter()
    rows = carry.rows("jobs", ["id", "accountId", "type", "status", "createdAt"])
    return Counter(
        (r["accountId"], r["createdAt"].year, r["createdAt"].month)
        for r in rows
        if r["type"] == "render_pdf" and r["status"] == "done" and r["createdAt"] is not None
    )


def carry_usage(carry: Carry) -> None:
    """One row per account and month; ``promosCount`` is recounted (it also counted renders)."""
    report = carry.report.table("usage_monthly", "usage_monthly")
    rows = carry.rows("usage_monthly", ["id", "accountId", "year", "month", "promosCount"])
    report.rows = len(rows)
    done = carry.ids("usage_monthly")
    accounts = carry.ids("accounts")
    created = _promos_created(carry)
    renders = _renders(carry)
    taken = {
        (r.account_id, r.month)
        for r in carry.connection.execute(select(UsageMonthly.account_id, UsageMonthly.month))
    }
    out: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        legacy_id = row["id"]
        if legacy_id in done:
            report.already += 1
            continue
        account_id = accounts.get(row["accountId"])
        if account_id is None:
            report.reject(legacy_id, f"its account {row['accountId']} was not carried")
            continue
        year, month = row["year"], row["month"]
        if not (
            isinstance(year, int)
            and 2000 <= year <= 2100
            and isinstance(month, int)
            and 1 <= month <= 12
        ):
            report.reject(legacy_id, f"{year}-{month} is not a calendar month")
            continue
        first = dt.date(year, month, 1)
        if (account_id, first) in taken:
            report.reject(legacy_id, f"the account already has usage for {first:%Y-%m} here")
            continue
        taken.add((account_id, first))
        key = (row["accountId"], year, month)
        promos_created = created[key] if carry.has("promos") else max(row["promosCount"] or 0, 0)
        if promos_created != row["promosCount"]:
            report.note(
                legacy_id,
                f"promosCount {row['promosCount']} recounted as {promos_created} promos created"
                f" in {first:%Y-%m} (the original also counted renders)",
            )
        values = {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "month": first,
            "promos_created": promos_created,
            "renders": renders[key],
            "updated_at": dt.datetime.now(dt.UTC),
        }
        out.append((legacy_id, values))
    report.carried = carry.write("usage_monthly", UsageMonthly, out)
