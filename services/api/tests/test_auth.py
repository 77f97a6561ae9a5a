"""API keys, roles, revoked keys and OIDC tokens verified against a JWKS served over HTTP."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread, Tenant, make_tenant
from counterpromo_core import api_keys, members
from counterpromo_storage.settings import AppConfig
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.orm import Session, sessionmaker

ISSUER = "https://id.example.test/"
AUDIENCE = "counterpromo-api"

# (method, path) of every owner/admin route, with a body that would otherwise be valid.
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PATCH", "/v1/account", {"name": "Renamed"}),
    ("POST", "/v1/members", {"email": "new@example.com", "role": "member"}),
    ("PATCH", "/v1/members/{member_id}", {"role": "admin"}),
    ("DELETE", "/v1/members/{member_id}", None),
    ("GET", "/v1/api-keys", None),
    ("POST", "/v1/api-keys", {"name": "k", "role": "member"}),
    ("DELETE", "/v1/api-keys/{key_id}", None),
    ("PUT", "/v1/brand-kit", {"primary_color": "#112233"}),
    ("POST", "/v1/branches", {"name": "North"}),
    ("PUT", "/v1/branches/{branch_id}", {"name": "South"}),
    ("DELETE", "/v1/branches/{branch_id}", None),
    ("POST", "/v1/billing/checkout", {"plan_code": "starter"}),
    ("POST", "/v1/billing/portal", None),
]


def test_no_credentials_is_401_with_www_authenticate(http: httpx.Client) -> None:
    response = http.get("/v1/account")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cpk_000000000000_" + "a" * 43,
        "Bearer cpk_nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer x",
    ],
)
def test_unknown_or_malformed_credentials_are_401(http: httpx.Client, header: str) -> None:
    response = http.get("/v1/account", headers={"Authorization": header})
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


def test_revoked_key_is_401(http: httpx.Client, tenant: Tenant) -> None:
    key = tenant.key_with_role("admin")
    assert http.get("/v1/account", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    prefix = key.split("_")[0] + "_" + key.split("_")[1]
    listed = http.get("/v1/api-keys", headers=tenant.headers).json()
    key_id = next(k["id"] for k in listed if k["prefix"] == prefix)
    revoked = http.delete(f"/v1/api-keys/{key_id}", headers=tenant.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = http.get("/v1/account", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401


def test_member_key_gets_403_on_owner_and_admin_routes(
    http: httpx.Client, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    member_key = tenant.key_with_role("member")
    with sessions.begin() as session:
        target = members.add_member(
            session, tenant.account_id, email=f"m-{uuid.uuid4().hex[:6]}@example.com", role="member"
        )
        other_key = api_keys.create_api_key(session, tenant.account_id, name="x", role="member")
    branch = http.post("/v1/branches", json={"name": "Main"}, headers=tenant.headers).json()
    ids = {"member_id": target.id, "key_id": other_key.api_key.id, "branch_id": branch["id"]}
    for method, path, body in ADMIN_ROUTES:
        response = http.request(
            method,
            path.format(**ids),
            json=body,
            headers={"Authorization": f"Bearer {member_key}"},
        )
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["required_role"] in ("admin", "owner")
    # Nothing changed: the member, key and branch are all still there.
    assert http.get(f"/v1/branches/{branch['id']}", headers=tenant.headers).json()["name"] == "Main"
    listed = http.get("/v1/api-keys", headers=tenant.headers).json()
    assert any(k["id"] == str(other_key.api_key.id) and k["revoked_at"] is None for k in listed)


def test_member_key_can_use_member_routes(http: httpx.Client, tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {tenant.key_with_role('member')}"}
    assert http.get("/v1/account", headers=headers).status_code == 200
    assert http.post("/v1/promos", json={"title": "Spring"}, headers=headers).status_code == 201


def test_admin_cannot_mint_an_owner_key(http: httpx.Client, tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {tenant.key_with_role('admin')}"}
    response = http.post("/v1/api-keys", json={"name": "up", "role": "owner"}, headers=headers)
    assert response.status_code == 403
    created = http.post("/v1/api-keys", json={"name": "peer", "role": "admin"}, headers=headers)
    assert created.status_code == 201
    assert created.json()["key"].startswith("cpk_")
    assert created.headers["cache-control"] == "no-store"


def test_admin_cannot_grant_change_or_remove_the_owner_role(
    http: httpx.Client, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, plan="pro")
    admin = {"Authorization": f"Bearer {tenant.key_with_role('admin')}"}
    with sessions.begin() as session:
        owner = members.add_member(session, tenant.account_id, email="o2@example.com", role="owner")
        staff = members.add_member(session, tenant.account_id, email="s@example.com", role="member")
    refused = [
        http.post("/v1/members", json={"email": "o3@example.com", "role": "owner"}, headers=admin),
        http.patch(f"/v1/members/{staff.id}", json={"role": "owner"}, headers=admin),
        http.patch(f"/v1/members/{owner.id}", json={"role": "admin"}, headers=admin),
        http.delete(f"/v1/members/{owner.id}", headers=admin),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["required_role"] == "owner"
    roles = {m["email"]: m["role"] for m in http.get("/v1/members", headers=admin).json()}
    assert (roles["o2@example.com"], roles["s@example.com"]) == ("owner", "member")
    assert "o3@example.com" not in roles
    promoted = http.patch(f"/v1/members/{staff.id}", json={"role": "admin"}, headers=admin)
    assert promoted.json()["role"] == "admin"
    owned = http.patch(f"/v1/members/{staff.id}", json={"role": "owner"}, headers=tenant.headers)
    assert owned.json()["role"] == "owner"


def test_api_key_with_another_accounts_id_header_is_403(
    http: httpx.Client, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    other = make_tenant(sessions)
    response = http.get(
        "/v1/account", headers={**tenant.headers, "X-Account-Id": str(other.account_id)}
    )
    assert response.status_code == 403
    same = http.get(
        "/v1/account", headers={**tenant.headers, "X-Account-Id": str(tenant.account_id)}
    )
    assert same.status_code == 200


# -- OIDC ------------------------------------------------------------------------------


class Jwks:
    """An identity provider's key set, served on 127.0.0.1 by a tiny HTTP server."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        public = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        document = json.dumps({"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]})

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = document.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def token(self, subject: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 300}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def jwks() -> Iterator[Jwks]:
    provider = Jwks()
    provider.thread.start()
    yield provider
    provider.server.shutdown()


@pytest.fixture(scope="module")
def oidc_http(api_config: AppConfig, jwks: Jwks) -> Iterator[httpx.Client]:
    settings = ApiSettings(
        oidc_jwks_url=jwks.url,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_algorithms=["RS256"],
    )
    with (
        ServerThread(create_app(api_config, settings=settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def _member_in(
    sessions: sessionmaker[Session], tenant: Tenant, subject: str, role: str = "member"
) -> None:
    with sessions.begin() as session:
        members.add_member(
            session,
            tenant.account_id,
            email=f"{uuid.uuid4().hex[:8]}@example.com",
            role=role,  # type: ignore[arg-type]
            external_subject=subject,
        )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_oidc_token_of_a_member_of_one_account(
    oidc_http: httpx.Client, jwks: Jwks, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, plan="pro")
    subject = f"user-{uuid.uuid4().hex}"
    _member_in(sessions, tenant, subject, role="admin")
    response = oidc_http.get("/v1/account", headers=_bearer(jwks.token(subject)))
    assert response.status_code == 200
    assert response.json()["id"] == str(tenant.account_id)
    # The member's role applies: admin may list keys but not add an owner.
    assert oidc_http.get("/v1/api-keys", headers=_bearer(jwks.token(subject))).status_code == 200


def test_oidc_subject_in_several_accounts_must_name_one(
    oidc_http: httpx.Client, jwks: Jwks, sessions: sessionmaker[Session]
) -> None:
    first, second = make_tenant(sessions, plan="pro"), make_tenant(sessions, plan="pro")
    subject = f"user-{uuid.uuid4().hex}"
    _member_in(sessions, first, subject)
    _member_in(sessions, second, subject)
    token = jwks.token(subject)
    ambiguous = oidc_http.get("/v1/account", headers=_bearer(token))
    assert ambiguous.status_code == 400
    assert "X-Account-Id" in ambiguous.json()["detail"]
    for tenant in (second, first):
        chosen = oidc_http.get(
            "/v1/account", headers={**_bearer(token), "X-Account-Id": str(tenant.account_id)}
        )
        assert chosen.status_code == 200
        assert chosen.json()["id"] == str(tenant.account_id)
    stranger = make_tenant(sessions)
    refused = oidc_http.get(
        "/v1/account", headers={**_bearer(token), "X-Account-Id": str(stranger.account_id)}
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example.test/"}, "issuer"),
        ({"exp": None}, "no expiry"),
    ],
)
def test_oidc_tokens_that_do_not_verify_are_401(
    oidc_http: httpx.Client,
    jwks: Jwks,
    sessions: sessionmaker[Session],
    overrides: dict[str, Any],
    reason: str,
) -> None:
    tenant = make_tenant(sessions, plan="pro")
    subject = f"user-{uuid.uuid4().hex}"
    _member_in(sessions, tenant, subject)
    response = oidc_http.get("/v1/account", headers=_bearer(jwks.token(subject, **overrides)))
    assert response.status_code == 401, reason
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_oidc_token_signed_by_another_key_or_hmac_is_401(
    oidc_http: httpx.Client, jwks: Jwks, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, plan="pro")
    subject = f"user-{uuid.uuid4().hex}"
    _member_in(sessions, tenant, subject)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "exp": int(time.time()) + 300}
    stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger_key, algorithm="RS256", headers={"kid": jwks.kid})
    assert oidc_http.get("/v1/account", headers=_bearer(forged)).status_code == 401
    hmac = jwt.encode(
        claims,
        "a-shared-secret-anyone-could-guess-0123456789",
        algorithm="HS256",
        headers={"kid": jwks.kid},
    )
    assert oidc_http.get("/v1/account", headers=_bearer(hmac)).status_code == 401
    assert oidc_http.get("/v1/account", headers=_bearer("not.a.jwt")).status_code == 401


def test_oidc_identity_without_membership_is_403(oidc_http: httpx.Client, jwks: Jwks) -> None:
    response = oidc_http.get(
        "/v1/account", headers=_bearer(jwks.token("nobody-" + uuid.uuid4().hex))
    )
    assert response.status_code == 403


def test_jwt_is_refused_when_oidc_is_not_configured(http: httpx.Client, jwks: Jwks) -> None:
    assert http.get("/v1/account", headers=_bearer(jwks.token("anyone"))).status_code == 401
