"""The baseline for ``GET /v1/promos``: bare Starlette + psycopg sending the same statements
as the API, in the same order, none of our layers.

Per request, as the API does (checked with PostgreSQL's ``log_statement = all``): the
connection pool's pre-ping (``;``), ``BEGIN``, the key lookup by prefix, the ``last_used_at``
UPDATE only when the stored time is over a minute old (so almost never under load), the page
of promo summary columns (``limit + 1`` rows, no items), ``COMMIT``. What the baseline leaves
out is everything of ours: middleware, request id and access log, FastAPI dependencies and
validation, SQLAlchemy, the threadpool hops.

Run: ``DATABASE_URL=postgresql://... uvicorn baseline_app:app --port P`` (one worker).
"""

from __future__ import annotations

import datetime as dt
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
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _connection() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = psycopg.connect(url, autocommit=True)  # conn.transaction() sends BEGIN/COMMIT
        _local.conn = conn
    return conn


def list_promos(request: Request) -> JSONResponse:
    match = _KEY.match(request.headers.get("authorization", ""))
    if match is None:
        return JSONResponse({"title": "unauthorized"}, status_code=401)
    prefix, secret = match.groups()
    limit = int(request.query_params.get("limit", "20"))
    conn = _connection()
    conn.execute(PING_SQL)
    with conn.transaction(), conn.cursor() as cur:
        key = cur.execute(KEY_SQL, (prefix,)).fetchone()
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if key is None or not hmac.compare_digest(digest, key[4]) or key[5] is not None:
            return JSONResponse({"title": "unauthorized"}, status_code=401)
        now = dt.datetime.now(dt.UTC)
        stale_before = now - LAST_USED_RESOLUTION
        if key[6] is None or key[6] < stale_before:
            cur.execute(TOUCH_SQL, (now, key[0], stale_before))
        rows = cur.execute(PAGE_SQL, (key[1], limit + 1)).fetchall()
    names = ("id", "title", "subhead", "cta", "template", "status", "version")
    items = [
        dict(zip(names, (str(r[0]), *r[1:7]), strict=True))
        | {"created_at": r[7].isoformat(), "updated_at": r[8].isoformat()}
        for r in rows[:limit]
    ]
    return JSONResponse({"items": items, "next_cursor": "next" if len(rows) > limit else None})


app = Starlette(routes=[Route("/v1/promos", list_promos)])
