"""``counterpromo plans``: the billing plans in the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import transaction
from counterpromo_cli.options import JsonOption
from counterpromo_cli.output import console, print_json, print_table

if TYPE_CHECKING:
    from counterpromo_core.db.models import BillingPlan

app = command_group("Billing plans (limits and features).")


def _limit(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def plan_json(plan: BillingPlan) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "price_monthly": str(plan.price_monthly),
        "currency": plan.currency,
        "max_promos_per_month": plan.max_promos_per_month,
        "max_renders_per_month": plan.max_renders_per_month,
        "max_branches": plan.max_branches,
        "max_seats": plan.max_seats,
        "watermark": plan.watermark,
        "branch_packs": plan.branch_packs,
        "coop_report": plan.coop_report,
    }


@app.command("list")
def list_plans(json_output: JsonOption = False) -> None:
    """List the plans in the database, cheapest first."""
    from counterpromo_core import plans as core_plans

    with transaction() as session:
        plans = core_plans.list_plans(session)
    if json_output:
        print_json([plan_json(p) for p in plans])
        return
    print_table(
        "Plans",
        ["code", "name", "price", "promos/mo", "renders/mo", "branches", "seats", "features"],
        (
            (
                p.code,
                p.name,
                f"{p.price_monthly} {p.currency.upper()}",
                _limit(p.max_promos_per_month),
                _limit(p.max_renders_per_month),
                _limit(p.max_branches),
                _limit(p.max_seats),
                ", ".join(
                    name
                    for name, on in (
                        ("watermark", p.watermark),
                        ("branch packs", p.branch_packs),
                        ("co-op report", p.coop_report),
                    )
                    if on
                ),
            )
            for p in plans
        ),
    )


@app.command()
def sync() -> None:
    """Write the plans shipped with this version to the database (insert or update)."""
    from counterpromo_core.plans import sync_plans

    with transaction() as session:
        written = sync_plans(session)
    console.print(f"{written} plans written")
