"""Adoption benchmark: how long `db upgrade` takes to adopt a large original database.

Run ``uv run nox -s bench`` (or ``python packages/core/bench/adopt_bench.py --help``).
Builds the original application's full schema (``counterpromo_testing.original_app``)
on a PostgreSQL (embedded, or ``COUNTERPROMO_TEST_DATABASE_URL``), fills it with
generated rows (accounts x promos x items, plus users, branches, brand kits, uploads,
assets, jobs and usage), then times ``counterpromo_core.db.upgrade`` (one transaction:
move aside, migrate, carry, audit). Prints figures; no pass/fail.
"""

from __future__ import annotations

import argparse
import time

import psycopg
from counterpromo_core.db import upgrade
from counterpromo_core.legacy import Buckets
from counterpromo_testing.databases import database_server
from counterpromo_testing.original_app import build_full_schema
from sqlalchemy.engine import make_url

FILL_SQL = """
INSERT INTO accounts (id, name, plan, "stripeCustomerId", "updatedAt")
SELECT 'acc' || a, 'Dealer ' || a, 'pro', 'cus_' || a, now() FROM generate_series(1, %(a)s) a;
INSERT INTO account_users (id, "accountId", "clerkId", email, role)
SELECT 'usr' || a, 'acc' || a, 'user_' || a, 'owner' || a || '@dealer.example', 'owner'
FROM generate_series(1, %(a)s) a;
INSERT INTO branches (id, "accountId", name, "updatedAt")
SELECT 'br' || a, 'acc' || a, 'Main', now() FROM generate_series(1, %(a)s) a;
INSERT INTO brand_kits (id, "accountId", colors, fonts, "updatedAt")
SELECT 'bk' || a, 'acc' || a, '["#112233", "#445566"]', '["Inter"]', now()
FROM generate_series(1, %(a)s) a;
INSERT INTO promos (id, "accountId", title, keywords, status, "createdAt", "updatedAt")
SELECT 'pr' || a || '_' || p, 'acc' || a, 'Promo ' || p, ARRAY['k' || p], 'ready',
       timestamp '2026-03-01' + p * interval '1 minute', now()
FROM generate_series(1, %(a)s) a, generate_series(1, %(p)s) p;
INSERT INTO promo_items (id, "promoId", sku, name, price, rrp, "sortOrder")
SELECT 'it' || a || '_' || p || '_' || i, 'pr' || a || '_' || p, 'SKU' || i, 'Item ' || i,
       (i %% 50) + 0.99, CASE WHEN i %% 3 = 0 THEN NULL ELSE (i %% 50) + 2.49 END, i
FROM generate_series(1, %(a)s) a, generate_series(1, %(p)s) p, generate_series(1, %(i)s) i;
INSERT INTO uploads (id, "accountId", "promoId", "s3Key", filename, "mimeType", "sizeBytes")
SELECT 'up' || a || '_' || p, 'acc' || a, 'pr' || a || '_' || p,
       'acc' || a || '/uploads/' || p || '.csv', p || '.csv', 'text/csv', 1000
FROM generate_series(1, %(a)s) a, generate_series(1, %(p)s) p;
INSERT INTO assets (id, "accountId", "promoId", type, "s3Key", "sizeBytes")
SELECT 'as' || a || '_' || p, 'acc' || a, 'pr' || a || '_' || p, 'pdf',
       'acc' || a || '/assets/' || p || '.pdf', 5000
FROM generate_series(1, %(a)s) a, generate_series(1, %(p)s) p;
INSERT INTO jobs (id, "accountId", "promoId", type, status, payload)
SELECT 'jb' || a || '_' || p, 'acc' || a, 'pr' || a || '_' || p, 'render_pdf', 'done', '{}'
FROM generate_series(1, %(a)s) a, generate_series(1, %(p)s) p;
INSERT INTO usage_monthly (id, "accountId", year, month, "promosCount")
SELECT 'um' || a, 'acc' || a, 2026, 3, %(p)s * 2 FROM generate_series(1, %(a)s) a;
"""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(accounts: int, promos: int, items: int) -> dict[str, float]:
    with database_server() as server:
        url = server.create_database(migrated=False)
        build_full_schema(url)
        with psycopg.connect(_libpq(url)) as conn:
            for statement in FILL_SQL.split(";\n"):
                if statement.strip():
                    conn.execute(statement, {"a": accounts, "p": promos, "i": items})
        started = time.perf_counter()
        report = upgrade(url, buckets=lambda: Buckets(uploads="uploads", assets="assets"))
        seconds = time.perf_counter() - started
        server.drop_database(url)
    if report is None:
        raise SystemExit("nothing was adopted: the original tables were not recognised")
    return {
        "rows_carried": report.carried,
        "seconds": seconds,
        "rows_per_second": report.carried / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--promos", type=int, default=20, help="per account")
    parser.add_argument("--items", type=int, default=25, help="per promo")
    args = parser.parse_args()
    figures = run(args.accounts, args.promos, args.items)
    print(
        f"adoption: {figures['rows_carried']:.0f} rows carried in {figures['seconds']:.2f} s"
        f" ({figures['rows_per_second']:.0f} rows/s; {args.accounts} accounts x {args.promos}"
        f" promos x {args.items} items)"
    )


if __name__ == "__main__":
    main()
