"""Behind the deployed ALB the API answers under /api (COUNTERPROMO_API_PREFIX): routes,
Location headers and the OpenAPI servers carry the prefix; /health and the Stripe webhook
path stay where the target group and Stripe call them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread, Tenant
from counterpromo_storage.settings import AppConfig
from pydantic import ValidationError

ITEM = {"sku": "HAM-16", "name": "Claw hammer 16oz", "sale_price": "12.50", "rrp": "17.99"}


@pytest.fixture(scope="module")
def api_settings() -> ApiSettings:
    return ApiSettings.model_validate({"COUNTERPROMO_API_PREFIX": "/api"})


def test_health_answers_with_and_without_the_prefix(http: httpx.Client) -> None:
    assert http.get("/health").status_code == 200
    assert http.get("/api/health").status_code == 200
    assert http.get("/apiv1/health").status_code == 404


def test_routes_and_location_carry_the_prefix(http: httpx.Client, tenant: Tenant) -> None:
    created = http.post(
        "/api/v1/promos", json={"title": "Prefixed", "items": [ITEM]}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    # No API_PUBLIC_URL configured: relative, under the prefix the request came in by.
    assert location == f"/api/v1/promos/{created.json()['id']}"
    assert http.get(location, headers=tenant.headers).json()["title"] == "Prefixed"
    # Unprefixed (inside the VPC, local runs) the same route keeps unprefixed URLs.
    plain = http.post(
        "/v1/promos", json={"title": "Plain", "items": [ITEM]}, headers=tenant.headers
    )
    assert plain.headers["Location"] == f"/v1/promos/{plain.json()['id']}"


@pytest.fixture(scope="module")
def public_http(api_config: AppConfig, api_settings: ApiSettings) -> Iterator[httpx.Client]:
    config = api_config.model_copy(update={"api_public_url": "https://app.counterpromo.test"})
    with (
        ServerThread(create_app(config, settings=api_settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def test_public_url_and_prefix_make_the_location(public_http: httpx.Client, tenant: Tenant) -> None:
    created = public_http.post(
        "/api/v1/promos",
        json={"title": "Public", "items": [ITEM]},
        headers={**tenant.headers, "Host": "evil.example"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == (
        f"https://app.counterpromo.test/api/v1/promos/{created.json()['id']}"
    )


def test_openapi_servers_carry_the_prefix(http: httpx.Client) -> None:
    assert http.get("/api/openapi.json").json()["servers"] == [{"url": "/api"}]


def test_webhook_path_is_unprefixed(http: httpx.Client) -> None:
    # No signature: the webhook route answers (400 problem), it is not a 404.
    response = http.post("/webhooks/stripe", content=b"{}")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("prefix", ["api", "/api/", "/a b"])
def test_a_malformed_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="COUNTERPROMO_API_PREFIX"):
        ApiSettings.model_validate({"COUNTERPROMO_API_PREFIX": prefix})
