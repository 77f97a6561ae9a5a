"""Promos and their items: ``price`` is the sale price, ``rrp`` the regular price."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from counterpromo_core.db.models import Promo, PromoItem
from counterpromo_core.legacy import rules
from counterpromo_core.legacy.source import Carry, utc

_PROMO_LIMITS = {"title": 200, "subhead": 300, "cta": 200}
_ITEM_LIMITS = {
    "name": 300,
    "sku": 100,
    "unit": 50,
    "category": 100,
    "vendor": 200,
    "coopVendor": 200,
    "coopNote": 500,
}


def carry_promos(carry: Carry) -> None:
    report = carry.report.table("promos", "promos")
    rows = carry.rows(
        "promos",
        [
            "id",
            "accountId",
            "title",
            "subhead",
            "cta",
            "templateId",
            "keywords",
            "status",
            "createdAt",
            "updatedAt",
        ],
    )
    report.rows = len(rows)
    done = carry.ids("promos")
    accounts = carry.ids("accounts")
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
        title = (row["title"] or "").strip()
        reason = (
            "the title is blank"
            if not title
            else rules.too_long(
                {"title": title, "subhead": row["subhead"], "cta": row["cta"]}, _PROMO_LIMITS
            )
        )
        status = rules.promo_status(row["status"])
        if reason is None and status is None:
            reason = f"status {row['status']!r} is not one of ours"
        if reason:
            report.reject(legacy_id, reason)
            continue
        template, replaced = rules.template(row["templateId"])
        if replaced:
            report.note(
                legacy_id, f"template {row['templateId']!r} is not one of ours: now {template}"
            )
        values = {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "title": title,
            "subhead": row["subhead"],
            "cta": row["cta"],
            "template": template,
            "status": status,
            "keywords": list(row["keywords"] or []),
            "created_at": utc(row["createdAt"]),
            "updated_at": utc(row["updatedAt"] or row["createdAt"]),
        }
        out.append((legacy_id, values))
    report.carried = carry.write("promos", Promo, out)


def carry_items(carry: Carry) -> None:
    report = carry.report.table("promo_items", "promo_items")
    rows = carry.rows(
        "promo_items",
        [
            "id",
            "promoId",
            "sku",
            "name",
            "price",
            "rrp",
            "unit",
            "category",
            "vendor",
            "sortOrder",
            "coopVendor",
            "coopAmount",
            "coopNote",
            "createdAt",
        ],
        order='"promoId", "sortOrder", "createdAt", "id"',
    )
    report.rows = len(rows)
    done = carry.ids("promo_items")
    promos = carry.ids("promos")
    account_of = {
        r.id: r.account_id
        for r in carry.connection.execute(
            select(Promo.id, Promo.account_id).where(Promo.id.in_(list(promos.values())))
        )
    }
    # Positions continue after what the promo already holds (nothing, on a first run).
    next_position: dict[uuid.UUID, int] = defaultdict(int)
    for existing, top in carry.connection.execute(
        select(PromoItem.promo_id, func.max(PromoItem.position)).group_by(PromoItem.promo_id)
    ):
        next_position[existing] = top + 1
    out: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        legacy_id = row["id"]
        if legacy_id in done:
            report.already += 1
            continue
        promo_id = promos.get(row["promoId"])
        if promo_id is None or promo_id not in account_of:
            report.reject(legacy_id, f"its promo {row['promoId']} was not carried")
            continue
        name = (row["name"] or "").strip()
        reason = (
            "the name is blank"
            if not name
            else rules.too_long(
                {k: (name if k == "name" else row[k]) for k in _ITEM_LIMITS}, _ITEM_LIMITS
            )
        )
        reason = (
            reason
            or rules.money_problem(row["price"], "price")
            or rules.money_problem(row["rrp"], "rrp")
            or rules.money_problem(row["coopAmount"], "coopAmount")
        )
        if reason:
            report.reject(legacy_id, reason)
            continue
        position = next_position[promo_id]
        next_position[promo_id] = position + 1
        created = utc(row["createdAt"])
        values = {
            "id": uuid.uuid4(),
            "account_id": account_of[promo_id],
            "promo_id": promo_id,
            "position": position,
            "sku": row["sku"],
            "name": name,
            "sale_price": row["price"],
            "rrp": row["rrp"],
            "unit": row["unit"],
            "category": row["category"],
            "vendor": row["vendor"],
            "coop_vendor": row["coopVendor"],
            "coop_amount": row["coopAmount"],
            "coop_note": row["coopNote"],
            "created_at": created,
            "updated_at": created,
        }
        out.append((legacy_id, values))
    report.carried = carry.write("promo_items", PromoItem, out)
