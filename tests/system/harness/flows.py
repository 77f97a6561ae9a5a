"""The HTTP calls a dealer's system makes, checked on the way."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from harness.tenants import Tenant, promo_body
from harness.waiting import wait_until

PROBLEM = "application/problem+json"


def create_promo(client: httpx.Client, tenant: Tenant, *, items: int = 8) -> uuid.UUID:
    response = client.post(
        "/v1/promos", json=promo_body(tenant, items=items), headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def request_render(
    client: httpx.Client, tenant: Tenant, promo_id: uuid.UUID, *, branch_pack: bool = False
) -> uuid.UUID:
    response = client.post(
        f"/v1/promos/{promo_id}/renders",
        json={"branch_pack": branch_pack},
        headers=tenant.headers,
    )
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["id"])


def get_job(client: httpx.Client, tenant: Tenant, job_id: uuid.UUID) -> dict[str, Any]:
    response = client.get(f"/v1/jobs/{job_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for_job(
    client: httpx.Client, tenant: Tenant, job_id: uuid.UUID, *, timeout: float = 60
) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        job = get_job(client, tenant, job_id)
        return job if job["status"] in {"succeeded", "failed", "dead"} else None

    return wait_until(finished, timeout=timeout, interval=0.3, what=f"job {job_id}")


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem of ``status`` without any trace of the server's internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status"} <= body.keys()
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return body
