"""Adoption of the original application's database through core's own entry points
(``db.upgrade`` / ``db.adopt``); the operator's view through the CLI is tested in tools/cli."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from counterpromo_core.db.migrate import adopt, current_revision, head_revision, upgrade
from counterpromo_core.legacy.source import Buckets
from counterpromo_testing.databases import DatabaseServer
from counterpromo_testing.original_app import (
    BRIEF_ROWS,
    FULL_ROWS,
    build_brief_tables,
    build_full,
    row_counts,
)
from sqlalchemy.engine import make_url


def _query(url: str, statement: str) -> list[tuple[Any, ...]]:
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as conn:
        return list(conn.execute(statement).fetchall())


def _buckets() -> Buckets:
    return Buckets(uploads="old-uploads", assets="old-assets")


@pytest.fixture
def original_url(postgres_server: DatabaseServer) -> Iterator[str]:
    url = postgres_server.create_database(migrated=False)
    build_full(url)
    yield url
    postgres_server.drop_database(url)


def test_dry_run_reports_and_changes_nothing(original_url: str) -> None:
    before = row_counts(original_url, "public")
    report = adopt(original_url, dry_run=True, buckets=_buckets)
    assert report is not None
    assert report.dry_run
    assert report.carried > 0
    assert report.rejected > 0
    assert row_counts(original_url, "public") == before
    assert row_counts(original_url, "legacy") == {}
    assert current_revision(original_url) is None


def test_adoption_carries_keeps_the_originals_and_runs_once(original_url: str) -> None:
    originals = row_counts(original_url, "public")
    report = upgrade(original_url, buckets=_buckets)
    assert report is not None
    assert not report.dry_run
    assert current_revision(original_url) == head_revision()
    # Every original table moved untouched into schema legacy.
    assert row_counts(original_url, "legacy") == originals
    by_table = {t.name: t for t in report.tables}
    accounts = by_table["accounts"]
    assert accounts.rows == len(FULL_ROWS["accounts"])
    assert accounts.carried + len(accounts.rejected) == accounts.rows
    carried = _query(
        original_url,
        "SELECT l.legacy_id, a.name, a.currency, a.locale FROM legacy_ids l"
        " JOIN accounts a ON a.id = l.new_id WHERE l.source_table = 'accounts'",
    )
    assert len(carried) == accounts.carried
    names = {row["id"]: row["name"].strip() for row in FULL_ROWS["accounts"]}
    for legacy_id, name, currency, locale in carried:
        assert name == names[legacy_id]
        assert (currency, locale) == ("GBP", "en-GB")
    rejected_ids = {note.legacy_id for note in accounts.rejected}
    assert rejected_ids.isdisjoint(legacy_id for legacy_id, *_ in carried)
    audit = _query(
        original_url, "SELECT count(*) FROM audit_events WHERE action = 'legacy.adopted'"
    )
    assert audit == [(1,)]

    ours = row_counts(original_url, "public")
    again = adopt(original_url, buckets=_buckets)
    assert again is not None
    assert again.carried == 0
    assert {t.name: t.already for t in again.tables}["accounts"] == accounts.carried
    assert row_counts(original_url, "public") == ours


def test_the_four_brief_tables_reach_head(postgres_server: DatabaseServer) -> None:
    url = postgres_server.create_database(migrated=False)
    try:
        build_brief_tables(url)
        report = upgrade(url, buckets=_buckets)
        assert report is not None
        assert current_revision(url) == head_revision()
        assert set(row_counts(url, "legacy")) >= {"billing_plans", "accounts", "promos"}
        accounts = {t.name: t for t in report.tables}["accounts"]
        assert accounts.rows == len(BRIEF_ROWS["accounts"])
        assert accounts.carried == _query(url, "SELECT count(*) FROM accounts")[0][0]
    finally:
        postgres_server.drop_database(url)
