"""Adopt the original application's database: move its tables aside, carry its rows into ours.

``db.migrate.upgrade`` calls :func:`adopt.run` inside its one transaction; see
``README.md`` (Adopting the original database) for the rules.
"""

from counterpromo_core.legacy.adopt import ADOPTED_ACTION, MIGRATION_LOCK
from counterpromo_core.legacy.detect import LEGACY_SCHEMA, ORIGINAL_TABLES
from counterpromo_core.legacy.errors import AdoptionError
from counterpromo_core.legacy.report import AdoptionReport, TableReport
from counterpromo_core.legacy.source import Buckets

__all__ = [
    "ADOPTED_ACTION",
    "LEGACY_SCHEMA",
    "MIGRATION_LOCK",
    "ORIGINAL_TABLES",
    "AdoptionError",
    "AdoptionReport",
    "Buckets",
    "TableReport",
]
