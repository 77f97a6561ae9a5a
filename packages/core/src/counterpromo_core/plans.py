"""The plans Counter Promo ships, and ``sync_plans`` to bring the database in line.

Migration 0002 inserted these values once; later changes to the definitions
reach a database through ``counterpromo plans sync`` (which calls ``sync_plans``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from counterpromo_core.db.models import BillingPlan


@dataclass(frozen=True)
class PlanDefinition:
    code: str
    name: str
    price_monthly: Decimal
    # None means unlimited.
    max_promos_per_month: int | None
    max_renders_per_month: int | None
    max_branches: int | None
    max_seats: int | None
    watermark: bool
    branch_packs: bool
    coop_report: bool
    sort_order: int
    currency: str = "gbp"


PLANS: tuple[PlanDefinition, ...] = (
    PlanDefinition(
        code="free",
        name="Free",
        price_monthly=Decimal("0.00"),
        max_promos_per_month=3,
        max_renders_per_month=10,
        max_branches=1,
        max_seats=1,
        watermark=True,
        branch_packs=False,
        coop_report=False,
        sort_order=0,
    ),
    PlanDefinition(
        code="starter",
        name="Starter",
        price_monthly=Decimal("29.00"),
        max_promos_per_month=20,
        max_renders_per_month=100,
        max_branches=3,
        max_seats=3,
        watermark=False,
        branch_packs=False,
        coop_report=True,
        sort_order=1,
    ),
    PlanDefinition(
        code="pro",
        name="Pro",
        price_monthly=Decimal("79.00"),
        max_promos_per_month=100,
        max_renders_per_month=500,
        max_branches=10,
        max_seats=10,
        watermark=False,
        branch_packs=True,
        coop_report=True,
        sort_order=2,
    ),
    PlanDefinition(
        code="dealer",
        name="Dealer",
        price_monthly=Decimal("199.00"),
        max_promos_per_month=None,
        max_renders_per_month=5000,
        max_branches=None,
        max_seats=50,
        watermark=False,
        branch_packs=True,
        coop_report=True,
        sort_order=3,
    ),
)
PLAN_CODES: tuple[str, ...] = tuple(p.code for p in PLANS)


def plan_definition(code: str) -> PlanDefinition:
    for plan in PLANS:
        if plan.code == code:
            return plan
    raise KeyError(code)


def list_plans(session: Session) -> list[BillingPlan]:
    """The plans in the database, cheapest first."""
    return list(
        session.scalars(select(BillingPlan).order_by(BillingPlan.sort_order, BillingPlan.code))
    )


def sync_plans(session: Session, plans: tuple[PlanDefinition, ...] = PLANS) -> int:
    """Insert or update every shipped plan in one statement; return how many rows it wrote.

    Plans in the database that are not shipped are left alone: accounts may still use them.
    """
    rows = [asdict(plan) for plan in plans]
    statement = insert(BillingPlan).values(rows)
    updates = {key: statement.excluded[key] for key in rows[0] if key != "code"}
    result = session.execute(
        statement.on_conflict_do_update(index_elements=[BillingPlan.code], set_=updates).returning(
            BillingPlan.code
        )
    )
    return len(result.all())


__all__ = ["PLANS", "PLAN_CODES", "PlanDefinition", "plan_definition", "sync_plans"]
