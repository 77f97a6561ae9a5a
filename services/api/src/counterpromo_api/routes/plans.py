"""Plans (public) and the account's usage this month."""

from __future__ import annotations

from counterpromo_core import plans, usage
from fastapi import APIRouter, Request

from counterpromo_api.auth import AnyMember, Db
from counterpromo_api.problems import error_responses
from counterpromo_api.responses import EntitlementsOut, MetricUsageOut, PlanOut, UsageOut
from counterpromo_api.routing import API_PREFIX, api_router
from counterpromo_api.services import services_of
from counterpromo_api.transaction import TransactionalRoute

router = api_router(tags=["plans and usage"])
public = APIRouter(
    prefix=API_PREFIX,
    route_class=TransactionalRoute,
    tags=["plans and usage"],
    responses=error_responses(common=(500, 503)),
)


@public.get("/plans", summary="The plans on offer (no authentication)")
def list_plans(session: Db) -> list[PlanOut]:
    return [PlanOut.model_validate(p) for p in plans.list_plans(session)]


@router.get("/usage", summary="This month's usage, the plan's limits and when they reset")
def get_usage(actor: AnyMember, session: Db, request: Request) -> UsageOut:
    report = usage.usage_report(session, actor.account_id, clock=services_of(request).clock)
    granted = usage.entitlements(session, actor.account_id)
    return UsageOut(
        month=report.month,
        period_start=report.period_start,
        resets_at=report.resets_at,
        plan_code=report.plan_code,
        counters={
            metric: MetricUsageOut(used=c.used, limit=c.limit)
            for metric, c in report.counters.items()
        },
        entitlements=EntitlementsOut.model_validate(granted),
    )
