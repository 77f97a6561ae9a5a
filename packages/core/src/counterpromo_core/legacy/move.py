"""Move the original tables and their enum types, untouched, into the ``legacy`` schema.

``ALTER ... SET SCHEMA`` keeps every row, index, constraint, trigger and owned
sequence; the tables stay queryable as ``legacy."accounts"`` and so on.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from counterpromo_core.legacy.detect import LEGACY_SCHEMA, Discovery


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def move_aside(connection: Connection, discovery: Discovery) -> None:
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {LEGACY_SCHEMA}"))
    for table in discovery.in_public:
        connection.execute(text(f"ALTER TABLE public.{_ident(table)} SET SCHEMA {LEGACY_SCHEMA}"))
    for enum in discovery.enums_in_public:
        connection.execute(text(f"ALTER TYPE public.{_ident(enum)} SET SCHEMA {LEGACY_SCHEMA}"))
