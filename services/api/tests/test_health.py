"""Probes, request ids, problem details for HTTP-level errors, body limit, logs."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.testing import ServerThread, Tenant
from counterpromo_core.logging_setup import JsonFormatter
from counterpromo_storage.settings import AppConfig

PROBLEM = "application/problem+json"


def test_health_answers_without_dependencies(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) >= 8


def test_ready_checks_database_and_queue(http: httpx.Client) -> None:
    response = http.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}


def test_ready_names_the_failing_part(api_config: AppConfig) -> None:
    broken = api_config.model_copy(
        update={"jobs_queue_url": api_config.jobs_queue_url + "-missing"}
    )
    with ServerThread(create_app(broken)) as server:
        response = httpx.get(f"{server.url}/ready", timeout=30)
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["checks"] == {"database": "ok", "queue": "unavailable"}
    assert "queue" in body["detail"]


def test_request_id_is_taken_from_the_caller_when_well_formed(http: httpx.Client) -> None:
    assert (
        http.get("/health", headers={"X-Request-Id": "abc-123-def"}).headers["x-request-id"]
        == "abc-123-def"
    )
    generated = http.get("/health", headers={"X-Request-Id": "bad id\twith spaces"})
    assert generated.headers["x-request-id"] != "bad id\twith spaces"


def test_unknown_route_is_a_problem(http: httpx.Client) -> None:
    response = http.get("/v1/nothing-here", headers={"X-Request-Id": "req-unknown-route"})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 404
    assert body["request_id"] == "req-unknown-route"
    assert body["type"].startswith("https://")


def test_body_over_one_mib_is_413(http: httpx.Client, tenant: Tenant) -> None:
    big = json.dumps({"title": "x" * (1024 * 1024 + 10)})
    response = http.post(
        "/v1/promos",
        content=big,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_chunked_body_over_the_limit_is_413(http: httpx.Client, tenant: Tenant) -> None:
    def chunks() -> list[bytes]:
        return [b'{"title": "', b"x" * (600 * 1024), b"x" * (600 * 1024), b'"}']

    response = http.post(
        "/v1/promos",
        content=iter(chunks()),
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"].endswith("/body-too-large")


def test_validation_errors_list_the_fields(http: httpx.Client, tenant: Tenant) -> None:
    response = http.post(
        "/v1/promos", json={"title": "", "template": "nope", "extra": 1}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"title", "template", "extra"} <= fields


def test_access_log_is_one_json_line_without_secrets(
    http: httpx.Client, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="counterpromo_api.access")
    response = http.get("/v1/account", headers={**tenant.headers, "X-Request-Id": "req-logline"})
    assert response.status_code == 200
    # The line is written once the response has gone out: give it a moment.
    deadline = time.monotonic() + 5
    records: list[logging.LogRecord] = []
    while not records and time.monotonic() < deadline:
        records = [r for r in caplog.records if getattr(r, "path", None) == "/v1/account"]
        time.sleep(0.01)
    assert len(records) == 1
    record = records[0]
    assert record.__dict__["route"] == "/v1/account"
    assert record.__dict__["status"] == 200
    assert record.__dict__["account_id"] == str(tenant.account_id)
    assert record.__dict__["duration_ms"] >= 0
    line = JsonFormatter().format(record)
    assert json.loads(line)["request_id"] == "req-logline"
    assert tenant.key not in line
    assert "authorization" not in line.lower()
    assert all(tenant.key not in r.getMessage() for r in caplog.records)
