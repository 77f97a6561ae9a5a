"""The baselines for ``GET /v1/promos`` and ``POST /v1/promos``: bare Starlette + psycopg
sending the same statements as the API, in the same order, none of our layers.

Per request, as the API does (checked with PostgreSQL's ``log_statement = all``): the
connection pool's pre-ping (``;``), ``BEGIN``, the key lookup by prefix, the ``last_used_at``
UPDATE only when the stored time is over a minute old (so almost never under load), then for
GET the page of promo summary columns (``limit + 1`` rows, no items), for POST the usage
counter's upsert (check and count in one statement), the promo's INSERT and its items' one
multi-row INSERT; ``COMMIT``. POST answers 201 with the promo and its items, as the API.
What the baseline leaves out is everything of ours: middleware, request id and access log,
FastAPI dependencies and validation, SQLAlchemy, the threadpool hops.

Run: ``DATABASE_URL=postgresql://... uvicorn baseline_app:app --port P`` (one worker).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import json
import os
import re
import threading
import uuid
from typing import Any

import psycopg
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_KEY = re.compile(r"^Bearer (cpk_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_local = threading.local()

PING_SQL = ";"  # SQLAlchemy's pool_pre_ping with psycopg, on every checkout
KEY_SQL = (
    "SELECT id, account_id, member_id, role, key_hash, revoked_at, last_used_at "
    "FROM api_keys WHERE prefix = %s"
)
TOUCH_SQL = (
    "UPDATE api_keys SET last_used_at = %s WHERE id = %s "
    "AND (last_used_at IS NULL OR last_used_at < %s)"
)
PAGE_SQL = (
    "SELECT id, title, subhead, cta, template, status, version, created_at, updated_at "
    "FROM promos WHERE account_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
)
# The API's usage upsert for one ``promos_created`` (counterpromo_core.usage.consume).
_PLAN_LIMIT = (
    "(SELECT billing_plans.max_promos_per_month FROM accounts JOIN billing_plans "
    "ON billing_plans.code = accounts.plan_code WHERE accounts.id = %(account)s)"
)
CONSUME_SQL = (
    "INSERT INTO usage_monthly (id, account_id, month, promos_created, updated_at) "  # noqa: S608
    "SELECT %(id)s, accounts.id, %(month)s, 1, %(now)s FROM accounts JOIN billing_plans "
    "ON billing_plans.code = accounts.plan_code WHERE accounts.id = %(account)s AND "
    "(billing_plans.max_promos_per_month IS NULL OR billing_plans.max_promos_per_month >= 1) "
    "ON CONFLICT (account_id, month) DO UPDATE SET "
    "promos_created = usage_monthly.promos_created + 1, updated_at = %(now)s "
    f"WHERE {_PLAN_LIMIT} IS NULL OR usage_monthly.promos_created + 1 <= {_PLAN_LIMIT} "
    "RETURNING usage_monthly.promos_created"
)
PROMO_SQL = (
    "INSERT INTO promos (id, account_id, title, subhead, cta, template, status, version, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 'draft', 1, %s, %s)"
)
ITEM_COLUMNS = (
    "sku",
    "name",
    "sale_price",
    "rrp",
    "unit",
    "category",
    "vendor",
    "image_asset_id",
    "coop_vendor",
    "coop_amount",
    "coop_note",
)
ITEM_SQL = (
    "INSERT INTO promo_items (id, account_id, promo_id, position, "  # noqa: S608 - constant
    + ", ".join(ITEM_COLUMNS)
    + ", created_at, updated_at) VALUES "
)
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _connection() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = psycopg.connect(url, autocommit=True)  # conn.transaction() sends BEGIN/COMMIT
        _local.conn = conn
    return conn


def _authenticate(cur: psycopg.Cursor[Any], authorization: str) -> Any:
    """The key's row (after the same statements as the API), or None."""
    match = _KEY.match(authorization)
    if match is None:
        return None
    prefix, secret = match.groups()
    key = cur.execute(KEY_SQL, (prefix,)).fetchone()
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if key is None or not hmac.compare_digest(digest, key[4]) or key[5] is not None:
        return None
    now = dt.datetime.now(dt.UTC)
    stale_before = now - LAST_USED_RESOLUTION
    if key[6] is None or key[6] < stale_before:
        cur.execute(TOUCH_SQL, (now, key[0], stale_before))
    return key


def list_promos(request: Request) -> JSONResponse:
    limit = int(request.query_params.get("limit", "20"))
    conn = _connection()
    conn.execute(PING_SQL)
    with conn.transaction(), conn.cursor() as cur:
        key = _authenticate(cur, request.headers.get("authorization", ""))
        if key is None:
            return JSONResponse({"title": "unauthorized"}, status_code=401)
        rows = cur.execute(PAGE_SQL, (key[1], limit + 1)).fetchall()
    names = ("id", "title", "subhead", "cta", "template", "status", "version")
    items = [
        dict(zip(names, (str(r[0]), *r[1:7]), strict=True))
        | {"created_at": r[7].isoformat(), "updated_at": r[8].isoformat()}
        for r in rows[:limit]
    ]
    return JSONResponse({"items": items, "next_cursor": "next" if len(rows) > limit else None})


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)  # UUID, Decimal


async def create_promo(request: Request) -> Response:
    body = json.loads(await request.body(), parse_float=decimal.Decimal)
    authorization = request.headers.get("authorization", "")
    return await run_in_threadpool(_create_promo, authorization, body)


def _create_promo(authorization: str, body: dict[str, Any]) -> Response:
    conn = _connection()
    conn.execute(PING_SQL)
    promo_id, now = uuid.uuid4(), dt.datetime.now(dt.UTC)
    fields = (body["title"], body.get("subhead"), body.get("cta"))
    template = body.get("template", "multi-product")
    items: list[dict[str, Any]] = body.get("items", [])
    with conn.transaction(), conn.cursor() as cur:
        key = _authenticate(cur, authorization)
        if key is None:
            return JSONResponse({"title": "unauthorized"}, status_code=401)
        account = key[1]
        month = now.date().replace(day=1)
        params = {"id": uuid.uuid4(), "account": account, "month": month, "now": now}
        if cur.execute(CONSUME_SQL, params).fetchone() is None:
            return JSONResponse({"title": "limit exceeded"}, status_code=402)
        cur.execute(PROMO_SQL, (promo_id, account, *fields, template, now, now))
        rows = [
            (uuid.uuid4(), account, promo_id, n, *(i.get(c) for c in ITEM_COLUMNS), now, now)
            for n, i in enumerate(items)
        ]
        if rows:
            width = len(rows[0])
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))
            cur.execute(ITEM_SQL + values, [v for row in rows for v in row])
    promo = {
        "id": promo_id,
        "title": fields[0],
        "subhead": fields[1],
        "cta": fields[2],
        "template": template,
        "status": "draft",
        "version": 1,
        "items": [
            {"id": row[0], "position": row[3]} | dict(zip(ITEM_COLUMNS, row[4:-2], strict=True))
            for row in rows
        ],
        "created_at": now,
        "updated_at": now,
    }
    return Response(
        json.dumps(promo, default=_json_default),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/v1/promos/{promo_id}", "ETag": 'W/"1"'},
    )


app = Starlette(
    routes=[
        Route("/v1/promos", list_promos, methods=["GET"]),
        Route("/v1/promos", create_promo, methods=["POST"]),
    ]
)
