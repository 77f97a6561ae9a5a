"""Usage counters, plan limits and feature flags.

Which actions count is decided here, once: creating (or duplicating) a promo
counts one ``promos_created``; a render job counts one ``renders`` per output
set, when the job is requested.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal, NoReturn, cast, get_args

from sqlalchemy import ColumnElement, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from counterpromo_core.db.models import Account, BillingPlan, UsageMonthly
from counterpromo_core.errors import FeatureNotInPlan, LimitExceeded, NotFound, ValidationFailed
from counterpromo_core.ports import Clock

Metric = Literal["promos_created", "renders"]
METRICS: tuple[Metric, ...] = get_args(Metric)
Feature = Literal["branch_packs", "coop_report"]
FEATURES: tuple[Feature, ...] = get_args(Feature)

_COUNTER: dict[Metric, InstrumentedAttribute[int]] = {
    "promos_created": UsageMonthly.promos_created,
    "renders": UsageMonthly.renders,
}
_LIMIT: dict[Metric, InstrumentedAttribute[int | None]] = {
    "promos_created": BillingPlan.max_promos_per_month,
    "renders": BillingPlan.max_renders_per_month,
}


def month_start(at: dt.datetime) -> dt.date:
    utc = at.astimezone(dt.UTC)
    return dt.date(utc.year, utc.month, 1)


def next_month_start(at: dt.datetime) -> dt.datetime:
    month = month_start(at)
    year, next_month = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
    return dt.datetime(year, next_month, 1, tzinfo=dt.UTC)


def _plan_limit(account_id: uuid.UUID, metric: Metric) -> ColumnElement[int | None]:
    return (
        select(_LIMIT[metric])
        .select_from(Account)
        .join(BillingPlan, BillingPlan.code == Account.plan_code)
        .where(Account.id == account_id)
        .scalar_subquery()
    )


def consume(
    session: Session, account_id: uuid.UUID, metric: Metric, n: int = 1, *, clock: Clock
) -> int:
    """Count ``n`` of ``metric`` this month if the plan allows it; return the new total.

    One statement checks and counts, so concurrent callers can never overshoot:
    the upsert locks the month's row and re-checks the limit against its newest value.
    """
    if metric not in _COUNTER:
        raise ValidationFailed.single("metric", f"unknown metric {metric!r}")
    if n < 1:
        raise ValidationFailed.single("n", "must be at least 1")
    now = clock.now()
    month = month_start(now)
    counter = _COUNTER[metric]
    plan_limit = _LIMIT[metric]
    source = (
        select(
            literal(uuid.uuid4()),
            Account.id,
            literal(month),
            literal(n),
            literal(now),
        )
        .join(BillingPlan, BillingPlan.code == Account.plan_code)
        .where(Account.id == account_id, or_(plan_limit.is_(None), plan_limit >= n))
    )
    limit_now = _plan_limit(account_id, metric)
    statement = (
        insert(UsageMonthly)
        .from_select(["id", "account_id", "month", counter.key, "updated_at"], source)
        .on_conflict_do_update(
            index_elements=[UsageMonthly.account_id, UsageMonthly.month],
            set_={counter.key: counter + n, "updated_at": now},
            where=or_(limit_now.is_(None), counter + n <= limit_now),
        )
        .returning(counter)
    )
    used: int | None = session.execute(statement).scalar_one_or_none()
    if used is not None:
        return used
    _raise_limit_exceeded(session, account_id, metric, month, now)


def _raise_limit_exceeded(
    session: Session, account_id: uuid.UUID, metric: Metric, month: dt.date, now: dt.datetime
) -> NoReturn:
    # Read after the failed statement, so the error reports what stopped it.
    limit = session.execute(
        select(_LIMIT[metric])
        .select_from(Account)
        .join(BillingPlan, BillingPlan.code == Account.plan_code)
        .where(Account.id == account_id)
    ).one_or_none()
    if limit is None:
        raise NotFound("account", account_id)
    used = session.scalar(
        select(_COUNTER[metric]).where(
            UsageMonthly.account_id == account_id, UsageMonthly.month == month
        )
    )
    # Only a plan with a limit refuses, so the (one-column) row holds an int.
    ceiling = cast(int, limit[0])  # pragma: no mutate (limit[-1] is limit[0] in a 1-tuple)
    raise LimitExceeded(metric, ceiling, used or 0, next_month_start(now))


@dataclass(frozen=True)
class MetricUsage:
    used: int
    limit: int | None


@dataclass(frozen=True)
class UsageReport:
    month: dt.date
    period_start: dt.datetime
    resets_at: dt.datetime
    plan_code: str
    counters: dict[Metric, MetricUsage]


@dataclass(frozen=True)
class Entitlements:
    plan_code: str
    plan_name: str
    watermark: bool
    branch_packs: bool
    coop_report: bool
    max_promos_per_month: int | None
    max_renders_per_month: int | None
    max_branches: int | None
    max_seats: int | None

    def has(self, feature: Feature) -> bool:
        return bool(getattr(self, feature))


def _plan_of(session: Session, account_id: uuid.UUID) -> BillingPlan:
    plan = session.scalar(
        select(BillingPlan)
        .join(Account, Account.plan_code == BillingPlan.code)
        .where(Account.id == account_id)
    )
    if plan is None:
        raise NotFound("account", account_id)
    return plan


def entitlements(session: Session, account_id: uuid.UUID) -> Entitlements:
    plan = _plan_of(session, account_id)
    return Entitlements(
        plan_code=plan.code,
        plan_name=plan.name,
        watermark=plan.watermark,
        branch_packs=plan.branch_packs,
        coop_report=plan.coop_report,
        max_promos_per_month=plan.max_promos_per_month,
        max_renders_per_month=plan.max_renders_per_month,
        max_branches=plan.max_branches,
        max_seats=plan.max_seats,
    )


def require_feature(session: Session, account_id: uuid.UUID, feature: str) -> None:
    """Raise ``FeatureNotInPlan`` unless the account's plan includes ``feature``."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; known: {', '.join(FEATURES)}")
    granted = entitlements(session, account_id)
    if not getattr(granted, feature):
        raise FeatureNotInPlan(feature, granted.plan_code)


def usage_report(session: Session, account_id: uuid.UUID, *, clock: Clock) -> UsageReport:
    now = clock.now()
    month = month_start(now)
    plan = _plan_of(session, account_id)
    row = session.scalar(
        select(UsageMonthly).where(
            UsageMonthly.account_id == account_id, UsageMonthly.month == month
        )
    )
    counters: dict[Metric, MetricUsage] = {
        metric: MetricUsage(
            used=getattr(row, metric) if row is not None else 0,
            limit=getattr(plan, _LIMIT[metric].key),
        )
        for metric in METRICS
    }
    return UsageReport(
        month=month,
        period_start=dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC),
        resets_at=next_month_start(now),
        plan_code=plan.code,
        counters=counters,
    )


__all__ = [
    "FEATURES",
    "METRICS",
    "Entitlements",
    "Feature",
    "Metric",
    "MetricUsage",
    "UsageReport",
    "consume",
    "entitlements",
    "month_start",
    "next_month_start",
    "require_feature",
    "usage_report",
]
