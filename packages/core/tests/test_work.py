"""Renders, exports and co-op reports: features checked, renders counted once per job."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from counterpromo_core import branches, jobs, promos, usage, work
from counterpromo_core.errors import FeatureNotInPlan, ValidationFailed
from counterpromo_core.ports import ManualClock
from counterpromo_core.schemas import BranchIn, PromoCreate
from sqlalchemy.orm import Session

NewAccount = Callable[..., uuid.UUID]


def _promo(session: Session, account_id: uuid.UUID, clock: ManualClock) -> uuid.UUID:
    return promos.create_promo(session, account_id, PromoCreate(title="P"), clock=clock).id


def _renders(session: Session, account_id: uuid.UUID, clock: ManualClock) -> int:
    return usage.usage_report(session, account_id, clock=clock).counters["renders"].used


def test_a_render_counts_one_and_queues_a_job(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("free")
    promo_id = _promo(session, account_id, clock)
    job = work.request_render(session, account_id, promo_id, paper="Letter", clock=clock)
    assert (job.type, job.status, job.promo_id) == ("render_promo", "queued", promo_id)
    assert job.payload["paper"] == "Letter"
    assert job.payload["output_sets"] == 1
    assert job.payload["watermark"] is True
    assert job.usage_counted_at == clock.now()
    assert _renders(session, account_id, clock) == 1
    # Running the job (even twice, as a redelivery) counts nothing more.
    jobs.start_job(session, job.id)
    jobs.start_job(session, job.id)
    assert _renders(session, account_id, clock) == 1


def test_a_branch_pack_counts_one_render_per_branch(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo_id = _promo(session, account_id, clock)
    for name in ("Leeds", "York", "Hull"):
        branches.create_branch(session, account_id, BranchIn(name=name))
    job = work.request_render(session, account_id, promo_id, branch_pack=True, clock=clock)
    assert job.payload["output_sets"] == 3
    assert len(job.payload["branch_ids"]) == 3
    assert _renders(session, account_id, clock) == 3


def test_a_branch_pack_needs_branches(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    promo_id = _promo(session, account_id, clock)
    with pytest.raises(ValidationFailed):
        work.request_render(session, account_id, promo_id, branch_pack=True, clock=clock)
    assert _renders(session, account_id, clock) == 0


def test_a_branch_pack_needs_the_feature(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("starter")
    promo_id = _promo(session, account_id, clock)
    branches.create_branch(session, account_id, BranchIn(name="Leeds"))
    with pytest.raises(FeatureNotInPlan) as caught:
        work.request_render(session, account_id, promo_id, branch_pack=True, clock=clock)
    assert (caught.value.feature, caught.value.plan) == ("branch_packs", "starter")


def test_coop_report_needs_the_feature(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    free = new_account("free")
    with pytest.raises(FeatureNotInPlan):
        work.request_coop_report(session, free, _promo(session, free, clock))
    starter = new_account("starter")
    job = work.request_coop_report(session, starter, _promo(session, starter, clock))
    assert job.type == "coop_report"


def test_export_queues_a_bundle_job(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("free")
    promo_id = _promo(session, account_id, clock)
    job = work.request_export(session, account_id, promo_id)
    assert (job.type, job.payload) == ("export_bundle", {"promo_id": str(promo_id)})
