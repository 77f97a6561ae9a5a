"""One adoption run: lock, recognise, move aside, migrate, carry, record; all in ONE transaction.

The caller owns the transaction (``db.migrate.upgrade``/``adopt``): a failure
anywhere rolls back everything, including the move into the legacy schema and
the migrations, so the database is exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, insert, text

from counterpromo_core.db.models import AuditEvent, Base
from counterpromo_core.legacy import carry_accounts, carry_files, carry_history, carry_promos
from counterpromo_core.legacy.detect import ORIGINAL_TABLES, discover
from counterpromo_core.legacy.errors import AdoptionError
from counterpromo_core.legacy.move import move_aside
from counterpromo_core.legacy.report import AdoptionReport
from counterpromo_core.legacy.source import Buckets, Carry

# pg_advisory_xact_lock key: every migration task takes it first, so two never overlap.
MIGRATION_LOCK = 0x636F756E746572  # "counter"

ADOPTED_ACTION = "legacy.adopted"

# (original table, carry function), parents before children.
_STEPS: tuple[tuple[str, Callable[[Carry], None]], ...] = (
    ("accounts", carry_accounts.carry_accounts),
    ("account_users", carry_accounts.carry_members),
    ("branches", carry_accounts.carry_branches),
    ("brand_kits", carry_accounts.carry_brand_kits),
    ("promos", carry_promos.carry_promos),
    ("promo_items", carry_promos.carry_items),
    ("uploads", carry_files.carry_uploads),
    ("jobs", carry_history.carry_jobs),
    ("assets", carry_files.carry_assets),
    ("usage_monthly", carry_history.carry_usage),
)
_CARRIED = {name for name, _ in _STEPS}


def lock(connection: Connection) -> None:
    """Wait for any other migration task; released when this transaction ends."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def no_buckets() -> Buckets:
    raise AdoptionError(
        "the original uploads and assets point at S3 keys, and no bucket names were given:"
        " set UPLOADS_BUCKET and ASSETS_BUCKET (or COUNTERPROMO_ENV, to read them from SSM)"
        " and re-run"
    )


def run(
    connection: Connection,
    *,
    migrate: Callable[[Connection], None],
    adopt_moved: bool,
    dry_run: bool,
    actor: str,
    buckets: Callable[[], Buckets] = no_buckets,
    to_head: bool = True,
) -> AdoptionReport | None:
    """Migrate to head, adopting the original tables when there are any; the report, or None.

    ``to_head``: the migrations go to head (adoption needs our whole schema).
    ``adopt_moved``: also carry from tables an earlier run already moved into the
    legacy schema (``db adopt``, after rows were fixed there); ``db upgrade`` only
    adopts when it finds original tables in ``public``.
    """
    lock(connection)
    found = discover(connection, set(Base.metadata.tables))
    if found.in_public and not to_head:
        raise AdoptionError(
            "the original application's tables are here and can only be adopted by an upgrade"
            " to head: run `counterpromo db upgrade` without a revision"
        )
    if found.in_public:
        move_aside(connection, found)
    migrate(connection)
    if not (found.in_public or (adopt_moved and found.in_legacy)):
        return None
    tables = tuple(t for t in ORIGINAL_TABLES if t in set(found.in_public) | set(found.in_legacy))
    report = AdoptionReport(
        dry_run=dry_run, moved=list(found.in_public), evidence=list(found.evidence)
    )
    carry = Carry(connection, report, tables, buckets)
    for table, step in _STEPS:
        if carry.has(table):
            step(carry)
    for table in tables:
        if table not in _CARRIED:
            kept = report.table(table, "")
            kept.rows = carry.count(table)
    # A run that moved and carried nothing (a re-run after success) changes nothing at all.
    if not dry_run and (report.moved or report.carried):
        connection.execute(
            insert(AuditEvent).values(actor=actor, action=ADOPTED_ACTION, detail=report.to_dict())
        )
    return report
