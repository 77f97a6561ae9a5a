"""Read the original tables (in the legacy schema) and remember which rows were carried."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, text

from counterpromo_core.db.models import LegacyId
from counterpromo_core.legacy.detect import LEGACY_SCHEMA, columns
from counterpromo_core.legacy.errors import AdoptionError
from counterpromo_core.legacy.report import AdoptionReport


@dataclass(frozen=True)
class Buckets:
    uploads: str
    assets: str


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """The original's TIMESTAMP(3) values are UTC without a zone."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass
class Carry:
    """Everything one adoption run shares: the connection, what exists, what was carried."""

    connection: Connection
    report: AdoptionReport
    tables: tuple[str, ...]
    resolve_buckets: Callable[[], Buckets]
    _ids: dict[str, dict[str, uuid.UUID]] = field(default_factory=dict)
    _buckets: Buckets | None = None

    def has(self, table: str) -> bool:
        return table in self.tables

    def buckets(self) -> Buckets:
        if self._buckets is None:
            self._buckets = self.resolve_buckets()
        return self._buckets

    def rows(self, table: str, wanted: Sequence[str], *, order: str = '"id"') -> list[RowMapping]:
        """``wanted`` columns of ``legacy.table`` (enums as text); a missing column reads NULL.

        Older states of the original schema lack some columns; a missing ``id`` is an error.
        """
        present = columns(self.connection, LEGACY_SCHEMA, table)
        if "id" not in present:
            raise AdoptionError(
                f"{LEGACY_SCHEMA}.{table} has no id column, so its rows cannot be tracked:"
                " this is not the original application's shape; move the table out of schema"
                f" {LEGACY_SCHEMA} by hand and re-run `counterpromo db adopt`"
            )
        parts = []
        for name in wanted:
            if name in present:
                parts.append(
                    f'"{name}"::text AS "{name}"'
                    if name in _ENUM_COLUMNS.get(table, ())
                    else f'"{name}"'
                )
            else:
                parts.append(f'NULL AS "{name}"')
        # Names come from ORIGINAL_TABLES and the carry modules' fixed lists, never from input.
        sql = f'SELECT {", ".join(parts)} FROM {LEGACY_SCHEMA}."{table}" ORDER BY {order}'  # noqa: S608
        return list(self.connection.execute(text(sql)).mappings())

    def count(self, table: str) -> int:
        return int(
            self.connection.execute(
                text(f'SELECT count(*) FROM {LEGACY_SCHEMA}."{table}"')  # noqa: S608 - fixed names
            ).scalar_one()
        )

    def ids(self, table: str) -> dict[str, uuid.UUID]:
        """Original id -> our id, for every row of ``table`` carried (this run or earlier)."""
        if table not in self._ids:
            rows = self.connection.execute(
                select(LegacyId.legacy_id, LegacyId.new_id).where(LegacyId.source_table == table)
            )
            self._ids[table] = {r.legacy_id: r.new_id for r in rows}
        return self._ids[table]

    def write(self, table: str, target: Any, rows: list[tuple[str, dict[str, Any]]]) -> int:
        """Insert ``rows`` (original id, values with our ``id``-like key) and record their ids."""
        if not rows:
            return 0
        key = "account_id" if table == "brand_kits" else "id"
        self.connection.execute(insert(target), [values for _, values in rows])
        self.connection.execute(
            insert(LegacyId),
            [
                {"source_table": table, "legacy_id": legacy_id, "new_id": values[key]}
                for legacy_id, values in rows
            ],
        )
        known = self.ids(table)
        for legacy_id, values in rows:
            known[legacy_id] = values[key]
        return len(rows)


# Columns whose type is one of the original's enums: read as text.
_ENUM_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("plan",),
    "account_users": ("role",),
    "promos": ("status",),
    "jobs": ("type", "status"),
    "assets": ("type",),
}
