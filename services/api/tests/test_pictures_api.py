"""Pictures through the API: the same presigned-POST upload flow, and only pictures as logos."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import uuid
import zlib
from typing import Any

import boto3
import httpx
from counterpromo_api.testing import Tenant, make_tenant
from counterpromo_core import assets, uploads
from counterpromo_storage.settings import AppConfig
from sqlalchemy.orm import Session, sessionmaker


def _png(width: int = 8, height: int = 8) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress((b"\x00" + b"\x01\x02\x03" * width) * height)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _drain_bodies(config: AppConfig) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=config.region, endpoint_url=config.aws_endpoint_url)
    bodies: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=config.jobs_queue_url, MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=config.jobs_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def test_a_picture_goes_through_the_upload_flow_to_a_process_image_job(
    http: httpx.Client, tenant: Tenant, api_config: AppConfig
) -> None:
    created = http.post(
        "/v1/uploads",
        json={"filename": "logo.png", "content_type": "image/png"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    upload, form = created.json()["upload"], created.json()["form"]
    assert upload["max_bytes"] == uploads.MAX_IMAGE_BYTES
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, uploads.MAX_IMAGE_BYTES] in policy["conditions"]
    assert form["fields"]["key"].endswith(".png")

    posted = httpx.post(
        form["url"], data=form["fields"], files={"file": ("logo.png", _png(), "image/png")}
    )
    assert posted.status_code in (200, 201, 204), posted.text

    queued = http.post(f"/v1/uploads/{upload['id']}/parse", json={}, headers=tenant.headers)
    assert queued.status_code == 202, queued.text
    job = queued.json()
    assert (job["type"], job["status"]) == ("process_image", "queued")
    bodies = [b for b in _drain_bodies(api_config) if b["job_id"] == job["id"]]
    assert [b["upload_id"] for b in bodies] == [upload["id"]]


def test_a_gif_or_a_pdf_named_as_a_picture_is_refused_at_upload(
    http: httpx.Client, tenant: Tenant
) -> None:
    for body in (
        {"filename": "logo.gif", "content_type": "image/gif"},
        {"filename": "logo.png", "content_type": "application/pdf"},
    ):
        refused = http.post("/v1/uploads", json=body, headers=tenant.headers)
        assert refused.status_code == 422, refused.text


def test_only_a_picture_of_the_account_can_be_the_logo_or_an_item_image(
    http: httpx.Client, sessions: sessionmaker[Session], api_config: AppConfig
) -> None:
    tenant, other = make_tenant(sessions), make_tenant(sessions)

    def asset(owner: uuid.UUID, kind: str) -> str:
        data = b"bytes of a " + kind.encode()
        with sessions.begin() as session:
            return str(
                assets.record_asset(
                    session,
                    account_id=owner,
                    promo_id=None,
                    job_id=None,
                    branch_id=None,
                    kind=kind,
                    bucket=api_config.assets_bucket,
                    key=f"{owner}/{uuid.uuid4()}",
                    content_type="application/octet-stream",
                    size_bytes=len(data),
                    checksum_sha256=hashlib.sha256(data).hexdigest(),
                ).id
            )

    preview, theirs, mine = (
        asset(tenant.account_id, "pdf"),
        asset(other.account_id, "image"),
        asset(tenant.account_id, "image"),
    )
    as_logo = http.put("/v1/brand-kit", json={"logo_asset_id": preview}, headers=tenant.headers)
    assert as_logo.status_code == 422, as_logo.text
    [error] = as_logo.json()["errors"]
    assert error["field"] == "logo_asset_id"
    assert "is a pdf file, not an uploaded picture" in error["message"]

    as_item = http.post(
        "/v1/promos",
        json={"title": "P", "items": [{"name": "A", "image_asset_id": theirs}]},
        headers=tenant.headers,
    )
    assert as_item.status_code == 422, as_item.text
    assert as_item.json()["errors"][0]["field"] == "items[0].image_asset_id"

    ok = http.put("/v1/brand-kit", json={"logo_asset_id": mine}, headers=tenant.headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["logo_asset_id"] == mine
