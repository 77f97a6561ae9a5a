"""A dealer's day through the whole system: promo in one API process, render through SQS
and a worker, outputs listed and downloaded through the other API process."""

from __future__ import annotations

import httpx

from harness.flows import create_promo, request_render, wait_for_job
from harness.records import usage
from harness.stack import SystemStack
from harness.tenants import Tenant


def test_promo_rendered_and_downloaded_across_processes(
    stack: SystemStack, apis: list[httpx.Client], tenant: Tenant
) -> None:
    first, second = apis
    promo_id = create_promo(first, tenant, items=12)
    job_id = request_render(second, tenant, promo_id)

    job = wait_for_job(first, tenant, job_id)
    assert job["status"] == "succeeded", job

    listed = second.get(f"/v1/promos/{promo_id}/assets", headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    kinds = sorted(a["kind"] for a in listed.json())
    assert kinds == ["pdf", "png"]
    pdf = next(a for a in listed.json() if a["kind"] == "pdf")
    redirect = first.get(f"/v1/assets/{pdf['id']}/download", headers=tenant.headers)
    assert redirect.status_code == 302, redirect.text
    download = httpx.get(redirect.headers["location"], timeout=30)
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF-")
    assert len(download.content) == pdf["size_bytes"]

    assert usage(stack.sessions, tenant.account_id) == {"promos_created": 1, "renders": 1}
    promo = first.get(f"/v1/promos/{promo_id}", headers=tenant.headers).json()
    assert promo["status"] == "ready"
