"""A job past its type's time limit is stopped, its slot freed, retried, then failed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pydantic
import pytest
from counterpromo_core import work
from counterpromo_core.db.models import Job
from counterpromo_core.ports import SystemClock
from counterpromo_worker.runtime.time_limits import DEFAULT_TIME_LIMITS
from counterpromo_worker.settings import WorkerSettings
from sqlalchemy.orm import Session, sessionmaker

RENDER_LIMIT = 0.05  # seconds: far less than 200 items take to lay out


def test_time_limits_come_from_the_environment_over_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (
        WorkerSettings().job_time_limits().limit_for("render_promo")
        == (DEFAULT_TIME_LIMITS["render_promo"])
    )
    monkeypatch.setenv("COUNTERPROMO_WORKER_TIME_LIMITS", '{"render_promo": 7.5}')
    monkeypatch.setenv("COUNTERPROMO_WORKER_TIMEOUT_RETRIES", "3")
    limits = WorkerSettings().job_time_limits()
    assert limits.limit_for("render_promo") == 7.5
    assert limits.limit_for("export_bundle") == DEFAULT_TIME_LIMITS["export_bundle"]
    assert limits.retries == 3
    monkeypatch.setenv("COUNTERPROMO_WORKER_TIME_LIMITS", '{"render_promo": 0}')
    with pytest.raises(pydantic.ValidationError, match="above 0 s: render_promo"):
        WorkerSettings()


def test_a_render_past_its_limit_is_stopped_retried_then_failed_and_its_slot_freed(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., Any],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account()
    big = make_promo(account_id, items=200, title="Everything in the yard")
    small = make_promo(account_id, items=3, title="Three things")
    with sessions.begin() as session:
        slow = work.request_render(session, account_id, big, clock=SystemClock()).id
    dispatch()

    # One slot: the report queued behind the render runs only if the render lets go of it.
    start_worker(concurrency=1, time_limits={"render_promo": RENDER_LIMIT}, timeout_retries=1)
    with sessions.begin() as session:
        after = work.request_coop_report(session, account_id, small).id
    dispatch()

    failed = wait_until(
        lambda: (job := job_row(slow)).status == "failed" and job, what="the render failed"
    )
    assert failed.attempts == 2
    assert failed.error == (
        f"the render_promo job ran past its time limit of {RENDER_LIMIT:g} s "
        "and was stopped (2 attempts)"
    )
    done = wait_until(
        lambda: (job := job_row(after)).status == "succeeded" and job, what="the report ran"
    )
    assert done.result is not None
