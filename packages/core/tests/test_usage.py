"""Usage counters: one atomic statement checks and counts, even under concurrency."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from counterpromo_core import promos, usage, work
from counterpromo_core.db.models import UsageMonthly
from counterpromo_core.errors import FeatureNotInPlan, LimitExceeded, NotFound, ValidationFailed
from counterpromo_core.ports import ManualClock
from counterpromo_core.schemas import PromoCreate
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

THREADS = 20


def _usage_row(sessions: sessionmaker[Session], account_id: uuid.UUID) -> UsageMonthly:
    with sessions() as s:
        row = s.scalar(select(UsageMonthly).where(UsageMonthly.account_id == account_id))
        assert row is not None
        return row


def _race(sessions: sessionmaker[Session], action: Callable[[Session], object]) -> list[str]:
    """Run ``action`` in THREADS threads at once, each in its own committed transaction."""
    barrier = threading.Barrier(THREADS)

    def attempt(_: int) -> str:
        barrier.wait()
        try:
            with sessions.begin() as s:
                action(s)
        except LimitExceeded:
            return "limit"
        return "ok"

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(attempt, range(THREADS)))


def test_twenty_concurrent_promo_creates_on_a_plan_of_ten(
    sessions: sessionmaker[Session], new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("test-ten")
    outcomes = _race(
        sessions,
        lambda s: promos.create_promo(s, account_id, PromoCreate(title="Race"), clock=clock),
    )
    assert outcomes.count("ok") == 10
    assert outcomes.count("limit") == 10
    assert _usage_row(sessions, account_id).promos_created == 10
    with sessions() as s:
        assert len(promos.list_promos(s, account_id, limit=50).items) == 10


def test_twenty_concurrent_renders_on_a_plan_of_ten(
    sessions: sessionmaker[Session], new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("test-ten")
    with sessions.begin() as s:
        promo_id = promos.create_promo(s, account_id, PromoCreate(title="R"), clock=clock).id
    outcomes = _race(sessions, lambda s: work.request_render(s, account_id, promo_id, clock=clock))
    assert outcomes.count("ok") == 10
    assert outcomes.count("limit") == 10
    assert _usage_row(sessions, account_id).renders == 10


def test_limit_exceeded_says_what_and_when(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("free")  # 3 promos a month
    for expected in (1, 2, 3):
        assert usage.consume(session, account_id, "promos_created", clock=clock) == expected
    with pytest.raises(LimitExceeded) as caught:
        usage.consume(session, account_id, "promos_created", clock=clock)
    assert caught.value.metric == "promos_created"
    assert caught.value.limit == 3
    assert caught.value.used == 3
    assert caught.value.resets_at == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_a_batch_larger_than_what_is_left_counts_nothing(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("free")  # 10 renders a month
    usage.consume(session, account_id, "renders", 8, clock=clock)
    with pytest.raises(LimitExceeded) as caught:
        usage.consume(session, account_id, "renders", 3, clock=clock)
    assert caught.value.used == 8
    assert usage.consume(session, account_id, "renders", 2, clock=clock) == 10


def test_a_first_batch_larger_than_the_limit_is_refused(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("free")
    with pytest.raises(LimitExceeded) as caught:
        usage.consume(session, account_id, "renders", 11, clock=clock)
    assert caught.value.used == 0
    report = usage.usage_report(session, account_id, clock=clock)
    assert report.counters["renders"].used == 0


def test_null_limit_is_unlimited(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("dealer")  # unlimited promos
    assert usage.consume(session, account_id, "promos_created", 10_000, clock=clock) == 10_000
    assert usage.consume(session, account_id, "promos_created", clock=clock) == 10_001


def test_a_new_month_starts_from_zero(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("free")
    usage.consume(session, account_id, "promos_created", 3, clock=clock)
    clock.current = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
    assert usage.consume(session, account_id, "promos_created", clock=clock) == 1
    report = usage.usage_report(session, account_id, clock=clock)
    assert report.month == dt.date(2026, 12, 1)
    assert report.period_start == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert report.resets_at == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert report.counters["promos_created"].used == 1
    assert report.counters["promos_created"].limit == 3


def test_limit_exceeded_reports_the_usage_of_its_own_month(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    """Three months of usage: the error counts the refused month's renders, no other's.

    The refused month's row is written last, so a query that forgot the month would find
    another month's row first.
    """
    account_id = new_account("free")  # 10 renders a month
    october = dt.datetime(2026, 10, 20, 8, 0, tzinfo=dt.UTC)
    november = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
    december = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    for when, renders in ((october, 4), (december, 7), (november, 6)):
        clock.current = when
        assert usage.consume(session, account_id, "renders", renders, clock=clock) == renders
    clock.current = november
    with pytest.raises(LimitExceeded) as caught:
        usage.consume(session, account_id, "renders", 5, clock=clock)
    assert (caught.value.used, caught.value.limit) == (6, 10)
    assert caught.value.resets_at == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    clock.current = december
    with pytest.raises(LimitExceeded) as caught:
        usage.consume(session, account_id, "renders", 4, clock=clock)
    assert caught.value.used == 7
    assert caught.value.resets_at == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def test_consume_rejects_bad_input(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    account_id = new_account("free")
    with pytest.raises(ValidationFailed):
        usage.consume(session, account_id, "promos_created", 0, clock=clock)
    with pytest.raises(NotFound):
        usage.consume(session, uuid.uuid4(), "promos_created", clock=clock)


def test_entitlements_follow_the_plan(
    session: Session, new_account: Callable[..., uuid.UUID]
) -> None:
    free = usage.entitlements(session, new_account("free"))
    assert free.watermark is True
    assert free.branch_packs is False
    pro = usage.entitlements(session, new_account("pro"))
    assert pro.watermark is False
    assert pro.branch_packs is True
    assert pro.max_branches == 10


def test_require_feature_grants_what_the_plan_includes_and_refuses_the_rest(
    session: Session, new_account: Callable[..., uuid.UUID]
) -> None:
    account_id = new_account("test-ten")  # branch packs, no co-op report
    usage.require_feature(session, account_id, "branch_packs")
    with pytest.raises(FeatureNotInPlan) as caught:
        usage.require_feature(session, account_id, "coop_report")
    assert (caught.value.feature, caught.value.plan) == ("coop_report", "test-ten")
    with pytest.raises(ValueError, match="unknown feature 'confetti'"):
        usage.require_feature(session, account_id, "confetti")


def test_usage_report_counts_only_its_own_account(
    session: Session, new_account: Callable[..., uuid.UUID], clock: ManualClock
) -> None:
    first, second = new_account("free"), new_account("free")
    usage.consume(session, first, "renders", 2, clock=clock)
    usage.consume(session, second, "renders", 5, clock=clock)
    assert usage.usage_report(session, first, clock=clock).counters["renders"].used == 2
    assert usage.usage_report(session, second, clock=clock).counters["renders"].used == 5
    other_month = ManualClock(dt.datetime(2027, 1, 10, tzinfo=dt.UTC))
    assert usage.usage_report(session, first, clock=other_month).counters["renders"].used == 0
