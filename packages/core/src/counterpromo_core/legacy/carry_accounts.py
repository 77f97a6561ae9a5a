"""Accounts, their users (as members), branches and brand kits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import RowMapping, select

from counterpromo_core.db.models import Account, BillingPlan, Branch, BrandKit, Member
from counterpromo_core.errors import ValidationFailed
from counterpromo_core.legacy import rules
from counterpromo_core.legacy.source import Carry, utc
from counterpromo_core.members import normalise_email


def account_values(row: RowMapping, new_id: uuid.UUID) -> dict[str, Any]:
    """Our accounts row for an original one: the ONLY place adoption inserts accounts."""
    return {
        "id": new_id,
        "name": row["name"].strip(),
        "plan_code": row["plan"],
        "stripe_customer_id": row["stripeCustomerId"],
        "stripe_subscription_id": row["stripeSubId"],
        "currency": rules.ADOPTED_CURRENCY,
        "locale": rules.ADOPTED_LOCALE,
        "created_at": utc(row["createdAt"]),
        "updated_at": utc(row["updatedAt"] or row["createdAt"]),
    }


def carry_accounts(carry: Carry) -> None:
    report = carry.report.table("accounts", "accounts")
    rows = carry.rows(
        "accounts",
        [
            "id",
            "name",
            "plan",
            "stripeCustomerId",
            "stripeSubId",
            "isProductAdmin",
            "createdAt",
            "updatedAt",
        ],
    )
    report.rows = len(rows)
    done = carry.ids("accounts")
    plans = set(carry.connection.scalars(select(BillingPlan.code)))
    taken_customers = set(carry.connection.scalars(select(Account.stripe_customer_id)))
    taken_subs = set(carry.connection.scalars(select(Account.stripe_subscription_id)))
    out: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        legacy_id = row["id"]
        if legacy_id in done:
            report.already += 1
            continue
        name = (row["name"] or "").strip()
        if not name:
            report.reject(legacy_id, "the name is blank")
            continue
        reason = rules.too_long(
            {
                "name": name,
                "stripeCustomerId": row["stripeCustomerId"],
                "stripeSubId": row["stripeSubId"],
            },
            {"name": 200, "stripeCustomerId": 255, "stripeSubId": 255},
        )
        if reason:
            report.reject(legacy_id, reason)
            continue
        if row["plan"] not in plans:
            report.reject(
                legacy_id,
                f"plan {row['plan']!r} is not one of ours ({', '.join(sorted(plans))})",
            )
            continue
        if row["stripeCustomerId"] and row["stripeCustomerId"] in taken_customers:
            report.reject(legacy_id, f"Stripe customer {row['stripeCustomerId']} is already ours")
            continue
        if row["stripeSubId"] and row["stripeSubId"] in taken_subs:
            report.reject(legacy_id, f"Stripe subscription {row['stripeSubId']} is already ours")
            continue
        if row["stripeSubId"]:
            report.note(
                legacy_id,
                "subscription status unknown (the original kept none): set by billing from"
                " Stripe's next event for the subscription",
            )
        if row["isProductAdmin"]:
            report.note(legacy_id, "isProductAdmin is not carried (operators use the CLI)")
        out.append((legacy_id, account_values(row, uuid.uuid4())))
    report.carried = carry.write("accounts", Account, out)


def carry_members(carry: Carry) -> None:
    report = carry.report.table("account_users", "members")
    rows = carry.rows(
        "account_users",
        ["id", "accountId", "clerkId", "email", "role", "createdAt"],
        order='"createdAt", "id"',
    )
    report.rows = len(rows)
    done = carry.ids("account_users")
    accounts = carry.ids("accounts")
    existing = list(
        carry.connection.execute(select(Member.account_id, Member.email, Member.external_subject))
    )
    taken: dict[tuple[uuid.UUID, str], str] = {
        (r.account_id, r.email): "an existing member" for r in existing
    }
    subjects: dict[tuple[uuid.UUID, str], str] = {
        (r.account_id, r.external_subject): "an existing member"
        for r in existing
        if r.external_subject is not None
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
        try:
            email = normalise_email(row["email"] or "")
        except ValidationFailed:
            report.reject(legacy_id, f"email {row['email']!r} is not an email address")
            continue
        clash = taken.get((account_id, email))
        if clash is not None:
            report.reject(legacy_id, f"email {email} clashes with {clash} of the same account")
            continue
        reason = rules.too_long({"clerkId": row["clerkId"]}, {"clerkId": 255})
        same_person = subjects.get((account_id, row["clerkId"]))
        if reason is None and same_person is not None:
            reason = f"clerkId {row['clerkId']} is already {same_person} of the same account"
        if reason:
            report.reject(legacy_id, reason)
            continue
        if row["clerkId"]:
            subjects[(account_id, row["clerkId"])] = f"user {legacy_id}"
        role, lowered = rules.role(row["role"])
        if lowered:
            report.note(legacy_id, f"role {row['role']} is not ours: now {role} (less power)")
        taken[(account_id, email)] = f"user {legacy_id}"
        values = {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "email": email,
            "role": role,
            "external_subject": row["clerkId"],
            "created_at": utc(row["createdAt"]),
        }
        out.append((legacy_id, values))
    report.carried = carry.write("account_users", Member, out)


def carry_branches(carry: Carry) -> None:
    report = carry.report.table("branches", "branches")
    rows = carry.rows(
        "branches",
        ["id", "accountId", "name", "address", "phone", "createdAt", "updatedAt"],
        order='"createdAt", "id"',
    )
    report.rows = len(rows)
    done = carry.ids("branches")
    accounts = carry.ids("accounts")
    taken = {
        (r.account_id, r.name): "an existing branch"
        for r in carry.connection.execute(select(Branch.account_id, Branch.name))
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
        name = (row["name"] or "").strip()
        reason = (
            "the name is blank"
            if not name
            else rules.too_long(
                {"name": name, "address": row["address"], "phone": row["phone"]},
                {"name": 200, "address": 500, "phone": 50},
            )
        )
        if reason:
            report.reject(legacy_id, reason)
            continue
        clash = taken.get((account_id, name))
        if clash is not None:
            report.reject(legacy_id, f"name {name!r} clashes with {clash} of the same account")
            continue
        taken[(account_id, name)] = f"branch {legacy_id}"
        values = {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "name": name,
            "address": row["address"],
            "phone": row["phone"],
            "created_at": utc(row["createdAt"]),
            "updated_at": utc(row["updatedAt"] or row["createdAt"]),
        }
        out.append((legacy_id, values))
    report.carried = carry.write("branches", Branch, out)


def carry_brand_kits(carry: Carry) -> None:
    report = carry.report.table("brand_kits", "brand_kits")
    rows = carry.rows(
        "brand_kits",
        [
            "id",
            "accountId",
            "logoUrl",
            "colors",
            "fonts",
            "defaultCta",
            "websiteUrl",
            "strapline",
            "updatedAt",
            "createdAt",
        ],
    )
    report.rows = len(rows)
    done = carry.ids("brand_kits")
    accounts = carry.ids("accounts")
    has_kit = set(carry.connection.scalars(select(BrandKit.account_id)))
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
        if account_id in has_kit:
            report.reject(legacy_id, "the account already has a brand kit here")
            continue
        reason = rules.too_long(
            {
                "logoUrl": row["logoUrl"],
                "websiteUrl": row["websiteUrl"],
                "defaultCta": row["defaultCta"],
                "strapline": row["strapline"],
            },
            {"logoUrl": 2048, "websiteUrl": 2048, "defaultCta": 200, "strapline": 300},
        )
        if reason:
            report.reject(legacy_id, reason)
            continue
        colours = _colours(row["colors"], legacy_id, report)
        fonts = row["fonts"] if isinstance(row["fonts"], list) else []
        font = rules.font(fonts[0]) if fonts else None
        if fonts and font is None:
            report.note(legacy_id, f"font {fonts[0]!r} is not one we render: no font set")
        values = {
            "account_id": account_id,
            "primary_color": colours[0],
            "secondary_color": colours[1],
            "accent_color": colours[2],
            "font": font,
            "strapline": row["strapline"],
            "default_cta": row["defaultCta"],
            "logo_url": row["logoUrl"],
            "website_url": row["websiteUrl"],
            "updated_at": utc(row["updatedAt"] or row["createdAt"]),
        }
        has_kit.add(account_id)
        out.append((legacy_id, values))
    report.carried = carry.write("brand_kits", BrandKit, out)


def _colours(value: object, legacy_id: str, report: Any) -> list[str | None]:
    """Up to three ``#RRGGBB`` colours from the original JSON array; the rest noted."""
    items = value if isinstance(value, list) else []
    valid: list[str] = []
    for item in items:
        hex_ = rules.colour(item)
        if hex_ is None:
            report.note(legacy_id, f"colour {item!r} is not #RRGGBB: left out")
        else:
            valid.append(hex_)
    if len(valid) > 3:
        report.note(legacy_id, f"{len(valid)} colours: the first three carried")
    padded: list[str | None] = [*valid[:3]]
    return padded + [None] * (3 - len(padded))
