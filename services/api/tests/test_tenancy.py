"""Every route that takes an id: another account's key gets 404 and nothing changes."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
from counterpromo_api.testing import Tenant, make_tenant
from counterpromo_core import assets, members
from counterpromo_core.db.models import (
    ApiKey,
    Asset,
    Base,
    Branch,
    Job,
    Member,
    Promo,
    PromoItem,
    Upload,
)
from counterpromo_storage.settings import AppConfig
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/promos/{promo}", None),
    ("PATCH", "/v1/promos/{promo}", {"title": "Hijacked"}),
    ("DELETE", "/v1/promos/{promo}", None),
    ("POST", "/v1/promos/{promo}/duplicate", None),
    ("POST", "/v1/promos/{promo}/archive", None),
    ("POST", "/v1/promos/{promo}/restore", None),
    ("PUT", "/v1/promos/{promo}/items", {"items": [{"name": "Injected"}]}),
    ("POST", "/v1/promos/{promo}/items", {"name": "Injected"}),
    ("PUT", "/v1/promos/{promo}/items/order", {"item_ids": ["{item}"]}),
    ("PATCH", "/v1/promos/{promo}/items/{item}", {"name": "Hijacked"}),
    ("DELETE", "/v1/promos/{promo}/items/{item}", None),
    ("PATCH", "/v1/promos/{own_promo}/items/{item}", {"name": "Hijacked"}),
    ("DELETE", "/v1/promos/{own_promo}/items/{item}", None),
    ("POST", "/v1/promos/{promo}/renders", {"paper": "A4"}),
    ("POST", "/v1/promos/{promo}/exports", None),
    ("POST", "/v1/promos/{promo}/coop-report", None),
    ("GET", "/v1/promos/{promo}/assets", None),
    ("GET", "/v1/assets/{asset}", None),
    ("GET", "/v1/assets/{asset}/download", None),
    ("GET", "/v1/branches/{branch}", None),
    ("PUT", "/v1/branches/{branch}", {"name": "Hijacked"}),
    ("DELETE", "/v1/branches/{branch}", None),
    ("GET", "/v1/uploads/{upload}", None),
    ("POST", "/v1/uploads/{upload}/parse", {"mode": "replace"}),
    ("GET", "/v1/jobs/{job}", None),
    ("PATCH", "/v1/members/{member}", {"role": "admin"}),
    ("DELETE", "/v1/members/{member}", None),
    ("DELETE", "/v1/api-keys/{key}", None),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _row(row: Base) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def _snapshot(sessions: sessionmaker[Session], tenant: Tenant) -> dict[str, Any]:
    with sessions() as session:
        return {
            model.__tablename__: sorted(
                (
                    _row(r)
                    for r in session.scalars(
                        select(model).where(model.account_id == tenant.account_id)
                    )
                ),
                key=lambda r: str(r["id"]),
            )
            for model in (Promo, PromoItem, Branch, Upload, Job, Member, ApiKey, Asset)
        }


def _objects_of(
    http: httpx.Client, a: Tenant, sessions: sessionmaker[Session], config: AppConfig
) -> dict[str, str]:
    promo = http.post(
        "/v1/promos",
        json={"title": "A's promo", "items": [{"name": "Hammer", "sku": "H1", "coop_vendor": "V"}]},
        headers=a.headers,
    ).json()
    branch = http.post("/v1/branches", json={"name": "A branch"}, headers=a.headers).json()
    upload = http.post(
        "/v1/uploads",
        json={"filename": "a.csv", "content_type": "text/csv", "promo_id": promo["id"]},
        headers=a.headers,
    ).json()["upload"]
    job = http.post(f"/v1/promos/{promo['id']}/exports", headers=a.headers).json()
    data = b"%PDF-1.7"
    with sessions.begin() as session:
        asset = assets.record_asset(
            session,
            account_id=a.account_id,
            promo_id=uuid.UUID(promo["id"]),
            job_id=uuid.UUID(job["id"]),
            branch_id=None,
            kind="pdf",
            bucket=config.assets_bucket,
            key=f"{a.account_id}/promos/{promo['id']}/a.pdf",
            content_type="application/pdf",
            size_bytes=len(data),
            checksum_sha256=hashlib.sha256(data).hexdigest(),
        )
        member = members.add_member(session, a.account_id, email="staff@a.example", role="member")
    key = next(k for k in http.get("/v1/api-keys", headers=a.headers).json())
    return {
        "promo": promo["id"],
        "item": promo["items"][0]["id"],
        "branch": branch["id"],
        "upload": upload["id"],
        "job": job["id"],
        "asset": str(asset.id),
        "member": str(member.id),
        "key": key["id"],
    }


def test_another_accounts_objects_are_404_and_unchanged(
    http: httpx.Client, sessions: sessionmaker[Session], api_config: AppConfig
) -> None:
    a, b = make_tenant(sessions, plan="dealer"), make_tenant(sessions, plan="dealer")
    ids = _objects_of(http, a, sessions, api_config)
    ids["own_promo"] = http.post("/v1/promos", json={"title": "B's"}, headers=b.headers).json()[
        "id"
    ]
    before = _snapshot(sessions, a)
    for method, path, body in ROUTES:
        url = _fill(path, ids)
        response = http.request(method, url, json=_fill(body, ids), headers=b.headers)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        # The owner still sees it: the id exists, B just may not know that.
        if method == "GET":
            assert http.get(url, headers=a.headers, follow_redirects=False).status_code in (
                200,
                302,
            )
    assert _snapshot(sessions, a) == before
    assert http.get("/v1/jobs", headers=b.headers).json()["items"] == []
