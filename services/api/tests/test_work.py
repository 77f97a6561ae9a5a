"""Uploads straight to S3, jobs on SQS (and in the outbox when SQS is down), downloads."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread, Tenant, make_tenant
from counterpromo_core import assets, uploads
from counterpromo_core.db.models import Job, OutboxMessage
from counterpromo_storage.settings import AppConfig
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

CSV = b"sku,name,sale_price\nHAM-16,Claw hammer,12.50\n"


def _drain(config: AppConfig) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=config.region, endpoint_url=config.aws_endpoint_url)
    bodies: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=config.jobs_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        messages = got.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=config.jobs_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def test_upload_flow_queues_parse_upload(
    http: httpx.Client, tenant: Tenant, api_config: AppConfig
) -> None:
    _drain(api_config)
    promo = http.post("/v1/promos", json={"title": "From a file"}, headers=tenant.headers).json()
    created = http.post(
        "/v1/uploads",
        json={"filename": "prices.csv", "content_type": "text/csv", "promo_id": promo["id"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    upload, form = created.json()["upload"], created.json()["form"]
    assert upload["status"] == "pending"
    assert form["fields"]["key"].startswith(f"{tenant.account_id}/uploads/")

    posted = httpx.post(
        form["url"], data=form["fields"], files={"file": ("prices.csv", CSV, "text/csv")}
    )
    assert posted.status_code in (200, 201, 204), posted.text
    s3 = boto3.client("s3", region_name=api_config.region, endpoint_url=api_config.aws_endpoint_url)
    stored = s3.get_object(Bucket=api_config.uploads_bucket, Key=form["fields"]["key"])
    assert stored["Body"].read() == CSV

    parsed = http.post(
        f"/v1/uploads/{upload['id']}/parse", json={"mode": "append"}, headers=tenant.headers
    )
    assert parsed.status_code == 202, parsed.text
    job = parsed.json()
    assert (job["type"], job["status"]) == ("parse_upload", "queued")
    assert parsed.headers["location"].endswith(f"/v1/jobs/{job['id']}")

    bodies = [b for b in _drain(api_config) if b["job_id"] == job["id"]]
    assert len(bodies) == 1
    assert bodies[0]["type"] == "parse_upload"
    assert bodies[0]["account_id"] == str(tenant.account_id)
    assert bodies[0]["upload_id"] == upload["id"]
    assert http.get(f"/v1/jobs/{job['id']}", headers=tenant.headers).json()["id"] == job["id"]


def test_the_upload_policy_holds_the_parsers_size_limit_and_a_reversed_mapping_is_422(
    http: httpx.Client, tenant: Tenant
) -> None:
    promo = http.post("/v1/promos", json={"title": "From a file"}, headers=tenant.headers).json()
    created = http.post(
        "/v1/uploads",
        json={"filename": "prices.csv", "content_type": "text/csv", "promo_id": promo["id"]},
        headers=tenant.headers,
    )
    upload, form = created.json()["upload"], created.json()["form"]
    assert upload["max_bytes"] == uploads.MAX_UPLOAD_BYTES
    # moto does not enforce POST policies (S3 does): read the limit the policy carries.
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, uploads.MAX_UPLOAD_BYTES] in policy["conditions"]

    reversed_mapping = http.post(
        f"/v1/uploads/{upload['id']}/parse",
        json={"mapping": {"sku": "Stock No"}},
        headers=tenant.headers,
    )
    assert reversed_mapping.status_code == 422, reversed_mapping.text
    [error] = reversed_mapping.json()["errors"]
    assert error["field"] == "mapping.sku"
    assert 'did you mean {"Stock No": "sku"}?' in error["message"]


def test_upload_of_a_wrong_file_type_is_422(http: httpx.Client, tenant: Tenant) -> None:
    response = http.post(
        "/v1/uploads",
        json={"filename": "payload.exe", "content_type": "application/octet-stream"},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"filename"}


def test_render_export_and_coop_report_are_queued(
    http: httpx.Client, tenant: Tenant, api_config: AppConfig
) -> None:
    _drain(api_config)
    promo = http.post(
        "/v1/promos",
        json={"title": "Render me", "items": [{"name": "Saw"}]},
        headers=tenant.headers,
    ).json()
    render = http.post(
        f"/v1/promos/{promo['id']}/renders", json={"paper": "Letter"}, headers=tenant.headers
    )
    assert render.status_code == 202, render.text
    export = http.post(f"/v1/promos/{promo['id']}/exports", headers=tenant.headers)
    coop = http.post(f"/v1/promos/{promo['id']}/coop-report", headers=tenant.headers)
    assert export.status_code == coop.status_code == 202
    types = {b["type"] for b in _drain(api_config)}
    assert {"render_promo", "export_bundle", "coop_report"} <= types
    jobs = http.get("/v1/jobs", params={"promo_id": promo["id"]}, headers=tenant.headers).json()
    assert len(jobs["items"]) == 3


def test_branch_pack_on_a_plan_without_it_is_402(
    http: httpx.Client, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, plan="starter")
    promo = http.post("/v1/promos", json={"title": "Branches"}, headers=tenant.headers).json()
    response = http.post(
        f"/v1/promos/{promo['id']}/renders", json={"branch_pack": True}, headers=tenant.headers
    )
    assert response.status_code == 402
    assert response.json()["feature"] == "branch_packs"
    assert http.get("/v1/jobs", headers=tenant.headers).json()["items"] == []


@pytest.fixture(scope="module")
def sqs_down_http(api_config: AppConfig) -> Iterator[httpx.Client]:
    """The API with a queue URL that does not exist: every send fails."""
    broken = api_config.model_copy(update={"jobs_queue_url": api_config.jobs_queue_url + "-gone"})
    with (
        ServerThread(create_app(broken, settings=ApiSettings())) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def test_job_stays_in_the_outbox_when_sqs_is_down(
    sqs_down_http: httpx.Client, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    promo = sqs_down_http.post("/v1/promos", json={"title": "Offline"}, headers=tenant.headers)
    response = sqs_down_http.post(
        f"/v1/promos/{promo.json()['id']}/exports", headers=tenant.headers
    )
    assert response.status_code == 202
    job_id = uuid.UUID(response.json()["id"])
    with sessions() as session:
        assert session.get(Job, job_id) is not None
        outbox = session.scalar(select(OutboxMessage).where(OutboxMessage.job_id == job_id))
    assert outbox is not None
    assert outbox.sent_at is None


def test_asset_download_redirects_to_a_presigned_get(
    http: httpx.Client, tenant: Tenant, api_config: AppConfig, sessions: sessionmaker[Session]
) -> None:
    promo = http.post("/v1/promos", json={"title": "With output"}, headers=tenant.headers).json()
    key = f"{tenant.account_id}/promos/{promo['id']}/flyer.pdf"
    data = b"%PDF-1.7 test"
    s3 = boto3.client("s3", region_name=api_config.region, endpoint_url=api_config.aws_endpoint_url)
    s3.put_object(Bucket=api_config.assets_bucket, Key=key, Body=data)
    with sessions.begin() as session:
        asset = assets.record_asset(
            session,
            account_id=tenant.account_id,
            promo_id=uuid.UUID(promo["id"]),
            job_id=None,
            branch_id=None,
            kind="pdf",
            bucket=api_config.assets_bucket,
            key=key,
            content_type="application/pdf",
            size_bytes=len(data),
            checksum_sha256=hashlib.sha256(data).hexdigest(),
        )
    listed = http.get(f"/v1/promos/{promo['id']}/assets", headers=tenant.headers).json()
    assert [a["id"] for a in listed] == [str(asset.id)]
    response = http.get(f"/v1/assets/{asset.id}/download", headers=tenant.headers)
    assert response.status_code == 302
    location = response.headers["location"]
    assert "X-Amz-Expires=300" in location
    downloaded = httpx.get(location)
    assert downloaded.status_code == 200
    assert downloaded.content == data


def test_generated_urls_ignore_forwarded_and_host_headers(
    http: httpx.Client, tenant: Tenant
) -> None:
    # Without API_PUBLIC_URL, Location is relative: no header the client sends can make
    # it point elsewhere (test_contract covers the configured public URL).
    spoofed = {
        **tenant.headers,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "evil.example",
        "Host": "evil.example",
    }
    created = http.post("/v1/promos", json={"title": "Via ALB"}, headers=spoofed)
    assert created.headers["location"] == f"/v1/promos/{created.json()['id']}"
