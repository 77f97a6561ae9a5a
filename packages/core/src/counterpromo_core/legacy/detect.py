"""Recognise the original application's schema by what is in the database.

Never by a flag: the evidence is the Prisma ledger (``_prisma_migrations``), the
original's camelCase columns (``accounts."createdAt"``...) and the absence of
our own alembic revision.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from counterpromo_core.legacy.errors import AdoptionError

LEGACY_SCHEMA = "legacy"

# Every table the original application (or its operators, for billing_plans) made.
ORIGINAL_TABLES: tuple[str, ...] = (
    "accounts",
    "account_users",
    "invites",
    "brand_kits",
    "promo_folders",
    "promos",
    "promo_items",
    "uploads",
    "branches",
    "import_mappings",
    "product_snippets",
    "jobs",
    "assets",
    "custom_templates",
    "usage_monthly",
    "billing_plans",
    "_prisma_migrations",
)
ORIGINAL_ENUMS: tuple[str, ...] = (
    "BillingPlan",
    "UserRole",
    "InviteStatus",
    "PromoStatus",
    "JobType",
    "JobStatus",
    "AssetType",
)
# Columns only the original's tables have: one of them on any original table is evidence.
_CAMEL_COLUMNS = ("createdAt", "accountId", "stripeCustomerId", "promoId", "promosCount")


@dataclass(frozen=True)
class Discovery:
    """What the database holds: original tables still in ``public``, or already moved aside."""

    ours: bool  # our alembic revision is recorded
    in_public: tuple[str, ...]  # original tables to move aside, in ORIGINAL_TABLES order
    enums_in_public: tuple[str, ...]
    in_legacy: tuple[str, ...]  # original tables already in the legacy schema
    evidence: tuple[str, ...]  # why we believe the tables are the original application's

    @property
    def found(self) -> bool:
        return bool(self.in_public or self.in_legacy)


def _tables(connection: Connection, schema: str) -> set[str]:
    rows = connection.execute(
        text(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = :schema AND table_type = 'BASE TABLE'"
        ),
        {"schema": schema},
    )
    return {r[0] for r in rows}


def columns(connection: Connection, schema: str, table: str) -> set[str]:
    rows = connection.execute(
        text(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = :schema AND table_name = :table"
        ),
        {"schema": schema, "table": table},
    )
    return {r[0] for r in rows}


def _enums(connection: Connection, schema: str) -> set[str]:
    rows = connection.execute(
        text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = :schema AND t.typtype = 'e'"
        ),
        {"schema": schema},
    )
    return {r[0] for r in rows}


def _our_revision(connection: Connection, public: set[str]) -> bool:
    if "alembic_version" not in public:
        return False
    rows = connection.execute(text("SELECT count(*) FROM public.alembic_version")).scalar_one()
    return int(rows) > 0


def discover(connection: Connection, our_tables: set[str]) -> Discovery:
    """Look, change nothing; ``AdoptionError`` when a table is in the way and is not the original's.

    ``our_tables`` are the tables our migrations create (a table of that name that is
    neither ours nor the original application's must be moved by a person).
    """
    public = _tables(connection, "public")
    in_legacy = tuple(t for t in ORIGINAL_TABLES if t in _tables(connection, LEGACY_SCHEMA))
    ours = _our_revision(connection, public)
    if ours:
        return Discovery(True, (), (), in_legacy, ())
    present = tuple(t for t in ORIGINAL_TABLES if t in public)
    evidence: list[str] = []
    if "_prisma_migrations" in present:
        evidence.append("the Prisma ledger _prisma_migrations")
    for table in present:
        camel = sorted(set(_CAMEL_COLUMNS) & columns(connection, "public", table))
        if camel and len(evidence) < 3:  # a few examples are enough for the report
            evidence.append(f'{table}."{camel[0]}"')
    if present and not evidence:
        raise AdoptionError(
            f"public.{present[0]} exists, but this database has no alembic revision and no sign"
            " of the original application (no _prisma_migrations, no camelCase columns such as"
            ' accounts."createdAt"): rename or drop it by hand, then re-run'
            " `counterpromo db upgrade`"
        )
    strangers = sorted((our_tables & public) - set(present))
    if strangers:
        raise AdoptionError(
            f"public.{strangers[0]} exists but was made neither by our migrations nor by the"
            f" original application ({', '.join(strangers)}): rename or drop it by hand, then"
            " re-run `counterpromo db upgrade`"
        )
    if present and in_legacy:
        clash = sorted(set(present) & set(in_legacy))
        if clash:
            raise AdoptionError(
                f"both public.{clash[0]} and {LEGACY_SCHEMA}.{clash[0]} exist: an earlier adoption"
                f" already moved the original tables aside; move public.{clash[0]} by hand"
                " (or drop it if it is a stale copy), then re-run `counterpromo db upgrade`"
            )
    enums = tuple(e for e in ORIGINAL_ENUMS if e in _enums(connection, "public")) if present else ()
    return Discovery(False, present, enums, in_legacy, tuple(evidence))
