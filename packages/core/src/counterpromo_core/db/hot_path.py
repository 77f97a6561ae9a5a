"""Statements of the hottest request paths, compiled once and sent by psycopg itself.

Measured (``nox -s bench``, issue 17): SQLAlchemy's execution of an already cached
statement (execution context, result metadata, row objects) costs about 0.2 ms of CPU, psycopg
itself about 0.03 ms. Every API request authenticates and most then read one page, so that
overhead was most of the database work of a request. A ``HotQuery`` is still written with
SQLAlchemy (the model's tables and columns, so a renamed column fails at import, not in
production) and compiled for psycopg once; at run time its text goes through the session's
own DBAPI connection, inside the session's transaction.

Only for reads whose rows are plain values (psycopg's own types are what SQLAlchemy would
give for them), and for a single-row ``INSERT ... RETURNING`` on a path as hot (a Stripe
webhook's event: measured 0.87 ms of CPU through the session's execute, 0.40 ms this way).
Anything with ORM behaviour stays with the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import Insert, Select

# The dialect the engines use (``postgresql+psycopg``): the same SQL text they would send.
_DIALECT = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy


@dataclass(frozen=True)
class HotQuery:
    """A SELECT (or an INSERT with RETURNING) compiled once; its parameters are the
    statement's named ``bindparam``s. A JSONB parameter is given as JSON text."""

    sql: str

    @classmethod
    def of(cls, statement: Select[Any] | Insert) -> HotQuery:
        return cls(str(statement.compile(dialect=_DIALECT)))

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, as tuples in the statement's column order."""
        connection: Any = session.connection().connection.driver_connection
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows

    def first(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.rows(session, params)
        return rows[0] if rows else None


__all__ = ["HotQuery"]
