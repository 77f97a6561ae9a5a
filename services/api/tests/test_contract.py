"""HTTP contract details: owners' keys, Location without Host, the real Allow, 401 first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread, Tenant
from counterpromo_core import api_keys, members
from counterpromo_storage.settings import AppConfig
from sqlalchemy.orm import Session, sessionmaker

PUBLIC_URL = "https://api.counterpromo.test"


def _key_id(http: httpx.Client, tenant: Tenant, key: str) -> str:
    prefix = "_".join(key.split("_")[:2])
    listed = http.get("/v1/api-keys", headers=tenant.headers).json()
    return str(next(k["id"] for k in listed if k["prefix"] == prefix))


def test_admin_cannot_revoke_an_owner_key(http: httpx.Client, tenant: Tenant) -> None:
    admin = {"Authorization": f"Bearer {tenant.key_with_role('admin')}"}
    owner_key_id = _key_id(http, tenant, tenant.key)

    refused = http.delete(f"/v1/api-keys/{owner_key_id}", headers=admin)

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["required_role"] == "owner"
    # Still working, still listed unrevoked.
    assert http.get("/v1/account", headers=tenant.headers).status_code == 200
    listed = http.get("/v1/api-keys", headers=tenant.headers).json()
    assert next(k for k in listed if k["id"] == owner_key_id)["revoked_at"] is None


def test_admin_cannot_revoke_a_key_held_by_an_owner_member(
    http: httpx.Client, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        owner = members.add_member(
            session, tenant.account_id, email=f"o-{uuid.uuid4().hex[:6]}@example.com", role="owner"
        )
        # A member-role key that belongs to an owner: still the owner's.
        held = api_keys.create_api_key(
            session, tenant.account_id, name="owner's script", role="member", member_id=owner.id
        )
    admin = {"Authorization": f"Bearer {tenant.key_with_role('admin')}"}
    refused = http.delete(f"/v1/api-keys/{held.api_key.id}", headers=admin)
    assert refused.status_code == 403
    assert refused.json()["required_role"] == "owner"


def test_admin_revokes_admin_and_member_keys_and_owner_revokes_any(
    http: httpx.Client, tenant: Tenant
) -> None:
    admin = {"Authorization": f"Bearer {tenant.key_with_role('admin')}"}
    member_key_id = _key_id(http, tenant, tenant.key_with_role("member", "m"))
    other_admin_id = _key_id(http, tenant, tenant.key_with_role("admin", "a2"))
    assert http.delete(f"/v1/api-keys/{member_key_id}", headers=admin).status_code == 200
    assert http.delete(f"/v1/api-keys/{other_admin_id}", headers=admin).status_code == 200
    second_owner_id = _key_id(http, tenant, tenant.key_with_role("owner", "o2"))
    revoked = http.delete(f"/v1/api-keys/{second_owner_id}", headers=tenant.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None


def test_location_is_relative_without_a_public_url_whatever_the_host(
    http: httpx.Client, tenant: Tenant
) -> None:
    created = http.post(
        "/v1/promos",
        json={"title": "Host test"},
        headers={**tenant.headers, "Host": "evil.example"},
    )
    assert created.status_code == 201
    assert created.headers["location"] == f"/v1/promos/{created.json()['id']}"


@pytest.fixture(scope="module")
def public_http(api_config: AppConfig) -> Iterator[httpx.Client]:
    config = api_config.model_copy(update={"api_public_url": PUBLIC_URL + "/"})
    app = create_app(config, settings=ApiSettings(forwarded_allow_ips=["127.0.0.1"]))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_location_comes_from_the_configured_public_url(
    public_http: httpx.Client, tenant: Tenant
) -> None:
    created = public_http.post(
        "/v1/promos",
        json={"title": "Public URL"},
        headers={**tenant.headers, "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert created.status_code == 201
    assert created.headers["location"] == f"{PUBLIC_URL}/v1/promos/{created.json()['id']}"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/promos/{id}", "DELETE, GET, PATCH"),
        ("PUT", "/v1/promos", "GET, POST"),
        ("PATCH", "/v1/api-keys", "GET, POST"),
        ("POST", "/health", "GET"),
    ],
)
def test_405_names_every_method_served_at_the_path(
    http: httpx.Client, tenant: Tenant, method: str, path: str, allowed: str
) -> None:
    response = http.request(method, path.format(id=uuid.uuid4()), headers=tenant.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("PATCH", "/v1/promos/{id}", {"If-Match": "not a version"}),
        ("POST", "/v1/promos/{id}/archive", {"If-Match": "v7"}),
        ("GET", "/v1/account", {"X-Account-Id": "not-a-uuid"}),
        ("POST", "/v1/promos", {"Idempotency-Key": "k" * 300}),
    ],
)
def test_authentication_is_checked_before_other_headers(
    http: httpx.Client, method: str, path: str, headers: dict[str, str]
) -> None:
    response = http.request(method, path.format(id=uuid.uuid4()), headers=headers, json={})
    assert response.status_code == 401, response.text
    assert "www-authenticate" in response.headers


def test_malformed_headers_of_an_authenticated_request_are_400(
    http: httpx.Client, tenant: Tenant
) -> None:
    promo = http.post("/v1/promos", json={"title": "x"}, headers=tenant.headers).json()
    bad_if_match = http.patch(
        f"/v1/promos/{promo['id']}",
        json={"title": "y"},
        headers={**tenant.headers, "If-Match": "not a version"},
    )
    assert bad_if_match.status_code == 400
    assert bad_if_match.json()["type"].endswith("/bad-if-match")
    bad_account = http.get("/v1/account", headers={**tenant.headers, "X-Account-Id": "nope"})
    assert bad_account.status_code == 400
    assert bad_account.json()["type"].endswith("/bad-account-id")
