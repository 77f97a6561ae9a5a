"""The baseline for ``GET /v1/promos``: bare Starlette + psycopg running the same SQL as the
API (key lookup, last-used update, the page of promos, their items), none of our layers.

Run: ``DATABASE_URL=postgresql://... uvicorn baseline_app:app --port P`` (one worker).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
from typing import Any

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_KEY = re.compile(r"^Bearer (cpk_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_local = threading.local()

KEY_SQL = "SELECT id, account_id, key_hash, revoked_at FROM api_keys WHERE prefix = %s"
TOUCH_SQL = (
    "UPDATE api_keys SET last_used_at = now() WHERE id = %s "
    "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')"
)
PAGE_SQL = (
    "SELECT id, title, subhead, cta, template, status, version, created_at, updated_at "
    "FROM promos WHERE account_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
)
ITEMS_SQL = "SELECT id, promo_id, position, sku, name FROM promo_items WHERE promo_id = ANY(%s)"


def _connection() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = psycopg.connect(url)
        _local.conn = conn
    return conn


def list_promos(request: Request) -> JSONResponse:
    match = _KEY.match(request.headers.get("authorization", ""))
    if match is None:
        return JSONResponse({"title": "unauthorized"}, status_code=401)
    prefix, secret = match.groups()
    limit = int(request.query_params.get("limit", "20"))
    conn = _connection()
    with conn.transaction(), conn.cursor() as cur:
        key = cur.execute(KEY_SQL, (prefix,)).fetchone()
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if key is None or not hmac.compare_digest(digest, key[2]) or key[3] is not None:
            return JSONResponse({"title": "unauthorized"}, status_code=401)
        cur.execute(TOUCH_SQL, (key[0],))
        rows = cur.execute(PAGE_SQL, (key[1], limit + 1)).fetchall()
        cur.execute(ITEMS_SQL, ([r[0] for r in rows],)).fetchall()
    names = ("id", "title", "subhead", "cta", "template", "status", "version")
    items = [
        dict(zip(names, (str(r[0]), *r[1:7]), strict=True))
        | {"created_at": r[7].isoformat(), "updated_at": r[8].isoformat()}
        for r in rows[:limit]
    ]
    return JSONResponse({"items": items, "next_cursor": "next" if len(rows) > limit else None})


app = Starlette(routes=[Route("/v1/promos", list_promos)])
