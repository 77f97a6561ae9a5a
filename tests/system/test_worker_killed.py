"""kill -9 of a worker in the middle of renders: the messages come back once their
visibility runs out, the other worker finishes the jobs, and nothing is done twice."""

from __future__ import annotations

import httpx

from harness.flows import create_promo, request_render
from harness.records import (
    all_finished,
    assets_by_job,
    job_records,
    object_keys,
    queue_counts,
    usage,
)
from harness.stack import SystemStack
from harness.tenants import create_tenant
from harness.waiting import wait_until

# 20 branch sets of a 200-item flyer (17 pages each): a job takes seconds, so the jobs of
# one worker are still running when the other worker's have started (with 5 sets, a worker
# that received early could finish both jobs before the kill: seen in CI).
BRANCHES = 20
ITEMS = 200


def test_killed_worker_jobs_finished_once_by_the_other(
    stack: SystemStack, apis: list[httpx.Client]
) -> None:
    tenant = create_tenant(stack.sessions, plan="dealer", branch_count=BRANCHES)
    promo_id = create_promo(apis[0], tenant, items=ITEMS)
    slots = stack.options.workers * stack.options.worker_concurrency
    job_ids = [
        request_render(apis[n % 2], tenant, promo_id, branch_pack=True) for n in range(slots)
    ]

    # Every slot of both workers busy: each worker holds exactly its share of the jobs.
    def all_running() -> bool:
        return all(r.status == "running" for r in job_records(stack.sessions, job_ids))

    wait_until(all_running, timeout=60, interval=0.05, what="every job running")
    stack.workers[0].process.kill()
    assert not stack.workers[0].process.running
    unfinished_at_kill = [
        r.id for r in job_records(stack.sessions, job_ids) if r.status != "succeeded"
    ]
    assert len(unfinished_at_kill) > stack.options.worker_concurrency, (
        "the killed worker's jobs had finished before the kill: nothing was tested"
    )

    # Visibility (heartbeat: worker_visibility_seconds) runs out, the survivor takes over.
    wait_until(
        lambda: all_finished(stack.sessions, job_ids), timeout=120, interval=0.5, what="all jobs"
    )
    records = job_records(stack.sessions, job_ids)
    assert [r.status for r in records] == ["succeeded"] * slots, records
    redelivered = [r for r in records if r.attempts == 2]
    assert redelivered, f"no job ran a second time after the kill: {records}"
    assert all(r.attempts <= 2 for r in records), records

    # One asset set per job (a PDF and a PNG per branch), in the database and in S3.
    assert assets_by_job(stack.sessions, job_ids) == dict.fromkeys(job_ids, 2 * BRANCHES)
    clients = stack.aws_clients()
    keys = object_keys(clients, stack.env.assets_bucket, f"{tenant.account_id}/{promo_id}/")
    assert len(keys) == slots * 2 * BRANCHES
    # Renders were counted once per output set, when requested, never again by a retry.
    assert usage(stack.sessions, tenant.account_id) == {
        "promos_created": 1,
        "renders": slots * BRANCHES,
    }

    wait_until(
        lambda: queue_counts(clients, stack.env.jobs_queue_url) == (0, 0),
        timeout=30,
        what="an empty jobs queue",
    )
    assert queue_counts(clients, stack.env.jobs_dlq_url) == (0, 0)
    stack.restart_worker(0)
