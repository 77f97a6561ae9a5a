"""Promos and items over HTTP: ETags and If-Match, pagination, limits, idempotency."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
from counterpromo_api import idempotency
from counterpromo_api.testing import Tenant, make_tenant
from counterpromo_core.db.models import IdempotencyKey, Promo, UsageMonthly
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

ITEM = {"sku": "HAM-16", "name": "Claw hammer 16oz", "sale_price": "12.50", "rrp": "17.99"}


def _count_promos(sessions: sessionmaker[Session], tenant: Tenant) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Promo).where(Promo.account_id == tenant.account_id)
            )
            or 0
        )


def test_create_get_update_with_if_match(http: httpx.Client, tenant: Tenant) -> None:
    created = http.post(
        "/v1/promos", json={"title": "Spring sale", "items": [ITEM]}, headers=tenant.headers
    )
    assert created.status_code == 201
    promo = created.json()
    assert created.headers["etag"] == 'W/"1"'
    assert created.headers["location"].endswith(f"/v1/promos/{promo['id']}")
    assert promo["items"][0]["sale_price"] == "12.50"

    fetched = http.get(f"/v1/promos/{promo['id']}", headers=tenant.headers)
    assert fetched.json() == promo
    etag = fetched.headers["etag"]

    changed = http.patch(
        f"/v1/promos/{promo['id']}",
        json={"title": "Spring sale!"},
        headers={**tenant.headers, "If-Match": etag},
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert changed.headers["etag"] == 'W/"2"'

    stale = http.patch(
        f"/v1/promos/{promo['id']}",
        json={"title": "Lost update"},
        headers={**tenant.headers, "If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    plain = http.patch(
        f"/v1/promos/{promo['id']}",
        json={"subhead": "x"},
        headers={**tenant.headers, "If-Match": "2"},
    )
    assert plain.status_code == 200
    bad = http.patch(
        f"/v1/promos/{promo['id']}",
        json={"subhead": "y"},
        headers={**tenant.headers, "If-Match": "v2"},
    )
    assert bad.status_code == 400
    assert http.get(f"/v1/promos/{promo['id']}", headers=tenant.headers).json()["title"] == (
        "Spring sale!"
    )


def test_items_add_update_reorder_replace_delete(http: httpx.Client, tenant: Tenant) -> None:
    promo = http.post("/v1/promos", json={"title": "Tools"}, headers=tenant.headers).json()
    base = f"/v1/promos/{promo['id']}/items"
    first = http.post(base, json=ITEM, headers=tenant.headers)
    assert first.status_code == 201
    second = http.post(base, json={"name": "Saw", "sku": "SAW-1"}, headers=tenant.headers).json()
    first_id = first.json()["id"]

    patched = http.patch(f"{base}/{first_id}", json={"sale_price": "9.99"}, headers=tenant.headers)
    assert patched.status_code == 200
    assert patched.json()["sale_price"] == "9.99"

    reordered = http.put(
        f"{base}/order", json={"item_ids": [second["id"], first_id]}, headers=tenant.headers
    )
    assert reordered.status_code == 200
    assert [i["id"] for i in reordered.json()["items"]] == [second["id"], first_id]
    not_permutation = http.put(
        f"{base}/order", json={"item_ids": [first_id]}, headers=tenant.headers
    )
    assert not_permutation.status_code == 422

    replaced = http.put(
        base, json={"items": [{**ITEM, "name": "Hammer (new)"}]}, headers=tenant.headers
    )
    assert replaced.status_code == 200
    assert [i["id"] for i in replaced.json()["items"]] == [first_id]  # SKU match keeps the id

    assert http.delete(f"{base}/{first_id}", headers=tenant.headers).status_code == 204
    assert http.get(f"/v1/promos/{promo['id']}", headers=tenant.headers).json()["items"] == []
    assert http.delete(f"{base}/{first_id}", headers=tenant.headers).status_code == 404


def test_item_count_is_capped(http: httpx.Client, tenant: Tenant) -> None:
    promo = http.post("/v1/promos", json={"title": "Big"}, headers=tenant.headers).json()
    items = [{"name": f"Item {n}", "sku": f"SKU-{n}"} for n in range(201)]
    response = http.put(
        f"/v1/promos/{promo['id']}/items", json={"items": items}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("items")
    too_many = http.post(
        "/v1/promos", json={"title": "Big", "items": items}, headers=tenant.headers
    )
    assert too_many.status_code == 422


def test_duplicate_archive_restore_delete(http: httpx.Client, tenant: Tenant) -> None:
    promo = http.post(
        "/v1/promos", json={"title": "Weekend", "items": [ITEM]}, headers=tenant.headers
    )
    promo_id = promo.json()["id"]
    copy = http.post(f"/v1/promos/{promo_id}/duplicate", headers=tenant.headers)
    assert copy.status_code == 201
    assert copy.json()["title"] == "Weekend (copy)"
    assert len(copy.json()["items"]) == 1
    archived = http.post(f"/v1/promos/{promo_id}/archive", headers=tenant.headers)
    assert archived.json()["status"] == "archived"
    listed = http.get("/v1/promos", params={"status": "archived"}, headers=tenant.headers).json()
    assert [p["id"] for p in listed["items"]] == [promo_id]
    restored = http.post(f"/v1/promos/{promo_id}/restore", headers=tenant.headers)
    assert restored.json()["status"] == "draft"
    assert http.delete(f"/v1/promos/{promo_id}", headers=tenant.headers).status_code == 204
    assert http.get(f"/v1/promos/{promo_id}", headers=tenant.headers).status_code == 404


def test_list_pages_with_a_cursor(http: httpx.Client, tenant: Tenant) -> None:
    made = [
        http.post("/v1/promos", json={"title": f"P{n}"}, headers=tenant.headers).json()["id"]
        for n in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = http.get("/v1/promos", params=params, headers=tenant.headers).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    bad = http.get("/v1/promos", params={"cursor": "garbage"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


def test_free_plan_promo_limit_is_402_and_creates_nothing(
    http: httpx.Client, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, plan="free")
    for n in range(3):
        assert (
            http.post("/v1/promos", json={"title": f"P{n}"}, headers=tenant.headers).status_code
            == 201
        )
    before = _count_promos(sessions, tenant)
    response = http.post(
        "/v1/promos", json={"title": "One too many", "items": [ITEM]}, headers=tenant.headers
    )
    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/limit-exceeded")
    assert (body["metric"], body["limit"], body["used"]) == ("promos_created", 3, 3)
    resets_at = dt.datetime.fromisoformat(body["resets_at"])
    assert resets_at.day == 1
    assert resets_at > dt.datetime.now(dt.UTC)
    assert _count_promos(sessions, tenant) == before
    with sessions() as session:
        used = session.scalar(
            select(UsageMonthly.promos_created).where(UsageMonthly.account_id == tenant.account_id)
        )
    assert used == 3
    usage = http.get("/v1/usage", headers=tenant.headers).json()
    assert usage["counters"]["promos_created"] == {"used": 3, "limit": 3}


def test_idempotency_key_replays_the_first_response(
    http: httpx.Client, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    body = {"title": "Once only"}
    first = http.post("/v1/promos", json=body, headers={**tenant.headers, **key})
    again = http.post("/v1/promos", json=body, headers={**tenant.headers, **key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert _count_promos(sessions, tenant) == 1

    other = http.post("/v1/promos", json={"title": "Different"}, headers={**tenant.headers, **key})
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert _count_promos(sessions, tenant) == 1


def test_idempotency_key_in_flight_is_409(
    http: httpx.Client, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    key = f"inflight-{uuid.uuid4()}"
    payload = b'{"title":"Racing"}'
    # Another API task has claimed the key and is still working on it.
    idempotency.claim(
        sessions,
        tenant.account_id,
        key,
        idempotency.fingerprint("POST", "/v1/promos", payload),
        now=dt.datetime.now(dt.UTC),
    )
    response = http.post(
        "/v1/promos",
        content=payload,
        headers={**tenant.headers, "Idempotency-Key": key, "Content-Type": "application/json"},
    )
    assert response.status_code == 409
    assert _count_promos(sessions, tenant) == 0


def test_failed_request_releases_its_idempotency_key(
    http: httpx.Client, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, plan="free")
    for n in range(3):
        http.post("/v1/promos", json={"title": f"P{n}"}, headers=tenant.headers)
    key = {"Idempotency-Key": "retry-after-upgrade"}
    refused = http.post("/v1/promos", json={"title": "Fourth"}, headers={**tenant.headers, **key})
    assert refused.status_code == 402
    with sessions() as session:
        assert (
            session.scalar(
                select(IdempotencyKey).where(IdempotencyKey.account_id == tenant.account_id)
            )
            is None
        )
