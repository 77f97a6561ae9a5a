"""SIGTERM to a busy worker (an ECS deploy or scale-in): it stops polling, finishes or hands
back what it runs, exits 0 within its grace period, and leaves no message invisible."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from harness.flows import create_promo, request_render
from harness.records import (
    all_finished,
    assets_by_job,
    job_records,
    log_entries,
    queue_counts,
    usage,
)
from harness.stack import SystemStack
from harness.tenants import create_tenant
from harness.waiting import wait_until

BRANCHES = 3
ITEMS = 200
JOBS = 6
# Exiting after the grace period (stop the sweeper, close the pool, finalize the interpreter)
# costs more the busier the machine is; measured by how long this worker took to start.
EXIT_SLACK_SECONDS = 5
EXIT_SLACK_PER_STARTUP = 2.0


@pytest.mark.parametrize(
    ("grace_seconds", "expected"),
    # A grace far above a branch pack's render time (seconds; more on a loaded machine): the
    # worker exits as soon as its jobs finish, so a generous grace costs nothing when fast.
    [(60.0, "succeeded"), (1.0, "handed_back")],
    ids=["jobs-finish-within-grace", "grace-too-short-jobs-handed-back"],
)
def test_sigterm_under_load(
    stack: SystemStack, apis: list[httpx.Client], grace_seconds: float, expected: str
) -> None:
    worker = stack.restart_worker(1, grace_seconds=grace_seconds)
    log_start = len(worker.process.log_text(tail=10_000_000))
    try:
        tenant = create_tenant(stack.sessions, plan="pro", branch_count=BRANCHES)
        promo_id = create_promo(apis[0], tenant, items=ITEMS)
        job_ids = [
            request_render(apis[n % 2], tenant, promo_id, branch_pack=True) for n in range(JOBS)
        ]
        busy = stack.options.workers * stack.options.worker_concurrency

        def both_busy() -> bool:
            records = job_records(stack.sessions, job_ids)
            return sum(r.status == "running" for r in records) >= busy

        wait_until(both_busy, timeout=60, interval=0.05, what="both workers busy")
        sent_at = time.monotonic()
        worker.process.send(signal.SIGTERM)
        code = worker.process.wait(timeout=grace_seconds + 30)
        took = time.monotonic() - sent_at
        assert code == 0, worker.process.log_text()
        slack = max(EXIT_SLACK_SECONDS, EXIT_SLACK_PER_STARTUP * worker.ready_seconds)
        assert took <= grace_seconds + slack, (
            f"exit took {took:.1f}s (grace {grace_seconds}s, slack {slack:.1f}s; "
            f"the worker took {worker.ready_seconds:.1f}s to start)"
        )

        # What it was running either finished in time or was handed back, never held.
        entries = log_entries(worker.process.log_text(tail=10_000_000)[log_start:])
        outcomes = [e["outcome"] for e in entries if "outcome" in e and "job_id" in e]
        handed_back = sum(
            int(e.get("count", 0)) for e in entries if "handed back" in str(e.get("message"))
        )
        assert set(outcomes) <= {"succeeded", "handed_back"}, outcomes
        if expected == "succeeded":
            assert outcomes.count("succeeded") >= 1, outcomes
            assert handed_back == 0, entries
        else:
            assert handed_back + outcomes.count("handed_back") >= 1, entries

        # The remaining worker finishes everything; then no message is left hidden (a message
        # the stopped worker kept would still be invisible for its visibility). Settled
        # messages are deleted in batches just after their job commits: allow that moment,
        # well under the visibility a kept message would stay hidden for.
        clients = stack.aws_clients()
        wait_until(
            lambda: all_finished(stack.sessions, job_ids), timeout=120, interval=0.3, what="jobs"
        )
        settle = stack.options.worker_visibility_seconds / 4
        wait_until(
            lambda: queue_counts(clients, stack.env.jobs_queue_url) == (0, 0),
            timeout=settle,
            interval=0.1,
            what="the settled messages deleted",
        )
        records = job_records(stack.sessions, job_ids)
        assert [r.status for r in records] == ["succeeded"] * JOBS, records
        assert assets_by_job(stack.sessions, job_ids) == dict.fromkeys(job_ids, 2 * BRANCHES)
        assert usage(stack.sessions, tenant.account_id)["renders"] == JOBS * BRANCHES
        assert queue_counts(clients, stack.env.jobs_dlq_url) == (0, 0)
    finally:
        stack.restart_worker(1)
