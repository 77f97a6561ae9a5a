"""AWS unreachable for a few seconds while renders are requested: the requests still
succeed (the jobs wait in the outbox), and once AWS is back the running system sends them
by itself (the outbox sweeper), each exactly once."""

from __future__ import annotations

import time

import httpx

from harness.flows import create_promo, request_render
from harness.records import (
    all_finished,
    assets_by_job,
    job_records,
    queue_counts,
    usage,
    worker_outcomes,
)
from harness.stack import SystemStack
from harness.tenants import create_tenant
from harness.waiting import wait_until

RENDERS = 6
OUTAGE_SECONDS = 4.0
# The sweeper runs periodically; the jobs are small renders.
SENT_AND_DONE_WITHIN = 90


def test_jobs_requested_while_aws_is_down_are_sent_once_when_it_returns(
    stack: SystemStack, apis: list[httpx.Client]
) -> None:
    tenant = create_tenant(stack.sessions, plan="dealer")
    promo_ids = [create_promo(apis[n % 2], tenant, items=6) for n in range(3)]

    with stack.aws_unreachable():
        down_at = time.monotonic()
        job_ids = [
            request_render(apis[n % 2], tenant, promo_ids[n % len(promo_ids)])
            for n in range(RENDERS)
        ]
        records = job_records(stack.sessions, job_ids)
        assert [(r.status, r.sent) for r in records] == [("queued", False)] * RENDERS, records
        time.sleep(max(0.0, down_at + OUTAGE_SECONDS - time.monotonic()))

    # No request after the outage: nothing but the running system may send the outbox.
    wait_until(
        lambda: all_finished(stack.sessions, job_ids),
        timeout=SENT_AND_DONE_WITHIN,
        interval=0.5,
        what="the jobs queued during the outage (is an outbox sweeper running?)",
    )
    records = job_records(stack.sessions, job_ids)
    assert [(r.status, r.sent, r.attempts) for r in records] == [("succeeded", True, 1)] * RENDERS
    assert assets_by_job(stack.sessions, job_ids) == dict.fromkeys(job_ids, 2)
    assert usage(stack.sessions, tenant.account_id)["renders"] == RENDERS

    # Sent once: no worker saw a second message for any of these jobs.
    wanted = {str(j) for j in job_ids}
    seen = [
        e
        for worker in stack.workers
        for e in worker_outcomes(worker.process.log_text(tail=50_000_000))
        if e["job_id"] in wanted
    ]
    assert sorted(e["outcome"] for e in seen) == ["succeeded"] * RENDERS, seen
    clients = stack.aws_clients()
    # Settled messages are deleted in batches just after their job commits.
    wait_until(
        lambda: queue_counts(clients, stack.env.jobs_queue_url) == (0, 0),
        timeout=stack.options.worker_visibility_seconds / 4,
        interval=0.1,
        what="the settled messages deleted",
    )
    assert queue_counts(clients, stack.env.jobs_dlq_url) == (0, 0)
