"""Databases as the original TypeScript application left them, for adoption tests.

The DDL is written from the published facts of the original schema (Prisma:
quoted camelCase names, enum types, TEXT ids, ``TIMESTAMP(3)`` without zone,
the ``_prisma_migrations`` ledger). Two shapes:

- ``build_brief_tables``: only the four tables the brief names (``billing_plans``
  made by hand in a shape of its own, ``accounts``, ``usage_monthly``, ``promos``),
  with the timestamp trigger DEV has;
- ``build_full``: every table, every enum type, the ledger, and ``FULL_ROWS``, a
  realistic data set with the edge cases adoption must handle.

The rows are plain data (``dict`` per row) so tests can compute what they expect
from them independently of the adoption code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

Row = dict[str, Any]

ORIGINAL_ENUM_NAMES = (
    "BillingPlan",
    "UserRole",
    "InviteStatus",
    "PromoStatus",
    "JobType",
    "JobStatus",
    "AssetType",
)

ENUMS_SQL = """
CREATE TYPE "BillingPlan" AS ENUM ('free', 'starter', 'pro', 'dealer');
CREATE TYPE "UserRole" AS ENUM ('owner', 'admin', 'member', 'marketing', 'branch_manager');
CREATE TYPE "InviteStatus" AS ENUM ('pending', 'accepted', 'expired');
CREATE TYPE "PromoStatus" AS ENUM ('draft', 'ready', 'archived');
CREATE TYPE "JobType" AS ENUM ('parse_upload', 'brand_bootstrap', 'product_url_scrape',
  'render_preview', 'render_pdf', 'render_social_image', 'export_zip', 'generate_email',
  'generate_coop_report');
CREATE TYPE "JobStatus" AS ENUM ('pending', 'running', 'done', 'failed');
CREATE TYPE "AssetType" AS ENUM ('preview', 'pdf', 'social_image', 'email_html', 'zip',
  'social_captions', 'coop_report');
"""

LEDGER_SQL = """
CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) NOT NULL PRIMARY KEY,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
);
"""

# Made by hand on DEV; its shape was never published, so this one is deliberately odd.
HAND_MADE_BILLING_PLANS_SQL = """
CREATE TABLE billing_plans (
    plan_id SERIAL PRIMARY KEY,
    label VARCHAR(40) NOT NULL UNIQUE,
    pence_per_month INTEGER NOT NULL,
    stripe_price TEXT,
    perks JSONB NOT NULL DEFAULT '{}'
);
INSERT INTO billing_plans (label, pence_per_month, stripe_price, perks) VALUES
  ('free', 0, NULL, '{"watermark": true}'),
  ('starter', 2900, 'price_starter_old', '{}'),
  ('pro', 7900, 'price_pro_old', '{"branches": 10}'),
  ('dealer', 19900, 'price_dealer_old', '{}');
"""

ACCOUNTS_SQL = """
CREATE TABLE "accounts" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "plan" "BillingPlan" NOT NULL DEFAULT 'free',
    "stripeCustomerId" TEXT,
    "stripeSubId" TEXT,
    "isProductAdmin" BOOLEAN NOT NULL DEFAULT false,
    "onboardingCompleted" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "accounts_stripeCustomerId_key" ON "accounts"("stripeCustomerId");
CREATE UNIQUE INDEX "accounts_stripeSubId_key" ON "accounts"("stripeSubId");
"""

USAGE_SQL = """
CREATE TABLE "usage_monthly" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "month" INTEGER NOT NULL,
    "promosCount" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "usage_monthly_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "usage_monthly_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "usage_monthly_accountId_year_month_key"
    ON "usage_monthly"("accountId", "year", "month");
"""

PROMOS_COLUMNS_SQL = """
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "branchId" TEXT,
    "folderId" TEXT,
    "title" TEXT NOT NULL,
    "subhead" TEXT,
    "cta" TEXT,
    "templateId" TEXT,
    "keywords" TEXT[],
    "status" "PromoStatus" NOT NULL DEFAULT 'draft',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "promos_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "promos_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE
"""

# DEV keeps "updatedAt" fresh with a trigger; it must survive the move untouched.
TRIGGER_SQL = """
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW."updatedAt" := CURRENT_TIMESTAMP; RETURN NEW; END $$;
CREATE TRIGGER accounts_updated_at BEFORE UPDATE ON "accounts"
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
"""

OTHER_TABLES_SQL = """
CREATE TABLE "branches" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "name" TEXT NOT NULL, "address" TEXT,
    "phone" TEXT, "email" TEXT, "cta" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "branches_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "branches_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE "account_users" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "clerkId" TEXT NOT NULL,
    "email" TEXT NOT NULL, "name" TEXT, "role" "UserRole" NOT NULL DEFAULT 'member',
    "branchId" TEXT, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "account_users_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "account_users_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "account_users_branchId_fkey" FOREIGN KEY ("branchId")
        REFERENCES "branches"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "account_users_accountId_clerkId_key"
    ON "account_users"("accountId", "clerkId");
CREATE UNIQUE INDEX "account_users_accountId_email_key" ON "account_users"("accountId", "email");
CREATE TABLE "invites" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "email" TEXT NOT NULL,
    "role" "UserRole" NOT NULL DEFAULT 'member', "token" TEXT NOT NULL,
    "status" "InviteStatus" NOT NULL DEFAULT 'pending', "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "invites_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "invites_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "invites_token_key" ON "invites"("token");
CREATE UNIQUE INDEX "invites_accountId_email_key" ON "invites"("accountId", "email");
CREATE TABLE "brand_kits" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "logoUrl" TEXT,
    "colors" JSONB NOT NULL DEFAULT '[]', "fonts" JSONB NOT NULL DEFAULT '[]',
    "defaultCta" TEXT, "websiteUrl" TEXT, "aiDescription" TEXT, "strapline" TEXT,
    "textColors" JSONB NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "brand_kits_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "brand_kits_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "brand_kits_accountId_key" ON "brand_kits"("accountId");
CREATE TABLE "promo_folders" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "promo_folders_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "promo_folders_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
ALTER TABLE "promos"
    ADD CONSTRAINT "promos_branchId_fkey" FOREIGN KEY ("branchId")
        REFERENCES "branches"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    ADD CONSTRAINT "promos_folderId_fkey" FOREIGN KEY ("folderId")
        REFERENCES "promo_folders"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE TABLE "promo_items" (
    "id" TEXT NOT NULL, "promoId" TEXT NOT NULL, "sku" TEXT, "name" TEXT NOT NULL,
    "price" DECIMAL(10,2) NOT NULL, "rrp" DECIMAL(10,2), "unit" TEXT, "category" TEXT,
    "vendor" TEXT, "imageUrl" TEXT, "sourceUrl" TEXT, "sortOrder" INTEGER NOT NULL DEFAULT 0,
    "coopVendor" TEXT, "coopAmount" DECIMAL(10,2), "coopNote" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "promo_items_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "promo_items_promoId_fkey" FOREIGN KEY ("promoId")
        REFERENCES "promos"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE "uploads" (
    "id" TEXT NOT NULL, "accountId" TEXT, "promoId" TEXT NOT NULL, "s3Key" TEXT NOT NULL,
    "filename" TEXT NOT NULL, "mimeType" TEXT NOT NULL, "sizeBytes" INTEGER NOT NULL,
    "parsedAt" TIMESTAMP(3), "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "uploads_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "uploads_promoId_fkey" FOREIGN KEY ("promoId")
        REFERENCES "promos"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE "import_mappings" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "name" TEXT NOT NULL,
    "mappings" JSONB NOT NULL, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "import_mappings_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "product_snippets" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "name" TEXT NOT NULL,
    "price" DECIMAL(10,2), "sku" TEXT, "unit" TEXT, "category" TEXT, "vendor" TEXT,
    "imageUrl" TEXT, "sourceUrl" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "product_snippets_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "jobs" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "promoId" TEXT, "type" "JobType" NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'pending', "payload" JSONB NOT NULL,
    "result" JSONB, "errorMsg" TEXT, "attempts" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3), "completedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "jobs_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "jobs_promoId_fkey" FOREIGN KEY ("promoId")
        REFERENCES "promos"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE TABLE "assets" (
    "id" TEXT NOT NULL, "accountId" TEXT NOT NULL, "promoId" TEXT NOT NULL, "branchId" TEXT,
    "type" "AssetType" NOT NULL, "s3Key" TEXT NOT NULL, "sizeBytes" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "assets_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "assets_accountId_fkey" FOREIGN KEY ("accountId")
        REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "assets_promoId_fkey" FOREIGN KEY ("promoId")
        REFERENCES "promos"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "assets_branchId_fkey" FOREIGN KEY ("branchId")
        REFERENCES "branches"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE TABLE "custom_templates" (
    "id" TEXT NOT NULL, "accountId" TEXT, "name" TEXT NOT NULL, "description" TEXT,
    "htmlContent" TEXT NOT NULL, "isSystem" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "custom_templates_pkey" PRIMARY KEY ("id")
);
"""


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


T0 = _ts("2026-02-28 09:15:07.123")
T1 = _ts("2026-03-02 17:45:00.5")
T2 = _ts("2026-03-03 08:00:00")

# Edge cases (each is asserted by the adoption tests):
# - acc_blank has a blank name: not carried, and neither is anything of it;
# - acc_unicode's name is not ASCII; u_dual is one person in two accounts;
# - u_case clashes with u_dual_tt once emails are compared case-insensitively;
# - u_bad has no valid email; marketing / branch_manager roles have no counterpart;
# - br_dup repeats a branch name of the same account;
# - p_blank has a blank title; p_custom uses a template that is not ours; keywords
#   are a list, an empty list and NULL;
# - items: NULL rrp, equal sortOrder, a NaN price, a negative price, a 0.00 price,
#   an item of a promo that is not carried;
# - jobs and assets whose types have no counterpart, a pending job, a job of a
#   promo that is not carried.
FULL_ROWS: dict[str, list[Row]] = {
    "accounts": [
        {
            "id": "clacchb0001",
            "name": "Harbour Builders' Merchants Ltd",
            "plan": "pro",
            "stripeCustomerId": "cus_HB0001",
            "stripeSubId": "sub_HB0001",
            "isProductAdmin": False,
            "onboardingCompleted": True,
            "createdAt": T0,
            "updatedAt": T1,
        },
        {
            "id": "clacctt0002",
            "name": "Tŷ Offer Caerdydd — Ærøskøbing ✓",
            "plan": "starter",
            "stripeCustomerId": None,
            "stripeSubId": None,
            "isProductAdmin": False,
            "onboardingCompleted": False,
            "createdAt": T1,
            "updatedAt": T1,
        },
        {
            "id": "claccnf0003",
            "name": "Northfield Timber",
            "plan": "free",
            "stripeCustomerId": "cus_NF0003",
            "stripeSubId": None,
            "isProductAdmin": True,
            "onboardingCompleted": True,
            "createdAt": T2,
            "updatedAt": T2,
        },
        {
            "id": "claccbl0004",
            "name": "   ",
            "plan": "free",
            "stripeCustomerId": None,
            "stripeSubId": None,
            "isProductAdmin": False,
            "onboardingCompleted": False,
            "createdAt": T2,
            "updatedAt": T2,
        },
    ],
    "branches": [
        {
            "id": "clbrquay01",
            "accountId": "clacchb0001",
            "name": "Harbour — Quay St",
            "address": "1 Quay St, Bristol BS1 4DJ",
            "phone": "0117 496 0000",
            "email": "quay@harbour.example",
            "cta": None,
            "createdAt": T0,
            "updatedAt": T0,
        },
        {
            "id": "clbrmill02",
            "accountId": "clacchb0001",
            "name": "Harbour — Mill Lane",
            "address": None,
            "phone": None,
            "email": None,
            "cta": "Call us",
            "createdAt": T1,
            "updatedAt": T1,
        },
        {
            "id": "clbrdup003",
            "accountId": "clacchb0001",
            "name": "Harbour — Quay St",
            "address": "duplicate",
            "phone": None,
            "email": None,
            "cta": None,
            "createdAt": T2,
            "updatedAt": T2,
        },
        {
            "id": "clbrcdf004",
            "accountId": "clacctt0002",
            "name": "Caerdydd",
            "address": "Heol y Frenhines",
            "phone": "029 2018 0000",
            "email": None,
            "cta": None,
            "createdAt": T1,
            "updatedAt": T1,
        },
    ],
    "account_users": [
        {
            "id": "clusown001",
            "accountId": "clacchb0001",
            "clerkId": "user_owner1",
            "email": "Owner@Harbour.example",
            "name": "Olive Owner",
            "role": "owner",
            "branchId": None,
            "createdAt": T0,
        },
        {
            "id": "clusmkt002",
            "accountId": "clacchb0001",
            "clerkId": "user_mkt2",
            "email": "marketing@harbour.example",
            "name": None,
            "role": "marketing",
            "branchId": None,
            "createdAt": T1,
        },
        {
            "id": "clusbrm003",
            "accountId": "clacchb0001",
            "clerkId": "user_brm3",
            "email": "quay.manager@harbour.example",
            "name": "Bryn",
            "role": "branch_manager",
            "branchId": "clbrquay01",
            "createdAt": T1,
        },
        {
            "id": "clusdua004",
            "accountId": "clacchb0001",
            "clerkId": "user_dual",
            "email": "dual@shared.example",
            "name": "Dee Dual",
            "role": "admin",
            "branchId": None,
            "createdAt": T1,
        },
        {
            "id": "clusdua005",
            "accountId": "clacctt0002",
            "clerkId": "user_dual",
            "email": "dual@shared.example",
            "name": "Dee Dual",
            "role": "owner",
            "branchId": None,
            "createdAt": T1,
        },
        {
            "id": "cluscas006",
            "accountId": "clacctt0002",
            "clerkId": "user_case",
            "email": "DUAL@Shared.example",
            "name": None,
            "role": "member",
            "branchId": None,
            "createdAt": T2,
        },
        {
            "id": "clusbad007",
            "accountId": "claccnf0003",
            "clerkId": "user_bad",
            "email": "not-an-email",
            "name": None,
            "role": "member",
            "branchId": None,
            "createdAt": T2,
        },
        {
            "id": "clusbla008",
            "accountId": "claccbl0004",
            "clerkId": "user_bl",
            "email": "someone@blank.example",
            "name": None,
            "role": "owner",
            "branchId": None,
            "createdAt": T2,
        },
    ],
    "invites": [
        {
            "id": "clinv00001",
            "accountId": "clacchb0001",
            "email": "new@harbour.example",
            "role": "member",
            "token": "tok_abc",
            "status": "pending",
            "expiresAt": T2,
            "createdAt": T1,
        },
    ],
    "brand_kits": [
        {
            "id": "clbkhb0001",
            "accountId": "clacchb0001",
            "logoUrl": "clacchb0001/logo.png",
            "colors": ["#0A3D62", "#f5a623", "#fff", "#123456"],
            "fonts": ["Inter"],
            "defaultCta": "Visit us today",
            "websiteUrl": "https://harbour.example",
            "aiDescription": "A merchant.",
            "strapline": "Builders' merchants since 1921",
            "textColors": ["#000000"],
            "createdAt": T0,
            "updatedAt": T1,
        },
        {
            "id": "clbktt0002",
            "accountId": "clacctt0002",
            "logoUrl": "https://cdn.example/ty-offer.png",
            "colors": [],
            "fonts": [],
            "defaultCta": None,
            "websiteUrl": None,
            "aiDescription": None,
            "strapline": None,
            "textColors": [],
            "createdAt": T1,
            "updatedAt": T1,
        },
        {
            "id": "clbknf0003",
            "accountId": "claccnf0003",
            "logoUrl": None,
            "colors": ["red", "#00aa00"],
            "fonts": ["Comic Sans MS"],
            "defaultCta": "Ring us",
            "websiteUrl": None,
            "aiDescription": None,
            "strapline": None,
            "textColors": [],
            "createdAt": T2,
            "updatedAt": T2,
        },
    ],
    "promo_folders": [
        {
            "id": "clfold0001",
            "accountId": "clacchb0001",
            "name": "Spring",
            "createdAt": T0,
            "updatedAt": T0,
        },
    ],
    "promos": [
        {
            "id": "clprspr001",
            "accountId": "clacchb0001",
            "branchId": "clbrquay01",
            "folderId": "clfold0001",
            "title": "Spring Sale 2026",
            "subhead": "Timber & tools",
            "cta": "Order at the counter",
            "templateId": "bold",
            "keywords": ["timber", "sale"],
            "status": "ready",
            "createdAt": _ts("2026-03-01 10:00:00"),
            "updatedAt": T1,
        },
        {
            "id": "clprclr002",
            "accountId": "clacchb0001",
            "branchId": None,
            "folderId": None,
            "title": "Clearance",
            "subhead": None,
            "cta": None,
            "templateId": "tpl_custom_1",
            "keywords": [],
            "status": "archived",
            "createdAt": _ts("2026-03-02 10:00:00"),
            "updatedAt": T2,
        },
        {
            "id": "clprtty003",
            "accountId": "clacctt0002",
            "branchId": None,
            "folderId": None,
            "title": "Cynnig Ŵyl Dewi — £9.99 ✓",
            "subhead": None,
            "cta": None,
            "templateId": None,
            "keywords": None,
            "status": "draft",
            "createdAt": _ts("2026-03-01 12:00:00"),
            "updatedAt": T1,
        },
        {
            "id": "clprbla004",
            "accountId": "claccbl0004",
            "branchId": None,
            "folderId": None,
            "title": "Of a blank account",
            "subhead": None,
            "cta": None,
            "templateId": None,
            "keywords": None,
            "status": "draft",
            "createdAt": T2,
            "updatedAt": T2,
        },
        {
            "id": "clprblt005",
            "accountId": "clacchb0001",
            "branchId": None,
            "folderId": None,
            "title": "  ",
            "subhead": None,
            "cta": None,
            "templateId": "modern",
            "keywords": ["x"],
            "status": "draft",
            "createdAt": T2,
            "updatedAt": T2,
        },
        {
            "id": "clprnf0006",
            "accountId": "claccnf0003",
            "branchId": None,
            "folderId": None,
            "title": "Northfield deals",
            "subhead": "Decking",
            "cta": None,
            "templateId": "clearance",
            "keywords": ["decking"],
            "status": "ready",
            "createdAt": _ts("2026-03-03 09:00:00"),
            "updatedAt": T2,
        },
    ],
    "promo_items": [
        {
            "id": "clit000001",
            "promoId": "clprspr001",
            "sku": "TMB-C24-3",
            "name": "C24 Timber 47x100 3.0m",
            "price": Decimal("6.50"),
            "rrp": Decimal("8.99"),
            "unit": "each",
            "category": "Timber",
            "vendor": "Nordic Wood",
            "imageUrl": "clacchb0001/img/c24.jpg",
            "sourceUrl": None,
            "sortOrder": 2,
            "coopVendor": "Nordic Wood",
            "coopAmount": Decimal("150.00"),
            "coopNote": "Q1 co-op",
            "createdAt": T0,
        },
        {
            "id": "clit000002",
            "promoId": "clprspr001",
            "sku": "HMR-16",
            "name": "Claw hammer 16oz",
            "price": Decimal("12.00"),
            "rrp": None,
            "unit": None,
            "category": "Tools",
            "vendor": None,
            "imageUrl": None,
            "sourceUrl": None,
            "sortOrder": 1,
            "coopVendor": None,
            "coopAmount": None,
            "coopNote": None,
            "createdAt": T0,
        },
        {
            "id": "clit000003",
            "promoId": "clprspr001",
            "sku": None,
            "name": "Peinture décor blanc ✓ 2.5L",
            "price": Decimal("19.99"),
            "rrp": Decimal("24.99"),
            "unit": "tin",
            "category": None,
            "vendor": "Dulux",
            "imageUrl": None,
            "sourceUrl": "https://example.com/p",
            "sortOrder": 1,
            "coopVendor": None,
            "coopAmount": None,
            "coopNote": None,
            "createdAt": T1,
        },
        {
            "id": "clit000004",
            "promoId": "clprspr001",
            "sku": "NAN-1",
            "name": "Broken price",
            "price": Decimal("NaN"),
            "rrp": None,
            "unit": None,
            "category": None,
            "vendor": None,
            "imageUrl": None,
            "sourceUrl": None,
            "sortOrder": 3,
            "coopVendor": None,
            "coopAmount": None,
            "coopNote": None,
            "createdAt": T1,
        },
        {
            "id": "clit000005",
            "promoId": "clprspr001",
            "sku": "NEG-1",
            "name": "Negative price",
            "price": Decimal("-1.00"),
            "rrp": None,
            "unit": None,
            "category": None,
            "vendor": None,
            "imageUrl": None,
            "sourceUrl": None,
            "sortOrder": 4,
            "coopVendor": None,
            "coopAmount": None,
            "coopNote": None,
            "createdAt": T1,
        },
        {
            "id": "clit000006",
            "promoId": "clprclr002",
            "sku": "CLR-9",
            "name": "Sheet 8x4",
            "price": Decimal("0.00"),
            "rrp": Decimal("30.00"),
            "unit": "sheet",
            "category": "Sheet",
            "vendor": "Board Co",
            "imageUrl": None,
            "sourceUrl": None,
            "sortOrder": 0,
            "coopVendor": "Board Co",
            "coopAmount": Decimal("0.00"),
            "coopNote": None,
            "createdAt": T1,
        },
        {
            "id": "clit000007",
            "promoId": "clprbla004",
            "sku": None,
            "name": "Orphaned",
            "price": Decimal("1.00"),
            "rrp": None,
            "unit": None,
            "category": None,
            "vendor": None,
            "imageUrl": None,
            "sourceUrl": None,
            "sortOrder": 0,
            "coopVendor": None,
            "coopAmount": None,
            "coopNote": None,
            "createdAt": T2,
        },
        {
            "id": "clit000008",
            "promoId": "clprtty003",
            "sku": "Ŵ-1",
            "name": "Bwced ✓",
            "price": Decimal("9.99"),
            "rrp": Decimal("9.99"),
            "unit": "each",
            "category": None,
            "vendor": None,
            "imageUrl": None,
            "sourceUrl": None,
            "sortOrder": -5,
            "coopVendor": None,
            "coopAmount": None,
            "coopNote": None,
            "createdAt": T1,
        },
    ],
    "uploads": [
        {
            "id": "clup000001",
            "accountId": "clacchb0001",
            "promoId": "clprspr001",
            "s3Key": "clacchb0001/uploads/spring.csv",
            "filename": "spring.csv",
            "mimeType": "text/csv",
            "sizeBytes": 2048,
            "parsedAt": T1,
            "createdAt": T0,
        },
        {
            "id": "clup000002",
            "accountId": None,
            "promoId": "clprtty003",
            "s3Key": "clacctt0002/uploads/cynnig.xlsx",
            "filename": "cynnig.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "sizeBytes": 9000,
            "parsedAt": None,
            "createdAt": T1,
        },
        {
            "id": "clup000003",
            "accountId": "claccbl0004",
            "promoId": "clprbla004",
            "s3Key": "claccbl0004/uploads/x.csv",
            "filename": "x.csv",
            "mimeType": "text/csv",
            "sizeBytes": 10,
            "parsedAt": None,
            "createdAt": T2,
        },
    ],
    "import_mappings": [
        {
            "id": "clmap00001",
            "accountId": "clacchb0001",
            "name": "ERP export",
            "mappings": {"name": "Description", "price": "Sell"},
            "createdAt": T0,
            "updatedAt": T0,
        },
    ],
    "product_snippets": [
        {
            "id": "clsnip0001",
            "accountId": "clacchb0001",
            "name": "Hammer",
            "price": Decimal("12.00"),
            "sku": "HMR-16",
            "unit": None,
            "category": None,
            "vendor": None,
            "imageUrl": None,
            "sourceUrl": None,
            "createdAt": T0,
            "updatedAt": T0,
        },
    ],
    "jobs": [
        {
            "id": "cljob00001",
            "accountId": "clacchb0001",
            "promoId": "clprspr001",
            "type": "render_pdf",
            "status": "done",
            "payload": {"promoId": "clprspr001"},
            "result": {"s3Key": "clacchb0001/assets/spring.pdf"},
            "errorMsg": None,
            "attempts": 1,
            "startedAt": T1,
            "completedAt": _ts("2026-03-02 17:45:03.250"),
            "createdAt": _ts("2026-03-01 11:00:00"),
        },
        {
            "id": "cljob00002",
            "accountId": "clacchb0001",
            "promoId": "clprspr001",
            "type": "generate_email",
            "status": "done",
            "payload": {},
            "result": None,
            "errorMsg": None,
            "attempts": 1,
            "startedAt": None,
            "completedAt": None,
            "createdAt": T1,
        },
        {
            "id": "cljob00003",
            "accountId": "clacctt0002",
            "promoId": "clprtty003",
            "type": "parse_upload",
            "status": "pending",
            "payload": {"uploadId": "clup000002"},
            "result": None,
            "errorMsg": None,
            "attempts": 0,
            "startedAt": None,
            "completedAt": None,
            "createdAt": T1,
        },
        {
            "id": "cljob00004",
            "accountId": "clacchb0001",
            "promoId": "clprblt005",
            "type": "export_zip",
            "status": "failed",
            "payload": {},
            "result": None,
            "errorMsg": "S3 timeout",
            "attempts": 3,
            "startedAt": T2,
            "completedAt": T2,
            "createdAt": T2,
        },
    ],
    "assets": [
        {
            "id": "clas000001",
            "accountId": "clacchb0001",
            "promoId": "clprspr001",
            "branchId": "clbrquay01",
            "type": "pdf",
            "s3Key": "clacchb0001/assets/spring.pdf",
            "sizeBytes": 31,
            "createdAt": T1,
        },
        {
            "id": "clas000002",
            "accountId": "clacchb0001",
            "promoId": "clprspr001",
            "branchId": "clbrdup003",
            "type": "preview",
            "s3Key": "clacchb0001/assets/spring.png",
            "sizeBytes": None,
            "createdAt": T1,
        },
        {
            "id": "clas000003",
            "accountId": "clacchb0001",
            "promoId": "clprspr001",
            "branchId": None,
            "type": "email_html",
            "s3Key": "clacchb0001/assets/email.html",
            "sizeBytes": 100,
            "createdAt": T1,
        },
        {
            "id": "clas000004",
            "accountId": "clacctt0002",
            "promoId": "clprtty003",
            "branchId": None,
            "type": "zip",
            "s3Key": "clacctt0002/assets/bundle.zip",
            "sizeBytes": 4096,
            "createdAt": T2,
        },
    ],
    "custom_templates": [
        {
            "id": "tpl_custom_1",
            "accountId": "clacchb0001",
            "name": "Harbour house style",
            "description": None,
            "htmlContent": "<h1>{{title}}</h1>",
            "isSystem": False,
            "createdAt": T0,
            "updatedAt": T0,
        },
    ],
    "usage_monthly": [
        {
            "id": "clum000001",
            "accountId": "clacchb0001",
            "year": 2026,
            "month": 3,
            "promosCount": 5,
        },
        {
            "id": "clum000002",
            "accountId": "clacctt0002",
            "year": 2026,
            "month": 3,
            "promosCount": 1,
        },
        {
            "id": "clum000003",
            "accountId": "claccbl0004",
            "year": 2026,
            "month": 3,
            "promosCount": 1,
        },
    ],
}

PRISMA_MIGRATIONS = [
    "20260228120000_init",
    "20260228180000_brand_kits",
    "20260301090000_branches",
    "20260301150000_jobs_assets",
    "20260302100000_custom_templates",
    "20260302160000_coop_fields",
    "20260303080000_usage_monthly",
]

# The brief's four tables: accounts include one on a plan DEV added by hand.
BRIEF_ROWS: dict[str, list[Row]] = {
    "accounts": [
        {
            "id": "clbracc001",
            "name": "Quay Hardware",
            "plan": "dealer",
            "stripeCustomerId": "cus_Q1",
            "stripeSubId": "sub_Q1",
            "isProductAdmin": False,
            "onboardingCompleted": True,
            "createdAt": T0,
            "updatedAt": T0,
        },
        {
            "id": "clbracc002",
            "name": "Legacy Enterprise Co",
            "plan": "enterprise",
            "stripeCustomerId": None,
            "stripeSubId": None,
            "isProductAdmin": False,
            "onboardingCompleted": True,
            "createdAt": T0,
            "updatedAt": T0,
        },
    ],
    "promos": [
        {
            "id": "clbrpro001",
            "accountId": "clbracc001",
            "branchId": None,
            "folderId": None,
            "title": "Winter stock",
            "subhead": None,
            "cta": "Ask in store",
            "templateId": None,
            "keywords": None,
            "status": "draft",
            "createdAt": _ts("2026-03-01 08:00:00"),
            "updatedAt": T1,
        },
        {
            "id": "clbrpro002",
            "accountId": "clbracc002",
            "branchId": None,
            "folderId": None,
            "title": "Enterprise promo",
            "subhead": None,
            "cta": None,
            "templateId": None,
            "keywords": ["a"],
            "status": "ready",
            "createdAt": T0,
            "updatedAt": T0,
        },
    ],
    "usage_monthly": [
        {"id": "clbrum0001", "accountId": "clbracc001", "year": 2026, "month": 3, "promosCount": 2},
    ],
}


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _insert(conn: psycopg.Connection[Any], table: str, rows: list[Row]) -> None:
    for row in rows:
        names = list(row)
        values = [
            Jsonb(v) if isinstance(v, dict | list) and table != "promos" else v
            for v in row.values()
        ]
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(sql.Identifier(n) for n in names),
                sql.SQL(", ").join(sql.Placeholder() for _ in names),
            ),
            values,
        )


def build_brief_tables(url: str) -> None:
    """The four tables the brief names, as DEV has them, with ``BRIEF_ROWS``."""
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute(
            """
            CREATE TYPE "BillingPlan" AS ENUM ('free', 'starter', 'pro', 'dealer');
            ALTER TYPE "BillingPlan" ADD VALUE 'enterprise';
            CREATE TYPE "PromoStatus" AS ENUM ('draft', 'ready', 'archived');
            """
        )
        conn.commit()  # an added enum value is usable only after commit
        conn.execute(HAND_MADE_BILLING_PLANS_SQL)
        conn.execute(ACCOUNTS_SQL)
        conn.execute(TRIGGER_SQL)
        conn.execute(USAGE_SQL)
        conn.execute(f'CREATE TABLE "promos" ({PROMOS_COLUMNS_SQL});')
        for table in ("accounts", "promos", "usage_monthly"):
            _insert(conn, table, BRIEF_ROWS[table])


def _full_schema(conn: psycopg.Connection[Any]) -> None:
    conn.execute(ENUMS_SQL)
    conn.execute(LEDGER_SQL)
    conn.execute(HAND_MADE_BILLING_PLANS_SQL)
    conn.execute(ACCOUNTS_SQL)
    conn.execute(TRIGGER_SQL)
    conn.execute(USAGE_SQL)
    conn.execute(f'CREATE TABLE "promos" ({PROMOS_COLUMNS_SQL});')
    conn.execute(OTHER_TABLES_SQL)


def build_full_schema(url: str) -> None:
    """Every original table, enum type and the ledger table, without rows (for benchmarks)."""
    with psycopg.connect(_libpq(url)) as conn:
        _full_schema(conn)


def build_full(url: str) -> None:
    """Every original table, enum and the Prisma ledger, with ``FULL_ROWS``."""
    with psycopg.connect(_libpq(url)) as conn:
        _full_schema(conn)
        for i, name in enumerate(PRISMA_MIGRATIONS):
            conn.execute(
                'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name,'
                " applied_steps_count) VALUES (%s, %s, now(), %s, 1)",
                (f"00000000-0000-0000-0000-00000000000{i}", "0" * 64, name),
            )
        for table in (
            "accounts",
            "branches",
            "account_users",
            "invites",
            "brand_kits",
            "promo_folders",
            "promos",
            "promo_items",
            "uploads",
            "import_mappings",
            "product_snippets",
            "jobs",
            "assets",
            "custom_templates",
            "usage_monthly",
        ):
            _insert(conn, table, FULL_ROWS[table])


def row_counts(url: str, schema: str) -> dict[str, int]:
    """Rows per table of ``schema`` (e.g. to show the legacy tables are untouched)."""
    with psycopg.connect(_libpq(url)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                " AND table_type = 'BASE TABLE'",
                (schema,),
            )
        ]
        out: dict[str, int] = {}
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchone()
            out[table] = int(row[0]) if row else 0
        return out
