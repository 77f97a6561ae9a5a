"""``counterpromo db upgrade`` / ``db adopt`` on the three kinds of database a first deploy meets.

Each database is built from ``counterpromo_testing.original_app`` (DDL written from
the original schema's facts, realistic rows with edge cases) on the embedded
PostgreSQL; the CLI runs in-process (and, for the lock, as two processes).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from counterpromo_cli.testing import Cli
from counterpromo_core.db import head_revision
from counterpromo_testing.databases import DatabaseServer
from counterpromo_testing.original_app import (
    BRIEF_ROWS,
    FULL_ROWS,
    ORIGINAL_ENUM_NAMES,
    PRISMA_MIGRATIONS,
    build_brief_tables,
    build_full,
    row_counts,
)
from sqlalchemy.engine import make_url

BUCKETS = ("--uploads-bucket", "old-uploads", "--assets-bucket", "old-assets")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(_libpq(url)) as conn:
        cur = conn.execute(sql, params or None)
        return list(cur.fetchall()) if cur.description else []


def snapshot(url: str) -> dict[str, Any]:
    """Schemas, tables with row counts, enum types and the revision: 'exactly as it was'."""
    return {
        "schemas": query(
            url,
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%'"
            " AND nspname <> 'information_schema' ORDER BY 1",
        ),
        "public": row_counts(url, "public"),
        "legacy": row_counts(url, "legacy"),
        "types": query(
            url,
            "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n"
            " ON n.oid = t.typnamespace WHERE t.typtype = 'e' ORDER BY 1, 2",
        ),
    }


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    for name in ("UPLOADS_BUCKET", "ASSETS_BUCKET", "COUNTERPROMO_ENV"):
        monkeypatch.delenv(name, raising=False)
    return Cli()


@pytest.fixture
def blank_url(postgres_server: DatabaseServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = postgres_server.create_database(migrated=False)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def full_url(blank_url: str) -> str:
    build_full(blank_url)
    return blank_url


@pytest.fixture
def brief_url(blank_url: str) -> str:
    build_brief_tables(blank_url)
    return blank_url


def adopted(url: str, table: str) -> dict[str, dict[str, Any]]:
    """Our rows of ``table`` carried from ``source``, keyed by their original id."""
    source = {
        "accounts": "accounts",
        "members": "account_users",
        "branches": "branches",
        "promos": "promos",
        "promo_items": "promo_items",
        "uploads": "uploads",
        "assets": "assets",
        "jobs": "jobs",
        "usage_monthly": "usage_monthly",
    }[table]
    with psycopg.connect(_libpq(url)) as conn:
        cur = conn.execute(
            f"SELECT l.legacy_id, t.* FROM {table} t JOIN legacy_ids l"  # noqa: S608 - fixed names
            " ON l.new_id = t.id AND l.source_table = %s",
            (source,),
        )
        names = [c.name for c in cur.description or ()]
        return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cur.fetchall()}


def ids_of(url: str, source: str) -> dict[str, Any]:
    rows = query(url, "SELECT legacy_id, new_id FROM legacy_ids WHERE source_table = %s", source)
    return dict(rows)


def utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC)


def test_empty_database_upgrades_to_head_without_a_report(blank_url: str, cli: Cli) -> None:
    result = cli.run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "original application" not in result.output
    assert query(blank_url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert query(blank_url, "SELECT count(*) FROM legacy_ids") == [(0,)]

    again = cli.run("db", "adopt")
    assert again.exit_code == 0, again.output
    assert "nothing to adopt" in again.output


def test_brief_tables_are_moved_aside_and_carried(brief_url: str, cli: Cli) -> None:
    before = row_counts(brief_url, "public")
    result = cli.run("db", "upgrade")
    assert result.exit_code == 0, result.output

    # Moved, untouched and still queryable; the hand-made billing_plans too; the trigger kept.
    assert row_counts(brief_url, "legacy") == before
    assert query(brief_url, "SELECT label FROM legacy.billing_plans ORDER BY plan_id") == [
        ("free",),
        ("starter",),
        ("pro",),
        ("dealer",),
    ]
    assert query(
        brief_url,
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'legacy.accounts'::regclass"
        " AND NOT tgisinternal",
    ) == [("accounts_updated_at",)]
    assert query(brief_url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert [r[0] for r in query(brief_url, "SELECT code FROM billing_plans ORDER BY 1")] == [
        "dealer",
        "free",
        "pro",
        "starter",
    ]

    accounts = adopted(brief_url, "accounts")
    assert set(accounts) == {"clbracc001"}
    quay = accounts["clbracc001"]
    source = BRIEF_ROWS["accounts"][0]
    assert (quay["name"], quay["plan_code"]) == (source["name"], "dealer")
    assert (quay["stripe_customer_id"], quay["stripe_subscription_id"]) == ("cus_Q1", "sub_Q1")
    assert quay["created_at"] == utc(source["createdAt"])

    promos = adopted(brief_url, "promos")
    assert set(promos) == {"clbrpro001"}
    assert promos["clbrpro001"]["cta"] == "Ask in store"
    assert promos["clbrpro001"]["keywords"] == []
    usage = adopted(brief_url, "usage_monthly")
    assert usage["clbrum0001"]["month"] == dt.date(2026, 3, 1)
    assert usage["clbrum0001"]["promos_created"] == 1  # recounted: one promo made in March

    # The account on a plan we do not know, and what belongs to it, are reported by id.
    assert "not carried: plan 'enterprise' is not one of ours" in result.output
    assert "clbracc002" in result.output
    assert "its account clbracc002 was not carried: clbrpro002" in result.output
    assert "billing_plans (kept in legacy only: no counterpart): 4 rows" in result.output

    # A second upgrade changes nothing and reports nothing.
    ours = row_counts(brief_url, "public")
    second = cli.run("db", "upgrade")
    assert second.exit_code == 0, second.output
    assert "original application" not in second.output
    assert row_counts(brief_url, "public") == ours


def test_dry_run_reports_and_changes_nothing(full_url: str, cli: Cli) -> None:
    before = snapshot(full_url)
    result = cli.run("db", "adopt", "--dry-run", *BUCKETS)
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was changed" in result.output
    assert "recognised by: the Prisma ledger _prisma_migrations" in result.output
    assert "promo_items -> promo_items: 8 rows, 5 carried, 3 NOT carried" in result.output
    assert "price NaN is not a valid amount: clit000004" in result.output
    assert snapshot(full_url) == before

    as_json = cli.json("db", "adopt", "--dry-run", "--json", *BUCKETS)
    assert as_json["dry_run"] is True
    items = next(t for t in as_json["tables"] if t["table"] == "promo_items")
    assert {r["id"] for r in items["not_carried"]} == {"clit000004", "clit000005", "clit000007"}
    assert snapshot(full_url) == before


def test_dry_run_needs_no_bucket_names(full_url: str, cli: Cli) -> None:
    before = snapshot(full_url)
    result = cli.run("db", "adopt", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "uploads -> uploads: 3 rows, 2 carried, 1 NOT carried" in result.output
    assert snapshot(full_url) == before


def test_failure_changes_nothing_and_is_one_line(full_url: str, cli: Cli) -> None:
    before = snapshot(full_url)
    line = cli.error_line("db", "upgrade")  # no bucket names for the original S3 keys
    assert "UPLOADS_BUCKET" in line
    assert "nothing was changed" in line
    assert snapshot(full_url) == before


def test_a_stranger_table_in_the_way_is_one_line(blank_url: str, cli: Cli) -> None:
    query(blank_url, "CREATE TABLE members (who text)")
    build_brief_tables(blank_url)
    before = snapshot(blank_url)
    line = cli.error_line("db", "upgrade")
    assert "public.members" in line
    assert "rename or drop it" in line
    assert snapshot(blank_url) == before


def test_a_failing_migration_is_one_line_and_changes_nothing(blank_url: str, cli: Cli) -> None:
    assert cli.run("db", "upgrade", "0002").exit_code == 0
    query(blank_url, "CREATE TABLE legacy_ids (made_by_hand int)")  # in the way of 0005
    before = snapshot(blank_url)
    line = cli.error_line("db", "upgrade")
    assert 'relation "legacy_ids" already exists' in line
    assert "nothing was changed" in line
    assert "rename or drop it by hand" in line
    assert snapshot(blank_url) == before
    assert query(blank_url, "SELECT version_num FROM alembic_version") == [("0002",)]


def test_unknown_revision_is_one_line(blank_url: str, cli: Cli) -> None:
    line = cli.error_line("db", "upgrade", "nosuchrev")
    assert "nosuchrev" in line


def test_full_database_is_adopted_field_by_field(full_url: str, cli: Cli) -> None:
    before = row_counts(full_url, "public")
    result = cli.run("db", "upgrade", *BUCKETS)
    assert result.exit_code == 0, result.output

    # Every original table and enum type is in schema legacy, rows untouched.
    assert row_counts(full_url, "legacy") == before
    assert query(
        full_url,
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE n.nspname = 'legacy' AND t.typtype = 'e' ORDER BY 1",
    ) == [(name,) for name in sorted(ORIGINAL_ENUM_NAMES)]
    assert query(full_url, 'SELECT count(*) FROM legacy."_prisma_migrations"') == [
        (len(PRISMA_MIGRATIONS),)
    ]
    assert query(full_url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]

    accounts = adopted(full_url, "accounts")
    expected_accounts = {
        r["id"]: {
            "name": r["name"],
            "plan_code": r["plan"],
            "stripe_customer_id": r["stripeCustomerId"],
            "stripe_subscription_id": r["stripeSubId"],
            "created_at": utc(r["createdAt"]),
            "updated_at": utc(r["updatedAt"]),
        }
        for r in FULL_ROWS["accounts"]
        if r["name"].strip()
    }
    assert {k: {f: v[f] for f in expected_accounts[k]} for k, v in accounts.items()} == (
        expected_accounts
    )
    account_id = {k: v["id"] for k, v in accounts.items()}

    members = adopted(full_url, "members")
    assert {
        k: (v["account_id"], v["email"], v["role"], v["external_subject"])
        for k, v in members.items()
    } == {
        "clusown001": (account_id["clacchb0001"], "owner@harbour.example", "owner", "user_owner1"),
        "clusmkt002": (
            account_id["clacchb0001"],
            "marketing@harbour.example",
            "member",
            "user_mkt2",
        ),
        "clusbrm003": (
            account_id["clacchb0001"],
            "quay.manager@harbour.example",
            "member",
            "user_brm3",
        ),
        "clusdua004": (account_id["clacchb0001"], "dual@shared.example", "admin", "user_dual"),
        "clusdua005": (account_id["clacctt0002"], "dual@shared.example", "owner", "user_dual"),
    }
    assert "subscription status unknown" in result.output
    assert {v["subscription_status"] for v in accounts.values()} == {None}
    assert "role marketing is not ours: now member (less power): clusmkt002" in result.output
    assert "role branch_manager is not ours: now member (less power): clusbrm003" in (result.output)
    assert "clashes with user clusdua005 of the same account: cluscas006" in result.output
    assert "email 'not-an-email' is not an email address: clusbad007" in result.output

    branches = adopted(full_url, "branches")
    assert {
        k: (v["account_id"], v["name"], v["address"], v["phone"]) for k, v in branches.items()
    } == {
        "clbrquay01": (
            account_id["clacchb0001"],
            "Harbour — Quay St",
            "1 Quay St, Bristol BS1 4DJ",
            "0117 496 0000",
        ),
        "clbrmill02": (account_id["clacchb0001"], "Harbour — Mill Lane", None, None),
        "clbrcdf004": (account_id["clacctt0002"], "Caerdydd", "Heol y Frenhines", "029 2018 0000"),
    }
    assert "clashes with branch clbrquay01 of the same account: clbrdup003" in result.output

    kits = {
        r[0]: r[1:]
        for r in query(
            full_url,
            "SELECT account_id, primary_color, secondary_color, accent_color, font, strapline,"
            " default_cta, logo_url, website_url FROM brand_kits",
        )
    }
    assert kits == {
        account_id["clacchb0001"]: (
            "#0A3D62",
            "#f5a623",
            "#ffffff",
            "Inter",
            "Builders' merchants since 1921",
            "Visit us today",
            "clacchb0001/logo.png",
            "https://harbour.example",
        ),
        account_id["clacctt0002"]: (
            None,
            None,
            None,
            None,
            None,
            None,
            "https://cdn.example/ty-offer.png",
            None,
        ),
        account_id["claccnf0003"]: ("#00aa00", None, None, None, None, "Ring us", None, None),
    }

    promos = adopted(full_url, "promos")
    expected_promos = {
        "clprspr001": (
            "clacchb0001",
            "Spring Sale 2026",
            "Timber & tools",
            "Order at the counter",
            "bold",
            "ready",
            ["timber", "sale"],
        ),
        "clprclr002": ("clacchb0001", "Clearance", None, None, "multi-product", "archived", []),
        "clprtty003": (
            "clacctt0002",
            "Cynnig Ŵyl Dewi — £9.99 ✓",
            None,
            None,
            "multi-product",
            "draft",
            [],
        ),
        "clprnf0006": (
            "claccnf0003",
            "Northfield deals",
            "Decking",
            None,
            "clearance",
            "ready",
            ["decking"],
        ),
    }
    assert {
        k: (
            v["account_id"],
            v["title"],
            v["subhead"],
            v["cta"],
            v["template"],
            v["status"],
            v["keywords"],
        )
        for k, v in promos.items()
    } == {k: (account_id[e[0]], *e[1:]) for k, e in expected_promos.items()}
    assert "its account claccbl0004 was not carried: clprbla004" in result.output
    assert "the title is blank: clprblt005" in result.output

    items = adopted(full_url, "promo_items")
    promo_id = {k: v["id"] for k, v in promos.items()}
    source_items = {r["id"]: r for r in FULL_ROWS["promo_items"]}
    # Order: sortOrder, then createdAt, then id; positions 0.. among the carried items.
    expected_positions = {
        "clit000002": 0,
        "clit000003": 1,
        "clit000001": 2,
        "clit000006": 0,
        "clit000008": 0,
    }
    assert set(items) == set(expected_positions)
    for legacy_id, row in items.items():
        src = source_items[legacy_id]
        assert row["promo_id"] == promo_id[src["promoId"]]
        assert row["account_id"] == promos[src["promoId"]]["account_id"]
        assert row["position"] == expected_positions[legacy_id]
        assert (row["sku"], row["name"], row["unit"], row["category"], row["vendor"]) == (
            src["sku"],
            src["name"],
            src["unit"],
            src["category"],
            src["vendor"],
        )
        assert (row["sale_price"], row["rrp"]) == (src["price"], src["rrp"])
        assert (row["coop_vendor"], row["coop_amount"], row["coop_note"]) == (
            src["coopVendor"],
            src["coopAmount"],
            src["coopNote"],
        )
        assert row["created_at"] == utc(src["createdAt"])
    assert items["clit000002"]["rrp"] is None
    assert items["clit000006"]["sale_price"] == Decimal("0.00")

    uploads = adopted(full_url, "uploads")
    assert {
        k: (
            v["promo_id"],
            v["bucket"],
            v["key"],
            v["filename"],
            v["content_type"],
            v["max_bytes"],
            v["status"],
        )
        for k, v in uploads.items()
    } == {
        "clup000001": (
            promo_id["clprspr001"],
            "old-uploads",
            "clacchb0001/uploads/spring.csv",
            "spring.csv",
            "text/csv",
            2048,
            "parsed",
        ),
        "clup000002": (
            promo_id["clprtty003"],
            "old-uploads",
            "clacctt0002/uploads/cynnig.xlsx",
            "cynnig.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            9000,
            "failed",
        ),
    }

    branch_id = {k: v["id"] for k, v in branches.items()}
    assets = adopted(full_url, "assets")
    assert {
        k: (
            v["account_id"],
            v["promo_id"],
            v["branch_id"],
            v["kind"],
            v["bucket"],
            v["key"],
            v["content_type"],
            v["size_bytes"],
        )
        for k, v in assets.items()
    } == {
        "clas000001": (
            account_id["clacchb0001"],
            promo_id["clprspr001"],
            branch_id["clbrquay01"],
            "pdf",
            "old-assets",
            "clacchb0001/assets/spring.pdf",
            "application/pdf",
            31,
        ),
        "clas000002": (
            account_id["clacchb0001"],
            promo_id["clprspr001"],
            None,
            "png",
            "old-assets",
            "clacchb0001/assets/spring.png",
            "image/png",
            0,
        ),
        "clas000004": (
            account_id["clacctt0002"],
            promo_id["clprtty003"],
            None,
            "zip",
            "old-assets",
            "clacctt0002/assets/bundle.zip",
            "application/zip",
            4096,
        ),
    }
    assert "asset type email_html has no counterpart here: clas000003" in result.output

    jobs = adopted(full_url, "jobs")
    assert {
        k: (v["account_id"], v["promo_id"], v["type"], v["status"], v["attempts"])
        for k, v in jobs.items()
    } == {
        "cljob00001": (
            account_id["clacchb0001"],
            promo_id["clprspr001"],
            "render_promo",
            "succeeded",
            1,
        ),
        "cljob00003": (
            account_id["clacctt0002"],
            promo_id["clprtty003"],
            "parse_upload",
            "failed",
            0,
        ),
        "cljob00004": (account_id["clacchb0001"], None, "export_bundle", "failed", 3),
    }
    assert jobs["cljob00001"]["payload"] == {"promoId": "clprspr001"}
    assert jobs["cljob00001"]["finished_at"] == dt.datetime(
        2026, 3, 2, 17, 45, 3, 250000, tzinfo=dt.UTC
    )
    assert jobs["cljob00004"]["error"] == "S3 timeout"
    assert "never finished" in jobs["cljob00003"]["error"]

    usage = adopted(full_url, "usage_monthly")
    assert {
        k: (v["account_id"], v["month"], v["promos_created"], v["renders"])
        for k, v in usage.items()
    } == {
        # Harbour made 3 promos in March 2026 (the original's counter said 5) and one PDF.
        "clum000001": (account_id["clacchb0001"], dt.date(2026, 3, 1), 3, 1),
        "clum000002": (account_id["clacctt0002"], dt.date(2026, 3, 1), 1, 0),
    }

    # Tables with no counterpart are listed with their row counts.
    assert "custom_templates (kept in legacy only: no counterpart): 1 rows" in result.output
    assert "_prisma_migrations (kept in legacy only: no counterpart): 7 rows" in result.output

    # The run is recorded, once.
    events = query(
        full_url, "SELECT actor, detail FROM audit_events WHERE action = %s", "legacy.adopted"
    )
    assert len(events) == 1
    assert events[0][0] == "counterpromo db upgrade"
    assert events[0][1]["carried"] == sum(
        len(x)
        for x in (accounts, members, branches, kits, promos, items, uploads, assets, jobs, usage)
    )

    # Second run: nothing changes; `db adopt` finds everything carried already.
    ours = row_counts(full_url, "public")
    assert cli.run("db", "upgrade", *BUCKETS).exit_code == 0
    report = cli.json("db", "adopt", "--json", *BUCKETS)
    assert report["carried"] == 0
    # Not even an audit event: a run that carries nothing records nothing.
    assert row_counts(full_url, "public") == ours


def test_a_row_fixed_in_legacy_is_carried_by_adopt(full_url: str, cli: Cli) -> None:
    assert cli.run("db", "upgrade", *BUCKETS).exit_code == 0
    query(full_url, "UPDATE legacy.promo_items SET price = 4.75 WHERE id = 'clit000004'")
    report = cli.json("db", "adopt", "--json", *BUCKETS)
    assert report["carried"] == 1
    items = adopted(full_url, "promo_items")
    assert items["clit000004"]["sale_price"] == Decimal("4.75")
    assert items["clit000004"]["position"] == 3  # after the three carried before


def test_two_migration_tasks_at_once_adopt_once(full_url: str) -> None:
    counterpromo = Path(sys.executable).parent / "counterpromo"
    procs = [
        subprocess.Popen(
            [str(counterpromo), "db", "upgrade", *BUCKETS],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum("original application's data (adopted)" in out for out in outputs) == 1
    assert query(full_url, "SELECT count(*) FROM audit_events WHERE action = 'legacy.adopted'") == [
        (1,)
    ]
    assert query(full_url, "SELECT count(*) FROM accounts") == [(3,)]
