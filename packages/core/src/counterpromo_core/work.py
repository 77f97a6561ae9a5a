"""Requests for work done by the worker: renders, export bundles, co-op reports.

Each request writes its job (and outbox message) in the caller's transaction;
a render also counts its ``renders`` there, so a render is counted exactly once
per job, however often its message is delivered.
"""

from __future__ import annotations

import uuid
from typing import Literal, get_args

from sqlalchemy.orm import Session

from counterpromo_core.branches import list_branches
from counterpromo_core.db.models import Job, Promo
from counterpromo_core.errors import ValidationFailed
from counterpromo_core.jobs import create_job
from counterpromo_core.lookup import get_owned
from counterpromo_core.ports import Clock
from counterpromo_core.usage import consume, entitlements, require_feature

Paper = Literal["A4", "Letter"]
PAPERS: tuple[Paper, ...] = get_args(Paper)


def request_render(
    session: Session,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    *,
    branch_pack: bool = False,
    paper: Paper = "A4",
    clock: Clock,
) -> Job:
    """Queue a render (PDF + PNG preview; one set per branch for a branch pack).

    Counts one ``renders`` per output set; ``LimitExceeded`` when the month's
    renders would run out. A branch pack needs the plan feature and at least one branch.
    """
    if paper not in PAPERS:
        raise ValidationFailed.single("paper", f"must be one of {', '.join(PAPERS)}")
    promo = get_owned(session, Promo, account_id, promo_id, "promo")
    branch_ids: list[str] = []
    if branch_pack:
        require_feature(session, account_id, "branch_packs")
        branch_ids = [str(b.id) for b in list_branches(session, account_id)]
        if not branch_ids:
            raise ValidationFailed.single(
                "branch_pack", "add at least one branch before asking for a branch pack"
            )
    output_sets = len(branch_ids) or 1
    consume(session, account_id, "renders", output_sets, clock=clock)
    job = create_job(
        session,
        account_id,
        type="render_promo",
        promo_id=promo.id,
        payload={
            "promo_id": str(promo.id),
            "promo_version": promo.version,
            "branch_pack": branch_pack,
            "branch_ids": branch_ids,
            "paper": paper,
            "output_sets": output_sets,
            "watermark": entitlements(session, account_id).watermark,
        },
    )
    job.usage_counted_at = clock.now()
    session.flush()
    return job


def request_export(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID) -> Job:
    """Queue a ZIP bundle of the promo's current outputs."""
    promo = get_owned(session, Promo, account_id, promo_id, "promo")
    return create_job(
        session,
        account_id,
        type="export_bundle",
        promo_id=promo.id,
        payload={"promo_id": str(promo.id)},
    )


def request_coop_report(session: Session, account_id: uuid.UUID, promo_id: uuid.UUID) -> Job:
    """Queue the co-op funds CSV of a promo (plan feature ``coop_report``)."""
    promo = get_owned(session, Promo, account_id, promo_id, "promo")
    require_feature(session, account_id, "coop_report")
    return create_job(
        session,
        account_id,
        type="coop_report",
        promo_id=promo.id,
        payload={"promo_id": str(promo.id)},
    )


__all__ = ["PAPERS", "Paper", "request_coop_report", "request_export", "request_render"]
