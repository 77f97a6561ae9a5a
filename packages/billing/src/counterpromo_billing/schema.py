"""The database billing needs, given to a consumer in one call.

Billing stores webhook events (``stripe_events``) and writes the subscription state onto
``accounts``: tables of core's schema, in PostgreSQL (the webhook path relies on
``INSERT ... ON CONFLICT`` and ``SELECT ... FOR UPDATE``). ``ensure_schema`` brings a
database to core's current schema with core's own migrations; it is safe to call on every
start (a database already at the head is left as it is).
"""

from __future__ import annotations

from counterpromo_core.db import current_revision, upgrade
from sqlalchemy.engine import make_url


class UnsupportedDatabase(ValueError):  # noqa: N818 (reads as what it is)
    """The URL names a database other than PostgreSQL."""


def ensure_schema(database_url: str) -> str:
    """Migrate ``database_url`` (PostgreSQL) to core's head revision; returns that revision."""
    backend = make_url(database_url).get_backend_name()
    if backend != "postgresql":
        raise UnsupportedDatabase(
            f"counterpromo-billing needs PostgreSQL with counterpromo-core's schema, "
            f"not {backend!r}"
        )
    upgrade(database_url)
    revision = current_revision(database_url)
    if revision is None:  # pragma: no cover - upgrade either reaches head or raises
        raise RuntimeError("the migrations ran but the database reports no revision")
    return revision


__all__ = ["UnsupportedDatabase", "ensure_schema"]
