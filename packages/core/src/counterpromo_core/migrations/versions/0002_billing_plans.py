"""insert the four billing plans

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The values are frozen here as they were at this revision; later changes to the
shipped plan definitions reach the database through ``counterpromo plans sync``
or a new migration, never by editing this one.
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLANS = [
    {
        "code": "free",
        "name": "Free",
        "price_monthly": Decimal("0.00"),
        "max_promos_per_month": 3,
        "max_renders_per_month": 10,
        "max_branches": 1,
        "max_seats": 1,
        "watermark": True,
        "branch_packs": False,
        "coop_report": False,
        "sort_order": 0,
    },
    {
        "code": "starter",
        "name": "Starter",
        "price_monthly": Decimal("29.00"),
        "max_promos_per_month": 20,
        "max_renders_per_month": 100,
        "max_branches": 3,
        "max_seats": 3,
        "watermark": False,
        "branch_packs": False,
        "coop_report": True,
        "sort_order": 1,
    },
    {
        "code": "pro",
        "name": "Pro",
        "price_monthly": Decimal("79.00"),
        "max_promos_per_month": 100,
        "max_renders_per_month": 500,
        "max_branches": 10,
        "max_seats": 10,
        "watermark": False,
        "branch_packs": True,
        "coop_report": True,
        "sort_order": 2,
    },
    {
        "code": "dealer",
        "name": "Dealer",
        "price_monthly": Decimal("199.00"),
        "max_promos_per_month": None,
        "max_renders_per_month": 5000,
        "max_branches": None,
        "max_seats": 50,
        "watermark": False,
        "branch_packs": True,
        "coop_report": True,
        "sort_order": 3,
    },
]

billing_plans = sa.table(
    "billing_plans",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("price_monthly", sa.Numeric),
    sa.column("max_promos_per_month", sa.Integer),
    sa.column("max_renders_per_month", sa.Integer),
    sa.column("max_branches", sa.Integer),
    sa.column("max_seats", sa.Integer),
    sa.column("watermark", sa.Boolean),
    sa.column("branch_packs", sa.Boolean),
    sa.column("coop_report", sa.Boolean),
    sa.column("sort_order", sa.Integer),
)


def upgrade() -> None:
    op.bulk_insert(billing_plans, PLANS)


def downgrade() -> None:
    op.execute(billing_plans.delete().where(billing_plans.c.code.in_([p["code"] for p in PLANS])))
